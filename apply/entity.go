package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"connform/dynamics"
)

// CheckEntity looks an entity up by logical name. When the org has none by
// that name, the error lists the nearest names it does have, since the
// usual cause is a typo or a display name used for the logical one. Apply
// runs it for a connection's entity attribute; preview for -entity.
func CheckEntity(ctx context.Context, client *dynamics.Client, org dynamics.Org, token, name string, appOnly bool) (*dynamics.Entity, error) {
	e, err := client.Entity(ctx, org, token, name)
	if err == nil {
		return e, nil
	}
	var apiErr *dynamics.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		return nil, fmt.Errorf("checking entity %q in %s: %w", name, org.Root, describeAPIError(err, appOnly))
	}
	msg := fmt.Sprintf("entity %q does not exist in %s", name, org.Root)
	all, lerr := client.Entities(ctx, org, token)
	if lerr != nil {
		// The suggestion is a courtesy: say the entity is missing anyway.
		return nil, fmt.Errorf("%s (listing the entities for a suggestion failed too: %v); use an existing logical name", msg, describeAPIError(lerr, appOnly))
	}
	names := make([]string, 0, len(all))
	for _, e := range all {
		names = append(names, e.LogicalName)
	}
	// One suggestion: a list would read as a menu when the first is almost
	// always the name meant.
	if near := dynamics.Nearest(name, names, 1); len(near) > 0 {
		return nil, fmt.Errorf("%s; did you mean %s?", msg, near[0])
	}
	return nil, fmt.Errorf("%s; use one of its logical names (connform entities NAME lists them)", msg)
}

// describeAPIError gives a Web API error with the advice that fits the
// caller (a user or an app), like the WhoAmI check does.
func describeAPIError(err error, appOnly bool) error {
	var apiErr *dynamics.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.Problem()
		if h := apiErr.Hint(appOnly); h != "" {
			msg += "; " + h
		}
		return &explainedAPIError{msg: msg, err: apiErr}
	}
	return err
}

// explainedAPIError words a Web API error for the caller and keeps it
// reachable through errors.As.
type explainedAPIError struct {
	msg string
	err *dynamics.APIError
}

func (e *explainedAPIError) Error() string { return e.msg }
func (e *explainedAPIError) Unwrap() error { return e.err }

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"connform/apply"
	"connform/config"
	"connform/dynamics"
	"connform/plan"
	"connform/state"
)

// What token, entities and preview check about a connection before and
// while using it: whether apply made it as configured, and which entity a
// name means.

// replacedSinceApply says why the configuration would replace conn's
// applied connection, the way plan decides it, or "" when it would not (or
// there is no state to compare with).
func replacedSinceApply(cfg *config.Config, conn *config.Connection, now time.Time) string {
	st, err := state.NewLocal(cfg.Settings.StatePath).Read()
	if err != nil || st.Lookup(conn.Addr) == nil {
		return ""
	}
	p, err := plan.Make(plan.Input{Config: cfg, State: st, Now: now, Targets: []string{conn.Addr}, Version: version})
	if err != nil {
		return ""
	}
	for _, ch := range p.Changes {
		if ch.Addr != conn.Addr || ch.Action != plan.Replace {
			continue
		}
		var forcing []string
		for _, a := range ch.Attrs {
			if a.ForcesReplacement {
				forcing = append(forcing, a.Name)
			}
		}
		return strings.Join(forcing, ", ") + " changed"
	}
	return ""
}

// entity finds an entity by its logical name (contact) or, as the Web API
// names it in URLs, its entity set name (contacts).
func (s *session) entity(ctx context.Context, name string) (*dynamics.Entity, error) {
	e, err := s.client.Entity(ctx, s.org, s.token, name)
	var apiErr *dynamics.APIError
	switch {
	case err == nil:
		return e, nil
	case !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound:
		msg := err.Error()
		if apiErr != nil {
			msg = apiErr.Problem()
			if h := apiErr.Hint(plan.AuthConn(s.conn).AppOnly()); h != "" {
				msg += "; " + h
			}
		}
		return nil, fmt.Errorf("checking entity %q in %s: %s", name, s.org.Root, msg)
	}
	all, lerr := s.client.Entities(ctx, s.org, s.token)
	if lerr == nil {
		for i := range all {
			if strings.EqualFold(all[i].EntitySetName, name) {
				return &all[i], nil
			}
		}
	}
	// Not an entity set either: CheckEntity says so with the nearest name.
	return apply.CheckEntity(ctx, s.client, s.org, s.token, name, plan.AuthConn(s.conn).AppOnly())
}

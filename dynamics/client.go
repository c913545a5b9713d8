package dynamics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"connform/internal/retry"
	"connform/internal/safetext"
)

// maxBody bounds how much of an answer is read. WhoAmI is a few hundred
// bytes, but EntityDefinitions of a real org (800+ entities with their
// labels) or a page of 5000 rows runs to megabytes; a bigger answer fails
// with a clear error rather than as truncated JSON.
const maxBody = 64 << 20

// Client calls an org's Web API with a bearer token the caller supplies.
type Client struct {
	HTTP      *http.Client // nil means http.DefaultClient
	UserAgent string       // sent when not empty
	// Sleep waits before retrying a transient answer (429, 5xx); nil means
	// a timer that ends early when ctx is done. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, when set, hears of each wait before a transient answer is
	// tried again, e.g. "the org answered 503 to GET …/WhoAmI, retrying in
	// 4 s (attempt 2 of 4)".
	OnRetry func(message string)
}

const (
	// maxAttempts bounds the tries of one request: Dataverse's service
	// protection limits answer 429 with Retry-After under load, and a
	// short wait usually gets through.
	maxAttempts   = 4
	firstBackoff  = 500 * time.Millisecond
	maxRetryAfter = 30 * time.Second
)

// WhoAmI is who the org takes the caller for.
type WhoAmI struct {
	UserID         string // the systemuserid: the user's, or the app's application user's
	BusinessUnitID string
	OrganizationID string
}

// WhoAmI asks the org who the token belongs to. It is the cheapest call that
// proves the token is accepted by that org and the caller is one of its
// users. A non-2xx answer is an *APIError.
func (c *Client) WhoAmI(ctx context.Context, org Org, token string) (*WhoAmI, error) {
	var body struct {
		UserID         string `json:"UserId"`
		BusinessUnitID string `json:"BusinessUnitId"`
		OrganizationID string `json:"OrganizationId"`
	}
	url := org.WebAPIURL() + "WhoAmI"
	if err := c.get(ctx, url, token, &body); err != nil {
		return nil, err
	}
	if body.UserID == "" || body.OrganizationID == "" {
		return nil, fmt.Errorf("GET %s: the answer has no UserId or OrganizationId; check that url names a Dynamics 365 org", url)
	}
	// The ids go into the state and onto the screen.
	line := func(s string) string { return safetext.Line(s, safetext.FieldMax) }
	return &WhoAmI{UserID: line(body.UserID), BusinessUnitID: line(body.BusinessUnitID), OrganizationID: line(body.OrganizationID)}, nil
}

// get performs an OData GET and decodes a 2xx JSON answer into out,
// retrying transient answers with the wait the org asks for (or a doubling
// backoff).
func (c *Client) get(ctx context.Context, url, token string, out any) error {
	p := retry.Policy{Attempts: maxAttempts, FirstBackoff: firstBackoff, MaxWait: maxRetryAfter, Sleep: c.Sleep}
	if c.OnRetry != nil {
		p.OnRetry = func(n retry.Notice) {
			// The query (select lists, filters) makes the line long and
			// says nothing about the wait.
			path, _, _ := strings.Cut(url, "?")
			what := "GET " + path + " failed"
			var apiErr *APIError
			if errors.As(n.Err, &apiErr) {
				what = fmt.Sprintf("the org answered %d to GET %s", apiErr.StatusCode, path)
			}
			c.OnRetry(what + ", " + n.String())
		}
	}
	return retry.Do(ctx, p, func() (time.Duration, bool, error) {
		err := c.getOnce(ctx, url, token, out)
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			return apiErr.RetryAfter, apiErr.Temporary(), err
		}
		return 0, false, err
	})
}

func (c *Client) getOnce(ctx context.Context, url, token string, out any) error {
	if token == "" {
		return fmt.Errorf("GET %s: no access token; sign in first", url)
	}
	// A token with a control character would make net/http fail with an
	// error about the header; refuse it here, without quoting it.
	for _, r := range token {
		if r <= ' ' || r >= 0x7f {
			return fmt.Errorf("GET %s: the access token has characters an HTTP header cannot hold; sign in again", url)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	req.Header.Set("Authorization", "Bearer "+token)
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w; check the network and that url names a reachable org", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("GET %s: reading the answer: %w", url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(http.MethodGet, url, resp, data, token)
	}
	if len(data) > maxBody {
		return fmt.Errorf("GET %s: the answer is larger than %d MiB; ask for fewer rows or columns ($top, $select)", url, maxBody>>20)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("GET %s: HTTP %d but the answer is not Web API JSON (%s, starting %q); check that url names a Dynamics 365 org and no proxy answers in its place",
			url, resp.StatusCode, jsonProblem(err), snippet(redact(string(data), token)))
	}
	return nil
}

// jsonProblem names what is wrong with a body without quoting the decoder's
// error text, which can include parts of the body.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "invalid JSON at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		return "unexpected JSON " + typ.Value + " for " + typ.Field
	}
	return "invalid JSON"
}

// APIError is a non-2xx answer from the Web API. None of its fields or texts
// holds the token: anything the server echoes back is redacted.
type APIError struct {
	Method, URL string
	StatusCode  int
	// Code and Message come from the OData error body
	// {"error":{"code","message"}}. When the body is not that, Message holds
	// the start of the body and Code is empty.
	Code, Message string
	// AuthError is the error and error_description of a WWW-Authenticate
	// challenge; AuthorizationURI is the authority whose tokens the org
	// accepts, which shows a token from another tenant.
	AuthError        string
	AuthorizationURI string
	// RetryAfter is the wait the server asked for (Retry-After), if any.
	RetryAfter time.Duration
}

func newAPIError(method, url string, resp *http.Response, body []byte, token string) *APIError {
	e := &APIError{Method: method, URL: url, StatusCode: resp.StatusCode}
	// Redact before cutting the body short, or a cut could leave part of an
	// echoed token that no longer matches.
	body = []byte(redact(string(body), token))
	var odata struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &odata) == nil && odata.Error != nil {
		e.Code, e.Message = odata.Error.Code, snippet(odata.Error.Message)
	} else {
		e.Message = snippet(string(body))
	}
	if ch := parseChallenge(resp.Header.Get("WWW-Authenticate")); ch != nil {
		e.AuthError = strings.TrimSpace(strings.Trim(ch["error"]+": "+ch["error_description"], ": "))
		e.AuthorizationURI = ch["authorization_uri"]
	}
	e.RetryAfter = retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	// Again after decoding: JSON may have escaped the echoed token.
	e.Code = redact(e.Code, token)
	e.Message = redact(e.Message, token)
	e.AuthError = redact(e.AuthError, token)
	e.AuthorizationURI = redact(e.AuthorizationURI, token)
	// The org's words reach the terminal: no control character may act.
	e.Code = safetext.Line(e.Code, safetext.FieldMax)
	e.Message = safetext.Line(e.Message, safetext.MessageMax)
	e.AuthError = safetext.Line(e.AuthError, safetext.MessageMax)
	e.AuthorizationURI = safetext.Line(e.AuthorizationURI, safetext.FieldMax)
	return e
}

// Error says what failed and what to do, with advice that fits both a user's
// and an app-only token. A caller that knows which it used shows Problem and
// Hint(appOnly) instead.
func (e *APIError) Error() string {
	if h := e.hint(unknownCaller); h != "" {
		return e.Problem() + "; " + h
	}
	return e.Problem()
}

// Problem says what failed, without advice.
func (e *APIError) Problem() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", e.Method, e.URL, e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	var details []string
	if e.Code != "" {
		details = append(details, e.Code)
	}
	if e.Message != "" {
		details = append(details, e.Message)
	}
	if e.AuthError != "" {
		details = append(details, e.AuthError)
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, ": ") + ")")
	}
	return b.String()
}

// Temporary reports whether trying again later may succeed (429 and 5xx
// other than 501).
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || (e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented)
}

type caller int

const (
	unknownCaller caller = iota
	userCaller
	appCaller
)

// Hint says what the user can do about the error; appOnly tells whether the
// token came from client credentials. It is empty when there is no advice.
func (e *APIError) Hint(appOnly bool) string {
	if appOnly {
		return e.hint(appCaller)
	}
	return e.hint(userCaller)
}

const (
	appUserHint = "the app has no application user in this environment: in the Power Platform admin center open the environment, " +
		"Settings → Users + permissions → Application users, add an app user for this client_id and give it a security role"
	userRoleHint = "the signed-in user is not a user of this environment or has no security role in it: " +
		"ask an administrator to add the account with a security role (Power Platform admin center → the environment → Settings → Users), or sign in with another account"
)

func (e *APIError) hint(who caller) string {
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		h := "the org did not accept the token: it was issued for another org or tenant, or it has expired; sign in again, and check that url, scopes and tenant_id name the same environment"
		if e.AuthorizationURI != "" {
			h += " (the org takes tokens from " + e.AuthorizationURI + ")"
		}
		return h
	case e.StatusCode == http.StatusForbidden:
		switch who {
		case appCaller:
			return appUserHint
		case userCaller:
			return userRoleHint
		}
		return "the caller has no access to this environment. For a user: " + userRoleHint + ". For an app-only connection (client_credentials): " + appUserHint
	case e.StatusCode == http.StatusNotFound:
		return "the Web API has no such resource here; check that url names the Dynamics 365 org (its root, such as https://contoso.crm4.dynamics.com)"
	case e.Temporary():
		h := "the service is busy or failing (connform retried with backoff); try again later"
		if e.RetryAfter > 0 {
			h += " (it asked to wait " + e.RetryAfter.String() + ")"
		}
		return h
	}
	return ""
}

// parseChallenge reads the parameters of a Bearer WWW-Authenticate
// challenge. Values may be quoted (with commas inside) or bare, as Dynamics
// sends them.
func parseChallenge(h string) map[string]string {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil
	}
	params := map[string]string{}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		name = strings.ToLower(strings.TrimSpace(name))
		after = strings.TrimLeft(after, " ")
		var value string
		if strings.HasPrefix(after, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(after) && after[i] != '"'; i++ {
				if after[i] == '\\' && i+1 < len(after) {
					i++
				}
				b.WriteByte(after[i])
			}
			value, rest = b.String(), after[min(i+1, len(after)):]
		} else {
			value, rest, _ = strings.Cut(after, ",")
			value = strings.TrimSpace(value)
		}
		params[name] = value
	}
	return params
}

// snippet turns a body into one short line for an error message.
func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const limit = 200
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// redact removes the token from text the server sent back: whole, and any
// run of token characters long enough to matter that is a piece of it (a
// server may echo the header cut or split, or one JWT segment alone).
func redact(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, "(redacted)")
	const minPiece = 16
	// sharesPiece reports whether part holds minPiece or more characters in
	// a row of the token: a segment with text run into it ("<payload>0")
	// is a piece of the token all the same. The token's pieces are indexed
	// once, so a long answer costs one lookup per character.
	var pieces map[string]bool
	sharesPiece := func(part string) bool {
		if pieces == nil {
			pieces = make(map[string]bool, len(token))
			for i := 0; i+minPiece <= len(token); i++ {
				pieces[token[i:i+minPiece]] = true
			}
		}
		for i := 0; i+minPiece <= len(part); i++ {
			if pieces[part[i:i+minPiece]] {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	run := -1
	flush := func(end int) {
		if run < 0 {
			return
		}
		piece := s[run:end]
		run = -1
		if len(piece) >= minPiece && strings.Contains(token, piece) {
			b.WriteString("(redacted)")
			return
		}
		// A JWT segment next to text ("token=<segment>", "<segment>.")
		// makes a run the token does not hold whole: check the parts
		// between the characters a segment never contains.
		start := 0
		for i := 0; i <= len(piece); i++ {
			if i < len(piece) && !strings.ContainsRune("./=", rune(piece[i])) {
				continue
			}
			if part := piece[start:i]; len(part) >= minPiece && sharesPiece(part) {
				b.WriteString("(redacted)")
			} else {
				b.WriteString(part)
			}
			if i < len(piece) {
				b.WriteByte(piece[i])
			}
			start = i + 1
		}
	}
	for i := 0; i < len(s); i++ {
		if isTokenChar(s[i]) {
			if run < 0 {
				run = i
			}
			continue
		}
		flush(i)
		b.WriteByte(s[i])
	}
	flush(len(s))
	return b.String()
}

// isTokenChar reports whether c may appear in a bearer token (RFC 6750's
// b64token; a JWT's segments and dots).
func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='
}

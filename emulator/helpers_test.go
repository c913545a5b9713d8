package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"connform/emulator"
	"golang.org/x/oauth2"
)

// start runs an emulator for one test.
func start(t *testing.T, opts emulator.Options) (*emulator.Emulator, emulator.Info) {
	t.Helper()
	e, err := emulator.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, e.Info()
}

func app(t *testing.T, info emulator.Info, name string) emulator.App {
	t.Helper()
	a, ok := info.App(name)
	if !ok {
		t.Fatalf("no app %q in %+v", name, info.Apps)
	}
	return a
}

// catcher is an app's loopback redirect listener.
type catcher struct {
	URL string // http://localhost:PORT/
	got chan url.Values
}

func catchRedirect(t *testing.T) *catcher {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c := &catcher{URL: "http://localhost:" + port + "/", got: make(chan url.Values, 8)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		c.got <- r.Form
		fmt.Fprint(w, "Signed in; you can close this window.")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return c
}

// received returns what the listener got. CompleteSignIn delivers
// synchronously, so the answer is there when it returns.
func (c *catcher) received(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-c.got:
		return v
	default:
		t.Fatal("the redirect listener received nothing")
		return nil
	}
}

func publicConfig(info emulator.Info, redirect string, scopes ...string) *oauth2.Config {
	a, _ := info.App(emulator.PublicApp)
	return &oauth2.Config{
		ClientID:    a.ClientID,
		RedirectURL: redirect,
		Scopes:      scopes,
		Endpoint:    oauth2.Endpoint{AuthURL: info.AuthorizationURL, TokenURL: info.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
}

// entraBody is an Entra error answer.
type entraBody struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
}

// post sends a form to the token endpoint and returns status, raw body
// and the body decoded.
func post(t *testing.T, tokenURL string, form url.Values, header http.Header) (int, string, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("token endpoint answered %d with non-JSON %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, string(raw), m
}

// wantEntraError asserts an Entra error body with its status, error and
// AADSTS code.
func wantEntraError(t *testing.T, status int, raw string, gotStatus int, wantErr string, code int) entraBody {
	t.Helper()
	var b entraBody
	_ = json.Unmarshal([]byte(raw), &b)
	if gotStatus != status || b.Error != wantErr || len(b.Codes) != 1 || b.Codes[0] != code ||
		!strings.HasPrefix(b.Description, fmt.Sprintf("AADSTS%d: ", code)) {
		t.Fatalf("got %d %s, want %d %s with AADSTS%d", gotStatus, raw, status, wantErr, code)
	}
	if b.TraceID == "" || b.CorrelationID == "" || b.Timestamp == "" {
		t.Errorf("error lacks trace_id, correlation_id or timestamp: %s", raw)
	}
	return b
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// autoCode gets a code from an AutoApprove emulator for the public app
// with PKCE, returning the code and the verifier.
func autoCode(t *testing.T, info emulator.Info, redirect string, scopes ...string) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	u := publicConfig(info, redirect, scopes...).AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("authorize answered %s, Location %q; want a redirect with a code", resp.Status, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code"), verifier
}

// whoAmI calls an org's WhoAmI with a bearer token ("" for none).
func whoAmI(t *testing.T, orgURL, token string) (int, http.Header, map[string]any) {
	t.Helper()
	return getAPI(t, orgURL+"/api/data/v9.2/WhoAmI", token)
}

func getAPI(t *testing.T, u, token string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("GET %s answered %s without a JSON body", u, resp.Status)
	}
	return resp.StatusCode, resp.Header, m
}

// odataError is the code and message of a Web API error body.
func odataError(m map[string]any) (code, message string) {
	e, _ := m["error"].(map[string]any)
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

// logBuffer collects Logf lines.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

var ctx = context.Background()

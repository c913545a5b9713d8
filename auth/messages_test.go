package auth

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connform/emulator"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/messages")

// goldenCorrelation is the correlation id of every golden message, so the
// files are stable.
const goldenCorrelation = "7c0ffee0-0000-4000-8000-00000000c0de"

// referenceCodes are the AADSTS codes of REFERENCE.md's table, plus the
// device flow's expiry.
var referenceCodes = []struct {
	code   int
	status int
	err    string
}{
	{70008, 400, "invalid_grant"}, {700082, 400, "invalid_grant"}, {70043, 400, "invalid_grant"},
	{50173, 400, "invalid_grant"}, {54005, 400, "invalid_grant"}, {501481, 400, "invalid_grant"},
	{65001, 400, "interaction_required"}, {50076, 400, "interaction_required"}, {50079, 400, "interaction_required"},
	{53003, 400, "access_denied"},
	{50011, 400, "invalid_request"}, {700016, 400, "unauthorized_client"}, {7000215, 401, "invalid_client"},
	{7000222, 401, "invalid_client"}, {700025, 401, "invalid_client"}, {70011, 400, "invalid_scope"},
	{90002, 400, "invalid_request"}, {50194, 400, "invalid_request"}, {1002012, 400, "invalid_scope"},
	{70020, 400, "expired_token"},
}

// goldenCases are the errors the golden files are made from.
func goldenCases() map[string]*Error {
	cases := map[string]*Error{}
	for _, c := range referenceCodes {
		cases[fmt.Sprintf("AADSTS%d", c.code)] = newError(c.status, c.err,
			fmt.Sprintf("AADSTS%d: Entra's own description.", c.code), []int{c.code}, goldenCorrelation, "trace")
	}
	cases["HTTP429"] = newError(429, "", "", nil, goldenCorrelation, "")
	cases["HTTP503"] = newError(503, "temporarily_unavailable", "AADSTS90033: The service is temporarily unavailable.", nil, goldenCorrelation, "")
	cases["temporarily_unavailable"] = newError(400, "temporarily_unavailable", "The service is temporarily unavailable.", nil, goldenCorrelation, "")
	return cases
}

// TestExplainGolden: one golden message per code. Each names the
// connection, keeps the raw code and the correlation id, and says what to do.
func TestExplainGolden(t *testing.T) {
	for name, e := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			got := Explain("connection.sales", fmt.Errorf("refreshing the token: %w", e)) + "\n"
			path := filepath.Join("testdata", "messages", name+".golden")
			if *updateGolden {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./auth -run TestExplainGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("Explain =\n%s\nwant (%s)\n%s", got, path, want)
			}
			for _, must := range []string{"connection.sales: ", "Correlation id: " + goldenCorrelation} {
				if !strings.Contains(got, must) {
					t.Errorf("message lacks %q: %s", must, got)
				}
			}
			if len(e.Codes) > 0 && !strings.Contains(got, fmt.Sprintf("AADSTS%d", e.Codes[0])) {
				t.Errorf("message lacks the raw code: %s", got)
			}
			if strings.Contains(got, "Entra's own description") {
				t.Errorf("a known code should be explained, not echoed: %s", got)
			}
		})
	}
	// Every reference code has its own words, not the fallback.
	for _, c := range referenceCodes {
		if _, ok := explanations[c.code]; !ok {
			t.Errorf("AADSTS%d has no explanation", c.code)
		}
	}
}

// TestExplainOthers: an unknown code keeps Entra's description and the
// class hint; an error that is not Entra's passes through.
func TestExplainOthers(t *testing.T) {
	unknown := newError(400, "invalid_grant", "AADSTS9999999: Something new.", nil, goldenCorrelation, "")
	want := "connection.x: invalid_grant: AADSTS9999999: Something new. (correlation id " + goldenCorrelation + "). The sign-in has expired or was revoked: sign in again."
	if got := Explain("connection.x", unknown); got != want {
		t.Errorf("unknown code:\n got %s\nwant %s", got, want)
	}
	plain := errors.New("browser sign-in: no sign-in completed within 5m0s")
	if got := Explain("connection.x", plain); got != "connection.x: "+plain.Error() {
		t.Errorf("plain error: %s", got)
	}
}

// correlated sends a fixed client-request-id, which the emulator echoes as
// the correlation id, as Entra does.
type correlated struct{}

func (correlated) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Client-Request-Id", goldenCorrelation)
	return http.DefaultTransport.RoundTrip(r)
}

// TestExplainEmulatorErrors: errors the emulator really produces read like
// the golden files, so the goldens are not made-up inputs.
func TestExplainEmulatorErrors(t *testing.T) {
	e, err := emulator.Start(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	info := e.Info()
	conf, _ := info.App(emulator.ConfidentialApp)
	flow := &Flow{HTTPClient: &http.Client{Transport: correlated{}}, Sleep: func(context.Context, time.Duration) error { return nil }}
	p := Params{TokenURL: info.TokenURL, ClientID: conf.ClientID, ClientSecret: conf.ClientSecret, Scopes: []string{info.Orgs[0].URL + "/.default"}}
	for _, tc := range []struct {
		golden string
		fault  emulator.FaultKind
		call   func() error
	}{
		{"AADSTS7000215", "", func() error {
			bad := p
			bad.ClientSecret = "the-secret-id-not-its-value"
			_, err := flow.ClientCredentials(context.Background(), bad)
			return err
		}},
		{"AADSTS7000222", emulator.FaultExpiredSecret, nil},
		{"AADSTS700082", emulator.FaultExpiredRefreshToken, nil},
		{"AADSTS70008", emulator.FaultRevoked, nil},
		{"AADSTS65001", emulator.FaultConsentRequired, nil},
		{"HTTP503", emulator.FaultUnavailable, nil},
		{"AADSTS90002", "", func() error {
			other := p
			other.TokenURL = strings.Replace(p.TokenURL, info.TenantID, "00000000-0000-0000-0000-000000000009", 1)
			_, err := flow.ClientCredentials(context.Background(), other)
			return err
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			e.ClearFaults()
			call := tc.call
			if call == nil {
				e.AddFault(emulator.Fault{Endpoint: "token", Kind: tc.fault})
				call = func() error {
					_, err := flow.Refresh(context.Background(), p, "any-refresh-token")
					return err
				}
			}
			err := call()
			if err == nil {
				t.Fatal("no error")
			}
			want, rerr := os.ReadFile(filepath.Join("testdata", "messages", tc.golden+".golden"))
			if rerr != nil {
				t.Fatal(rerr)
			}
			if got := Explain("connection.sales", err) + "\n"; got != string(want) {
				t.Errorf("emulator error %v explained as\n%s\nwant\n%s", err, got, want)
			}
		})
	}
}

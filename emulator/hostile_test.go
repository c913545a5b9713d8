package emulator_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connform/emulator"
)

// TestHostileFaults: the echo kinds repeat the request's secret in the
// shapes clients mishandle, and the escapes kind sends raw control
// characters; each answers once.
func TestHostileFaults(t *testing.T) {
	for _, tc := range []struct {
		kind   emulator.FaultKind
		status int
		want   []string
	}{
		{emulator.FaultEchoJSON, 400, []string{`"error":"invalid_request"`, "client_secret=SECRET"}},
		{emulator.FaultEchoForm, 400, []string{"error=invalid_request", "client_secret%3DSECRET"}},
		{emulator.FaultEcho200, 200, []string{`"error":"invalid_client"`, "client_secret=SECRET"}},
		{emulator.FaultEscapes, 400, []string{`\u001b[2J`, "Apply complete!"}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			e, info := start(t, emulator.Options{})
			conf := app(t, info, emulator.ConfidentialApp)
			cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {conf.ClientID}, "client_secret": {conf.ClientSecret}, "scope": {info.Orgs[0].URL + "/.default"}}
			e.AddFault(emulator.Fault{Endpoint: "token", Kind: tc.kind, Count: 1})
			resp, err := http.PostForm(info.TokenURL, cc)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status, raw := resp.StatusCode, string(b)
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "SECRET", url.QueryEscape(conf.ClientSecret))
				if tc.kind != emulator.FaultEchoForm {
					w = strings.ReplaceAll(w, url.QueryEscape(conf.ClientSecret), conf.ClientSecret)
				}
				if !strings.Contains(raw, w) {
					t.Errorf("the answer lacks %q: %s", w, raw)
				}
			}
			if status, raw, _ := post(t, info.TokenURL, cc, nil); status != 200 {
				t.Errorf("the fault answered twice: %d %s", status, raw)
			}
		})
	}
}

package auth

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connform/internal/safetext"
)

const (
	fuzzSecret  = "fuzz-client-secret-Value~0123456789abcdef"
	fuzzRefresh = "0.AXfuzz-refresh-token-0123456789abcdefghijklmnop"
)

// answerRT answers every request with one canned response, so a fuzz run
// needs no listener.
type answerRT struct {
	status int
	ctype  string
	body   []byte
}

func (a answerRT) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	h := http.Header{}
	h.Set("Content-Type", a.ctype)
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(bytes.NewReader(a.body)), Request: req}, nil
}

// FuzzTokenResponse: whatever a token endpoint answers (status, type,
// body), a refresh gives a result or an error, never a panic; the error
// shows neither the client secret nor the refresh token it was sent, in
// any spelling, and no control character. Run longer with
// go test ./auth -run '^$' -fuzz FuzzTokenResponse -fuzztime 1m.
func FuzzTokenResponse(f *testing.F) {
	seeds := []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "application/json", `{"access_token":"at","refresh_token":"rt","expires_in":3600,"scope":"a b"}`},
		{200, "application/json", `{"access_token":"at","expires_in":"99999999999999999999"}`},
		{200, "application/json", `{"access_token":"at","expires_in":-5}`},
		{200, "application/json", `{"error":"invalid_client","error_description":"client_secret=` + fuzzSecret + `"}`},
		{400, "application/json", `{"error":"invalid_request","error_description":"echo refresh_token=` + fuzzRefresh + `&client_secret=fuzz-client-secret-Value%7E0123456789abcdef"}`},
		{400, "text/plain", "error=invalid_request&error_description=client_secret%3D" + fuzzSecret},
		{400, "application/x-www-form-urlencoded", "error=bad&error_description=%1B%5B2J"},
		{400, "application/json", `{"error":"x\u001b[2J","error_description":"\u001b[HApply complete!\u009b","error_codes":[1e400]}`},
		{400, "application/json", `{"error":"invalid_grant","error_description":"AADSTS70008: ` + strings.Repeat("A", 5000) + `"}`},
		{500, "text/html", "<html>" + fuzzSecret[:25] + "</html>"},
		{429, "application/json", `null`},
		{200, "application/json", `[]`},
		{200, "", ``},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		fl := &Flow{
			HTTPClient: &http.Client{Transport: answerRT{status, ctype, body}},
			Sleep:      func(context.Context, time.Duration) error { return nil },
		}
		p := Params{TokenURL: "https://login.example/t/oauth2/v2.0/token", ClientID: "c", ClientSecret: fuzzSecret, Scopes: []string{"https://org.example/.default"}}
		res, err := fl.Refresh(context.Background(), p, fuzzRefresh)
		if err == nil {
			if res == nil || !safetext.Safe(res.Account) {
				t.Fatalf("result %+v", res)
			}
			return
		}
		msg := err.Error()
		for _, s := range []string{fuzzSecret, fuzzRefresh} {
			if strings.Contains(msg, s[:len(s)/2]) {
				t.Fatalf("the error shows a secret it was sent: %s", msg)
			}
		}
		if !safetext.Safe(msg) {
			t.Fatalf("the error holds a control character: %q", msg)
		}
	})
}

// FuzzNewError: Entra's error fields, however hostile, make an *Error that
// prints on one line without a control character, bounded in length.
func FuzzNewError(f *testing.F) {
	f.Add(400, "invalid_grant", "AADSTS70008: expired\r\nsecond line", "corr", "trace")
	f.Add(200, "\x1b[2J", "\x1b[HApply complete!\u202e", "\x1b]0;x\x07", "")
	f.Fuzz(func(t *testing.T, status int, code, desc, corr, trace string) {
		e := newError(status, code, desc, nil, corr, trace)
		msg := e.Error()
		if strings.ContainsAny(msg, "\r\n") || !safetext.Safe(msg) {
			t.Fatalf("%q", msg)
		}
		if len(msg) > 3*safetext.FieldMax+safetext.MessageMax+200 {
			t.Fatalf("%d bytes", len(msg))
		}
		_ = e.Hint()
	})
}

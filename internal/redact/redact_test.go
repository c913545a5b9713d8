package redact

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const (
	secret   = "Xy7~Q/8+abc&def=ghi\"jkl<mno>pqr.stu_vwx-yz0123"
	refresh  = "0.AAAArefresh-token-with-many-characters-1234567890abcdef"
	verifier = "verifier-abcdefghijklmnopqrstuvwxyz-0123456789"
	// The rest of what connform may send: each must go the same way.
	assertion  = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ0b2tlbiJ9.c2lnbmF0dXJlLWJ5dGVzLW9mLXRoZS1hc3NlcnRpb24"
	deviceCode = "DAQABAAEAAAD--device-code-0123456789abcdefghij"
	password   = "correct horse battery staple"
	authCode   = "0.AUcode-authorization-code-0123456789abcdef"
)

var sent = []string{secret, refresh, verifier, assertion, deviceCode, password, authCode}

func form() url.Values {
	return url.Values{
		"client_id": {"11111111-2222-3333-4444-555555555555"}, "client_secret": {secret},
		"refresh_token": {refresh}, "code_verifier": {verifier}, "grant_type": {"refresh_token"},
		"client_assertion": {assertion}, "device_code": {deviceCode}, "password": {password}, "code": {authCode},
		"scope": {"https://org.crm.dynamics.com/.default"},
	}
}

// echoes are answers that repeat the request back, in the shapes a hostile
// tester found printing the client secret, and a few more.
func echoes() map[string]struct {
	status int
	ctype  string
	body   string
} {
	raw := form().Encode()
	js, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": "Bad request: " + raw + " secret=" + secret})
	slashes := strings.ReplaceAll(string(js), "/", `\/`)
	return map[string]struct {
		status int
		ctype  string
		body   string
	}{
		"JSON 400 without AADSTS code": {400, "application/json", string(js)},
		"JSON with escaped slashes":    {400, "application/json", slashes},
		"text/plain form 400":          {400, "text/plain", "error=invalid_request&error_description=" + url.QueryEscape("echo: "+raw)},
		"200 carrying error":           {200, "application/json", `{"error":"invalid_client","error_description":"client_secret ` + secret + ` refresh ` + refresh + `"}`},
		"HTML page":                    {502, "text/html", "<pre>" + strings.ReplaceAll(strings.ReplaceAll(secret, "<", "&lt;"), ">", "&gt;") + "</pre>"},
		"cut short":                    {400, "text/plain", "error=x&error_description=" + url.QueryEscape(secret[:30]) + "..."},
		"verifier in a path":           {404, "text/plain", "no such thing: /x/" + url.PathEscape(verifier)},
	}
}

func TestTransportScrubsEchoes(t *testing.T) {
	for name, e := range echoes() {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", e.ctype)
				w.WriteHeader(e.status)
				io.WriteString(w, e.body)
			}))
			defer srv.Close()
			c := &http.Client{Transport: Transport(nil)}
			resp, err := c.PostForm(srv.URL, form())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			got := string(b)
			if !strings.Contains(got, Mask) {
				t.Errorf("nothing was redacted: %s", got)
			}
			for _, s := range sent {
				for _, f := range spellings(s) {
					if strings.Contains(got, f[:len(f)/2]) {
						t.Errorf("the answer still holds %q: %s", f[:len(f)/2], got)
					}
				}
			}
			if !strings.HasPrefix(got, e.body[:5]) {
				t.Errorf("the error itself was lost: %s", got)
			}
		})
	}
}

func TestTransportLeavesSuccessAlone(t *testing.T) {
	// A server that returns the refresh token it was sent (no rotation):
	// the token must reach the caller intact.
	body := `{"access_token":"eyJhbGciOi.payload.sig","refresh_token":"` + refresh + `","expires_in":3600}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	c := &http.Client{Transport: Transport(nil)}
	resp, err := c.PostForm(srv.URL, form())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != body {
		t.Errorf("a successful token answer was changed: %s", b)
	}
}

func TestFromRequestHeaders(t *testing.T) {
	req, _ := http.NewRequest("GET", "https://org.example/api/data/v9.2/WhoAmI?code=querycode-123456", nil)
	req.SetBasicAuth("client", secret)
	s := FromRequest(req)
	got := s.String("basic " + secret + " code querycode-123456 header " + req.Header.Get("Authorization"))
	if strings.Contains(got, secret) || strings.Contains(got, "querycode") || strings.Contains(got, req.Header.Get("Authorization")[6:]) {
		t.Errorf("left a secret: %s", got)
	}
	var empty Set
	if empty.String("a b") != "a b" || s.String("nothing secret here") != "nothing secret here" {
		t.Error("text without secrets was changed")
	}
}

func FuzzScrub(f *testing.F) {
	f.Add("prefix "+secret+" suffix", secret)
	f.Add(url.QueryEscape(secret[:25]), secret)
	f.Fuzz(func(t *testing.T, text, v string) {
		var s Set
		s.Add(v)
		got := s.String(text)
		if len(v) >= minSecret && strings.Contains(got, v) {
			t.Fatalf("%q still holds %q", got, v)
		}
	})
}

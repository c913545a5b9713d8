package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// A redirect from a token endpoint or an org must not carry the secret,
// code, verifier or bearer token anywhere else.
func TestHTTPClientRefusesRedirects(t *testing.T) {
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer elsewhere.Close()
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/token", code)
		}))
		io, _, _, _ := Test()
		c := &cli{io: io}
		hc := c.httpClientFor(slog.New(slog.DiscardHandler))

		_, err := hc.PostForm(redirector.URL+"/token", url.Values{"client_secret": {"s3cret"}, "code_verifier": {"v"}})
		if err == nil || !strings.Contains(err.Error(), "refusing to follow a redirect") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%d on a token POST: err %v", code, err)
		}
		req, _ := http.NewRequest(http.MethodGet, redirector.URL+"/api/data/v9.2/WhoAmI", nil)
		req.Header.Set("Authorization", "Bearer tok")
		if _, err := hc.Do(req); err == nil || !strings.Contains(err.Error(), "refusing to follow a redirect") {
			t.Errorf("%d on a Web API GET: err %v", code, err)
		}
		redirector.Close()
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d requests reached the redirect target", n)
	}
}

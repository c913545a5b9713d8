package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzState is the state the fuzzed callback waits for: only a response
// carrying exactly this value may end the sign-in.
const fuzzState = "Zq8xW3-state-of-this-sign-in_0123456789"

// FuzzCallback sends any request (method, target, content type, body) to
// the sign-in callback, twice: it never panics or blocks, hands over at most
// one result, only for a response that carries exactly the state it waits
// for, never echoes the state or the code, and escapes whatever it shows.
// Run longer with go test ./auth -run '^$' -fuzz FuzzCallback -fuzztime 60s.
func FuzzCallback(f *testing.F) {
	for _, s := range []struct{ method, target, contentType, body string }{
		{"GET", "/callback?code=abc&state=" + fuzzState, "", ""},
		{"POST", "/callback", "application/x-www-form-urlencoded", "code=abc&state=" + fuzzState},
		{"GET", "/callback?code=abc&state=" + fuzzState[:len(fuzzState)-1], "", ""},
		{"GET", "/callback?code=abc&state=" + fuzzState + "x", "", ""},
		{"GET", "/callback?code=abc&state=wrong&state=" + fuzzState, "", ""},
		{"POST", "/callback?state=" + fuzzState, "application/x-www-form-urlencoded", "state=forged&code=abc"},
		{"GET", "/callback?code=abc", "", ""},
		{"GET", "/callback?state=" + fuzzState, "", ""},
		{"GET", "/callback?state=" + fuzzState + "&error=access_denied&error_description=%3Cscript%3Ealert(1)%3C/script%3E%1B%5B2J", "", ""},
		{"GET", "/callback?state=" + fuzzState + "&error=x&error_description=AADSTS50011%3A+" + strings.Repeat("A", 5000), "", ""},
		{"GET", "/callback?state=%zz&code=%00", "", ""},
		{"POST", "/callback", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"state\"\r\n\r\n" + fuzzState + "\r\n--x--\r\n"},
		{"POST", "/callback", "application/x-www-form-urlencoded", strings.Repeat("a=b&", 10000)},
		{"PUT", "/callback?code=abc&state=" + fuzzState, "", ""},
		{"GET", "/other?code=abc&state=" + fuzzState, "", ""},
		{"GET", "/callback/../callback?code=abc&state=" + fuzzState, "", ""},
		{"GET", "/", "", ""},
	} {
		f.Add(s.method, s.target, s.contentType, s.body)
	}
	f.Fuzz(func(t *testing.T, method, target, contentType, body string) {
		cb := newCallback("/callback", fuzzState)
		delivered := 0
		for attempt := 1; attempt <= 2; attempt++ {
			req, err := http.NewRequest(method, "http://127.0.0.1:8400"+target, strings.NewReader(body))
			if err != nil {
				return // net/http's server would not hand such a request over
			}
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			rec := httptest.NewRecorder()
			// The channel holds one result and the handler sends at most
			// once, so a handler that blocked here would hang the fuzzer.
			cb.ServeHTTP(rec, req)

			page := rec.Body.String()
			if strings.Contains(page, fuzzState) {
				t.Fatalf("the page shows the state: %q", page)
			}
			if strings.Contains(strings.ToLower(page), "<script") {
				t.Fatalf("the page holds markup from the request: %q", page)
			}
			if code := req.Form.Get("code"); len(code) >= 8 && strings.Contains(page, code) {
				t.Fatalf("the page shows the code: %q", page)
			}

			select {
			case res := <-cb.done:
				delivered++
				if got := req.Form.Get("state"); got != fuzzState {
					t.Fatalf("a response with state %q ended the sign-in", got)
				}
				if res.err == nil && (res.code == "" || res.code != req.Form.Get("code")) {
					t.Fatalf("handed over code %q for a response with code %q", res.code, req.Form.Get("code"))
				}
			default:
			}
		}
		if delivered > 1 {
			t.Fatalf("%d results handed over for one sign-in", delivered)
		}
	})
}

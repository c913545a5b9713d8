package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Mask replaces a secret.
const Mask = "[redacted]"

// SecretParams are the form and query parameters whose values are
// secrets: what OAuth requests carry that would let someone act as the app
// or the user.
var SecretParams = []string{
	"client_secret", "client_assertion", "assertion", "refresh_token", "code",
	"code_verifier", "password", "device_code", "access_token", "id_token",
}

// minSecret is the shortest value treated as a secret: replacing every
// "ab" in a text would wreck it and protect nothing.
const minSecret = 4

// Set holds secrets, each with the spellings an echo may give it. The zero
// value is an empty set.
type Set struct {
	forms []string // every spelling of every secret, longest first
}

// Add records secret v.
func (s *Set) Add(v string) {
	if len(v) < minSecret {
		return
	}
	for _, f := range spellings(v) {
		if len(f) >= minSecret && !contains(s.forms, f) {
			s.forms = append(s.forms, f)
		}
	}
}

// Empty reports whether the set holds no secret.
func (s *Set) Empty() bool { return len(s.forms) == 0 }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// spellings are the ways v can appear in an answer: as sent, form- or
// path-encoded, inside a JSON string (with or without HTML and slash
// escapes), HTML-escaped, or base64 (a Basic Authorization header).
func spellings(v string) []string {
	out := []string{v, url.QueryEscape(v), url.PathEscape(v), html.EscapeString(v)}
	for _, escapeHTML := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escapeHTML)
		if enc.Encode(v) == nil {
			j := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)
			j = strings.TrimPrefix(j, `"`)
			out = append(out, j, strings.ReplaceAll(j, "/", `\/`))
		}
	}
	return append(out, base64.StdEncoding.EncodeToString([]byte(v)))
}

// String returns text with every secret of s, or any part of one at least
// half its length (an echo cut short), replaced by Mask.
func (s *Set) String(text string) string {
	if s == nil || len(s.forms) == 0 {
		return text
	}
	for _, f := range s.forms {
		text = scrub(text, f)
	}
	return text
}

// scrub replaces in text every run that matches secret f from its start for
// at least half of f (all of it when f is short).
func scrub(text, f string) string {
	k := len(f)
	if k >= 16 {
		k = max(12, k/2)
	}
	probe := f[:k]
	var b strings.Builder
	for {
		i := strings.Index(text, probe)
		if i < 0 {
			if b.Len() == 0 {
				return text
			}
			b.WriteString(text)
			return b.String()
		}
		j := k
		for i+j < len(text) && j < len(f) && text[i+j] == f[j] {
			j++
		}
		b.WriteString(text[:i])
		b.WriteString(Mask)
		text = text[i+j:]
	}
}

// FromRequest returns the secrets req carries: the values of SecretParams in
// its URL query and form body, and the credentials of its Authorization
// header. The body is read through GetBody, so req must have one that
// returns a fresh reader (as http.NewRequest makes for an in-memory body,
// and as Transport gives the request of every answer it returns).
func FromRequest(req *http.Request) *Set {
	s := &Set{}
	if req == nil {
		return s
	}
	addParams(s, req.URL.Query())
	if req.GetBody != nil && isForm(req.Header.Get("Content-Type")) {
		if rc, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
			rc.Close()
			if vals, err := url.ParseQuery(string(b)); err == nil {
				addParams(s, vals)
			}
		}
	}
	if scheme, cred, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok {
		s.Add(cred)
		if strings.EqualFold(scheme, "Basic") {
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				if _, secret, ok := strings.Cut(string(dec), ":"); ok {
					// Basic credentials are form-encoded before base64.
					if un, err := url.QueryUnescape(secret); err == nil {
						s.Add(un)
					}
					s.Add(secret)
				}
			}
		}
	}
	return s
}

func addParams(s *Set, vals url.Values) {
	for _, name := range SecretParams {
		for _, v := range vals[name] {
			s.Add(v)
		}
	}
}

func isForm(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/x-www-form-urlencoded"
}

// maxBody bounds the answer read to be scrubbed. A token endpoint's answer
// is a few KiB; x/oauth2 reads at most 1 MiB of it too.
const maxBody = 1 << 20

// Transport wraps base (http.DefaultTransport when nil): the answer to any
// request that carried a secret has that secret scrubbed from its body
// (and from a transport error's text) before anyone reads it. Two answers
// are passed through untouched, since they are what the request was for
// and may rightly hold a token: a successful token response (an
// access_token and no error) and a successful answer to a request that is
// not a form post (Web API data, which may be large).
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if t, ok := base.(transport); ok {
		return t
	}
	return transport{base: base}
}

type transport struct{ base http.RoundTripper }

// rereadable returns req, or for a form post a copy whose body is held in
// memory with a GetBody that returns a fresh reader each time: some
// clients' GetBody (azcore's) rewinds and returns the one body, which
// reading it for secrets would use up. The original body is read whole
// and closed, as a RoundTripper must.
func rereadable(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody || !isForm(req.Header.Get("Content-Type")) {
		return req, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	r.ContentLength = int64(len(b))
	return r, nil
}

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	req, err := rereadable(req)
	if err != nil {
		return nil, err
	}
	secrets := FromRequest(req)
	resp, err := t.base.RoundTrip(req)
	if secrets.Empty() {
		return resp, err
	}
	if err != nil {
		return nil, &scrubbedError{msg: secrets.String(err.Error()), err: err}
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if ok && !isForm(req.Header.Get("Content-Type")) {
		return resp, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if rerr != nil {
		return nil, &scrubbedError{msg: secrets.String(rerr.Error()), err: rerr}
	}
	if !ok || !isTokenSuccess(resp.Header.Get("Content-Type"), body) {
		body = []byte(secrets.String(string(body)))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// isTokenSuccess reports whether body is a token response that succeeded:
// an access token and no error, parsed as x/oauth2 parses it.
func isTokenSuccess(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/x-www-form-urlencoded", "text/plain":
		vals, err := url.ParseQuery(string(body))
		return err == nil && vals.Get("error") == "" && vals.Get("access_token") != ""
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       any    `json:"error"`
	}
	return json.Unmarshal(body, &tok) == nil && tok.AccessToken != "" && tok.Error == nil
}

// scrubbedError is a transport error whose text had a secret removed; it
// still unwraps to the original for errors.Is (a timeout stays a timeout).
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

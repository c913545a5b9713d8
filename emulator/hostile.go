package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// fakeSuccess is what FaultEscapes tries to put on the user's terminal:
// clear the screen, home the cursor, and claim success in green.
const fakeSuccess = "\x1b[2J\x1b[H\x1b[32mApply complete! Connections: 0 added, 0 changed, 0 destroyed.\x1b[0m\u009b2J"

// hostile answers r the way a hostile or broken peer would, for the fault
// kinds that need the request itself, and reports whether it did.
func (e *Emulator) hostile(w http.ResponseWriter, r *http.Request, kind FaultKind, endpoint string) bool {
	switch kind {
	case FaultEchoJSON, FaultEchoForm, FaultEcho200, FaultEscapes:
	default:
		return false
	}
	echo := echoRequest(r)
	webapi := strings.HasPrefix(endpoint, "webapi")
	switch {
	case kind == FaultEscapes && webapi:
		writeOData(w, http.StatusBadRequest, "0x80040203", "Invalid request."+fakeSuccess)
	case kind == FaultEscapes:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request" + "\x1b[8m", "error_description": "Bad request." + fakeSuccess, "correlation_id": "\x1b]0;owned\x07"})
	case webapi:
		// An org (or a proxy before it) that echoes the request, bearer
		// token included.
		writeOData(w, http.StatusUnauthorized, "0x80072321", "Request rejected: "+echo)
	case kind == FaultEchoJSON:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "Malformed request: " + echo})
	case kind == FaultEchoForm:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, url.Values{"error": {"invalid_request"}, "error_description": {"Malformed request: " + echo}}.Encode())
	case kind == FaultEcho200:
		writeJSON(w, http.StatusOK, map[string]any{"error": "invalid_client", "error_description": "Rejected: " + echo})
	}
	return true
}

// echoRequest is the request as a careless server repeats it: the form
// encoded, then each value as it was sent, then the Authorization header.
func echoRequest(r *http.Request) string {
	_ = r.ParseForm()
	var b strings.Builder
	b.WriteString(r.PostForm.Encode())
	keys := make([]string, 0, len(r.PostForm))
	for k := range r.PostForm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, r.PostForm.Get(k))
	}
	if a := r.Header.Get("Authorization"); a != "" {
		b.WriteString(" Authorization: " + a)
	}
	return b.String()
}

package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

// entraError is an OAuth error as Entra reports it. Code is the AADSTS
// number; Status the HTTP status of a JSON answer.
type entraError struct {
	Status  int
	Err     string // the OAuth error, such as invalid_grant
	Code    int
	Message string // the text after "AADSTSnnnn: "
}

func (x *entraError) Error() string { return x.Description() }

// Description is the error_description: "AADSTSnnnn: message".
func (x *entraError) Description() string {
	return "AADSTS" + strconv.Itoa(x.Code) + ": " + x.Message
}

func newErr(status int, oauthErr string, code int, format string, args ...any) *entraError {
	return &entraError{Status: status, Err: oauthErr, Code: code, Message: fmt.Sprintf(format, args...)}
}

// correlationID echoes the client's client-request-id, as Entra does, so a
// client can match an error to its request.
func correlationID(r *http.Request) string {
	if id, err := uuid.Parse(r.Header.Get("client-request-id")); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// writeEntraJSON answers a token or discovery request with Entra's error
// body: the description also carries trace id, correlation id and time,
// as the real one does.
func (e *Emulator) writeEntraJSON(w http.ResponseWriter, r *http.Request, x *entraError) {
	trace, corr := uuid.NewString(), correlationID(r)
	ts := e.Now().UTC().Format("2006-01-02 15:04:05Z")
	noteError(w, x.Err+" AADSTS"+strconv.Itoa(x.Code))
	body := map[string]any{
		"error":             x.Err,
		"error_description": fmt.Sprintf("%s Trace ID: %s Correlation ID: %s Timestamp: %s", x.Description(), trace, corr, ts),
		"error_codes":       []int{x.Code},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         e.authority + "/error?code=" + strconv.Itoa(x.Code),
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("client-request-id", corr)
	w.WriteHeader(x.Status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeOData answers a Web API request with Dynamics' error body.
func writeOData(w http.ResponseWriter, status int, code, message string) {
	noteError(w, code)
	w.Header().Set("OData-Version", "4.0")
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

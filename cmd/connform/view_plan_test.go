package main

import (
	"testing"

	"connform/plan"
)

// Every reason code plan can give has words of its own in the views, not
// the bare code that reasonPhrase falls back to.
func TestReasonPhrases(t *testing.T) {
	for _, code := range plan.ReasonCodes {
		r := plan.Reason{Code: code, Attrs: []string{"url"}, Path: "library/x.dsconn"}
		if got := reasonPhrase(r); got == string(code) || got == "" {
			t.Errorf("reason %s has no words: %q", code, got)
		}
	}
}

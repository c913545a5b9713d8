package main

import (
	"os"
	"strings"
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

// docs/json.md documents plan -json for programs: every reason code they may
// meet is named there.
func TestReadmeNamesReasonCodes(t *testing.T) {
	readme, err := os.ReadFile("../../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	_, doc, _ := strings.Cut(string(readme), "## `plan -json`")
	doc, _, _ = strings.Cut(doc, "\n## ")
	for _, code := range plan.ReasonCodes {
		if !strings.Contains(doc, string(code)) {
			t.Errorf("docs/json.md's plan -json section does not name the reason code %s", code)
		}
	}
}

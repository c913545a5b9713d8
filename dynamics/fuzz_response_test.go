package dynamics

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

const fuzzToken = "eyJ0eXAiOiJKV1QifQ.eyJmdXp6IjoiYWNjZXNzLXRva2VuLXBheWxvYWQtMDEyMzQ1Njc4OSJ9.c2lnbmF0dXJlLW9mLXRoZS1mdXp6LXRva2Vu"

type cannedRT struct {
	status          int
	challenge, body string
}

func (c cannedRT) RoundTrip(req *http.Request) (*http.Response, error) {
	h := http.Header{"Content-Type": {"application/json"}}
	if c.challenge != "" {
		h.Set("WWW-Authenticate", c.challenge)
	}
	return &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(strings.NewReader(c.body)), Request: req}, nil
}

// FuzzWebAPIResponse: whatever an org answers (status, challenge, body),
// WhoAmI and Entities return a value or an error, never a panic; no error
// shows the token, and nothing they return holds a control character.
// Run longer with go test ./dynamics -run '^$' -fuzz FuzzWebAPIResponse.
func FuzzWebAPIResponse(f *testing.F) {
	for _, s := range []struct {
		status          int
		challenge, body string
	}{
		{200, "", `{"UserId":"u","BusinessUnitId":"b","OrganizationId":"o"}`},
		{200, "", `{"UserId":"u\u001b[2J","OrganizationId":"\u009b2J"}`},
		{200, "", `{"value":[{"LogicalName":"account\u001b[2J","EntitySetName":"accounts","DisplayName":{"UserLocalizedLabel":{"Label":"\u001b[HApply complete!"}}}]}`},
		{200, "", `{"value":[{"DisplayName":{"LocalizedLabels":[]}}],"@odata.nextLink":"http://elsewhere/x"}`},
		{401, `Bearer error="invalid_token", error_description="` + fuzzToken + `", authorization_uri="https://login.example/t"`, `{"error":{"code":"0x80072321","message":"Bearer ` + fuzzToken + `"}}`},
		{401, `Bearer error="\u001b[2J`, `{"error":{"code":"\u001b[31m","message":"\u001b[2J\u001b[HApply complete!"}}`},
		{403, "", "<html>" + fuzzToken[:40] + "</html>"},
		{429, "", `{"error":null}`},
		{500, "", strings.Repeat("[", 10000)},
		{200, "", `not json ` + fuzzToken},
	} {
		f.Add(s.status, s.challenge, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, challenge string, body []byte) {
		if status < 100 || status > 999 || !isHeaderValue(challenge) {
			return
		}
		c := &Client{
			HTTP:  &http.Client{Transport: cannedRT{status, challenge, string(bytes.Clone(body))}},
			Sleep: func(context.Context, time.Duration) error { return nil },
		}
		org, err := ParseOrgURL("https://fuzz.crm.dynamics.com")
		if err != nil {
			t.Fatal(err)
		}
		check := func(err error) {
			if err == nil {
				return
			}
			msg := err.Error()
			if strings.Contains(msg, fuzzToken) || strings.Contains(msg, strings.Split(fuzzToken, ".")[1]) {
				t.Fatalf("the error shows the token: %s", msg)
			}
			if !safetext.Safe(msg) {
				t.Fatalf("the error holds a control character: %q", msg)
			}
		}
		who, err := c.WhoAmI(context.Background(), org, fuzzToken)
		check(err)
		if who != nil && !(safetext.Safe(who.UserID) && safetext.Safe(who.OrganizationID) && safetext.Safe(who.BusinessUnitID)) {
			t.Fatalf("WhoAmI = %+v", who)
		}
		ents, err := c.Entities(context.Background(), org, fuzzToken)
		check(err)
		for _, e := range ents {
			if !safetext.Safe(e.LogicalName + e.EntitySetName + e.DisplayName) {
				t.Fatalf("entity %+v", e)
			}
		}
	})
}

// isHeaderValue reports whether net/http would send s as a header value.
func isHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// TestRecordsEscaped: a row's strings, keys and nested values included,
// come back with their control characters escaped; text keeps its lines.
func TestRecordsEscaped(t *testing.T) {
	org, _ := fakeCollection(t, `{"value":[{"name":"\u001b[2JApply complete!","note":"line one\nline two","k\u001b[31m":1,"tags":["\u009b2J",{"x":"\u0007"}]}]}`)
	got, err := testClient().Records(context.Background(), org, testToken, RecordsQuery{EntitySet: "things", Top: 5})
	if err != nil {
		t.Fatal(err)
	}
	row := got.Rows[0]
	if row["name"] != `\x1b[2JApply complete!` || row["note"] != "line one\nline two" {
		t.Errorf("row %q", row)
	}
	if _, ok := row[`k\x1b[31m`]; !ok {
		t.Errorf("key not escaped: %q", row)
	}
	tags := row["tags"].([]any)
	if tags[0] != `\u009b2J` || tags[1].(map[string]any)["x"] != `\x07` {
		t.Errorf("nested values %q", tags)
	}
	for _, c := range got.Columns {
		if !safetext.Safe(c) {
			t.Errorf("column %q", c)
		}
	}
}

package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

var httpClient = &http.Client{}

func TestErrorClasses(t *testing.T) {
	type class struct{ signIn, interact, config, transient bool }
	tests := []struct {
		name   string
		err    *Error
		want   class
		hintIn string
	}{
		{"70008 expired grant", &Error{Code: "invalid_grant", Codes: []int{70008}}, class{signIn: true}, "sign in again"},
		{"700082 refresh token idle", &Error{Code: "invalid_grant", Codes: []int{700082}}, class{signIn: true}, "sign in again"},
		{"70043 sign-in frequency", &Error{Code: "invalid_grant", Codes: []int{70043}}, class{signIn: true}, "sign in again"},
		{"50173 grant revoked", &Error{Code: "invalid_grant", Codes: []int{50173}}, class{signIn: true}, "sign in again"},
		{"54005 code redeemed", &Error{Code: "invalid_grant", Codes: []int{54005}}, class{signIn: true}, "sign in again"},
		{"501481 verifier mismatch", &Error{Code: "invalid_grant", Codes: []int{501481}}, class{signIn: true}, "sign in again"},
		{"invalid_grant without a known code", &Error{Code: "invalid_grant", Codes: []int{12345}}, class{signIn: true}, "sign in again"},
		{"65001 consent", &Error{Code: "invalid_grant", Codes: []int{65001}}, class{interact: true}, "consent"},
		{"50076 MFA", &Error{Code: "invalid_grant", Codes: []int{50076}}, class{interact: true}, "multi-factor"},
		{"50079 MFA enrolment", &Error{Code: "invalid_grant", Codes: []int{50079}}, class{interact: true}, "multi-factor"},
		{"53003 conditional access", &Error{Code: "invalid_grant", Codes: []int{53003}}, class{interact: true}, "conditional access"},
		{"interaction_required", &Error{Code: "interaction_required"}, class{interact: true}, "interactively"},
		{"consent_required", &Error{Code: "consent_required"}, class{interact: true}, "interactively"},
		{"50011 redirect mismatch", &Error{Code: "invalid_request", Codes: []int{50011}}, class{config: true}, "`redirect`"},
		{"700016 app not in tenant", &Error{Code: "unauthorized_client", Codes: []int{700016}}, class{config: true}, "`client_id`"},
		{"7000215 bad secret", &Error{Code: "invalid_client", Codes: []int{7000215}}, class{config: true}, "secret id"},
		{"7000222 secret expired", &Error{Code: "invalid_client", Codes: []int{7000222}}, class{config: true}, "expired"},
		{"700025 public client with secret", &Error{Code: "invalid_client", Codes: []int{700025}}, class{config: true}, "remove `client_secret`"},
		{"70011 bad scope", &Error{Code: "invalid_scope", Codes: []int{70011}}, class{config: true}, "`scopes`"},
		{"90002 tenant not found", &Error{Code: "invalid_request", Codes: []int{90002}}, class{config: true}, "`tenant_id`"},
		{"50194 single-tenant on common", &Error{Code: "invalid_request", Codes: []int{50194}}, class{config: true}, "`tenant_id`"},
		{"1002012 client credentials scope", &Error{Code: "invalid_scope", Codes: []int{1002012}}, class{config: true}, ".default"},
		{"invalid_grant with a configuration code", &Error{Code: "invalid_grant", Codes: []int{50011}}, class{config: true}, "`redirect`"},
		{"temporarily_unavailable", &Error{StatusCode: 400, Code: "temporarily_unavailable"}, class{transient: true}, "try again later"},
		{"429", &Error{StatusCode: 429}, class{transient: true}, "try again later"},
		{"500", &Error{StatusCode: 500}, class{transient: true}, "try again later"},
		{"503", &Error{StatusCode: 503}, class{transient: true}, "try again later"},
		{"400 invalid_request", &Error{StatusCode: 400, Code: "invalid_request"}, class{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := class{tt.err.SignInAgain(), tt.err.InteractionRequired(), tt.err.ConfigError(), tt.err.Transient()}
			if got != tt.want {
				t.Errorf("class = %+v, want %+v", got, tt.want)
			}
			if h := tt.err.Hint(); (tt.hintIn == "") != (h == "") || !strings.Contains(h, tt.hintIn) {
				t.Errorf("Hint() = %q, want it to contain %q", h, tt.hintIn)
			}
		})
	}
}

func TestErrorFromEntraFields(t *testing.T) {
	tests := []struct {
		name      string
		desc      string
		codes     []int
		wantCodes []int
		wantDesc  string
	}{
		{"codes from error_codes", "AADSTS70008: expired.\r\nTrace ID: t\r\nCorrelation ID: c", []int{70008}, []int{70008}, "AADSTS70008: expired."},
		{"codes parsed from the description", "AADSTS700082: The refresh token has expired due to inactivity.\nTrace ID: t", nil, []int{700082}, "AADSTS700082: The refresh token has expired due to inactivity."},
		{"no codes", "something else", nil, nil, "something else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newError(400, "invalid_grant", tt.desc, tt.codes, "corr-1", "trace-1")
			if len(e.Codes) != len(tt.wantCodes) || (len(e.Codes) > 0 && e.Codes[0] != tt.wantCodes[0]) {
				t.Errorf("Codes = %v, want %v", e.Codes, tt.wantCodes)
			}
			if e.Description != tt.wantDesc {
				t.Errorf("Description = %q, want %q", e.Description, tt.wantDesc)
			}
			if want := "invalid_grant: " + tt.wantDesc + " (correlation id corr-1)"; e.Error() != want {
				t.Errorf("Error() = %q, want %q", e.Error(), want)
			}
		})
	}
	if got := (&Error{StatusCode: 503}).Error(); got != "token endpoint answered HTTP 503 Service Unavailable" {
		t.Errorf("status-only error = %q", got)
	}
}

func TestUnfinished(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"browser timeout", fmt.Errorf("browser sign-in: %w within 5m0s", errNotCompleted), true},
		{"device code expired", errDeviceExpired, true},
		{"cancelled with Ctrl-C", fmt.Errorf("browser sign-in: cancelled: %w", context.Canceled), true},
		{"user pressed cancel at Entra", &Error{Code: "access_denied", Codes: []int{65004}}, true},
		{"declined on the device page", fmt.Errorf("device code sign-in: %w", &Error{Code: "authorization_declined"}), true},
		{"unknown resource: the connection's fault", &Error{Code: "invalid_resource", Codes: []int{500011}}, false},
		{"redirect mismatch", &Error{Code: "invalid_request", Codes: []int{50011}}, false},
		{"listener failure", errors.New("browser sign-in: cannot listen on 127.0.0.1"), false},
	}
	for _, tt := range tests {
		if got := Unfinished(tt.err); got != tt.want {
			t.Errorf("%s: Unfinished = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAppMisconfigured(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"wrong secret", fmt.Errorf("exchange: %w", &Error{Code: "invalid_client", Codes: []int{7000215}}), true},
		{"redirect not registered", &Error{Code: "invalid_request", Codes: []int{50011}}, true},
		{"unknown app", &Error{Code: "unauthorized_client", Codes: []int{700016}}, true},
		{"unknown resource: one connection's", &Error{Code: "invalid_resource", Codes: []int{500011}}, false},
		{"bad scope: one connection's", &Error{Code: "invalid_scope", Codes: []int{70011}}, false},
		{"consent for one org", &Error{Code: "consent_required", Codes: []int{65001}}, false},
		{"not an Entra error", errors.New("listen: address in use"), false},
	}
	for _, tt := range tests {
		if got := AppMisconfigured(tt.err); got != tt.want {
			t.Errorf("%s: AppMisconfigured = %v, want %v", tt.name, got, tt.want)
		}
	}
}

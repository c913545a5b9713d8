package emulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connform/emulator"
)

// TestScopePolicies: the two ways standard OpenID providers differ from
// Entra that connform must survive. With GrantFewerScopes an unknown
// permission is dropped from the grant (not refused) and a refresh asking
// for it again is refused with invalid_scope; with RefreshPerResource a
// refresh token serves only the org it was issued for.
func TestScopePolicies(t *testing.T) {
	tests := []struct {
		name           string
		opts           emulator.Options
		ask            func(org1, org2 string) string // the sign-in's scopes
		refresh        func(org1, org2 string) string // the refresh's scope
		granted        func(org1, org2 string) string
		refreshRefused bool
	}{
		{
			name:    "Entra: refresh crosses orgs",
			ask:     func(o1, _ string) string { return o1 + "/user_impersonation offline_access" },
			refresh: func(_, o2 string) string { return o2 + "/user_impersonation offline_access" },
			granted: func(o1, _ string) string { return o1 + "/user_impersonation" },
		},
		{
			name:           "fewer scopes: unknown one dropped, refresh asking for it refused",
			opts:           emulator.Options{GrantFewerScopes: true},
			ask:            func(o1, _ string) string { return o1 + "/user_impersonation " + o1 + "/Extra.Read offline_access" },
			refresh:        func(o1, _ string) string { return o1 + "/user_impersonation " + o1 + "/Extra.Read offline_access" },
			granted:        func(o1, _ string) string { return o1 + "/user_impersonation" },
			refreshRefused: true,
		},
		{
			name:    "fewer scopes: refresh for what was granted works",
			opts:    emulator.Options{GrantFewerScopes: true},
			ask:     func(o1, _ string) string { return o1 + "/user_impersonation " + o1 + "/Extra.Read offline_access" },
			refresh: func(o1, _ string) string { return o1 + "/user_impersonation offline_access" },
			granted: func(o1, _ string) string { return o1 + "/user_impersonation" },
		},
		{
			name:           "per resource: refresh for another org refused",
			opts:           emulator.Options{RefreshPerResource: true},
			ask:            func(o1, _ string) string { return o1 + "/user_impersonation offline_access" },
			refresh:        func(_, o2 string) string { return o2 + "/user_impersonation offline_access" },
			granted:        func(o1, _ string) string { return o1 + "/user_impersonation" },
			refreshRefused: true,
		},
		{
			name:    "per resource: refresh for the same org works",
			opts:    emulator.Options{RefreshPerResource: true},
			ask:     func(o1, _ string) string { return o1 + "/user_impersonation offline_access" },
			refresh: func(o1, _ string) string { return o1 + "/user_impersonation offline_access" },
			granted: func(o1, _ string) string { return o1 + "/user_impersonation" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.AutoApprove = true
			_, info := start(t, tt.opts)
			o1, o2 := info.Orgs[0].URL, info.Orgs[1].URL
			pub := app(t, info, emulator.PublicApp).ClientID
			redirect := "http://localhost:8400/"
			code, verifier := autoCode(t, info, redirect, strings.Fields(tt.ask(o1, o2))...)
			status, raw, body := post(t, info.TokenURL, url.Values{
				"grant_type": {"authorization_code"}, "client_id": {pub},
				"code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier},
			}, nil)
			if status != http.StatusOK {
				t.Fatalf("redeeming the code: %d %s", status, raw)
			}
			if body["scope"] != tt.granted(o1, o2) {
				t.Errorf("granted %v, want %s", body["scope"], tt.granted(o1, o2))
			}
			status, raw, _ = post(t, info.TokenURL, refreshForm(info, pub, body["refresh_token"].(string), tt.refresh(o1, o2)), nil)
			if tt.refreshRefused {
				wantEntraError(t, http.StatusBadRequest, raw, status, "invalid_scope", 70011)
			} else if status != http.StatusOK {
				t.Errorf("refresh: %d %s, want it served", status, raw)
			}
		})
	}
}

package library

import (
	"reflect"
	"strings"
	"testing"
)

func TestBuildParams(t *testing.T) {
	base := map[string]string{
		"url":        "https://contoso.crm.dynamics.com",
		"client_id":  "cid",
		"tenant_id":  "tid",
		"grant_type": "client_credentials",
		"scopes":     "https://contoso.crm.dynamics.com/.default",
		"prompt":     "login",
	}
	cases := []struct {
		name      string
		attrs     map[string]string
		overrides map[string]string
		want      []Param
	}{
		{
			name:  "defaults, order and omitted empties",
			attrs: base,
			want: []Param{
				{"ServiceUrl", "https://contoso.crm.dynamics.com/XRMServices/2011/Organization.svc"},
				{"AuthenticationMethod", "CustomOAuthApplication"},
				{"TenantID", "tid"},
				{"ClientID", "cid"},
				{"GrantType", "client_credentials"},
				{"Scopes", "https://contoso.crm.dynamics.com/.default"},
			},
		},
		{
			name:      "overrides rename, drop and add",
			attrs:     merge(base, map[string]string{"authentication_method": "OAuth", "token_key": "k"}),
			overrides: map[string]string{"url": "Url", "tenant_id": "", "prompt": "Prompt", "scopes": "Scope"},
			want: []Param{
				{"Url", "https://contoso.crm.dynamics.com/XRMServices/2011/Organization.svc"},
				{"AuthenticationMethod", "OAuth"},
				{"ClientID", "cid"},
				{"GrantType", "client_credentials"},
				{"Scope", "https://contoso.crm.dynamics.com/.default"},
				{"TokenCacheKey", "k"},
				{"Prompt", "login"},
			},
		},
		{
			name:  "an org URL in another form is normalised",
			attrs: map[string]string{"url": "https://Contoso.crm4.dynamics.com/api/data/v9.2/"},
			want: []Param{
				{"ServiceUrl", "https://contoso.crm4.dynamics.com/XRMServices/2011/Organization.svc"},
				{"AuthenticationMethod", "CustomOAuthApplication"},
			},
		},
		{
			name:  "a URL connform cannot parse is kept",
			attrs: map[string]string{"url": "https://crm.internal.example"},
			want: []Param{
				{"ServiceUrl", "https://crm.internal.example"},
				{"AuthenticationMethod", "CustomOAuthApplication"},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := BuildParams(c.attrs, c.overrides)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestBuildParamsNeverWritesSecrets(t *testing.T) {
	const secret = "s3cr3t-Value~With.Enough_Length"
	attrs := map[string]string{
		"url":           "https://contoso.crm.dynamics.com",
		"client_id":     "cid",
		"client_secret": secret,
		"password":      "hunter22-hunter22",
		"refresh_token": "0.AAAA-refresh",
		"description":   "copied " + secret + " by mistake",
		"login_hint":    secret,
	}
	overridesCases := map[string]map[string]string{
		"no overrides": nil,
		"secret attributes given names": {
			"client_secret": "ClientSecret", "password": "Pwd", "refresh_token": "RT",
			"description": "Description", "login_hint": "LoginHint",
		},
		"harmless attribute given a secret-like name": {"client_id": "Client_Secret", "url": "AccessToken"},
	}
	for name, overrides := range overridesCases {
		t.Run(name, func(t *testing.T) {
			for _, p := range BuildParams(attrs, overrides) {
				if looksSecret(p.Name) {
					t.Errorf("parameter %q is named like a secret", p.Name)
				}
				for _, bad := range []string{secret, attrs["password"], attrs["refresh_token"]} {
					if strings.Contains(p.Value, bad) {
						t.Errorf("parameter %s carries a secret value", p.Name)
					}
				}
			}
		})
	}
	// The check must still let ordinary parameters through.
	got := BuildParams(attrs, overridesCases["secret attributes given names"])
	if len(got) != 3 || got[0].Name != "ServiceUrl" || got[2].Name != "ClientID" {
		t.Errorf("ordinary parameters lost: %v", got)
	}
}

func TestLooksSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"client_secret": true, "ClientSecret": true, "Password": true, "refresh_token": true,
		"AccessToken": true, "code_verifier": true,
		"TokenCacheKey": false, "TokenUrl": false, "token_url": false, "AuthorizationUrl": false, "ClientID": false,
	} {
		if got := looksSecret(name); got != want {
			t.Errorf("looksSecret(%q) = %v, want %v", name, got, want)
		}
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

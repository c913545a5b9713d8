package config

import (
	"slices"
	"testing"
)

// TestDeviceCodeGrant: grant_type = "device_code" is accepted without a
// secret or a loopback redirect, and gets delegated scopes by default.
func TestDeviceCodeGrant(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"main.hcl": body(okAttrs,
		`  grant_type = "device_code"`,
		`  redirect   = "https://not-a-loopback.example/callback"`)}, LoadOptions{})
	c := conn(t, cfg, "connection.c")
	if c.GrantType != GrantDeviceCode {
		t.Errorf("grant type %q, want device_code", c.GrantType)
	}
	want := []string{"https://contoso.crm.dynamics.com/user_impersonation", "offline_access"}
	if !slices.Equal(c.Scopes, want) {
		t.Errorf("scopes %v, want delegated %v", c.Scopes, want)
	}
}

package config

import (
	"slices"
	"strings"
	"testing"
)

const orgOnly = `  url = "https://contoso.crm.dynamics.com"`

// TestNativeMethodsLoad: each Entra-native method loads with the
// attributes it needs, gets {org}/.default and no grant type.
func TestNativeMethodsLoad(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		method string
		check  func(t *testing.T, c *Connection)
	}{
		{"azure_cli needs only the url", []string{orgOnly, `  authentication_method = "azure_cli"`}, MethodAzureCLI, nil},
		{"managed_identity, system-assigned", []string{orgOnly, `  authentication_method = "managed_identity"`}, MethodManagedIdentity, nil},
		{"managed_identity, user-assigned", []string{orgOnly, `  client_id = "mi"`, `  authentication_method = "managed_identity"`}, MethodManagedIdentity, nil},
		{"workload_identity with the file from the environment", []string{okAttrs, `  authentication_method = "workload_identity"`}, MethodWorkloadIdentity, nil},
		{"workload_identity with a file", []string{okAttrs, `  authentication_method = "workload_identity"`, `  federated_token_file = "/var/run/token"`}, MethodWorkloadIdentity, func(t *testing.T, c *Connection) {
			if c.Attributes()["federated_token_file"] != "/var/run/token" {
				t.Errorf("attributes %v lack the token file", c.Attributes())
			}
		}},
		{"client_certificate with a password", []string{okAttrs, `  authentication_method = "client_certificate"`, `  certificate_path = "app.pfx"`, `  certificate_password = "pw"`}, MethodClientCertificate, func(t *testing.T, c *Connection) {
			if c.CertificatePassword != "pw" || c.Sensitive()["certificate_password"] != "pw" {
				t.Errorf("the password is not kept as a sensitive input: %v", c.Sensitive())
			}
			for k, v := range c.Attributes() {
				if strings.Contains(v, "pw") && k != "certificate_path" {
					t.Errorf("attribute %s shows the password", k)
				}
			}
			if c.TokenURL != "https://login.microsoftonline.com/t/oauth2/v2.0/token" {
				t.Errorf("token_url %q not derived from tenant_id", c.TokenURL)
			}
		}},
		{"oauth spelled out is the default", []string{okAttrs, `  authentication_method = "oauth"`}, "", func(t *testing.T, c *Connection) {
			if c.GrantType != GrantAuthorizationCode {
				t.Errorf("grant type %q", c.GrantType)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, map[string]string{"main.hcl": body(tt.lines...)}, LoadOptions{})
			c := conn(t, cfg, "connection.c")
			if c.AuthenticationMethod != tt.method {
				t.Errorf("method %q, want %q", c.AuthenticationMethod, tt.method)
			}
			if tt.method != "" {
				if c.GrantType != "" || !slices.Equal(c.Scopes, []string{"https://contoso.crm.dynamics.com/.default"}) {
					t.Errorf("grant %q scopes %v, want none and {org}/.default", c.GrantType, c.Scopes)
				}
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestNativeMethodsInvalid: the mistakes, each pointing at the line to fix.
func TestNativeMethodsInvalid(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string
		summary string
		line    string // main.hcl:N
		detail  string
	}{
		{"unknown method", []string{okAttrs, `  authentication_method = "password"`}, "Invalid authentication_method", "main.hcl:5", `"azure_cli"`},
		{"certificate without a path", []string{okAttrs, `  authentication_method = "client_certificate"`}, "Missing certificate_path", "main.hcl:1", "certificate_path"},
		{"certificate without a client", []string{orgOnly, `  tenant_id = "t"`, `  authentication_method = "client_certificate"`, `  certificate_path = "a.pem"`}, "Missing required argument", "main.hcl:1", `"client_id"`},
		{"oauth without a client", []string{orgOnly, `  tenant_id = "t"`}, "Missing required argument", "main.hcl:1", `"client_id"`},
		{"workload without a tenant", []string{orgOnly, `  client_id = "app"`, `  authentication_method = "workload_identity"`}, "Missing tenant_id", "main.hcl:1", "tenant_id"},
		{"password without a certificate method", []string{okAttrs, `  certificate_password = "pw"`}, "Unexpected certificate_password", "main.hcl:5", `authentication_method = "client_certificate"`},
		{"token file with the CLI", []string{orgOnly, `  authentication_method = "azure_cli"`, `  federated_token_file = "f"`}, "Unexpected federated_token_file", "main.hcl:4", "workload_identity"},
		{"secret with a certificate", []string{okAttrs, `  authentication_method = "client_certificate"`, `  certificate_path = "a.pem"`, `  client_secret = "s"`}, "Unexpected client_secret", "main.hcl:7", "the app's certificate"},
		{"client id with the CLI", []string{okAttrs, `  authentication_method = "azure_cli"`}, "Unexpected client_id", "main.hcl:4", "its own app"},
		{"plain http authority", []string{`  url = "http://127.0.0.1:5555"`, `  client_id = "app"`, `  token_url = "http://127.0.0.1:5556/t/oauth2/v2.0/token"`, `  authentication_method = "workload_identity"`}, "Invalid token_url", "main.hcl:4", "must be https"},
		{"two scopes", []string{orgOnly, `  authentication_method = "managed_identity"`, `  scopes = ["a/.default", "b/.default"]`}, "Invalid scopes", "main.hcl:4", "exactly one scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Load(writeDir(t, map[string]string{"main.hcl": body(tt.lines...)}), LoadOptions{})
			d := findDiag(diags, tt.summary, tt.line)
			if d == nil {
				t.Fatalf("no error %q at %s; got:\n%s", tt.summary, tt.line, diagText(diags))
			}
			if !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", d.Detail, tt.detail)
			}
		})
	}
}

// TestMissingClientIDOncePerBlock: a for_each block without client_id is
// one mistake, reported once, not once per key.
func TestMissingClientIDOncePerBlock(t *testing.T) {
	_, diags := Load(writeDir(t, map[string]string{"main.hcl": body(orgOnly, `  tenant_id = "t"`, `  for_each = toset(["a", "b", "c"])`)}), LoadOptions{})
	n := 0
	for _, d := range diags {
		if d.Summary == "Missing required argument" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d missing-client_id errors, want 1:\n%s", n, diagText(diags))
	}
}

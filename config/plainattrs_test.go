package config

import (
	"maps"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestPlainAttrs holds the shortcut past hcl's schema decoding to hcl's
// own answer: a block takes it only when Content would report nothing and
// return the same attributes; every other block is left to Content, for
// its diagnostics.
func TestPlainAttrs(t *testing.T) {
	tests := []struct {
		name, body string
		plain      bool
	}{
		{"usual", `url = "https://org.crm.dynamics.com"
tenant_id = var.t
client_id = "c"`, true},
		{"for_each", `for_each = toset(["a"])
url = "https://${each.key}.crm.dynamics.com"`, true},
		{"every attribute", func() string {
			s := ""
			for name := range connectionAttrs {
				s += name + " = \"x\"\n"
			}
			return s
		}(), true},
		{"lifecycle", `url = "https://org.crm.dynamics.com"
lifecycle {
  prevent_destroy = true
}`, false},
		{"unknown attribute", `url = "https://org.crm.dynamics.com"
tenant = "t"`, false},
		{"unknown block", `url = "https://org.crm.dynamics.com"
settings {}`, false},
		{"attribute as block", `url = "https://org.crm.dynamics.com"
scopes {}`, false},
		{"missing url", `client_id = "c"`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, diags := hclsyntax.ParseConfig([]byte("connection \"c\" {\n"+tt.body+"\n}\n"), "main.hcl", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			body := f.Body.(*hclsyntax.Body).Blocks[0].Body
			attrs, plain := plainAttrs(body)
			if plain != tt.plain {
				t.Fatalf("plainAttrs took the shortcut: %v, want %v", plain, tt.plain)
			}
			content, diags := body.Content(connectionSchema)
			if !plain {
				if !diags.HasErrors() && len(content.Blocks) == 0 {
					t.Errorf("left to Content, which reports nothing and finds no block: the shortcut would have served")
				}
				return
			}
			if len(diags) > 0 {
				t.Fatalf("shortcut taken, but Content reports %v", diags)
			}
			if got, want := slices.Sorted(maps.Keys(attrs.syntax)), slices.Sorted(maps.Keys(content.Attributes)); !slices.Equal(got, want) {
				t.Errorf("attributes %v, Content's %v", got, want)
			}
			for name, a := range content.Attributes {
				if e, ok := attrs.expr(name); !ok || e.Range() != a.Expr.Range() {
					t.Errorf("%s: expression at %v, Content's at %v", name, e.Range(), a.Expr.Range())
				}
			}
		})
	}
}

// TestDerivedEndpointsPerTenant: connections of different tenants and
// clouds, in turn, each get their own tenant's endpoints.
func TestDerivedEndpointsPerTenant(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"main.hcl": `
connection "a1" {
  url       = "https://a1.crm.dynamics.com"
  tenant_id = "tenant-a"
  client_id = "c"
}
connection "b" {
  url       = "https://b.crm.dynamics.com"
  tenant_id = "tenant-b"
  client_id = "c"
}
connection "a2" {
  url       = "https://a2.crm.dynamics.com"
  tenant_id = "tenant-a"
  client_id = "c"
}
connection "gov" {
  url       = "https://gov.crm.microsoftdynamics.us"
  tenant_id = "tenant-a"
  client_id = "c"
}
`}, LoadOptions{})
	for _, tt := range []struct{ addr, authorize, token string }{
		{"connection.a1", "https://login.microsoftonline.com/tenant-a/oauth2/v2.0/authorize", "https://login.microsoftonline.com/tenant-a/oauth2/v2.0/token"},
		{"connection.b", "https://login.microsoftonline.com/tenant-b/oauth2/v2.0/authorize", "https://login.microsoftonline.com/tenant-b/oauth2/v2.0/token"},
		{"connection.a2", "https://login.microsoftonline.com/tenant-a/oauth2/v2.0/authorize", "https://login.microsoftonline.com/tenant-a/oauth2/v2.0/token"},
		{"connection.gov", "https://login.microsoftonline.us/tenant-a/oauth2/v2.0/authorize", "https://login.microsoftonline.us/tenant-a/oauth2/v2.0/token"},
	} {
		c := conn(t, cfg, tt.addr)
		if c.AuthorizationURL != tt.authorize || c.TokenURL != tt.token {
			t.Errorf("%s: %s and %s, want %s and %s", tt.addr, c.AuthorizationURL, c.TokenURL, tt.authorize, tt.token)
		}
	}
}

package config

import (
	"bytes"
	"strings"
	"testing"
)

func TestSensitiveValuesStayOutOfDiagnostics(t *testing.T) {
	const secret = "S3cr3t-Value~xyz"
	files := map[string]string{
		"main.hcl": `
variable "secret" {
  sensitive = true
  validation {
    condition     = tonumber(var.secret) > 0
    error_message = "secret must be positive."
  }
}
variable "code" {
  type      = number
  sensitive = true
}
locals {
  derived = "prefix-${var.secret}"
}
connection "a" {
  url           = var.secret
  tenant_id     = "t"
  client_id     = "app"
  client_secret = var.secret
  grant_type    = "client_credentials"
  prompt        = var.secret
  redirect      = local.derived
  cloud         = local.derived
  entity        = tonumber(var.secret)
  token_url     = var.secret
}
connection "b" {
  for_each   = { k = var.secret }
  url        = each.value
  tenant_id  = "t"
  client_id  = "app"
}
connection "c" {
  url        = "https://contoso.crm.dynamics.com"
  tenant_id  = "t"
  client_id  = "app"
  grant_type = local.derived
  scopes     = [var.secret, "x"]
  login_hint = upper(var.secret) + 1
}
`,
	}
	opts := LoadOptions{
		Vars: []string{"secret=" + secret},
		// Not HCL: the parse error must not quote it.
		Env: []string{"CONNFORM_VAR_code=" + secret},
	}
	cfg, diags := Load(writeDir(t, files), opts)
	if len(diags) < 6 {
		t.Fatalf("expected several errors, got:\n%s", diagText(diags))
	}
	// The validation rule fails inside tonumber, whose message would quote
	// the value.
	if findDiag(diags, "Invalid function argument", "main.hcl:5") == nil {
		t.Errorf("the failing validation condition is not reported:\n%s", diagText(diags))
	}
	for _, d := range diags {
		if strings.Contains(d.Summary, secret) || strings.Contains(d.Detail, secret) {
			t.Errorf("diagnostic %q reveals the secret: %s", d.Summary, d.Detail)
		}
	}
	var out bytes.Buffer
	if err := WriteDiagnostics(&out, cfg.Files, diags, 0, false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), secret) {
		t.Errorf("WriteDiagnostics reveals the secret:\n%s", out.String())
	}
	if strings.Contains(strings.Join(mapValues(cfg.PlanVariables()), "\n"), secret) || strings.Contains(cfg.Hash, secret) {
		t.Error("the secret leaks through PlanVariables or Hash")
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestSensitiveValueOnlyInSecretAttributes: connform keeps every attribute
// but client_secret and certificate_password in clear, so a value derived
// from a sensitive variable anywhere else is refused where it is used,
// naming the variable and never the value.
func TestSensitiveValueOnlyInSecretAttributes(t *testing.T) {
	const secret = "Zq8~secret-value"
	const header = `variable "secret" {
  sensitive = true
}
variable "other" {
  sensitive = true
}
variable "plain" { default = "p" }
locals {
  derived = "x-${var.secret}"
  nested  = upper(local.derived)
  plain   = "y-${var.plain}"
}
`
	// The connection's extra lines start at line 17 (see body and okAttrs).
	withConn := func(lines ...string) string { return header + body(append([]string{okAttrs}, lines...)...) }
	const clear = "in the state and the connection library in clear"
	const fix = "Use sensitive values only in client_secret or certificate_password"
	tests := []struct {
		name   string
		src    string
		attr   string // in the summary "Sensitive value in ATTR"
		at     string
		detail []string
	}{
		{"interpolated into description", withConn(`  description = "key ${var.secret}"`), "description", "main.hcl:17",
			[]string{"description is built from var.secret.", clear, fix, "remove sensitive = true from the declaration of var.secret (main.hcl:1)"}},
		{"whole value as login_hint", withConn(`  login_hint = var.secret`), "login_hint", "main.hcl:17", []string{"var.secret", clear}},
		{"through a local", withConn(`  entity = local.derived`), "entity", "main.hcl:17",
			[]string{"local.derived (from var.secret)", "var.secret (main.hcl:1)"}},
		{"through a local built from a local", withConn(`  description = local.nested`), "description", "main.hcl:17", []string{"local.nested (from var.secret)"}},
		{"through a function", withConn(`  entity = upper(var.secret)`), "entity", "main.hcl:17", []string{"var.secret", fix}},
		{"two sensitive variables", withConn(`  description = "${var.secret}/${var.other}"`), "description", "main.hcl:17",
			[]string{"var.secret and var.other", "var.secret (main.hcl:1) and var.other (main.hcl:4)"}},
		{"as the url", header + body(`  url = "https://${var.secret}.crm.dynamics.com"`, `  tenant_id = "t"`, `  client_id = "app"`), "url", "main.hcl:14", []string{"var.secret", "what it derives from it"}},
		{"as the cloud", withConn(`  cloud = var.secret`), "cloud", "main.hcl:17", []string{"var.secret"}},
		{"as a certificate path", withConn(`  authentication_method = "client_certificate"`, `  certificate_path = var.secret`), "certificate_path", "main.hcl:18", []string{"var.secret"}},
		{"in scopes", withConn(`  scopes = ["https://contoso.crm.dynamics.com/user_impersonation", var.secret]`), "scopes", "main.hcl:17", []string{"scopes is built from var.secret", clear}},
		{"in each instance's description", withConn(`  for_each = toset(["a", "b"])`, `  description = "${each.key}: ${local.derived}"`), "description", "main.hcl:18", []string{"local.derived (from var.secret)"}},
		{"as for_each's keys", withConn(`  for_each = toset([var.secret])`), "for_each", "main.hcl:17",
			[]string{"for_each is built from var.secret", "connection addresses", "in clear", fix}},
		{"as for_each's values", withConn(`  for_each = { k = local.derived }`), "for_each", "main.hcl:17", []string{"local.derived (from var.secret)"}},
		{"in a setting", header + "connform {\n  library_path = \"lib/${var.secret}\"\n}\n", "library_path", "main.hcl:14", []string{"var.secret", "in clear", fix}},
		{"in a map setting", header + "connform {\n  library_parameter_names = { url = local.derived }\n}\n", "library_parameter_names", "main.hcl:14", []string{"local.derived (from var.secret)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{VarArgs: []VarArg{{Value: "secret=" + secret}, {Value: "other=" + secret + "-2"}}}
			cfg, diags := Load(writeDir(t, map[string]string{"main.hcl": tt.src}), opts)
			summary := "Sensitive value in " + tt.attr
			d := findDiag(diags, summary, tt.at)
			if d == nil {
				t.Fatalf("no error %q at %s; got:\n%s", summary, tt.at, diagText(diags))
			}
			for _, want := range tt.detail {
				if !strings.Contains(d.Detail, want) {
					t.Errorf("detail %q lacks %q", d.Detail, want)
				}
			}
			n := 0
			for _, d := range diags {
				if d.Summary == summary {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d %q errors, want one:\n%s", n, summary, diagText(diags))
			}
			var out bytes.Buffer
			if err := WriteDiagnostics(&out, cfg.Files, diags, 0, false); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "Zq8") {
				t.Errorf("the diagnostics reveal the secret:\n%s", out.String())
			}
		})
	}
}

// TestSensitiveValueInSecretAttributesLoads: the secret attributes take
// sensitive values, and a sensitive variable that only feeds them leaves
// every other attribute alone.
func TestSensitiveValueInSecretAttributesLoads(t *testing.T) {
	const header = `variable "secret" {
  sensitive = true
}
variable "plain" { default = "p" }
locals {
  plain   = "y-${var.plain}"
  unused  = "x-${var.secret}"
}
`
	tests := []struct {
		name  string
		lines []string
		check func(t *testing.T, c *Connection)
	}{
		{"client_secret", []string{okAttrs, `  client_secret = var.secret`, `  grant_type = "client_credentials"`, `  description = local.plain`}, func(t *testing.T, c *Connection) {
			if c.ClientSecret != "s3" || c.Description != "y-p" {
				t.Errorf("client_secret %q, description %q", c.ClientSecret, c.Description)
			}
		}},
		{"client_secret derived from the secret", []string{okAttrs, `  client_secret = trimspace(" ${var.secret} ")`}, func(t *testing.T, c *Connection) {
			if c.ClientSecret != "s3" {
				t.Errorf("client_secret %q", c.ClientSecret)
			}
		}},
		{"certificate_password", []string{okAttrs, `  authentication_method = "client_certificate"`, `  certificate_path = "app.pfx"`, `  certificate_password = var.secret`}, func(t *testing.T, c *Connection) {
			if c.CertificatePassword != "s3" {
				t.Errorf("certificate_password %q", c.CertificatePassword)
			}
		}},
		{"for_each over plain values", []string{okAttrs, `  for_each = { a = var.plain }`, `  client_secret = var.secret`, `  description = each.value`}, func(t *testing.T, c *Connection) {
			if c.Key != "a" || c.Description != "p" || c.ClientSecret != "s3" {
				t.Errorf("connection %+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, map[string]string{"main.hcl": header + body(tt.lines...)}, LoadOptions{VarArgs: []VarArg{{Value: "secret=s3"}}})
			if len(cfg.Connections) != 1 {
				t.Fatalf("%d connections", len(cfg.Connections))
			}
			tt.check(t, cfg.Connections[0])
		})
	}
}

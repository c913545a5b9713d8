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

package config

import (
	"strings"
	"testing"
)

// A variable that feeds client_secret is a secret whether declared so or
// not: it stays out of plan files, and the user is told to declare it.
func TestVariableFeedingASecret(t *testing.T) {
	src := `
variable "app_secret" {
  type = string
}
variable "about" {
  type    = string
  default = "Sales"
}
locals {
  secret = trimspace(var.app_secret)
}
connection "app" {
  url           = "https://contoso.crm4.dynamics.com"
  tenant_id     = "t"
  client_id     = "c"
  grant_type    = "client_credentials"
  client_secret = local.secret
  description   = var.about
}
`
	dir := writeDir(t, map[string]string{"main.hcl": src})
	cfg, diags := Load(dir, LoadOptions{Env: []string{"CONNFORM_VAR_app_secret=s3cret-value"}})
	if diags.HasErrors() {
		t.Fatalf("unexpected errors:\n%s", diagText(diags))
	}
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "var.app_secret feeds client_secret") || !strings.Contains(diags[0].Detail, "main.hcl:2") {
		t.Fatalf("want one warning naming the variable and its declaration, got:\n%s", diagText(diags))
	}
	vars := cfg.PlanVariables()
	if _, ok := vars["app_secret"]; ok {
		t.Errorf("the secret reached the plan variables: %v", vars)
	}
	if vars["about"] != "Sales" {
		t.Errorf("plan variables %v lack about", vars)
	}
	for _, d := range diags {
		if strings.Contains(d.Detail+d.Summary, "s3cret-value") {
			t.Errorf("the warning shows the secret")
		}
	}

	// A saved plan's value cannot be changed from the command line.
	_, diags = Load(dir, LoadOptions{Env: []string{"CONNFORM_VAR_app_secret=x"}, VarArgs: []VarArg{{Value: "about=Other"}}, PlanVars: vars})
	if !diags.HasErrors() || !strings.Contains(diagText(diags), "Variable fixed by the saved plan") {
		t.Errorf("want the command line refused against the saved plan, got:\n%s", diagText(diags))
	}
	// The same value from the environment is not the command line.
	if _, diags = Load(dir, LoadOptions{Env: []string{"CONNFORM_VAR_app_secret=x", "CONNFORM_VAR_about=Other"}, PlanVars: vars}); diags.HasErrors() {
		t.Errorf("environment values lose to the saved plan silently, as before: %s", diagText(diags))
	}
}

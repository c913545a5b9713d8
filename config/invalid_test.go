package config

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// body wraps attribute lines into a connection block that is otherwise
// valid; line 1 is the block header, so the first given line is line 2.
func body(lines ...string) string {
	return "connection \"c\" {\n" + strings.Join(lines, "\n") + "\n}\n"
}

const okAttrs = `  url = "https://contoso.crm.dynamics.com"
  tenant_id = "t"
  client_id = "app"`

func findDiag(diags hcl.Diagnostics, summary, at string) *hcl.Diagnostic {
	for _, d := range diags {
		if d.Severity != hcl.DiagError || d.Summary != summary || d.Subject == nil {
			continue
		}
		if fmt.Sprintf("%s:%d", d.Subject.Filename, d.Subject.Start.Line) == at {
			return d
		}
	}
	return nil
}

func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		opts    LoadOptions
		summary string
		at      string // file:line of the Subject
		detail  string // a fragment the Detail must hold
	}{
		{"unknown block", map[string]string{"main.hcl": "resource \"x\" \"y\" {}\n"}, LoadOptions{}, "Unsupported block type", "main.hcl:1", ""},
		{"unknown attribute", map[string]string{"main.hcl": body(okAttrs, `  colour = "red"`)}, LoadOptions{}, "Unsupported argument", "main.hcl:5", ""},
		{"missing url", map[string]string{"main.hcl": body(`  client_id = "app"`)}, LoadOptions{}, "Missing required argument", "main.hcl:1", `"url"`},
		{"wrong type", map[string]string{"main.hcl": body(okAttrs, `  scopes = "a b"`)}, LoadOptions{}, "Incorrect value type", "main.hcl:5", "list of strings"},
		{"wrong type for a string", map[string]string{"main.hcl": body(okAttrs, `  entity = ["account"]`)}, LoadOptions{}, "Incorrect value type", "main.hcl:5", "a string"},
		{
			"duplicate connection in another file",
			map[string]string{"a.hcl": body(okAttrs), "b.hcl": "\n\n" + body(okAttrs)},
			LoadOptions{}, "Duplicate connection", "b.hcl:3", "a.hcl:1",
		},
		{"undefined variable", map[string]string{"main.hcl": body(okAttrs, `  entity = var.nope`)}, LoadOptions{}, "Reference to undeclared input variable", "main.hcl:5", `variable "nope"`},
		{"undefined local", map[string]string{"main.hcl": body(okAttrs, `  entity = local.nope`)}, LoadOptions{}, "Reference to undeclared local value", "main.hcl:5", "locals"},
		{"reference to another resource", map[string]string{"main.hcl": body(okAttrs, `  entity = connection.other.url`)}, LoadOptions{}, "Reference to another resource", "main.hcl:5", "connection.other is another resource: connection blocks cannot refer to other resources yet"},
		{"each without for_each", map[string]string{"main.hcl": body(okAttrs, `  entity = each.key`)}, LoadOptions{}, "Reference to each outside for_each", "main.hcl:5", "for_each"},
		{
			"cycle in locals",
			map[string]string{"main.hcl": "locals {\n  a = local.b\n  b = local.a\n}\n" + body(okAttrs, "  entity = local.a")},
			LoadOptions{}, "Cycle in local values", "main.hcl:2", "local.a → local.b → local.a",
		},
		{"url not https", map[string]string{"main.hcl": body(`  url = "http://contoso.crm.dynamics.com"`, `  tenant_id = "t"`, `  client_id = "app"`)}, LoadOptions{}, "Invalid url", "main.hcl:2", "https"},
		{"url not dynamics", map[string]string{"main.hcl": body(`  url = "https://example.com"`, `  tenant_id = "t"`, `  client_id = "app"`)}, LoadOptions{}, "Invalid url", "main.hcl:2", "set cloud"},
		{"unknown grant type", map[string]string{"main.hcl": body(okAttrs, `  grant_type = "password"`)}, LoadOptions{}, "Unsupported grant_type", "main.hcl:5", `"authorization_code"`},
		{"redirect not loopback", map[string]string{"main.hcl": body(okAttrs, `  redirect = "https://app.example.com/cb"`)}, LoadOptions{}, "Invalid redirect", "main.hcl:5", "http://localhost"},
		{"redirect on ::1", map[string]string{"main.hcl": body(okAttrs, `  redirect = "http://[::1]:8400"`)}, LoadOptions{}, "Invalid redirect", "main.hcl:5", "127.0.0.1"},
		{"client_credentials without secret", map[string]string{"main.hcl": body(okAttrs, `  grant_type = "client_credentials"`)}, LoadOptions{}, "Missing client_secret", "main.hcl:5", "client_secret = var.NAME"},
		{"client_credentials with delegated scopes", map[string]string{"main.hcl": body(okAttrs, `  grant_type = "client_credentials"`, `  client_secret = "x"`, `  scopes = ["offline_access"]`)}, LoadOptions{}, "Invalid scopes for client_credentials", "main.hcl:7", "/.default"},
		{"token_url not https", map[string]string{"main.hcl": body(okAttrs, `  token_url = "http://login.example.com/token"`)}, LoadOptions{}, "Invalid token_url", "main.hcl:5", "https"},
		{"authorization_url not https", map[string]string{"main.hcl": body(okAttrs, `  authorization_url = "ftp://login.example.com/auth"`)}, LoadOptions{}, "Invalid authorization_url", "main.hcl:5", "https"},
		{"no tenant and no endpoints", map[string]string{"main.hcl": body(`  url = "https://contoso.crm.dynamics.com"`, `  client_id = "app"`)}, LoadOptions{}, "Missing tenant_id", "main.hcl:1", "authorization_url and token_url"},
		{"loopback app-only org without token_url", map[string]string{"main.hcl": body(`  url = "http://localhost:8080"`, `  client_id = "app"`, `  client_secret = "x"`, `  grant_type = "client_credentials"`)}, LoadOptions{}, "No sign-in endpoints for a loopback org", "main.hcl:2", "set token_url to AUTHORITY/TENANT/oauth2/v2.0/token, with the authority and tenant the emulator prints"},
		{"loopback org without endpoints", map[string]string{"main.hcl": body(`  url = "http://localhost:8080"`, `  client_id = "app"`, `  tenant_id = "t"`)}, LoadOptions{}, "No sign-in endpoints for a loopback org", "main.hcl:2", "authorization_url and token_url"},
		{"placeholder tenant from a variable default", map[string]string{"main.hcl": "variable \"tenant\" {\n  default = \"00000000-0000-0000-0000-000000000000\"\n}\n" + body(`  url = "https://contoso.crm4.dynamics.com"`, `  tenant_id = var.tenant`, `  client_id = "app"`)}, LoadOptions{}, "Placeholder tenant_id", "main.hcl:6", "set var.tenant to your directory (tenant) id (-var 'tenant=...'"},
		{"placeholder client id written out", map[string]string{"main.hcl": body(okAttrs[:strings.Index(okAttrs, "  client_id")], `  client_id = "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"`)}, LoadOptions{}, "Placeholder client_id", "main.hcl:5", "replace it with the application (client) id of your app registration"},
		{"invalid prompt", map[string]string{"main.hcl": body(okAttrs, `  prompt = "always"`)}, LoadOptions{}, "Invalid prompt", "main.hcl:5", `"select_account"`},
		{"invalid cloud", map[string]string{"main.hcl": body(okAttrs, `  cloud = "mars"`)}, LoadOptions{}, "Invalid cloud", "main.hcl:5", `"public", "usgovernment", "dod", "china"`},
		{"local is no cloud to name", map[string]string{"main.hcl": body(`  url = "https://crm.example.org"`, `  tenant_id = "t"`, `  client_id = "app"`, `  cloud = "local"`)}, LoadOptions{}, "Invalid cloud", "main.hcl:5", `"AzureCloud"`},
		{"invalid token_store", map[string]string{"main.hcl": "connform {\n  token_store = \"clear\"\n}\n"}, LoadOptions{}, "Invalid token_store", "main.hcl:2", `"auto", "keyring", "file", "plaintext"`},
		{"invalid library_format", map[string]string{"main.hcl": "connform {\n  library_format = \"xml\"\n}\n"}, LoadOptions{}, "Invalid library_format", "main.hcl:2", `"dsconn", "json"`},
		{"two connform blocks", map[string]string{"a.hcl": "connform {}\n", "b.hcl": "connform {}\n"}, LoadOptions{}, "Duplicate connform block", "b.hcl:1", "a.hcl:1"},
		{"duplicate variable", map[string]string{"main.hcl": "variable \"x\" {}\nvariable \"x\" {}\n"}, LoadOptions{Vars: []string{"x=1"}}, "Duplicate variable", "main.hcl:2", "main.hcl:1"},
		{"variable without value", map[string]string{"main.hcl": "\nvariable \"region\" {}\n"}, LoadOptions{}, "No value for required variable", "main.hcl:2", "CONNFORM_VAR_region"},
		{
			"variable validation fails",
			map[string]string{
				"main.hcl":          "variable \"env\" {\n  validation {\n    condition     = contains([\"dev\", \"prod\"], var.env)\n    error_message = \"env must be dev or prod.\"\n  }\n}\n",
				"connform.vars.hcl": "\nenv = \"test\"\n",
			},
			LoadOptions{}, "Invalid value for variable", "connform.vars.hcl:2", "env must be dev or prod.",
		},
		{"variable of the wrong type in a var file", map[string]string{"main.hcl": "variable \"n\" { type = number }\n", "x.auto.vars.hcl": "n = \"many\"\n"}, LoadOptions{}, "Invalid value for variable", "x.auto.vars.hcl:1", "number"},
		{"undeclared variable in a var file", map[string]string{"main.hcl": minimal, "extra.vars.hcl": "\nnope = 1\n"}, LoadOptions{VarFiles: []string{"extra.vars.hcl"}}, "Value for undeclared variable", "extra.vars.hcl:2", "Declare it"},
		{"undeclared variable by -var", map[string]string{"main.hcl": minimal}, LoadOptions{Vars: []string{"nope=1"}}, "Value for undeclared variable", "<-var>:1", `"nope"`},
		{"undeclared variable by -var in VarArgs", map[string]string{"main.hcl": minimal}, LoadOptions{VarArgs: []VarArg{{Value: "nope=1"}}}, "Value for undeclared variable", "<-var>:1", `"nope"`},
		{"malformed -var in VarArgs", map[string]string{"main.hcl": minimal}, LoadOptions{VarArgs: []VarArg{{Value: "no-equals-sign"}}}, "Invalid -var option", "<-var>:1", "name=value"},
		{"missing -var-file in VarArgs", map[string]string{"main.hcl": minimal}, LoadOptions{VarArgs: []VarArg{{File: true, Value: "absent.vars.hcl"}}}, "Cannot read file", "absent.vars.hcl:0", "Check the path"},
		{"missing -var-file", map[string]string{"main.hcl": minimal}, LoadOptions{VarFiles: []string{"absent.vars.hcl"}}, "Cannot read file", "absent.vars.hcl:0", "Check the path"},
		{"for_each over a list", map[string]string{"main.hcl": body(okAttrs, `  for_each = ["a", "b"]`)}, LoadOptions{}, "Invalid for_each argument", "main.hcl:5", "toset"},
		{"for_each over a string", map[string]string{"main.hcl": body(okAttrs, `  for_each = "a"`)}, LoadOptions{}, "Invalid for_each argument", "main.hcl:5", "map, or a set of strings"},
		{"file() of a missing file", map[string]string{"main.hcl": body(okAttrs, `  entity = file("nope.txt")`)}, LoadOptions{}, "Invalid function argument", "main.hcl:5", "create it or correct the path"},
		{"syntax error", map[string]string{"main.hcl": "connection \"c\" {\n  url = \n}\n"}, LoadOptions{}, "Invalid expression", "main.hcl:2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := Load(writeDir(t, tt.files), tt.opts)
			if cfg == nil {
				t.Fatal("Load returned a nil Config")
			}
			d := findDiag(diags, tt.summary, tt.at)
			if d == nil {
				t.Fatalf("no error %q at %s; got:\n%s", tt.summary, tt.at, diagText(diags))
			}
			if !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", d.Detail, tt.detail)
			}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic %q has no Subject", d.Summary)
				}
			}
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	files := map[string]string{
		"main.hcl": `connection "a" {
  url       = "http://contoso.crm.dynamics.com"
  tenant_id = "t"
  client_id = "app"
  prompt    = "sometimes"
}
connection "b" {
  url        = "https://contoso.crm.dynamics.com"
  tenant_id  = "t"
  client_id  = "app"
  grant_type = "implicit"
  entity     = var.missing
}
`,
		"other.hcl": `connform {
  library_format = "yaml"
}
`,
	}
	_, diags := Load(writeDir(t, files), LoadOptions{})
	want := []struct{ summary, at string }{
		{"Invalid url", "main.hcl:2"},
		{"Invalid prompt", "main.hcl:5"},
		{"Unsupported grant_type", "main.hcl:11"},
		{"Reference to undeclared input variable", "main.hcl:12"},
		{"Invalid library_format", "other.hcl:2"},
	}
	for _, w := range want {
		if findDiag(diags, w.summary, w.at) == nil {
			t.Errorf("missing %q at %s", w.summary, w.at)
		}
	}
	if len(diags) != len(want) {
		t.Errorf("got %d diagnostics, want %d:\n%s", len(diags), len(want), diagText(diags))
	}
}

func TestWriteDiagnosticsShowsSource(t *testing.T) {
	files := map[string]string{"main.hcl": body(okAttrs, `  prompt = "always"`)}
	cfg, diags := Load(writeDir(t, files), LoadOptions{})
	var out bytes.Buffer
	if err := WriteDiagnostics(&out, cfg.Files, diags, DefaultDiagnosticWidth, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Error: Invalid prompt", "on main.hcl line 5", `prompt = "always"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestClientCredentialsRejectsEmptySecret(t *testing.T) {
	src := body(okAttrs, `  grant_type = "client_credentials"`, `  client_secret = var.secret`) + "variable \"secret\" {\n  default   = \"\"\n  sensitive = true\n}\n"
	_, diags := Load(writeDir(t, map[string]string{"main.hcl": src}), LoadOptions{})
	if findDiag(diags, "Missing client_secret", "main.hcl:5") == nil {
		t.Errorf("an empty client_secret passed:\n%s", diagText(diags))
	}
}

// A variables source that cannot be read at all is the one error: the
// variables it may have set are unknown, not missing.
func TestUnreadVariableSourceIsTheOneError(t *testing.T) {
	src := "variable \"env\" {}\n" + body(okAttrs)
	for name, opts := range map[string]LoadOptions{
		"missing -var-file":             {VarFiles: []string{"absent.vars.hcl"}},
		"-var-file with a syntax error": {VarFiles: []string{"broken.vars.hcl"}},
		"-var without =":                {Vars: []string{"env"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := Load(writeDir(t, map[string]string{"main.hcl": src, "broken.vars.hcl": "env = \"dev\n"}), opts)
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			if d := findDiag(diags, "No value for required variable", "main.hcl:1"); d != nil {
				t.Fatalf("also reported no value for var.env:\n%s", diagText(diags))
			}
		})
	}
	// Without such a failure, the missing value is still reported.
	if _, diags := Load(writeDir(t, map[string]string{"main.hcl": src}), LoadOptions{}); findDiag(diags, "No value for required variable", "main.hcl:1") == nil {
		t.Fatalf("no value for var.env not reported:\n%s", diagText(diags))
	}
}

package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const minimal = `
connection "sales" {
  url       = "https://contoso.crm4.dynamics.com"
  tenant_id = "11111111-2222-3333-4444-555555555555"
  client_id = "app"
}
`

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		opts  LoadOptions
		check func(t *testing.T, cfg *Config)
	}{
		{
			name:  "defaults are applied",
			files: map[string]string{"main.hcl": minimal},
			check: func(t *testing.T, cfg *Config) {
				want := Settings{StatePath: DefaultStatePath, LibraryPath: DefaultLibraryPath, LibraryFormat: DefaultLibraryFormat, LibraryDataType: DefaultLibraryDataType, TokenStore: "auto"}
				if !reflect.DeepEqual(cfg.Settings, want) {
					t.Errorf("settings = %+v, want %+v", cfg.Settings, want)
				}
				c := conn(t, cfg, "connection.sales")
				got := c.Attributes()
				wantAttrs := map[string]string{
					"url":                   "https://contoso.crm4.dynamics.com",
					"tenant_id":             "11111111-2222-3333-4444-555555555555",
					"client_id":             "app",
					"authorization_url":     "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/authorize",
					"token_url":             "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token",
					"grant_type":            "authorization_code",
					"redirect":              "http://localhost",
					"scopes":                "https://contoso.crm4.dynamics.com/user_impersonation offline_access",
					"prompt":                "select_account",
					"login_hint":            "",
					"entity":                "",
					"description":           "",
					"authentication_method": "",
				}
				if !reflect.DeepEqual(got, wantAttrs) {
					t.Errorf("attributes =\n%v\nwant\n%v", got, wantAttrs)
				}
				if c.Name != "sales" || c.Key != "" || c.PreventDestroy {
					t.Errorf("name/key/prevent_destroy = %q/%q/%v", c.Name, c.Key, c.PreventDestroy)
				}
				if r, ok := c.Range("tenant_id"); !ok || r.Filename != "main.hcl" || r.Start.Line != 4 {
					t.Errorf("tenant_id range = %v (set: %v), want main.hcl line 4", r, ok)
				}
				if r, ok := c.Range("login_hint"); ok {
					t.Errorf("login_hint, not set, has a range: %v", r)
				}
				if _, ok := cfg.Files["main.hcl"]; !ok {
					t.Errorf("Files lacks main.hcl: %v", cfg.Files)
				}
			},
		},
		{
			name: "connform block settings",
			files: map[string]string{"main.hcl": minimal + `
connform {
  state_path              = "state/prod.json"
  library_path            = "lib"
  library_format          = "json"
  library_data_type       = "Custom.Type"
  library_parameter_names = { url = "ServiceUrl" }
}`},
			check: func(t *testing.T, cfg *Config) {
				s := cfg.Settings
				if s.StatePath != "state/prod.json" || s.LibraryPath != "lib" || s.LibraryFormat != "json" || s.LibraryDataType != "Custom.Type" {
					t.Errorf("settings = %+v", s)
				}
				if !reflect.DeepEqual(s.LibraryParameterNames, map[string]string{"url": "ServiceUrl"}) {
					t.Errorf("parameter names = %v", s.LibraryParameterNames)
				}
			},
		},
		{
			name: "for_each over a map, sorted by address",
			files: map[string]string{"main.hcl": `
variable "orgs" {
  type    = map(string)
  default = { uk = "https://uk.crm11.dynamics.com", de = "https://de.crm16.dynamics.com" }
}
connection "org" {
  for_each    = var.orgs
  url         = each.value
  tenant_id   = "t"
  client_id   = "app"
  description = "org ${each.key}"
  lifecycle {
    prevent_destroy = true
  }
}
connection "a" {
  url       = "https://a.crm.dynamics.com"
  tenant_id = "t"
  client_id = "app"
}`},
			check: func(t *testing.T, cfg *Config) {
				var addrs []string
				for _, c := range cfg.Connections {
					addrs = append(addrs, c.Addr)
				}
				want := []string{`connection.a`, `connection.org["de"]`, `connection.org["uk"]`}
				if !reflect.DeepEqual(addrs, want) {
					t.Fatalf("addrs = %v, want %v", addrs, want)
				}
				c := conn(t, cfg, `connection.org["uk"]`)
				if c.URL != "https://uk.crm11.dynamics.com" || c.Description != "org uk" || c.Key != "uk" || c.Name != "org" || !c.PreventDestroy {
					t.Errorf("instance = %+v", c)
				}
			},
		},
		{
			name: "for_each over a set of strings",
			files: map[string]string{"main.hcl": `
connection "org" {
  for_each  = toset(["x", "y"])
  url       = "https://${each.key}.crm.dynamics.com"
  tenant_id = "t"
  client_id = each.value
}`},
			check: func(t *testing.T, cfg *Config) {
				if len(cfg.Connections) != 2 {
					t.Fatalf("got %d connections", len(cfg.Connections))
				}
				c := conn(t, cfg, `connection.org["y"]`)
				if c.URL != "https://y.crm.dynamics.com" || c.ClientID != "y" {
					t.Errorf("instance = %+v", c)
				}
			},
		},
		{
			name: "locals reference variables, other locals and functions",
			files: map[string]string{
				"main.hcl": `
variable "org" { default = "Contoso" }
locals {
  host   = "${lower(var.org)}.crm4.dynamics.com"
  url    = "https://${local.host}/api/data/v9.2/"
  tags   = jsondecode("{\"team\":\"sales\"}")
  hint   = format("%s@%s", "ann", "contoso.com")
  parts  = split(",", "a,b,c")
  merged = merge({ a = "1" }, { b = "2" })
}
connection "sales" {
  url         = local.url
  tenant_id   = "t"
  client_id   = "app"
  login_hint  = local.hint
  entity      = upper(local.tags.team)
  description = "${join("-", local.parts)} ${length(local.merged)} ${length("four")} ${base64decode(base64encode("rt"))} ${lookup(local.merged, "b", "none")} ${trimspace("  x ")}"
}`,
			},
			check: func(t *testing.T, cfg *Config) {
				c := conn(t, cfg, "connection.sales")
				if c.URL != "https://contoso.crm4.dynamics.com" || c.LoginHint != "ann@contoso.com" || c.Entity != "SALES" {
					t.Errorf("connection = %+v", c)
				}
				if c.Description != "a-b-c 2 4 rt 2 x" {
					t.Errorf("description = %q", c.Description)
				}
			},
		},
		{
			name: "env() reads LoadOptions.Env and file() reads relative to the directory",
			files: map[string]string{
				"main.hcl": `
connection "sales" {
  url         = "https://contoso.crm.dynamics.com"
  tenant_id   = env("TENANT")
  client_id   = trimspace(file("secrets/client_id.txt"))
  login_hint  = env("UNSET_VARIABLE")
}`,
				"secrets/client_id.txt": "from-file\n",
			},
			opts: LoadOptions{Env: []string{"TENANT=tenant-from-env", "PATH=/bin"}},
			check: func(t *testing.T, cfg *Config) {
				c := conn(t, cfg, "connection.sales")
				if c.TenantID != "tenant-from-env" || c.ClientID != "from-file" || c.LoginHint != "" {
					t.Errorf("connection = %+v", c)
				}
			},
		},
		{
			name: "variable files are not configuration files",
			files: map[string]string{
				"main.hcl":          minimal,
				"prod.vars.hcl":     `this_is = "not loaded"`,
				"connform.vars.hcl": ``,
			},
			check: func(t *testing.T, cfg *Config) {
				if _, ok := cfg.Files["prod.vars.hcl"]; ok {
					t.Error("prod.vars.hcl was loaded without -var-file")
				}
				if _, ok := cfg.Files["connform.vars.hcl"]; !ok {
					t.Error("connform.vars.hcl was not loaded")
				}
			},
		},
		{
			name: "loopback org with explicit endpoints",
			files: map[string]string{"main.hcl": `
connection "emu" {
  url               = "http://127.0.0.1:8443/XRMServices/2011/Organization.svc/web"
  client_id         = "app"
  authorization_url = "http://127.0.0.1:8443/t/oauth2/v2.0/authorize"
  token_url         = "http://127.0.0.1:8443/t/oauth2/v2.0/token"
  redirect          = "http://127.0.0.1:8400/callback"
  prompt            = "login"
}`},
			check: func(t *testing.T, cfg *Config) {
				c := conn(t, cfg, "connection.emu")
				if c.URL != "http://127.0.0.1:8443" || c.TokenURL != "http://127.0.0.1:8443/t/oauth2/v2.0/token" || c.Prompt != "login" {
					t.Errorf("connection = %+v", c)
				}
				if !reflect.DeepEqual(c.Scopes, []string{"http://127.0.0.1:8443/user_impersonation", "offline_access"}) {
					t.Errorf("scopes = %v", c.Scopes)
				}
			},
		},
		{
			name: "client credentials default to the .default scope",
			files: map[string]string{"main.hcl": `
variable "secret" { sensitive = true }
connection "app" {
  url           = "https://contoso.crm.dynamics.com"
  tenant_id     = "t"
  client_id     = "app"
  client_secret = var.secret
  grant_type    = "client_credentials"
}`},
			opts: LoadOptions{Vars: []string{"secret=s"}},
			check: func(t *testing.T, cfg *Config) {
				c := conn(t, cfg, "connection.app")
				if !reflect.DeepEqual(c.Scopes, []string{"https://contoso.crm.dynamics.com/.default"}) || c.ClientSecret != "s" {
					t.Errorf("connection = %+v", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustLoad(t, tt.files, tt.opts))
		})
	}
}

func TestDerivedEndpoints(t *testing.T) {
	tests := []struct {
		name, url, cloud        string
		wantRoot, wantAuthority string
	}{
		{"public crm4", "https://contoso.crm4.dynamics.com", "", "https://contoso.crm4.dynamics.com", "login.microsoftonline.com"},
		{"us government", "https://contoso.crm9.crm.microsoftdynamics.us", "", "https://contoso.crm9.crm.microsoftdynamics.us", "login.microsoftonline.us"},
		{"dod", "https://contoso.crm.appsplatform.us", "", "https://contoso.crm.appsplatform.us", "login.microsoftonline.us"},
		{"china", "https://contoso.crm.dynamics.cn", "", "https://contoso.crm.dynamics.cn", "login.chinacloudapi.cn"},
		{"explicit cloud overrides the host's", "https://contoso.crm9.dynamics.com", "usgovernment", "https://contoso.crm9.dynamics.com", "login.microsoftonline.us"},
		{"explicit cloud admits a custom host", "https://crm.example.org", "china", "https://crm.example.org", "login.chinacloudapi.cn"},
		{"pasted Organization Service endpoint", "https://Contoso.CRM4.dynamics.com/XRMServices/2011/Organization.svc/web", "", "https://contoso.crm4.dynamics.com", "login.microsoftonline.com"},
		{"pasted Web API root", " https://contoso.crm4.dynamics.com/api/data/v9.2/ ", "", "https://contoso.crm4.dynamics.com", "login.microsoftonline.com"},
		{"trailing slash", "https://contoso.crm4.dynamics.com/", "", "https://contoso.crm4.dynamics.com", "login.microsoftonline.com"},
		{"Azure's name for the public cloud", "https://crm.example.org", "AzureCloud", "https://crm.example.org", "login.microsoftonline.com"},
		{"Azure's name for US Government", "https://contoso.crm9.dynamics.com", "AzureUSGovernment", "https://contoso.crm9.dynamics.com", "login.microsoftonline.us"},
		{"Azure's name for China", "https://crm.example.org", "AzureChinaCloud", "https://crm.example.org", "login.chinacloudapi.cn"},
		{"cloud name in any case", "https://crm.example.org", "DoD", "https://crm.example.org", "login.microsoftonline.us"},
		{"custom host drops the default port", "https://crm.contoso.com:443/XRMServices/2011/Organization.svc", "public", "https://crm.contoso.com", "login.microsoftonline.com"},
		{"custom host keeps another port", "https://CRM.contoso.com:8443/api/data/v9.2/", "public", "https://crm.contoso.com:8443", "login.microsoftonline.com"},
		{"known host drops the default port", "https://contoso.crm4.dynamics.com:443/", "", "https://contoso.crm4.dynamics.com", "login.microsoftonline.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := `connection "c" {
  url       = "` + tt.url + `"
  tenant_id = "contoso.onmicrosoft.com"
  client_id = "app"
`
			if tt.cloud != "" {
				src += `  cloud = "` + tt.cloud + "\"\n"
			}
			src += "}\n"
			c := conn(t, mustLoad(t, map[string]string{"main.hcl": src}, LoadOptions{}), "connection.c")
			base := "https://" + tt.wantAuthority + "/contoso.onmicrosoft.com/oauth2/v2.0/"
			if c.URL != tt.wantRoot || c.AuthorizationURL != base+"authorize" || c.TokenURL != base+"token" {
				t.Errorf("url, authorize, token = %s, %s, %s; want %s, %s", c.URL, c.AuthorizationURL, c.TokenURL, tt.wantRoot, base)
			}
			if c.Scopes[0] != tt.wantRoot+"/user_impersonation" {
				t.Errorf("scopes = %v", c.Scopes)
			}
		})
	}
}

func TestVariablePrecedence(t *testing.T) {
	files := func(extra map[string]string) map[string]string {
		m := map[string]string{
			"main.hcl": `
variable "v" { default = "default" }
connection "c" {
  url         = "https://contoso.crm.dynamics.com"
  tenant_id   = "t"
  client_id   = "app"
  description = var.v
}`,
			"one.vars.hcl": `v = "var-file-1"`,
			"two.vars.hcl": `v = "var-file-2"`,
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	env := []string{"CONNFORM_VAR_v=env"}
	auto := map[string]string{"connform.vars.hcl": `v = "connform.vars.hcl"`}
	autos := map[string]string{"connform.vars.hcl": `v = "connform.vars.hcl"`, "b.auto.vars.hcl": `v = "b.auto"`, "a.auto.vars.hcl": `v = "a.auto"`}
	tests := []struct {
		name  string
		extra map[string]string
		opts  LoadOptions
		want  string
	}{
		{"default", nil, LoadOptions{}, "default"},
		{"environment beats default", nil, LoadOptions{Env: env}, "env"},
		{"connform.vars.hcl beats environment", auto, LoadOptions{Env: env}, "connform.vars.hcl"},
		{"*.auto.vars.hcl beat connform.vars.hcl, last sorted wins", autos, LoadOptions{Env: env}, "b.auto"},
		{"-var-file beats auto files, later file wins", autos, LoadOptions{Env: env, VarFiles: []string{"two.vars.hcl", "one.vars.hcl"}}, "var-file-1"},
		{"-var beats -var-file, later flag wins", autos, LoadOptions{Env: env, VarFiles: []string{"one.vars.hcl"}, Vars: []string{"v=flag-1", "v=flag-2"}}, "flag-2"},
		{"saved plan beats the environment and variable files", autos, LoadOptions{Env: env, PlanVars: map[string]string{"v": "plan"}}, "plan"},
		{"command line: -var-file after -var wins", autos, LoadOptions{Env: env, VarArgs: []VarArg{{Value: "v=flag"}, {File: true, Value: "one.vars.hcl"}}}, "var-file-1"},
		{"command line: -var after -var-file wins", autos, LoadOptions{Env: env, VarArgs: []VarArg{{File: true, Value: "one.vars.hcl"}, {Value: "v=flag"}}}, "flag"},
		{"command line: the last of many wins", autos, LoadOptions{VarArgs: []VarArg{{Value: "v=flag-1"}, {File: true, Value: "two.vars.hcl"}, {Value: "v=flag-2"}, {File: true, Value: "one.vars.hcl"}}}, "var-file-1"},
		{"command line: later -var-file wins", nil, LoadOptions{VarArgs: []VarArg{{File: true, Value: "one.vars.hcl"}, {File: true, Value: "two.vars.hcl"}}}, "var-file-2"},
		{"command line beats auto files", autos, LoadOptions{VarArgs: []VarArg{{File: true, Value: "two.vars.hcl"}}}, "var-file-2"},
		{"command line follows Vars and VarFiles", autos, LoadOptions{Vars: []string{"v=old-flag"}, VarArgs: []VarArg{{File: true, Value: "one.vars.hcl"}}}, "var-file-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := conn(t, mustLoad(t, files(tt.extra), tt.opts), "connection.c")
			if c.Description != tt.want {
				t.Errorf("var.v = %q, want %q", c.Description, tt.want)
			}
		})
	}
}

func TestVariableTextForms(t *testing.T) {
	src := `
variable "names" { type = list(string) }
variable "count" { type = number }
variable "raw" {}
variable "anything" { type = any }
locals {
  summary = "${join("+", var.names)} ${var.count + 1} ${var.raw} ${jsonencode(var.anything)}"
}
connection "c" {
  url         = "https://contoso.crm.dynamics.com"
  tenant_id   = "t"
  client_id   = "app"
  description = local.summary
}`
	opts := LoadOptions{
		Vars: []string{`names=["a", "b"]`, `raw=[not parsed]`, `anything={ k = 1 }`},
		Env:  []string{"CONNFORM_VAR_count=41", "CONNFORM_VAR_undeclared=ignored"},
	}
	cfg := mustLoad(t, map[string]string{"main.hcl": src}, opts)
	if got, want := conn(t, cfg, "connection.c").Description, `a+b 42 [not parsed] {"k":1}`; got != want {
		t.Errorf("description = %q, want %q", got, want)
	}

	// The saved form reproduces the same configuration on its own.
	saved := cfg.PlanVariables()
	wantSaved := map[string]string{"names": `["a", "b"]`, "count": "41", "raw": "[not parsed]", "anything": "{\n  k = 1\n}"}
	if !reflect.DeepEqual(saved, wantSaved) {
		t.Errorf("PlanVariables = %q, want %q", saved, wantSaved)
	}
	again := mustLoad(t, map[string]string{"main.hcl": src}, LoadOptions{PlanVars: saved})
	if again.Hash != cfg.Hash {
		t.Errorf("hash differs after restoring the saved variables")
	}
}

func TestHash(t *testing.T) {
	src := `
variable "secret" { sensitive = true }
variable "hint" {}
connection "c" {
  url           = "https://contoso.crm.dynamics.com"
  tenant_id     = "t"
  client_id     = "app"
  client_secret = var.secret
  grant_type    = "client_credentials"
  login_hint    = var.hint
}`
	hash := func(vars ...string) string {
		return mustLoad(t, map[string]string{"main.hcl": src}, LoadOptions{Vars: vars}).Hash
	}
	base := hash("secret=one", "hint=a")
	if len(base) != 64 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Fatalf("hash %q is not hex sha256", base)
	}
	if hash("secret=one", "hint=a") != base {
		t.Error("hash is not stable")
	}
	if hash("secret=two", "hint=a") == base {
		t.Error("hash ignores a sensitive value change")
	}
	if hash("secret=one", "hint=b") == base {
		t.Error("hash ignores a variable change")
	}
	if _, ok := mustLoad(t, map[string]string{"main.hcl": src}, LoadOptions{Vars: []string{"secret=one", "hint=a"}}).PlanVariables()["secret"]; ok {
		t.Error("PlanVariables includes a sensitive variable")
	}
}

func TestLoadWithoutConfigurationFiles(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"empty directory", map[string]string{}},
		{"only variable files", map[string]string{"connform.vars.hcl": "", "a.auto.vars.hcl": "", "prod.vars.hcl": ""}},
		{"only other files", map[string]string{"README.md": "# notes", "main.tf": `resource "x" "y" {}`}},
		{"configuration only in a subdirectory", map[string]string{"sub/main.hcl": minimal}},
		{"only a hidden file", map[string]string{".main.hcl": minimal}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, tt.files)
			cfg, diags := Load(dir, LoadOptions{})
			if len(diags) != 1 {
				t.Fatalf("want exactly one diagnostic, got:\n%s", diagText(diags))
			}
			d := diags[0]
			if d.Severity != hcl.DiagError || d.Summary != "No configuration files" || d.Subject == nil || d.Subject.Filename != dir {
				t.Fatalf("got:\n%s", diagText(diags))
			}
			for _, want := range []string{dir, "-chdir=DIR", "cd there", "connform destroy"} {
				if !strings.Contains(d.Detail, want) {
					t.Errorf("detail %q lacks %q", d.Detail, want)
				}
			}
			if cfg == nil || len(cfg.Connections) != 0 {
				t.Errorf("config = %+v", cfg)
			}

			cfg, diags = Load(dir, LoadOptions{AllowEmpty: true})
			if diags.HasErrors() || len(cfg.Connections) != 0 {
				t.Errorf("with AllowEmpty: %d connections, diagnostics:\n%s", len(cfg.Connections), diagText(diags))
			}
			if cfg.Settings.StatePath != DefaultStatePath {
				t.Errorf("with AllowEmpty the state path is %q, want the default", cfg.Settings.StatePath)
			}
		})
	}
}

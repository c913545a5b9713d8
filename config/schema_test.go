package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// attributeTableHeader starts the README's table of connection attributes.
const attributeTableHeader = "| attribute | type | sensitive | forces replacement | methods | library parameter | what |"

// attributeTable renders ConnectionSchema as the README shows it.
func attributeTable() string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return ""
	}
	var b strings.Builder
	b.WriteString(attributeTableHeader + "\n|---|---|---|---|---|---|---|\n")
	for _, a := range ConnectionSchema {
		typ := "string"
		if a.Type.Equals(cty.List(cty.String)) {
			typ = "list(string)"
		}
		methods := "all"
		if a.Methods != nil {
			methods = "`" + strings.Join(a.Methods, "`, `") + "`"
		}
		name := "`" + a.Name + "`"
		if a.Required {
			name += " (required)"
		}
		param := ""
		if a.LibraryParam != "" {
			param = "`" + a.LibraryParam + "`"
		}
		b.WriteString("| " + strings.Join([]string{name, typ, yes(a.Sensitive), yes(a.ForcesReplacement), methods, param, a.Doc}, " | ") + " |\n")
	}
	return b.String()
}

// TestReadmeAttributeTable keeps the documentation's table of connection
// attributes exactly what the schema says. The table may live in README.md
// or, once the reference moves, in docs/*.md.
func TestReadmeAttributeTable(t *testing.T) {
	files, _ := filepath.Glob("../docs/*.md")
	files = append([]string{"../README.md"}, files...)
	want := attributeTable()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		text := string(data)
		i := strings.Index(text, attributeTableHeader)
		if i < 0 {
			continue
		}
		end := strings.Index(text[i:], "\n\n")
		if end < 0 {
			end = len(text) - i
		}
		if got := text[i:i+end] + "\n"; got != want {
			t.Fatalf("%s's attribute table differs from config.ConnectionSchema; it should read:\n\n%s", f, want)
		}
		return
	}
	t.Fatalf("no attribute table (starting %q) in README.md or docs/*.md; add:\n\n%s", attributeTableHeader, want)
}

func TestSchemaDerivations(t *testing.T) {
	tests := []struct {
		name string
		got  []string
		want string
	}{
		{"secrets", SecretAttributes(), "client_secret certificate_password"},
		{"import order", ImportAttributes(), "url authentication_method tenant_id client_id authorization_url token_url grant_type redirect scopes prompt login_hint entity description"},
		{"library order", LibraryAttributes(), "url authentication_method tenant_id client_id authorization_url token_url grant_type redirect scopes entity"},
		{"OAuth-only", oauthOnlyAttrs, "client_secret authorization_url grant_type redirect prompt login_hint"},
		{"string attributes", stringAttrs, "url authentication_method tenant_id client_id client_secret authorization_url token_url grant_type redirect prompt login_hint entity description cloud certificate_path certificate_password federated_token_file"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.got, " "); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	if methodAttrs["certificate_path"] != MethodClientCertificate || methodAttrs["federated_token_file"] != MethodWorkloadIdentity || len(methodAttrs) != 3 {
		t.Errorf("method attributes: %v", methodAttrs)
	}
}

func TestCredentialChanged(t *testing.T) {
	changed := []string{"client_secret", "certificate_path", "certificate_password", "federated_token_file", "description"}
	tests := []struct {
		name string
		c    Connection
		want string
	}{
		{"user sign-in: the next refresh proves the secret", Connection{GrantType: GrantAuthorizationCode}, ""},
		{"app with a secret", Connection{GrantType: GrantClientCredentials}, "client_secret"},
		{"certificate", Connection{AuthenticationMethod: MethodClientCertificate}, "certificate_path certificate_password"},
		{"workload identity", Connection{AuthenticationMethod: MethodWorkloadIdentity}, "federated_token_file"},
		{"Azure CLI has no credential of its own", Connection{AuthenticationMethod: MethodAzureCLI}, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.c.CredentialChanged(changed), " "); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLibraryParameterNamesKeys(t *testing.T) {
	tests := []struct {
		name, names, want string
	}{
		{"stored attributes and the token key", `{ url = "Url", token_key = "Cache", prompt = "Prompt" }`, ""},
		{"a misspelt attribute", `{ tenantid = "Tenant" }`, `"tenantid" is not an attribute a library entry carries; library_parameter_names renames url, authentication_method,`},
		{"a secret", `{ client_secret = "Secret" }`, `"client_secret" is not an attribute a library entry carries`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "connform {\n  library_parameter_names = " + tt.names + "\n}\n" + body(okAttrs)
			_, diags := Load(writeDir(t, map[string]string{"main.hcl": src}), LoadOptions{})
			d := findDiag(diags, "Invalid library_parameter_names", "main.hcl:2")
			switch {
			case tt.want == "" && diags.HasErrors():
				t.Fatalf("unexpected errors:\n%s", diagText(diags))
			case tt.want != "" && (d == nil || !strings.HasPrefix(d.Detail, tt.want)):
				t.Fatalf("want an error at main.hcl:2 starting %q, got:\n%s", tt.want, diagText(diags))
			}
		})
	}
}

package config

import (
	"strings"
	"testing"
)

// Two connections whose library entries would be one file are refused,
// naming both and where each is declared.
func TestLibraryFileCollisions(t *testing.T) {
	block := func(name, forEach string) string {
		fe := ""
		if forEach != "" {
			fe = "  for_each = toset(" + forEach + ")\n"
		}
		return "connection \"" + name + "\" {\n" + fe + okAttrs + "\n}\n"
	}
	tests := []struct {
		name, src string
		want      string // the error's detail start, "" for none
		at        string
	}{
		{"block name and instance", block("crm", `["dev"]`) + block("crm-dev", ""), `connection.crm["dev"] (main.hcl:1) and connection.crm-dev (main.hcl:7) would both write their library entry to crm-dev.dsconn`, "main.hcl:7"},
		{"slash and underscore", block("crm", `["a/b", "a_b"]`), `connection.crm["a/b"] (main.hcl:1) and connection.crm["a_b"] (main.hcl:1) would both write their library entry to crm-a_b.dsconn`, "main.hcl:1"},
		{"space and underscore", block("crm", `["sales dev", "sales_dev"]`), `connection.crm["sales dev"] (main.hcl:1) and connection.crm["sales_dev"] (main.hcl:1)`, "main.hcl:1"},
		{"case only", block("crm", `["dev"]`) + block("CRM", `["Dev"]`), `connection.crm["dev"] (main.hcl:1) and connection.CRM["Dev"] (main.hcl:7) would both write their library entry to crm-dev.dsconn`, "main.hcl:7"},
		{"json format names its file", "connform {\n  library_format = \"json\"\n}\n" + block("a_b", "") + block("a-b", "") + block("a", `["b"]`), `connection.a-b (main.hcl:9) and connection.a["b"] (main.hcl:14) would both write their library entry to a-b.json`, "main.hcl:14"},
		{"apart", block("crm", `["dev", "test"]`) + block("crm-prod", ""), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Load(writeDir(t, map[string]string{"main.hcl": tt.src}), LoadOptions{})
			var got []string
			for _, d := range diags {
				if d.Summary == "Library entries would share a file" {
					got = append(got, d.Detail)
					if tt.want != "" && strings.HasPrefix(d.Detail, tt.want) && findDiag(diags, d.Summary, tt.at) == nil {
						t.Errorf("error not at %s", tt.at)
					}
				}
			}
			if tt.want == "" {
				if len(got) > 0 || diags.HasErrors() {
					t.Fatalf("unexpected errors:\n%s", diagText(diags))
				}
				return
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Fatalf("want one error starting %q, got %q", tt.want, got)
			}
		})
	}
}

func TestEmptyForEachKey(t *testing.T) {
	src := "connection \"crm\" {\n  for_each = toset([\"\", \"dev\"])\n" + okAttrs + "\n}\n"
	_, diags := Load(writeDir(t, map[string]string{"main.hcl": src}), LoadOptions{})
	if d := findDiag(diags, "Invalid for_each argument", "main.hcl:2"); d == nil || !strings.Contains(d.Detail, "empty key") {
		t.Fatalf("want an empty key refused at main.hcl:2, got:\n%s", diagText(diags))
	}
}

package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    string // "" when Format must refuse
		wantErr string // summary of the refusal
	}{
		{
			name: "aligns and indents",
			src:  "connection \"a\" {\nurl = \"https://a.crm.dynamics.com\"\n    tenant_id=\"t\"\n}\n",
			want: "connection \"a\" {\n  url       = \"https://a.crm.dynamics.com\"\n  tenant_id = \"t\"\n}\n",
		},
		{
			name: "already formatted is unchanged",
			src:  "connform {\n  state_path = \"s.json\"\n}\n",
			want: "connform {\n  state_path = \"s.json\"\n}\n",
		},
		{
			name:    "refuses a file that does not parse",
			src:     "connection \"a\" {\n  url = \n",
			wantErr: "Invalid expression",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := Format("main.hcl", []byte(tt.src))
			if tt.wantErr != "" {
				if got != nil || !diags.HasErrors() || diags[0].Summary != tt.wantErr || diags[0].Subject.Filename != "main.hcl" {
					t.Fatalf("Format = %q, %v; want nil and %q", got, diags, tt.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("unexpected diagnostics: %v", diags)
			}
			if string(got) != tt.want {
				t.Errorf("Format =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// BenchmarkLoad10000 loads a directory with 10,000 plain connection blocks,
// spread over 10 files as a large team might keep them.
func BenchmarkLoad10000(b *testing.B) {
	files := map[string]string{"settings.hcl": `
variable "tenant" { default = "11111111-2222-3333-4444-555555555555" }
locals { client = "00000000-aaaa-bbbb-cccc-000000000000" }
connform {
  library_format = "json"
}
`}
	for f := 0; f < 10; f++ {
		var sb strings.Builder
		for i := 0; i < 1000; i++ {
			n := f*1000 + i
			fmt.Fprintf(&sb, `connection "org%05d" {
  url         = "https://org%05d.crm4.dynamics.com"
  tenant_id   = var.tenant
  client_id   = local.client
  entity      = "account"
  description = "Org %d"
}

`, n, n, n)
		}
		files[fmt.Sprintf("conn%02d.hcl", f)] = sb.String()
	}
	dir := writeDir(b, files)
	b.ReportAllocs()
	for b.Loop() {
		cfg, diags := Load(dir, LoadOptions{})
		if diags.HasErrors() || len(cfg.Connections) != 10000 {
			b.Fatalf("load failed: %d connections, %v", len(cfg.Connections), diags)
		}
	}
}

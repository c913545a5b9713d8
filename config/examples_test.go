package config

import (
	"testing"
)

// The shipped examples must stay valid as the language evolves.
func TestExamplesLoad(t *testing.T) {
	tests := []struct {
		dir   string
		opts  LoadOptions
		addrs []string
	}{
		{
			dir: "../examples/custom-oauth",
			opts: LoadOptions{Vars: []string{
				"tenant_id=11111111-2222-3333-4444-555555555555",
				"client_id=app",
				"org_url=https://contoso.crm4.dynamics.com/",
			}},
			addrs: []string{"connection.dynamics"},
		},
		{
			dir: "../examples/quickstart",
			opts: LoadOptions{Vars: []string{
				"authority=http://127.0.0.1:8400",
				"tenant_id=t",
				"client_id=app",
				`orgs={ one = "http://127.0.0.1:8401", two = "http://127.0.0.1:8402" }`,
			}},
			addrs: []string{`connection.crm["one"]`, `connection.crm["two"]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			cfg, diags := Load(tt.dir, tt.opts)
			if diags.HasErrors() {
				t.Fatalf("diagnostics:\n%s", diagText(diags))
			}
			var got []string
			for _, c := range cfg.Connections {
				got = append(got, c.Addr)
			}
			if len(got) != len(tt.addrs) {
				t.Fatalf("connections = %v, want %v", got, tt.addrs)
			}
			for i := range got {
				if got[i] != tt.addrs[i] {
					t.Errorf("connections = %v, want %v", got, tt.addrs)
				}
			}
		})
	}
}

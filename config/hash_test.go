package config

import (
	"os"
	"path/filepath"
	"testing"
)

// The hash covers the inputs, not the evaluated connections, so what env()
// and file() read must count: a saved plan made with one org URL in the
// environment must be stale once the environment names another.
func TestHashFollowsWhatFunctionsRead(t *testing.T) {
	src := `
connection "c" {
  url         = env("ORG")
  tenant_id   = "t"
  client_id   = "app"
  description = file("about.txt")
}`
	dir := writeDir(t, map[string]string{"main.hcl": src, "about.txt": "first"})
	hash := func(env ...string) string {
		cfg, diags := Load(dir, LoadOptions{Env: env})
		if diags.HasErrors() {
			t.Fatal(diagText(diags))
		}
		return cfg.Hash
	}
	base := hash("ORG=https://a.crm.dynamics.com", "OTHER=1")
	tests := []struct {
		name string
		env  []string
		file string
		same bool
	}{
		{"the same inputs", []string{"ORG=https://a.crm.dynamics.com", "OTHER=1"}, "first", true},
		{"a variable env() does not read", []string{"ORG=https://a.crm.dynamics.com", "OTHER=2"}, "first", true},
		{"what env() reads", []string{"ORG=https://b.crm.dynamics.com", "OTHER=1"}, "first", false},
		{"what file() reads", []string{"ORG=https://a.crm.dynamics.com", "OTHER=1"}, "second", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "about.txt"), []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := hash(tt.env...); (got == base) != tt.same {
				t.Errorf("hash equal to the first: %v, want %v", got == base, tt.same)
			}
		})
	}
}

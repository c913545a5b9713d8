package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// writeDir writes files (name → content) into a fresh directory.
func writeDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustLoad(t *testing.T, files map[string]string, opts LoadOptions) *Config {
	t.Helper()
	cfg, diags := Load(writeDir(t, files), opts)
	if diags.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%s", diagText(diags))
	}
	return cfg
}

func diagText(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		subj := "<no subject>"
		if d.Subject != nil {
			subj = fmt.Sprintf("%s:%d", d.Subject.Filename, d.Subject.Start.Line)
		}
		fmt.Fprintf(&b, "%s: %s; %s\n", subj, d.Summary, d.Detail)
	}
	return b.String()
}

func conn(t *testing.T, cfg *Config, addr string) *Connection {
	t.Helper()
	for _, c := range cfg.Connections {
		if c.Addr == addr {
			return c
		}
	}
	var have []string
	for _, c := range cfg.Connections {
		have = append(have, c.Addr)
	}
	t.Fatalf("no %s; have %v", addr, have)
	return nil
}

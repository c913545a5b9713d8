package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalCache(t *testing.T) {
	src := `
variable "secret" { sensitive = true }
connection "sales" {
  url           = env("ORG")
  tenant_id     = "t"
  client_id     = "app"
  client_secret = var.secret
  grant_type    = "client_credentials"
  description   = file("about.txt")
}`
	env := []string{"ORG=https://sales.crm4.dynamics.com", "CONNFORM_VAR_secret=s3cret-value"}
	fill := func(t *testing.T) (string, string) {
		dir := writeDir(t, map[string]string{"main.hcl": src, "about.txt": "Sales"})
		cfg, diags := Load(dir, LoadOptions{Env: env})
		if diags.HasErrors() {
			t.Fatal(diagText(diags))
		}
		key, err := CacheKey(dir, LoadOptions{Env: env}, "v1")
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteCache(cfg, key, cfg.Connections[0], "main.hcl:3", "extra"); err != nil {
			t.Fatal(err)
		}
		return dir, key
	}
	tests := []struct {
		name   string
		change func(t *testing.T, dir string) (env []string, version string)
		hit    bool
	}{
		{"nothing changed", func(*testing.T, string) ([]string, string) { return env, "v1" }, true},
		{"an unrelated variable", func(*testing.T, string) ([]string, string) { return append(env, "OTHER=1"), "v1" }, true},
		{"what env() reads", func(*testing.T, string) ([]string, string) {
			return []string{"ORG=https://other.crm4.dynamics.com", env[1]}, "v1"
		}, false},
		{"a secret variable", func(*testing.T, string) ([]string, string) { return []string{env[0], "CONNFORM_VAR_secret=new"}, "v1" }, false},
		{"what file() reads", func(t *testing.T, dir string) ([]string, string) {
			if err := os.WriteFile(filepath.Join(dir, "about.txt"), []byte("Sales, edited"), 0o644); err != nil {
				t.Fatal(err)
			}
			return env, "v1"
		}, false},
		{"a configuration file", func(t *testing.T, dir string) ([]string, string) {
			if err := os.WriteFile(filepath.Join(dir, "more.hcl"), []byte("# comment\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return env, "v1"
		}, false},
		{"connform's version", func(*testing.T, string) ([]string, string) { return env, "v2" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := fill(t)
			env, version := tt.change(t, dir)
			key, err := CacheKey(dir, LoadOptions{Env: env}, version)
			if err != nil {
				t.Fatal(err)
			}
			e, ok := ReadCache(dir, key, "connection.sales", env)
			if ok != tt.hit {
				t.Fatalf("cache hit %v, want %v", ok, tt.hit)
			}
			if ok && (e.Conn.URL != "https://sales.crm4.dynamics.com" || e.Conn.Description != "Sales" || e.Conn.ClientSecret != "" ||
				e.TokenStoreWhere != "main.hcl:3" || e.Extra != "extra") {
				t.Errorf("entry %+v, conn %+v", e, e.Conn)
			}
		})
	}

	t.Run("no secret in the entry, private mode", func(t *testing.T) {
		dir, _ := fill(t)
		files, _ := filepath.Glob(filepath.Join(dir, CacheDir, "*.json"))
		if len(files) != 1 {
			t.Fatalf("entries %v", files)
		}
		data, _ := os.ReadFile(files[0])
		if strings.Contains(string(data), "s3cret-value") {
			t.Error("the entry holds the secret")
		}
		if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
			t.Errorf("entry mode %v", fi.Mode().Perm())
		}
	})

	t.Run("a file it did not write is left in place", func(t *testing.T) {
		dir, key := fill(t)
		files, _ := filepath.Glob(filepath.Join(dir, CacheDir, "*.json"))
		if err := os.WriteFile(files[0], []byte("someone else's"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _ := Load(dir, LoadOptions{Env: env})
		if err := WriteCache(cfg, key, cfg.Connections[0], "", ""); err == nil || !strings.Contains(err.Error(), "left in place") {
			t.Fatalf("error %v", err)
		}
		if data, _ := os.ReadFile(files[0]); string(data) != "someone else's" {
			t.Error("overwritten")
		}
		if _, ok := ReadCache(dir, key, "connection.sales", env); ok {
			t.Error("read a file that is not an entry")
		}
	})
}

package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connform/auth"
	"connform/config"
	"connform/internal/benchgen"
	"connform/plan"
)

// benchEnv is a machine's environment for the benchmarks: the encrypted
// file token store (with a passphrase, so its key derivation counts) in a
// private home, and the app's secret as a variable.
func benchEnv(b *testing.B) []string {
	home := b.TempDir()
	env := []string{
		"CONNFORM_HOME=" + home, "CONNFORM_TOKEN_STORE=file", "CONNFORM_TOKEN_PASSPHRASE=bench passphrase",
		"CONNFORM_VAR_client_secret=bench-secret", "NO_COLOR=1",
	}
	// A store that exists and holds a grant, as on a machine in use: the
	// command has to open and decrypt it.
	store, _, err := auth.Open(home, env, auth.Choice{Store: "file"})
	if err != nil {
		b.Fatal(err)
	}
	g := &auth.Grant{Account: "app", Access: map[string]*auth.AccessToken{
		"https://elsewhere.crm.dynamics.com": {Token: "t", Expiry: time.Now().Add(time.Hour)},
	}}
	if err := store.Put(auth.Key("https://login.microsoftonline.com/x/oauth2/v2.0/token", "c", "app"), g); err != nil {
		b.Fatal(err)
	}
	return env
}

// benchDir writes the generated configuration of n connections.
func benchDir(b *testing.B, n int) string {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), benchgen.Config(n, nil), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// runBench runs one connform command in-process, as the binary would,
// with stdout discarded (the command buffers it itself). A nil store is
// the one env chooses.
func runBench(b *testing.B, env []string, store auth.Store, args ...string) {
	s, _, _, errOut := Test()
	s.Out = io.Discard
	c := &cli{io: s, env: env, now: time.Now, store: store}
	if code := c.run(context.Background(), args); code != 0 {
		b.Fatalf("connform %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
}

// BenchmarkPlan is connform plan of 10,000 new connections in one file as
// bench/gen writes it: configuration, state, the encrypted file token
// store, the diff and the human rendering. Compare BenchmarkPlanFloor.
func BenchmarkPlan(b *testing.B) {
	dir, env := benchDir(b, 10000), benchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		runBench(b, env, nil, "-chdir="+dir, "plan")
	}
}

// BenchmarkPlanFloor is the floor for BenchmarkPlan: hcl/v2 parse and
// evaluation of every attribute of the same file, nothing more.
func BenchmarkPlanFloor(b *testing.B) {
	src := benchgen.Config(10000, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := benchgen.Floor(src, map[string]string{"client_secret": "bench-secret"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkToken is a warm `connform token NAME` (its token stored and
// valid, its connection evaluated before) in configurations of 100 and
// 10,000 connections: it must not grow with them (target: under 20 ms for
// the whole process; bench/token.sh measures the binary). The token store
// is the encrypted file with a random key, as the kernel keyring keeps it
// where no OS keyring answers, opened afresh each time as a process does.
func BenchmarkToken(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("connections=%d", n), func(b *testing.B) {
			dir := benchDir(b, n)
			env := []string{"CONNFORM_VAR_client_secret=bench-secret", "NO_COLOR=1"}
			cfg, diags := config.Load(dir, config.LoadOptions{Env: env})
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			conn := cfg.Connections[0]
			path, key := filepath.Join(b.TempDir(), "tokens.enc"), make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				b.Fatal(err)
			}
			open := func() auth.Store {
				s, err := auth.NewKeyFileStore(path, key)
				if err != nil {
					b.Fatal(err)
				}
				return s
			}
			g := &auth.Grant{Account: "app", Access: map[string]*auth.AccessToken{
				conn.URL: {Token: "bench-token", Expiry: time.Now().Add(time.Hour), Scopes: conn.Scopes},
			}}
			seed := open()
			if err := seed.Put(plan.TokenKey(conn), g); err != nil {
				b.Fatal(err)
			}
			if f, ok := seed.(interface{ Flush() error }); ok {
				if err := f.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			// The first one evaluates everything and fills the cache.
			runBench(b, env, open(), "-chdir="+dir, "token", conn.Name)
			b.ReportAllocs()
			for b.Loop() {
				runBench(b, env, open(), "-chdir="+dir, "token", conn.Name)
			}
		})
	}
}

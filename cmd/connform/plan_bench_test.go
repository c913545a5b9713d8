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

// benchEnv is the environment of the benchmarks: the app's secret as a
// variable, and no colour.
var benchEnv = []string{"CONNFORM_VAR_client_secret=bench-secret", "NO_COLOR=1"}

// benchStore seeds the encrypted token file with grants and returns what
// opens it, as each process does: the file store with a random key, as the
// kernel keyring keeps it where no OS keyring answers. (With
// CONNFORM_TOKEN_PASSPHRASE its key derivation would add about 60 ms to
// every command; bench/*.sh can measure that.)
func benchStore(b *testing.B, grants map[string]*auth.Grant) func() auth.Store {
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
	seed := open()
	for k, g := range grants {
		if err := seed.Put(k, g); err != nil {
			b.Fatal(err)
		}
	}
	if f, ok := seed.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	return open
}

// benchConn is the first connection of a generated configuration.
func benchConn(b *testing.B, dir string) *config.Connection {
	cfg, diags := config.Load(dir, config.LoadOptions{Env: benchEnv})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	return cfg.Connections[0]
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
	dir := benchDir(b, 10000)
	// The app's grant, with a token for an org of another configuration:
	// the plan reads it and still finds every connection without a token.
	open := benchStore(b, map[string]*auth.Grant{plan.TokenKey(benchConn(b, dir)): {Account: "app", Access: map[string]*auth.AccessToken{
		"https://elsewhere.crm.dynamics.com": {Token: "t", Expiry: time.Now().Add(time.Hour)},
	}}})
	b.ReportAllocs()
	for b.Loop() {
		runBench(b, benchEnv, open(), "-chdir="+dir, "plan")
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
			conn := benchConn(b, dir)
			open := benchStore(b, map[string]*auth.Grant{plan.TokenKey(conn): {Account: "app", Access: map[string]*auth.AccessToken{
				conn.URL: {Token: "bench-token", Expiry: time.Now().Add(time.Hour), Scopes: conn.Scopes},
			}}})
			env := benchEnv
			// The first one evaluates everything and fills the cache.
			runBench(b, env, open(), "-chdir="+dir, "token", conn.Name)
			b.ReportAllocs()
			for b.Loop() {
				runBench(b, env, open(), "-chdir="+dir, "token", conn.Name)
			}
		})
	}
}

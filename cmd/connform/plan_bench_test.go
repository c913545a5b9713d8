package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connform/auth"
	"connform/internal/benchgen"
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
// with stdout discarded (the command buffers it itself).
func runBench(b *testing.B, env []string, args ...string) {
	s, _, _, errOut := Test()
	s.Out = io.Discard
	c := &cli{io: s, env: env, now: time.Now}
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
		runBench(b, env, "-chdir="+dir, "plan")
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

package main

import (
	"connform/auth"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connform/config"
	"connform/library"
	"connform/plan"
	"connform/state"
)

// writeBenchConfig writes n connection blocks spread over 10 files, the
// shape of a large estate: every org its own block, shared variables.
func writeBenchConfig(b *testing.B, n int) string {
	dir := b.TempDir()
	const files = 10
	for f := 0; f < files; f++ {
		var sb strings.Builder
		if f == 0 {
			sb.WriteString("variable \"tenant_id\" {\n  type    = string\n  default = \"8f3c2a9e-4d41-4b7a-9a37-2f7c1f0c5b11\"\n}\n\n")
			sb.WriteString("variable \"client_id\" {\n  type    = string\n  default = \"51f81489-12ee-4a9e-aaae-a2591f45987d\"\n}\n\n")
		}
		for i := f; i < n; i += files {
			fmt.Fprintf(&sb, "connection \"org%05d\" {\n  url         = \"https://org%05d.crm%d.dynamics.com\"\n  tenant_id   = var.tenant_id\n  client_id   = var.client_id\n  description = \"Org %d\"\n}\n\n", i, i, []int{4, 11, 12, 16}[i%4], i)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("orgs%02d.hcl", f)), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func benchPlan(b *testing.B, withState bool) {
	const n = 10000
	dir := writeBenchConfig(b, n)
	var st *state.State
	if withState {
		cfg, diags := config.Load(dir, config.LoadOptions{})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		st = &state.State{Version: 1, Serial: 1, Lineage: "bench"}
		for _, c := range cfg.Connections {
			st.Connections = append(st.Connections, &state.Connection{Addr: c.Addr, Name: c.Name, Attributes: c.Attributes(),
				LibraryPath: filepath.Join("library", library.FileName(c.Address().LibraryKey(), "dsconn"))})
		}
	}
	s, _, _, _ := Test()
	s.Out = io.Discard
	b.ReportAllocs()
	for b.Loop() {
		cfg, diags := config.Load(dir, config.LoadOptions{})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		p, err := plan.Make(plan.Input{
			Config: cfg, State: st, Now: time.Now(),
			LibraryFile: plan.DefaultLibraryFile("library", "dsconn", library.FileName),
			Grant: func(key string) *auth.Grant {
				return &auth.Grant{RefreshToken: "rt"}
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Changes) != n {
			b.Fatalf("planned %d changes, want %d", len(p.Changes), n)
		}
		renderPlan(s, p)
	}
}

// BenchmarkPlan10000Create plans 10,000 new connections: parse, evaluate,
// diff against an empty state and render the human plan.
func BenchmarkPlan10000Create(b *testing.B) { benchPlan(b, false) }

// BenchmarkPlan10000InSync plans 10,000 connections that match the state.
func BenchmarkPlan10000InSync(b *testing.B) { benchPlan(b, true) }

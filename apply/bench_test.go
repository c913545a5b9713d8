package apply

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"connform/auth"
	"connform/config"
	"connform/emulator"
	"connform/library"
	"connform/plan"
	"connform/state"
)

// BenchmarkApply applies N new app-only connections (client credentials,
// so no person is involved) to one emulated org, as a user's apply does:
// the encrypted token file, a library entry per connection, the state
// journal synced as connections finish and folded into the state file at
// the end. ms/connection is the figure to watch: it must not grow with N.
// The latency variant makes every request to the emulator wait 50 ms, at
// -parallelism 10; its floor is N × 50 ms ÷ 10.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchApply(b, n, 0) })
	}
	b.Run("n=1000/latency=50ms/parallelism=10", func(b *testing.B) { benchApply(b, 1000, 50*time.Millisecond) })
}

func benchApply(b *testing.B, n int, latency time.Duration) {
	e, err := emulator.Start(emulator.Options{Orgs: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if latency > 0 {
		e.AddFault(emulator.Fault{Kind: emulator.FaultLatency, Delay: latency})
	}
	info := e.Info()
	app, _ := info.App(emulator.ConfidentialApp)
	org := info.Orgs[0]
	conns := make([]*config.Connection, n)
	for i := range conns {
		name := fmt.Sprintf("org%05d", i)
		conns[i] = &config.Connection{
			Name: name, Addr: "connection." + name, URL: org.URL, TenantID: info.TenantID,
			ClientID: app.ClientID, ClientSecret: app.ClientSecret, TokenURL: info.TokenURL,
			GrantType: config.GrantClientCredentials, Scopes: []string{org.URL + "/.default"},
		}
	}
	cfg := &config.Config{Connections: conns}
	syncs := 0
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		opt := options(b, e, false)
		store, err := auth.NewFileStore(filepath.Join(dir, "tokens.enc"), []byte("bench passphrase"))
		if err != nil {
			b.Fatal(err)
		}
		opt.Store = store
		opt.Parallelism = 10
		opt.LibraryDir = filepath.Join(dir, "library")
		opt.LibraryFile = plan.DefaultLibraryFile(opt.LibraryDir, "dsconn", library.FileName)
		opt.LibraryFormat = "dsconn"
		p := makePlan(b, cfg, nil, opt)
		backend := state.NewLocal(filepath.Join(dir, "connform.state.json"))
		b.StartTimer()

		st := state.New("bench")
		j, err := backend.OpenJournal(st)
		if err != nil {
			b.Fatal(err)
		}
		res, err := Run(context.Background(), p, cfg, st, j, opt)
		if err != nil || len(res.Failed()) > 0 {
			b.Fatalf("apply: %v %v", err, res.Failed())
		}
		if fj, ok := j.(*state.FileJournal); ok {
			syncs += fj.Syncs()
		}
		if err := j.Commit(st); err != nil {
			b.Fatal(err)
		}
		if len(st.Connections) != n {
			b.Fatalf("state holds %d connections, want %d", len(st.Connections), n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n)/1000, "ms/connection")
	b.ReportMetric(float64(syncs)/float64(b.N)/float64(n), "journal-syncs/connection")
}

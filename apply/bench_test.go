package apply

import (
	"context"
	"path/filepath"
	"testing"

	"connform/config"
	"connform/emulator"
	"connform/state"
)

// BenchmarkApply100 applies 100 new app-only connections (client
// credentials, so no person is involved) against the emulator: a token per
// org, WhoAmI, a library entry and a durable state write (fsync) after each
// connection, at the default parallelism of 10. It measures the silent work
// apply does around sign-ins.
func BenchmarkApply100(b *testing.B) {
	e, err := emulator.Start(emulator.Options{Orgs: 100})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	info := e.Info()
	app, _ := info.App(emulator.ConfidentialApp)
	var conns []*config.Connection
	for _, o := range info.Orgs {
		conns = append(conns, &config.Connection{
			Name: o.Name, Addr: "connection." + o.Name, URL: o.URL, TenantID: info.TenantID,
			ClientID: app.ClientID, ClientSecret: app.ClientSecret, TokenURL: info.TokenURL,
			GrantType: config.GrantClientCredentials, Scopes: []string{o.URL + "/.default"},
		})
	}
	cfg := &config.Config{Connections: conns}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		opt := options(b, e, false)
		opt.Parallelism = 10
		opt.LibraryFile = func(c *config.Connection) string { return filepath.Join(dir, "library", c.Name+".json") }
		st := state.New("bench")
		p := makePlan(b, cfg, nil, opt)
		b.StartTimer()
		res, err := Run(context.Background(), p, cfg, st, state.NewLocal(filepath.Join(dir, "connform.state.json")), opt)
		if err != nil || len(res.Failed()) > 0 {
			b.Fatalf("apply: %v %v", err, res.Failed())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/100/1000, "ms/connection")
}

// Command gen writes the configuration the benchmarks measure (see
// internal/benchgen) to DIR/main.hcl.
//
// Usage: gen [-emu-org URL -emu-token-url URL -emu-tenant ID -emu-client ID] N DIR
//
// or, for apply: gen -emu-info FILE N DIR, which reads what `connform
// emulator -info-file FILE` wrote, points every connection at its first
// org through its confidential app, and writes that app's (emulated)
// secret to DIR/bench.vars.hcl for -var-file.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"connform/emulator"
	"connform/internal/benchgen"
)

func main() {
	var emu benchgen.Emulator
	flag.StringVar(&emu.Org, "emu-org", "", "point org00000 at this emulator org")
	flag.StringVar(&emu.TokenURL, "emu-token-url", "", "the emulator's token endpoint")
	flag.StringVar(&emu.TenantID, "emu-tenant", "", "the emulator's tenant")
	flag.StringVar(&emu.ClientID, "emu-client", "", "the emulator app's client id")
	info := flag.String("emu-info", "", "point every connection at the emulator that wrote this -info-file")
	flag.Parse()
	n, err := strconv.Atoi(flag.Arg(0))
	if flag.NArg() != 2 || err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "usage: gen [-emu-org URL -emu-token-url URL -emu-tenant ID -emu-client ID] N DIR")
		os.Exit(2)
	}
	var e *benchgen.Emulator
	if emu.Org != "" {
		e = &emu
	}
	if *info != "" {
		var err error
		if e, err = fromInfo(*info, flag.Arg(1)); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
	if err := os.WriteFile(filepath.Join(flag.Arg(1), "main.hcl"), benchgen.Config(n, e), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// fromInfo reads an emulator's -info-file and writes its confidential
// app's secret beside the configuration.
func fromInfo(path, dir string) (*benchgen.Emulator, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var info emulator.Info
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	app, ok := info.App(emulator.ConfidentialApp)
	if !ok || len(info.Orgs) == 0 {
		return nil, fmt.Errorf("%s names no confidential app or no org", path)
	}
	vars := fmt.Sprintf("client_secret = %q\n", app.ClientSecret)
	if err := os.WriteFile(filepath.Join(dir, "bench.vars.hcl"), []byte(vars), 0o600); err != nil {
		return nil, err
	}
	return &benchgen.Emulator{Org: info.Orgs[0].URL, TokenURL: info.TokenURL, TenantID: info.TenantID, ClientID: app.ClientID, All: true}, nil
}

// Command gen writes the configuration the benchmarks measure (see
// internal/benchgen) to DIR/main.hcl. With -emu-info, connection org00000
// points at the emulator that wrote that file (connform emulator
// -info-file), as its confidential app, whose secret goes to
// DIR/connform.vars.hcl: a bench script can then get it a real token.
//
// With -all, every connection points at the emulator's org, for apply,
// which contacts each.
//
// Usage: gen [-emu-info FILE [-all]] N DIR
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"connform/internal/benchgen"
)

func main() {
	info := flag.String("emu-info", "", "the emulator's -info-file, to point org00000 at it")
	all := flag.Bool("all", false, "with -emu-info, point every connection at the emulator's org")
	flag.Parse()
	n, err := strconv.Atoi(flag.Arg(0))
	if flag.NArg() != 2 || err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "usage: gen [-emu-info FILE [-all]] N DIR")
		os.Exit(2)
	}
	if err := write(n, flag.Arg(1), *info, *all); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func write(n int, dir, infoFile string, all bool) error {
	var emu *benchgen.Emulator
	if infoFile != "" {
		data, err := os.ReadFile(infoFile)
		if err != nil {
			return err
		}
		var info struct {
			TenantID string `json:"tenant_id"`
			TokenURL string `json:"token_url"`
			Apps     []struct {
				Name         string `json:"name"`
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
			} `json:"apps"`
			Orgs []struct {
				URL string `json:"url"`
			} `json:"orgs"`
		}
		if err := json.Unmarshal(data, &info); err != nil {
			return fmt.Errorf("%s: %w", infoFile, err)
		}
		for _, a := range info.Apps {
			if a.Name == "connform-confidential" && len(info.Orgs) > 0 {
				emu = &benchgen.Emulator{Org: info.Orgs[0].URL, TokenURL: info.TokenURL, TenantID: info.TenantID, ClientID: a.ClientID, All: all}
				vars := fmt.Sprintf("client_secret = %q\n", a.ClientSecret)
				if err := os.WriteFile(filepath.Join(dir, "connform.vars.hcl"), []byte(vars), 0o600); err != nil {
					return err
				}
			}
		}
		if emu == nil {
			return errors.New(infoFile + " names no connform-confidential app and org")
		}
	}
	return os.WriteFile(filepath.Join(dir, "main.hcl"), benchgen.Config(n, emu), 0o644)
}

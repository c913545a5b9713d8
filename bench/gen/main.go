// Command gen writes the configuration the benchmarks measure (see
// internal/benchgen) to DIR/main.hcl.
//
// Usage: gen [-emu-org URL -emu-token-url URL -emu-tenant ID -emu-client ID] N DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"connform/internal/benchgen"
)

func main() {
	var emu benchgen.Emulator
	flag.StringVar(&emu.Org, "emu-org", "", "point org00000 at this emulator org")
	flag.StringVar(&emu.TokenURL, "emu-token-url", "", "the emulator's token endpoint")
	flag.StringVar(&emu.TenantID, "emu-tenant", "", "the emulator's tenant")
	flag.StringVar(&emu.ClientID, "emu-client", "", "the emulator app's client id")
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
	if err := os.WriteFile(filepath.Join(flag.Arg(1), "main.hcl"), benchgen.Config(n, e), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

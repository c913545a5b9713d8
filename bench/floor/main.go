// Command floor is the yardstick for connform plan: it reads a
// configuration file and does only what any program must do with it,
// hcl/v2 parse and evaluation of every attribute, and nothing more. bench/
// plan.sh times it beside connform plan on the same file.
//
// Usage: floor FILE
package main

import (
	"fmt"
	"os"

	"connform/internal/benchgen"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor FILE")
		os.Exit(2)
	}
	src, err := os.ReadFile(os.Args[1])
	if err == nil {
		var n int
		n, err = benchgen.Floor(src, map[string]string{"client_secret": os.Getenv("CONNFORM_VAR_client_secret")})
		fmt.Printf("%d attributes evaluated\n", n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// Package benchgen writes the generated configurations that connform's
// benchmarks and the programs in bench/ measure, and the floor they are
// measured against, so that every figure is about the same file.
//
// It is a package of its own because three places need it (the Go
// benchmarks in cmd/connform, bench/gen, bench/floor) and none of them may
// import another's main package.
package benchgen

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Emulator points the first connection (org00000) at a running emulator,
// so that a bench script can get it a real token; the others keep their
// Dynamics URLs, which plan and token never contact. All points every
// connection at it, for apply, which contacts each.
type Emulator struct {
	Org, TokenURL, TenantID, ClientID string
	All                               bool
}

// Config returns one configuration file of n app-only (client credentials)
// connections, the shape of a large estate as the issue measured it: every
// org its own block, the app's ids and secret shared through variables.
func Config(n int, emu *Emulator) []byte {
	var b strings.Builder
	b.Grow(n * 330)
	tenant, client := "8f3c2a9e-4d41-4b7a-9a37-2f7c1f0c5b11", "51f81489-12ee-4a9e-aaae-a2591f45987d"
	if emu != nil {
		tenant, client = emu.TenantID, emu.ClientID
	}
	fmt.Fprintf(&b, "variable \"tenant_id\" {\n  type    = string\n  default = %q\n}\n\n", tenant)
	fmt.Fprintf(&b, "variable \"client_id\" {\n  type    = string\n  default = %q\n}\n\n", client)
	b.WriteString("variable \"client_secret\" {\n  type      = string\n  sensitive = true\n}\n\n")
	for i := range n {
		url := fmt.Sprintf("https://org%05d.crm%d.dynamics.com", i, []int{4, 11, 12, 16}[i%4])
		tokenURL := ""
		if emu != nil && (i == 0 || emu.All) {
			url = emu.Org
			tokenURL = fmt.Sprintf("  token_url     = %q\n", emu.TokenURL)
		}
		fmt.Fprintf(&b, "connection \"org%05d\" {\n  url           = %q\n  tenant_id     = var.tenant_id\n  client_id     = var.client_id\n  client_secret = var.client_secret\n  grant_type    = \"client_credentials\"\n%s  description   = \"Org %d\"\n}\n\n", i, url, tokenURL, i)
	}
	return []byte(b.String())
}

// Floor parses src with hcl/v2 and evaluates every attribute of every
// block, variables taken from their defaults (or vars): the least any
// program reading this configuration must do, and the yardstick for plan.
// It returns the number of attributes evaluated.
func Floor(src []byte, vars map[string]string) (int, error) {
	f, diags := hclsyntax.ParseConfig(src, "main.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return 0, diags
	}
	body := f.Body.(*hclsyntax.Body)
	values := map[string]cty.Value{}
	for k, v := range vars {
		values[k] = cty.StringVal(v)
	}
	for _, blk := range body.Blocks {
		if blk.Type != "variable" {
			continue
		}
		if _, set := values[blk.Labels[0]]; set {
			continue
		}
		if a, ok := blk.Body.Attributes["default"]; ok {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				return 0, diags
			}
			values[blk.Labels[0]] = v
		}
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(values)}}
	n := 0
	for _, blk := range body.Blocks {
		if blk.Type != "connection" {
			continue
		}
		for _, a := range blk.Body.Attributes {
			if _, diags := a.Expr.Value(ctx); diags.HasErrors() {
				return 0, diags
			}
			n++
		}
	}
	return n, nil
}

package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzSeeds are configurations that once crashed or hung the loader, and a
// valid one for the fuzzer to mutate.
var fuzzSeeds = []string{
	body(okAttrs),
	"variable \"x\" {\n  description = }\n",
	"variable \"x\" {\n  sensitive = }\n",
	`variable"A"{description=`,
	"variable \"x\" {\n  default = \"a\"\n  validation {\n    condition = false\n    error_message = }\n  }\n}\n",
	"connection \"c\" {\n  for_each = toset([\"a\", \"b\"])\n" + okAttrs + "\n  entity = each.key\n}\n",
	"locals {\n  x = " + strings.Repeat("[", 300) + "\n}\n",
	"\x00\xff\xfe binary",
	"connform {\n  library_parameter_names = { url = }\n}\n",
}

// FuzzLoad loads one configuration file: whatever it holds, Load returns
// diagnostics and never panics. Run longer with
// go test ./config -run '^$' -fuzz FuzzLoad -fuzztime 5m.
func FuzzLoad(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _ := Load(dir, LoadOptions{})
		if cfg == nil {
			t.Fatal("Load returned a nil Config")
		}
	})
}

// fixedSecretMessages are the messages about the sensitive variable of
// FuzzVarValue that hold no part of its value (cty's conversion errors name
// types only).
var fixedSecretMessages = []string{
	`The value for var.secret from -var is not a valid HCL value of type list(string). Write it as HCL, e.g. ["a", "b"] for a list.`,
	"The value for var.secret from -var does not match its type list(string): ",
}

// FuzzVarValue gives one -var value to variables of each kind of type.
func FuzzVarValue(f *testing.F) {
	for _, s := range []string{"a", `["a", "b"]`, "{ k = }", strings.Repeat("[", 300), "}", "\x1b[2J", "null", "tobool(\"x\")"} {
		f.Add(s)
	}
	dir := f.TempDir()
	src := "variable \"s\" {\n  type = string\n}\nvariable \"l\" {\n  type = list(string)\n}\nvariable \"m\" {\n  type = map(number)\n}\n" +
		"variable \"o\" {\n  type = object({ a = optional(string, \"x\") })\n}\nvariable \"secret\" {\n  type = list(string)\n  sensitive = true\n}\n" + body(okAttrs)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value string) {
		var vars []string
		for _, name := range []string{"s", "l", "m", "o", "secret"} {
			vars = append(vars, name+"="+value)
		}
		_, diags := Load(dir, LoadOptions{Vars: vars})
		for _, d := range diags {
			// A sensitive variable's value never appears in a message: its
			// messages are fixed texts, or describe types and positions.
			if !strings.Contains(d.Detail, "var.secret") || slices.ContainsFunc(fixedSecretMessages, func(m string) bool { return strings.HasPrefix(d.Detail, m) }) {
				continue
			}
			if len(value) >= 4 && strings.Contains(d.Detail, value) {
				t.Fatalf("a message quotes the sensitive value: %s", d.Detail)
			}
		}
	})
}

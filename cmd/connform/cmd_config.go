package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/diff"

	"connform/config"
	"connform/internal/atomicfile"
)

func (c *cli) cmdValidate(_ context.Context, args []string) error {
	fs := c.flags("validate")
	var v varFlags
	v.register(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"validate", fmt.Errorf("unexpected arguments %q: validate takes none (it checks the .hcl files of the working directory; use -chdir=DIR before the command for another one)", fs.Args())}
	}
	cfg := c.loadConfig(v, nil)
	if cfg == nil {
		return exitError(1)
	}
	fmt.Fprintf(c.io.Out, "%s The configuration is valid: %s.\n", c.io.Paint("green", "Success!"), count(len(cfg.Connections), "connection"))
	return nil
}

func (c *cli) cmdFmt(_ context.Context, args []string) error {
	fs := c.flags("fmt")
	check := fs.Bool("check", false, "only check: exit 3 when a file is not formatted, change nothing")
	showDiff := fs.Bool("diff", false, "show the changes formatting makes")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		matches, _ := filepath.Glob("*.hcl")
		files = matches
	}
	sort.Strings(files)
	unformatted := false
	failed := false
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			c.errorf("%v", err)
			failed = true
			continue
		}
		out, diags := config.Format(name, src)
		if diags.HasErrors() {
			// The source, so the diagnostic can quote the offending line.
			_ = config.WriteDiagnostics(c.io.ErrOut, map[string]*hcl.File{name: {Bytes: src}}, diags, 78, c.io.ColorEnabled())
			failed = true
			continue
		}
		if string(out) == string(src) {
			continue
		}
		unformatted = true
		fmt.Fprintln(c.io.Out, name)
		if *showDiff {
			c.printDiff(name, src, out)
		}
		if !*check {
			if err := writeFileAtomic(name, out); err != nil {
				c.errorf("%v", err)
				failed = true
			}
		}
	}
	switch {
	case failed:
		return exitError(1)
	case *check && unformatted:
		return exitError(3)
	}
	return nil
}

// printDiff shows a unified diff, as gofmt -d does.
func (c *cli) printDiff(name string, before, after []byte) {
	c.io.Out.Write(diff.Diff("old/"+name, before, "new/"+name, after))
}

// writeFileAtomic replaces name's contents without ever leaving it half
// written. Formatting must not change who may read the file, so its mode
// is kept.
func writeFileAtomic(name string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(name); err == nil {
		mode = st.Mode().Perm()
	}
	return atomicfile.Write(name, data, mode)
}

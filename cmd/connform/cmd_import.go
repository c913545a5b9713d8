package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"connform/config"
	"connform/dynamics"
	"connform/library"
	"connform/plan"
	"connform/state"
)

// cmdImport moves a hand-kept connection library into connform: one
// connection block per Dynamics entry, and a state that records each as
// existing, with its entry file, so that the next plan shows no creation,
// only the sign-in each needs (there are no tokens yet).
func (c *cli) cmdImport(_ context.Context, args []string) error {
	const usage = "connform import [-out FILE] [-param ATTRIBUTE=PARAMETER]... DIR"
	fset := c.flags("import")
	out := fset.String("out", "imported.hcl", "the configuration file to write; the state goes beside it")
	var params stringList
	fset.Var(&params, "param", "read connform attribute ATTRIBUTE from the entries' parameter PARAMETER, e.g. -param url=Url (repeatable; wins over the names import learns from the entries); written into library_parameter_names")
	dir, err := c.parseConnArgs(fset, nil, args, usage)
	if err != nil {
		if strings.HasPrefix(err.Error(), "no connection named") {
			return fmt.Errorf("no library folder named; usage: %s", usage)
		}
		return err
	}
	outDir := filepath.Dir(*out)
	statePath := filepath.Join(outDir, config.DefaultStatePath)
	for _, p := range []string{*out, statePath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s already exists; import writes a new configuration and state: choose another -out folder, or move the file away", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checking %s: %w", p, err)
		}
	}

	names, dataType, err := c.importParameterNames(params)
	if err != nil {
		return err
	}
	res, err := library.Import(library.ImportOptions{Dir: dir, OutDir: outDir, Names: names, DataType: dataType})
	if res != nil {
		for _, w := range res.Warnings {
			fmt.Fprintf(c.io.ErrOut, "%s %s\n", c.io.Paint("yellow", "Warning:"), w)
		}
	}
	if err != nil {
		return err
	}
	for _, l := range res.Learned {
		// Not a warning: the names are proven by the entries' values, but
		// the configuration now depends on them, so the user sees them.
		fmt.Fprintf(c.io.ErrOut, "%s%s (review them in %s).\n", strings.ToUpper(l[:1]), l[1:], *out)
	}

	st := state.New(version)
	for _, conn := range res.Config.Connections {
		org, err := dynamics.ParseOrgURL(conn.URL)
		if err != nil {
			return fmt.Errorf("%s: %w", conn.Addr, err)
		}
		entry := res.Entries[conn.Name]
		st.Connections = append(st.Connections, &state.Connection{
			Addr: conn.Addr, Name: conn.Name,
			Attributes:             conn.Attributes(),
			TokenKey:               plan.TokenKey(conn),
			OrganizationServiceURL: org.OrganizationServiceURL(),
			WebAPIURL:              org.WebAPIURL(),
			LibraryPath:            entry.Path,
			LibraryHash:            entry.Hash,
		})
	}

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", outDir, err)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if _, err := f.Write(res.Source); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := state.NewLocal(statePath).Write(st); err != nil {
		return fmt.Errorf("%w; %s was written, remove it before trying again", err, *out)
	}
	fmt.Fprintf(c.io.ErrOut, "Imported %s from %s into %s and %s.\n", count(len(st.Connections), "connection"), dir, *out, statePath)
	if vars := res.SecretVars; len(vars) > 0 {
		fmt.Fprintf(c.io.ErrOut, "The configuration reads client secrets from sensitive variables, never from the library: set %s (-var, a .vars.hcl file or CONNFORM_VAR_name) before plan.\n", strings.Join(vars, ", "))
	}
	fmt.Fprintln(c.io.ErrOut, "Run connform plan: nothing is created, and each connection needs a sign-in, since the token store has no token for it yet.")
	return nil
}

// importParameterNames gives the parameter names import reads: the
// defaults, then library_parameter_names of a configuration in the current
// folder, then -param. It also returns that configuration's
// library_data_type, "" when there is none.
func (c *cli) importParameterNames(params []string) (map[string]string, string, error) {
	var base map[string]string
	var dataType string
	// Only the connform block matters here: a configuration that lacks a
	// variable or has another error still names its parameters.
	if cfg, _ := config.Load(".", config.LoadOptions{Env: c.env}); cfg != nil && len(cfg.Files) > 0 {
		base = cfg.Settings.LibraryParameterNames
		var used []string
		for _, attr := range sortedKeys(base) {
			used = append(used, attr+"="+base[attr])
		}
		if len(used) > 0 {
			fmt.Fprintf(c.io.ErrOut, "Reading parameter names from library_parameter_names of the configuration in this folder: %s (-param overrides them).\n", strings.Join(used, ", "))
		}
		if cfg.Settings.LibraryDataType != config.DefaultLibraryDataType {
			dataType = cfg.Settings.LibraryDataType
		}
	}
	names, err := library.ImportParameterNames(base, params)
	return names, dataType, err
}

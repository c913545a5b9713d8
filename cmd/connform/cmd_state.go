package main

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"connform/addrs"
	"connform/config"
	"connform/plan"
	"connform/state"
)

// statePath finds the state file from the configuration's connform block,
// falling back to the default when the configuration cannot be read, so
// that inspecting and unlocking never depend on a valid configuration.
func (c *cli) statePath() string {
	cfg, diags := config.Load(".", config.LoadOptions{Env: c.env})
	if cfg != nil && !diags.HasErrors() && cfg.Settings.StatePath != "" {
		return cfg.Settings.StatePath
	}
	return config.DefaultStatePath
}

func (c *cli) cmdShow(_ context.Context, args []string) error {
	fs := c.flags("show")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("unexpected arguments %q; usage: connform show [-json] [PLANFILE]", fs.Args()[1:])
	}
	out, flush := c.io.Buffered()
	view := newShowView(*asJSON, out)
	var err error
	if fs.NArg() == 1 {
		var p *plan.Plan
		if p, err = plan.ReadFile(fs.Arg(0)); err == nil {
			err = view.Plan(p)
		}
	} else {
		var st *state.State
		if st, err = c.readState(c.statePath()); err == nil {
			err = view.State(st)
		}
	}
	if ferr := flush(); err == nil && ferr != nil {
		err = fmt.Errorf("writing to standard output: %w", ferr)
	}
	return err
}

// readState reads the state without the lock and without writing
// anything, for the commands that only show it; a journal left by a run
// that died is included, and said so on stderr.
func (c *cli) readState(path string) (*state.State, error) {
	b := state.NewLocal(path)
	b.Notify = func(msg string) { fmt.Fprintln(c.io.ErrOut, msg) }
	return b.Read()
}

func (c *cli) cmdState(_ context.Context, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return c.subcommandHelp("state", args)
	}
	fs := c.flags("state list")
	if err := c.parse(fs, args[1:]); err != nil {
		return err
	}
	// Addresses narrow the list as -target narrows a plan.
	var targets []addrs.Target
	for _, a := range fs.Args() {
		t, err := addrs.ParseTarget(a)
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	st, err := c.readState(c.statePath())
	if err != nil {
		return err
	}
	if st == nil || len(st.Connections) == 0 {
		// On stderr: stdout stays a list a script can read, empty here.
		fmt.Fprintln(c.io.ErrOut, "The state is empty: no connections have been applied.")
		return nil
	}
	for _, conn := range st.Connections {
		if addrs.Selects(targets, conn.Addr) {
			fmt.Fprintln(c.io.Out, conn.Addr)
		}
	}
	return nil
}

func (c *cli) cmdForceUnlock(_ context.Context, args []string) error {
	fs := c.flags("force-unlock")
	force := fs.Bool("force", false, "do not ask for confirmation")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: connform force-unlock [-force] LOCK_ID")
	}
	backend := state.NewLocal(c.statePath())
	// Say at once when there is nothing to unlock, or another lock.
	if err := backend.CheckForceUnlock(fs.Arg(0)); err != nil {
		return err
	}
	if !*force {
		answer, err := c.io.Prompt(fmt.Sprintf("Remove the lock %s? Only do this when the run that holds it is gone.\n  Only 'yes' will be accepted.\n\n  Enter a value: ", fs.Arg(0)), "-force")
		if err != nil {
			return err
		}
		if answer != "yes" {
			return fmt.Errorf("force-unlock cancelled")
		}
	}
	if err := backend.ForceUnlock(fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintln(c.io.Out, "The state lock was removed.")
	return nil
}

// sortedKeys lists a map's keys in order, for output that must not change
// from run to run.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	return slices.Sorted(maps.Keys(m))
}

package main

import (
	"context"
	"fmt"

	"connform/plan"
)

func (c *cli) cmdPlan(ctx context.Context, args []string) error {
	fs := c.flags("plan")
	var v varFlags
	var lf lockFlags
	var targets stringList
	v.register(fs)
	lf.register(fs)
	fs.Var(&targets, "target", "limit the plan to an address: crm (every instance), crm[dev] or connection.crm[\"dev\"] (repeatable)")
	out := fs.String("out", "", "save the plan to a file that connform apply FILE carries out")
	asJSON := fs.Bool("json", false, "print the plan as JSON (schema in README.md)")
	detailed := fs.Bool("detailed-exitcode", false, "exit 0 with no changes, 1 on error, 2 with changes")
	destroy := fs.Bool("destroy", false, "plan to destroy every connection")
	fs.Bool("input", true, "accepted for symmetry with apply; plan never prompts")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"plan", fmt.Errorf("unexpected arguments %q: plan takes none (it reads the .hcl files of the working directory; to run a saved plan, use connform apply PLANFILE)", fs.Args())}
	}
	// Destroying needs only the state, as destroy itself does.
	v.allowEmpty = *destroy
	cfg := c.loadConfig(v, nil)
	if cfg == nil {
		return exitError(1)
	}
	op, err := c.open(ctx, "plan", cfg, lf)
	if err != nil {
		return err
	}
	defer op.close()
	p, err := plan.Make(c.planInput(op, targets, *destroy))
	if err != nil {
		return err
	}
	logPlan(op.log, p)
	if err := c.printPlan(p, *asJSON, *out); err != nil {
		return err
	}
	if *detailed && p.HasChanges() {
		return exitError(2)
	}
	return nil
}

// printPlan shows p through a buffered view and saves it when asked to.
func (c *cli) printPlan(p *plan.Plan, asJSON bool, out string) error {
	s, flush := c.io.Buffered()
	view := newPlanView(asJSON, s)
	err := view.Plan(p)
	if err == nil && out != "" {
		if err = plan.WriteFile(out, p); err == nil {
			view.Saved(out)
		}
	}
	if ferr := flush(); err == nil && ferr != nil {
		err = fmt.Errorf("writing the plan: %w", ferr)
	}
	return err
}

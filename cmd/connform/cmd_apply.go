package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"connform/apply"
	"connform/auth"
	"connform/dynamics"
	"connform/internal/atomicfile"
	"connform/plan"
)

func (c *cli) cmdApply(ctx context.Context, args []string) error {
	return c.applyCommand(ctx, "apply", args, false)
}

func (c *cli) cmdDestroy(ctx context.Context, args []string) error {
	return c.applyCommand(ctx, "destroy", args, true)
}

// applyCommand is apply and destroy: plan (or read a saved plan), show it,
// ask, carry it out, and report.
func (c *cli) applyCommand(ctx context.Context, name string, args []string, destroy bool) error {
	fs := c.flags(name)
	var v varFlags
	var lf lockFlags
	var targets stringList
	v.register(fs)
	lf.register(fs)
	fs.Var(&targets, "target", "limit the run to an address: crm (every instance), crm[dev] or connection.crm[\"dev\"] (repeatable)")
	autoApprove := fs.Bool("auto-approve", false, "skip the confirmation prompt")
	input := fs.Bool("input", true, "ask for input; with -input=false nothing prompts or opens a browser")
	parallelism := fs.Int("parallelism", 10, "how many connections to work on at once")
	authTimeout := fs.Duration("auth-timeout", 5*time.Minute, "how long to wait for a person to sign in (browser or device code)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 || (destroy && fs.NArg() > 0) {
		return fmt.Errorf("unexpected arguments %q; usage: connform %s [options] [PLANFILE]", fs.Args(), name)
	}
	planFile := fs.Arg(0)
	if *parallelism < 1 {
		return fmt.Errorf("-parallelism=%d: give a number of connections of at least 1", *parallelism)
	}
	if planFile != "" && len(targets) > 0 {
		// A saved plan runs exactly as reviewed; -var and -var-file may
		// only give again the sensitive values plan files never hold
		// (config refuses any other).
		return fmt.Errorf("a saved plan runs as it was made: -target cannot be used with %s; give it to connform plan -out instead", planFile)
	}
	if !*input && !*autoApprove && planFile == "" {
		return fmt.Errorf("-input=false needs -auto-approve (or a saved plan file): connform cannot ask for confirmation without input")
	}
	var saved *plan.Plan
	var planVars map[string]string
	if planFile != "" {
		p, err := plan.ReadFile(planFile)
		if err != nil {
			return err
		}
		saved, planVars = p, p.Variables
	}

	v.allowEmpty = destroy
	cfg := c.loadConfig(v, planVars)
	if cfg == nil {
		return exitError(1)
	}
	op, err := c.open(ctx, name, cfg, lf)
	if err != nil {
		return err
	}
	defer op.close()

	p := saved
	if p != nil {
		lineage := ""
		if op.existed {
			lineage = op.st.Lineage
		}
		if err := p.CheckFresh(cfg.Hash, lineage, serialOf(op)); err != nil {
			return fmt.Errorf("saved plan %s is stale: %v", planFile, err)
		}
		if p, err = c.replan(op, planFile, saved); err != nil {
			return err
		}
	} else {
		p, err = plan.Make(c.planInput(op, targets, destroy))
		if err != nil {
			return err
		}
		logPlan(op.log, p)
		out, flush := c.io.Buffered()
		renderPlan(out, p)
		if err := flush(); err != nil {
			return fmt.Errorf("writing the plan: %w", err)
		}
		if !p.HasChanges() {
			return nil
		}
		if !*autoApprove {
			fmt.Fprintln(c.io.ErrOut)
			verb := "perform these actions"
			if destroy {
				verb = "destroy every connection listed above"
			}
			answer, err := c.io.Prompt(fmt.Sprintf("Do you want to %s?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", verb), "-auto-approve (with -input=false in automation)")
			if err != nil {
				return err
			}
			if answer != "yes" {
				fmt.Fprintf(c.io.ErrOut, "\n%s cancelled.\n", strings.ToUpper(name[:1])+name[1:])
				return exitError(1)
			}
		}
	}
	if !p.HasChanges() {
		fmt.Fprintln(c.io.Out, "No changes. Nothing to apply.")
		return nil
	}
	fmt.Fprintln(c.io.ErrOut)

	httpClient := c.httpClientFor(op.log)
	flow := c.signInFlow(httpClient, *authTimeout, *input)
	s := cfg.Settings
	journal, err := op.backend.OpenJournal(op.st)
	if err != nil {
		return err
	}
	res, err := apply.Run(ctx, p, cfg, op.st, journal, apply.Options{
		Store:           op.store,
		Flow:            flow,
		Log:             op.log,
		Dynamics:        &dynamics.Client{HTTP: httpClient, UserAgent: "connform/" + version, OnRetry: c.notifyRetry},
		Interactive:     *input,
		Parallelism:     *parallelism,
		Now:             c.now,
		Events:          c.progress(op),
		LibraryFormat:   s.LibraryFormat,
		LibraryDataType: s.LibraryDataType,
		LibraryParams:   s.LibraryParameterNames,
		LibraryFile:     plan.DefaultLibraryFile(s.LibraryPath, s.LibraryFormat, libraryFileName),
		LibraryDir:      s.LibraryPath,
	})
	// Whatever happened, what the run finished is folded into the state
	// now, once.
	cerr := journal.Commit(op.st)
	op.log.Debug("state saved", "serial", op.st.Serial, "connections", len(op.st.Connections), "error", cerr)
	if err != nil {
		return errors.Join(err, cerr)
	}
	if errors.Is(cerr, atomicfile.ErrNotDurable) {
		fmt.Fprintf(c.io.ErrOut, "%s saving the state: %v\n", c.io.Paint("yellow", "Warning:"), cerr)
		cerr = nil
	}
	if cerr != nil {
		return fmt.Errorf("saving the state: %w", cerr)
	}
	return c.reportApply(name, res)
}

// replan makes the plan again from the configuration and state and carries
// that out, once it says what the saved plan says: a plan file is checked
// input, never trusted instructions, so an edited one cannot make apply do
// what the configuration does not say.
func (c *cli) replan(op *operation, planFile string, saved *plan.Plan) (*plan.Plan, error) {
	now, err := plan.Make(c.planInput(op, saved.Targets, saved.Destroy))
	if err != nil {
		return nil, fmt.Errorf("saved plan %s cannot be checked: %w", planFile, err)
	}
	if err := saved.Verify(now); err != nil {
		return nil, fmt.Errorf("saved plan %s does not match what apply would do now: %v; run connform plan -out again", planFile, err)
	}
	logPlan(op.log, now)
	return now, nil
}

func serialOf(op *operation) uint64 {
	if !op.existed {
		return 0
	}
	return op.st.Serial
}

// reportApply prints the closing summary; a failed connection makes the
// command exit 1 after every other connection was attempted.
func (c *cli) reportApply(name string, res *apply.Result) error {
	var added, changed, destroyed int
	for _, o := range res.Outcomes {
		if o.Err != nil {
			continue
		}
		switch o.Action {
		case plan.Create:
			added++
		case plan.Update:
			changed++
		case plan.Replace:
			added++
			destroyed++
		case plan.Delete:
			destroyed++
		}
	}
	failed := res.Failed()
	signIns := ""
	if res.Interactive > 0 {
		signIns = " " + count(res.Interactive, "interactive sign-in") + "."
	}
	if len(failed) == 0 {
		title := "Apply complete!"
		if name == "destroy" {
			title = "Destroy complete!"
		}
		fmt.Fprintf(c.io.Out, "\n%s Connections: %d added, %d changed, %d destroyed.%s\n", c.io.Paint("green", title), added, changed, destroyed, signIns)
		return nil
	}
	title := "Apply finished with errors."
	if name == "destroy" {
		title = "Destroy finished with errors."
	}
	fmt.Fprintf(c.io.Out, "\n%s %d of %s failed. Connections: %d added, %d changed, %d destroyed.%s\n",
		c.io.Paint("red", title), len(failed), count(len(res.Outcomes), "connection"), added, changed, destroyed, signIns)
	for _, o := range failed {
		c.errorf("%v", o.Err)
	}
	return exitError(1)
}

// progress shows apply's events on stderr as they happen.
func (c *cli) progress(op *operation) func(apply.Event) {
	verbs := map[plan.Action]string{plan.Create: "creating", plan.Update: "updating", plan.Replace: "replacing", plan.Delete: "destroying"}
	return func(e apply.Event) {
		w := c.io.ErrOut
		addr := c.io.Paint("bold", e.Addr)
		switch e.Kind {
		case apply.EventStart:
			fmt.Fprintf(w, "%s: %s...\n", addr, verbs[e.Action])
			op.log.Info("change started", "address", e.Addr, "action", e.Action.String())
		case apply.EventRefreshing, apply.EventSigningIn, apply.EventDeviceCode, apply.EventPlanNotKept, apply.EventWaiting:
			c.signInProgress(e)
		case apply.EventVerified:
			fmt.Fprintf(w, "%s: %s as %s after %s\n", addr, c.io.Paint("green", "verified"), e.Account, roundDuration(e.Elapsed))
			op.log.Info("change done", "address", e.Addr, "account", e.Account, "elapsed", e.Elapsed)
		case apply.EventDeleted:
			fmt.Fprintf(w, "%s: %s after %s\n", addr, c.io.Paint("green", "destroyed"), roundDuration(e.Elapsed))
		case apply.EventFileRemoved:
			fmt.Fprintf(w, "%s: removed %s\n", addr, escapeControl(e.Message))
		case apply.EventFileKept:
			fmt.Fprintf(w, "%s: %s %s\n", addr, c.io.Paint("yellow", "Warning:"), escapeControl(e.Message))
			op.log.Warn("library file left in place", "address", e.Addr, "message", e.Message)
		case apply.EventFailed:
			fmt.Fprintf(w, "%s: %s\n", addr, c.io.Paint("red", "failed"))
			op.log.Warn("change failed", "address", e.Addr, "error", e.Message)
		}
	}
}

// signInProgress shows how a token is being had, for every command that
// may sign in: the device code instructions above all, without which
// nobody could complete that sign-in.
func (c *cli) signInProgress(e apply.Event) {
	addr := c.io.Paint("bold", e.Addr)
	switch e.Kind {
	case apply.EventRefreshing:
		fmt.Fprintf(c.io.ErrOut, "%s: refreshing the token silently...\n", addr)
	case apply.EventSigningIn:
		msg := e.Message
		if c.selfSignIn {
			// The demo's "browser" is itself.
			msg = strings.Replace(msg, "browser opened", "the demo completes the sign-in page", 1)
		}
		fmt.Fprintf(c.io.ErrOut, "%s: signing in (%s)...\n", addr, msg)
	case apply.EventDeviceCode:
		fmt.Fprintf(c.io.ErrOut, "%s: sign in with a device code. %s\n", addr, e.Message)
	case apply.EventWaiting:
		fmt.Fprintf(c.io.ErrOut, "%s: %s\n", addr, e.Message)
	case apply.EventPlanNotKept:
		fmt.Fprintf(c.io.ErrOut, "%s: %s the plan could not be kept: %s\n", addr, c.io.Paint("yellow", "Warning:"), e.Message)
	}
}

// signInFlow is the one way commands build the OAuth flows: the browser
// only with input, -auth-timeout for every wait for a person, and a
// reminder that it still waits every 30 s on a terminal (once a minute in
// a log, where more would be noise).
func (c *cli) signInFlow(hc *http.Client, timeout time.Duration, input bool) *auth.Flow {
	f := &auth.Flow{HTTPClient: hc, Timeout: timeout, Now: c.now, Notify: c.notifySignIn, OnRetry: c.notifyRetry, WaitEvery: time.Minute}
	if c.io.errTTY {
		f.WaitEvery = 30 * time.Second
	}
	if input {
		f.Opener = c.browser()
	}
	return f
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

// browser returns the opener for sign-in pages: the injected one, a
// command named by CONNFORM_BROWSER (as BROWSER or GH_BROWSER work), or the
// system browser.
func (c *cli) browser() auth.Opener {
	if c.opener != nil {
		return c.opener
	}
	if cmd := strings.TrimSpace(c.getenv("CONNFORM_BROWSER")); cmd != "" {
		return commandOpener{cmd: cmd, stderr: c.io.ErrOut}
	}
	return auth.SystemBrowser{}
}

// Command connform provisions OAuth connections to Dynamics 365 / Dataverse
// from HCL files, the way Terraform provisions infrastructure: validate,
// plan, apply, destroy, and the commands around them.
//
// This package owns argument parsing, the commands, their views (human and
// JSON), prompts and exit codes; the work itself lives in the packages
// config, plan, apply, state, auth, dynamics and library.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"connform/auth"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = devVersion

// devVersion is the version of a build that was given none.
const devVersion = "0.1.0-dev"

func main() {
	os.Exit(Main())
}

// Main runs connform on the process's arguments and streams.
func Main() int {
	// SIGTERM (CI cancelling a job, timeout, systemd) is Ctrl-C: start
	// nothing new, finish what is in flight, save, unlock, exit non-zero.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A second signal stops at once, as the default action does: the
	// first one is being honoured, and whoever sends another means it.
	// Every file connform writes is replaced atomically, so that is safe.
	go func() { <-ctx.Done(); stop() }()
	c := &cli{io: System(), env: os.Environ(), now: clock(os.Getenv("CONNFORM_TEST_CLOCK_OFFSET"))}
	return c.run(ctx, os.Args[1:])
}

// clock returns connform's clock. The offset exists for tests only: they
// move the emulator's clock ("two hours later") and connform's together, as
// real clocks move, without waiting.
func clock(offset string) func() time.Time {
	d, err := time.ParseDuration(offset)
	if offset == "" || err != nil {
		return time.Now
	}
	return func() time.Time { return time.Now().Add(d) }
}

// cli carries what every command may need, injectable so the demo and tests
// can run commands in-process against the emulator.
type cli struct {
	io  *IOStreams
	env []string
	now func() time.Time
	// opener, httpClient and store override the system browser, HTTP
	// client and token store when set.
	opener     auth.Opener
	httpClient *http.Client
	store      auth.Store
	// dir is the working directory after -chdir ("" = current).
	dir string
	// storeChoice is the loaded configuration's token_store.
	storeChoice auth.Choice
	// log is the run's logger (see logger); closeLog closes its file.
	log      *slog.Logger
	closeLog func() error
	// opened are the token stores this command opened: run flushes their
	// deferred writes when the command ends.
	opened []auth.Store
	// selfSignIn is set by the demo when it completes sign-ins itself:
	// nobody needs to be shown the sign-in URL.
	selfSignIn bool
	// lastFlags is the flag set the command made, for the test that
	// checks help and documentation against every flag.
	lastFlags *flag.FlagSet
}

// notifySignIn shows the sign-in URL as the browser opens, so that someone
// whose browser does not come up can open it by hand.
func (c *cli) notifySignIn(u string) {
	if c.selfSignIn {
		return
	}
	fmt.Fprintf(c.io.ErrOut, "Opening the sign-in page in your browser. If it does not open, visit:\n  %s\n", u)
	// Said where a person looks while connform waits: the ways to finish
	// without a browser on this machine.
	fmt.Fprintf(c.io.ErrOut, "No browser here? %s; or set grant_type = \"device_code\". "+
		"CONNFORM_BROWSER=COMMAND opens the page with COMMAND, which gets the URL as its last argument (docs/signin.md).\n", remoteBrowserHint(u))
}

// remoteBrowserHint tells how to finish a browser sign-in from another
// machine: the page redirects to a port on "localhost" that only exists
// here, so that port must be forwarded to the other machine.
func remoteBrowserHint(authorizeURL string) string {
	const generic = "open the URL on another machine after forwarding the redirect's port to this one (ssh -L)"
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return generic
	}
	r, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil || r.Port() == "" {
		return generic
	}
	return fmt.Sprintf("open the URL on another machine after `ssh -L %s:%s:%s THIS-MACHINE` there", r.Port(), r.Hostname(), r.Port())
}

// notifyRetry says why a run is waiting: "token endpoint answered 503,
// retrying in 4 s (attempt 2 of 4)".
func (c *cli) notifyRetry(msg string) {
	fmt.Fprintf(c.io.ErrOut, "%s\n", msg)
}

// exitError carries an exit code for an error already reported.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

type command struct {
	name    string
	summary string
	run     func(c *cli, ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"validate", "Check the configuration for errors", (*cli).cmdValidate},
		{"fmt", "Rewrite configuration files in the canonical format", (*cli).cmdFmt},
		{"plan", "Show what apply would change and which sign-ins it needs", (*cli).cmdPlan},
		{"apply", "Create or update connections, signing in where needed", (*cli).cmdApply},
		{"destroy", "Remove every connection, its library entry and its tokens", (*cli).cmdDestroy},
		{"show", "Show the state, or a saved plan file", (*cli).cmdShow},
		{"state", "Inspect the state (state list)", (*cli).cmdState},
		{"login", "Sign in afresh for the accounts behind connections", (*cli).cmdLogin},
		{"logout", "Forget the tokens of the accounts behind connections", (*cli).cmdLogout},
		{"auth", "Show per account and connection what tokens are held (auth status)", (*cli).cmdAuth},
		{"force-unlock", "Remove a stale state lock left by a crashed run", (*cli).cmdForceUnlock},
		{"token", "Print a valid access token for a connection (for scripts)", (*cli).cmdToken},
		{"entities", "List a connection's entities (logical name, entity set, display name)", (*cli).cmdEntities},
		{"preview", "Show rows of an entity through a connection", (*cli).cmdPreview},
		{"export", "Print connections as Dataverse connection strings, env vars or JSON", (*cli).cmdExport},
		{"import", "Turn a .dsconn connection library into configuration and state", (*cli).cmdImport},
		{"emulator", "Run the local Entra ID + Dynamics emulator", (*cli).cmdEmulator},
		{"demo", "Run plan and apply end to end against the built-in emulator", (*cli).cmdDemo},
		{"version", "Print the connform version", (*cli).cmdVersion},
	}
}

func (c *cli) run(ctx context.Context, args []string) int {
	defer func() {
		if c.closeLog != nil {
			c.closeLog()
		}
		// The demo runs several commands on one cli: each opens its own.
		c.log, c.closeLog = nil, nil
	}()
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		switch {
		case strings.HasPrefix(a, "-chdir="):
			c.dir = strings.TrimPrefix(a, "-chdir=")
		case a == "-chdir" && len(args) > 1:
			c.dir = args[1]
			args = args[1:]
		case a == "-chdir":
			fmt.Fprintln(c.io.ErrOut, "Error: -chdir needs a directory: connform -chdir=DIR COMMAND")
			return 1
		case a == "-version" || a == "--version":
			args = []string{"version"}
			continue
		case isHelpArg(a):
			c.usage(c.io.Out)
			return 0
		default:
			fmt.Fprintf(c.io.ErrOut, "Error: unknown global option %s\n\n", a)
			c.usage(c.io.ErrOut)
			return 1
		}
		args = args[1:]
	}
	if len(args) == 0 {
		c.usage(c.io.ErrOut)
		return 1
	}
	if args[0] == "help" {
		if len(args) == 1 {
			c.usage(c.io.Out)
			return 0
		}
		// The command prints its own help, from its own flag set.
		args = append(args[1:len(args):len(args)], "-help")
	}
	if c.dir != "" {
		if st, err := os.Stat(c.dir); err != nil || !st.IsDir() {
			fmt.Fprintf(c.io.ErrOut, "Error: -chdir=%s: not a directory\n", c.dir)
			return 1
		}
		if err := os.Chdir(c.dir); err != nil {
			fmt.Fprintf(c.io.ErrOut, "Error: -chdir=%s: %v\n", c.dir, err)
			return 1
		}
	}
	for _, cmd := range commands() {
		if cmd.name != args[0] {
			continue
		}
		err := cmd.run(c, ctx, args[1:])
		c.flushStores()
		var code exitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &code):
			return int(code)
		case errors.Is(err, flag.ErrHelp):
			return 0
		default:
			c.errorf("%v", err)
			return 1
		}
	}
	fmt.Fprintf(c.io.ErrOut, "Error: unknown command %q\n\n", args[0])
	c.usage(c.io.ErrOut)
	return 1
}

// flushStores writes what the token stores the command opened deferred
// (access tokens: refresh tokens are written at once), so a run writes the
// token file once, not once per connection. A failure is a warning: what
// was deferred can be fetched again, and the command's own work is done.
func (c *cli) flushStores() {
	for _, s := range c.opened {
		if err := auth.Flush(s); err != nil {
			fmt.Fprintf(c.io.ErrOut, "%s the new access tokens could not be saved (%v); the next run asks for them again\n", c.io.Paint("yellow", "Warning:"), err)
		}
	}
	c.opened = nil
}

// errorf prints an error the way every command reports one.
func (c *cli) errorf(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(c.io.ErrOut, "%s %s\n", c.io.Paint("red", "Error:"), msg)
}

func (c *cli) getenv(name string) string {
	for i := len(c.env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(c.env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("connform "+name, flag.ContinueOnError)
	// c.parse reports errors and prints help itself.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	c.lastFlags = fs
	// Every command takes it, as NO_COLOR works everywhere.
	fs.BoolFunc("no-color", "never colour the output", func(string) error {
		c.io.DisableColor()
		return nil
	})
	return fs
}

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
var version = "0.1.0-dev"

func main() {
	os.Exit(Main())
}

// Main runs connform on the process's arguments and streams.
func Main() int {
	// SIGTERM too, so that `kill PID` stops a command as Ctrl-C does
	// (the emulator removes the files it wrote).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
	// selfSignIn is set by the demo when it completes sign-ins itself:
	// nobody needs to be shown the sign-in URL.
	selfSignIn bool
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

func (c *cli) usage() {
	w := c.io.ErrOut
	fmt.Fprintln(w, "Usage: connform [-chdir=DIR] <command> [options]")
	fmt.Fprintln(w, "\nCommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w, "\nRun connform <command> -help for a command's options.")
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
		case a == "-help" || a == "--help" || a == "-h":
			c.usage()
			return 0
		default:
			fmt.Fprintf(c.io.ErrOut, "Error: unknown global option %s\n\n", a)
			c.usage()
			return 1
		}
		args = args[1:]
	}
	if len(args) == 0 {
		c.usage()
		return 1
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
	c.usage()
	return 1
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

func (c *cli) cmdVersion(_ context.Context, args []string) error {
	fmt.Fprintf(c.io.Out, "connform v%s\n", version)
	return nil
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("connform "+name, flag.ContinueOnError)
	fs.SetOutput(c.io.ErrOut)
	// Every command takes it, as NO_COLOR works everywhere.
	fs.BoolFunc("no-color", "never colour the output", func(string) error {
		c.io.DisableColor()
		return nil
	})
	return fs
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Help is built in one place: each command declares here its synopsis,
// what it does, its options in groups and an example, and the renderer
// takes each option's text and default from the command's real flag set,
// so help cannot list an option the command does not take. TestHelpFlags
// checks the other direction: every flag a command registers is in a
// group here and in the documentation.

// flagGroup is a titled list of a command's options. An entry is a flag
// name, optionally with the placeholder its value is shown with:
// "out=PLANFILE".
type flagGroup struct {
	title string
	flags []string
}

type commandHelp struct {
	// usage follows "connform ": the command, its options and its
	// positional arguments.
	usage string
	// about is one paragraph on what the command does.
	about string
	// subcommands, for a command that only dispatches (state, auth).
	subcommands []string
	groups      []flagGroup
	// example is one or more command lines, shown as they would be typed.
	example string
}

// Groups several commands share.
var (
	varGroup = flagGroup{"Configuration options", []string{"var='NAME=VALUE'", "var-file=FILE"}}
	// lockGroup is for commands that write the state.
	lockGroup   = flagGroup{"State options", []string{"lock", "lock-timeout"}}
	signInGroup = flagGroup{"Sign-in options", []string{"input", "auth-timeout"}}
)

// commonFlags are the flags c.flags gives every command; they are listed
// under "Common options" rather than in each command's groups.
var commonFlags = []string{"no-color"}

var helps = map[string]commandHelp{
	"validate": {
		usage:   "validate [options]",
		about:   "Checks the configuration in the working directory (every .hcl file) without touching the state, the token store or the network, and reports each error with its file:line and the line itself.",
		groups:  []flagGroup{varGroup},
		example: "connform validate -var-file=dev.vars.hcl",
	},
	"fmt": {
		usage:   "fmt [options] [FILE...]",
		about:   "Rewrites configuration files (by default every .hcl file of the working directory) in the canonical format and prints the name of each file it changed. A file that does not parse is reported and left alone.",
		groups:  []flagGroup{{"Format options", []string{"check", "diff"}}},
		example: "connform fmt -check -diff",
	},
	"plan": {
		usage: "plan [options]",
		about: "Compares the configuration with the state, the connection library and the token store, and shows what apply would do to each connection (+ create, ~ update, -/+ replace, - destroy) and which sign-in each needs and why. It changes nothing; -out saves the plan so that apply carries out exactly what was reviewed.",
		groups: []flagGroup{
			{"Plan options", []string{"out=PLANFILE", "target=ADDRESS", "destroy", "detailed-exitcode", "input"}},
			varGroup,
			{"Output options", []string{"json"}},
			lockGroup,
		},
		example: "connform plan -out=tfplan\nconnform apply tfplan",
	},
	"apply": {
		usage: "apply [options] [PLANFILE]",
		about: "Plans, shows the plan and asks for 'yes' (or carries out a saved PLANFILE as it was made), then for each connection: gets a token (silently where it can, else a browser or device code sign-in), checks it against the org with WhoAmI, writes the library entry and records the connection in the state.",
		groups: []flagGroup{
			{"Apply options", []string{"auto-approve", "target=ADDRESS", "parallelism"}},
			signInGroup,
			varGroup,
			lockGroup,
		},
		example: "connform apply -var-file=dev.vars.hcl",
	},
	"destroy": {
		usage: "destroy [options]",
		about: "Removes every connection of the state (or those -target names): its library entry, its tokens and its state record, after showing the plan and asking for 'yes'. A connection with prevent_destroy stops it. It works without configuration files, from the state alone.",
		groups: []flagGroup{
			{"Destroy options", []string{"auto-approve", "target=ADDRESS", "parallelism"}},
			signInGroup,
			varGroup,
			lockGroup,
		},
		example: "connform destroy -target='connection.crm[\"dev\"]'",
	},
	"show": {
		usage:   "show [options] [PLANFILE]",
		about:   "Shows the state (the connections apply made and the account verified for each), or the saved plan PLANFILE, without changing anything.",
		groups:  []flagGroup{{"Output options", []string{"json"}}},
		example: "connform show -json tfplan",
	},
	"state": {
		usage:       "state SUBCOMMAND [options]",
		about:       "Inspects the state, the record of the connections apply made.",
		subcommands: []string{"list"},
		example:     "connform state list",
	},
	"state list": {
		usage:   "state list [options] [ADDRESS...]",
		about:   "Prints the address of every connection in the state, one a line, or of those the addresses select (crm for every instance of the block, crm[dev] or connection.crm[\"dev\"] for one). An empty or missing state prints nothing on stdout and says so on stderr.",
		example: "connform state list crm",
	},
	"login": {
		usage: "login [options] NAME... | -all",
		about: "Signs in afresh (in a browser, or with a device code) for the accounts behind the named connections, once per account however many connections share it, and replaces their stored tokens. NAME is a block name (crm), an address (connection.crm[\"dev\"]) or crm[dev].",
		groups: []flagGroup{
			{"Login options", []string{"all"}},
			signInGroup,
			varGroup,
		},
		example: "connform login 'crm[dev]'",
	},
	"logout": {
		usage: "logout [options] NAME... | -all",
		about: "Forgets the stored tokens behind the named connections. Tokens belong to an account, so every connection that shares the account loses its tokens too; logout lists them. It never touches the network, and works whatever state the tokens are in, even when the configuration has errors.",
		groups: []flagGroup{
			{"Logout options", []string{"all"}},
			varGroup,
		},
		example: "connform logout 'crm[dev]'",
	},
	"auth": {
		usage:       "auth SUBCOMMAND [options]",
		about:       "Shows what the token store holds for the configuration's connections.",
		subcommands: []string{"status"},
		example:     "connform auth status",
	},
	"auth status": {
		usage: "auth status [options]",
		about: "Shows, per account and connection, what the token store holds and whether apply can get a token silently: valid until when, refreshable, or needs a sign-in and why. It never touches the network.",
		groups: []flagGroup{
			varGroup,
			{"Output options", []string{"json"}},
		},
		example: "connform auth status -json",
	},
	"force-unlock": {
		usage:   "force-unlock [options] LOCK_ID",
		about:   "Removes the state lock LOCK_ID left by a run that crashed, after asking. It refuses while the process that holds the lock still runs; the lock error of another command names LOCK_ID.",
		groups:  []flagGroup{{"Unlock options", []string{"force"}}},
		example: "connform force-unlock 6a1f0c3e-2b7d-4c55-9e61-0d8f3b2a7c41",
	},
	"token": {
		usage: "token [options] NAME",
		about: "Prints a valid access token for the connection NAME, alone on stdout, for scripts: the cached token, else one refreshed silently (the rotated refresh token is saved), else one from a browser sign-in.",
		groups: []flagGroup{
			signInGroup,
			varGroup,
		},
		example: "curl -H \"Authorization: Bearer $(connform token -input=false sales)\" https://contoso.crm4.dynamics.com/api/data/v9.2/WhoAmI",
	},
	"entities": {
		usage: "entities [options] NAME",
		about: "Lists the entities of the connection NAME's org: logical name, entity set and display name.",
		groups: []flagGroup{
			{"Output options", []string{"json"}},
			signInGroup,
			varGroup,
		},
		example: "connform entities sales",
	},
	"preview": {
		usage: "preview [options] NAME",
		about: "Shows rows of an entity through the connection NAME, as a table (long cells cut) or JSON, following the org's pages up to -top rows. The entity is the connection's entity attribute unless -entity names one, by logical name (contact) or entity set name (contacts).",
		groups: []flagGroup{
			{"Query options", []string{"entity=NAME", "top=N", "select=COLUMNS", "filter=EXPR"}},
			{"Output options", []string{"json"}},
			signInGroup,
			varGroup,
		},
		example: "connform preview -entity contacts -select fullname,emailaddress1 -top 5 sales",
	},
	"export": {
		usage: "export [options] NAME | -all",
		about: "Prints connections in the forms other tools read: Dataverse connection strings, NAME_URL='...' environment variables or JSON. Client secrets appear only with -include-secrets, and only on stdout.",
		groups: []flagGroup{
			{"Export options", []string{"all", "format=FORMAT", "include-secrets"}},
			varGroup,
		},
		example: "eval \"$(connform export -all -format env)\"",
	},
	"import": {
		usage: "import [options] DIR",
		about: "Reads the connection library folder DIR (.dsconn or .json entries) and writes one connection block per Dynamics entry, with a state beside it, so that plan shows the connections as existing and needing only a sign-in. It never overwrites a file and never copies a secret.",
		groups: []flagGroup{
			{"Import options", []string{"out=FILE", "param=ATTRIBUTE=PARAMETER"}},
		},
		example: "connform import -out=conns/imported.hcl 'C:\\ProgramData\\Simego\\DataSyncStudio30\\Registry'",
	},
	"emulator": {
		usage: "emulator [options]",
		about: "Runs a local emulator of Entra ID and Dynamics orgs, for trying connform and for tests. Its first line on stdout is a JSON object with the authority, the tenant, the apps (client ids and secrets) and the org URLs. It serves until interrupted (Ctrl-C, or kill PID), then removes the files it wrote.",
		groups: []flagGroup{
			{"Emulator options", []string{"addr=HOST:PORT", "orgs=N", "auto-approve", "tls", "info-file=FILE", "vars-file=FILE"}},
			{"Fault options", []string{"fault=ENDPOINT:KIND"}},
			{"Provider behaviour (standard OpenID rather than Entra)", []string{"grant-fewer-scopes", "refresh-per-resource"}},
		},
		example: "connform emulator -auto-approve -info-file=emu.json",
	},
	"demo": {
		usage:   "demo [options]",
		about:   "Runs apply and a second plan end to end against a built-in emulator in a temporary directory, completing the sign-ins itself, and shows the library entry it wrote and where a real run keeps tokens and library.",
		groups:  []flagGroup{{"Demo options", []string{"keep"}}},
		example: "connform demo -keep",
	},
	"version": {
		usage:   "version",
		about:   "Prints connform's version and the source revision it was built from.",
		example: "connform version",
	},
}

// parse parses a command's options. -help prints the command's help on
// stdout; a global option given after the command says where it goes.
func (c *cli) parse(fs *flag.FlagSet, args []string) error {
	name := strings.TrimPrefix(fs.Name(), "connform ")
	for i, a := range args {
		if a == "--" {
			break
		}
		if n, dir, hasDir := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && n == "chdir" {
			if !hasDir && i+1 < len(args) {
				dir = args[i+1]
			}
			if dir == "" {
				dir = "DIR"
			}
			return usageError{name, fmt.Errorf("-chdir is a global option and goes before the command: connform -chdir=%s %s ...", dir, name)}
		}
	}
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		printHelp(c.io.Out, name, fs)
		return err
	}
	return usageError{name, err}
}

// usageError is a command line a command cannot parse: it is reported with
// the way to the command's help.
type usageError struct {
	cmd string
	err error
}

func (e usageError) Error() string {
	return fmt.Sprintf("%v\nRun connform %s -help for its usage and options.", e.err, e.cmd)
}

func (e usageError) Unwrap() error { return e.err }

// isHelpArg reports whether a asks for help.
func isHelpArg(a string) bool { return a == "-help" || a == "--help" || a == "-h" }

// printHelp renders a command's help from its declaration and flag set.
func printHelp(w io.Writer, name string, fs *flag.FlagSet) {
	h, ok := helps[name]
	if !ok {
		// Every command has an entry (TestHelpFlags); this is a bug.
		fmt.Fprintf(w, "Usage: connform %s [options]\n", name)
		return
	}
	fmt.Fprintf(w, "Usage: connform %s\n\n", h.usage)
	fmt.Fprintln(w, wrap(h.about, 78, ""))
	if len(h.subcommands) > 0 {
		fmt.Fprintln(w, "\nSubcommands:")
		for _, s := range h.subcommands {
			fmt.Fprintf(w, "  %-14s%s\n", s, firstSentence(helps[name+" "+s].about))
		}
		fmt.Fprintf(w, "\nRun connform %s SUBCOMMAND -help for a subcommand's options.\n", name)
	}
	if fs != nil {
		shown := map[string]bool{}
		for _, g := range h.groups {
			fmt.Fprintf(w, "\n%s:\n", g.title)
			for _, entry := range g.flags {
				n, placeholder, _ := strings.Cut(entry, "=")
				shown[n] = true
				if f := fs.Lookup(n); f != nil {
					writeFlag(w, f, placeholder)
				}
			}
		}
		var other []*flag.Flag
		fs.VisitAll(func(f *flag.Flag) {
			if !shown[f.Name] && !isCommonFlag(f.Name) {
				other = append(other, f)
			}
		})
		// A flag nobody put in a group is still shown (TestHelpFlags
		// fails on it).
		if len(other) > 0 {
			fmt.Fprintln(w, "\nOther options:")
			for _, f := range other {
				writeFlag(w, f, "")
			}
		}
		fmt.Fprintln(w, "\nCommon options:")
		for _, n := range commonFlags {
			if f := fs.Lookup(n); f != nil {
				writeFlag(w, f, "")
			}
		}
		writeFlagLine(w, "-help", "show this help")
	}
	if h.example != "" {
		fmt.Fprintln(w, "\nExample:")
		for _, line := range strings.Split(h.example, "\n") {
			fmt.Fprintf(w, "  $ %s\n", line)
		}
	}
}

func isCommonFlag(name string) bool {
	for _, n := range commonFlags {
		if n == name {
			return true
		}
	}
	return false
}

// writeFlag shows one option: its name, the placeholder of its value (the
// declared one, else one from its type), its text and its default.
func writeFlag(w io.Writer, f *flag.Flag, placeholder string) {
	head := "-" + f.Name
	if placeholder == "" {
		switch f.Value.(type) {
		case interface{ IsBoolFlag() bool }:
		default:
			typ, _ := flag.UnquoteUsage(f)
			placeholder = map[string]string{"duration": "DURATION", "int": "N", "string": "VALUE", "float": "NUMBER", "uint": "N"}[typ]
			if placeholder == "" {
				placeholder = "VALUE"
			}
		}
	}
	if placeholder != "" {
		head += "=" + placeholder
	}
	text := f.Usage
	if d := f.DefValue; d != "" && !isZeroDefault(f) {
		text += " (default " + d + ")"
	}
	writeFlagLine(w, head, text)
}

// isZeroDefault reports whether f's default is its type's zero value, which
// goes without saying.
func isZeroDefault(f *flag.Flag) bool {
	typ := reflect.TypeOf(f.Value)
	var z reflect.Value
	if typ.Kind() == reflect.Pointer {
		z = reflect.New(typ.Elem())
	} else {
		z = reflect.Zero(typ)
	}
	zv, ok := z.Interface().(flag.Value)
	if !ok {
		return true
	}
	return f.DefValue == zv.String() || f.DefValue == "[]"
}

// writeFlagLine writes an option in two columns, the text wrapped.
func writeFlagLine(w io.Writer, head, text string) {
	const col = 24
	indent := strings.Repeat(" ", col+2)
	if len(head) < col-1 {
		fmt.Fprintf(w, "  %-*s%s\n", col, head, strings.TrimPrefix(wrap(text, 78, indent), indent))
		return
	}
	fmt.Fprintf(w, "  %s\n%s\n", head, wrap(text, 78, indent))
}

// wrap fills text into lines of at most width columns, each starting with
// indent.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// commandSections orders the command list of connform -help.
var commandSections = []struct {
	title string
	names []string
}{
	{"Main commands", []string{"validate", "plan", "apply", "destroy"}},
	{"Accounts and tokens", []string{"login", "logout", "auth", "token"}},
	{"Using a connection", []string{"entities", "preview", "export"}},
	{"Other commands", []string{"fmt", "show", "state", "force-unlock", "import", "emulator", "demo", "version"}},
}

// environment lists every variable connform reads (TestHelpEnvironment
// checks it against the code).
var environment = [][2]string{
	{"CONNFORM_VAR_name", "the value of variable name (as -var name=VALUE, lowest precedence)"},
	{"CONNFORM_TOKEN_STORE", "keyring, file or memory: where tokens are kept, overriding token_store"},
	{"CONNFORM_TOKEN_PASSPHRASE", "the passphrase of the encrypted token file where no keyring holds its key"},
	{"CONNFORM_HOME", "the folder for per-user files such as the token file (default: connform in the user's config folder)"},
	{"APPDATA, XDG_CONFIG_HOME, HOME", `the user's config folder: %APPDATA% on Windows, ~/Library/Application Support on macOS, $XDG_CONFIG_HOME or ~/.config elsewhere`},
	{"CONNFORM_BROWSER", "a command that opens sign-in pages; it gets the URL as its last argument"},
	{"CONNFORM_LOG", "debug or trace: a structured log, without secrets, on stderr"},
	{"CONNFORM_LOG_PATH", "write that log to this file instead"},
	{"NO_COLOR", "set (to anything) to never colour the output; TERM=dumb does the same"},
	{"DISPLAY, WAYLAND_DISPLAY", "both unset on Linux: no browser can open, so a sign-in falls back to a device code (the demo signs in by itself)"},
	{"AZURE_FEDERATED_TOKEN_FILE", "the federated token for authentication_method = \"workload_identity\""},
	{"IDENTITY_ENDPOINT", "the managed identity endpoint for authentication_method = \"managed_identity\""},
	{"SSL_CERT_FILE", "extra trusted certificates (the emulator's with -tls)"},
	{"USER", "names who holds a state lock, in the message of a run that waits for it"},
}

// usage is connform's own help: the commands, the options every command
// takes, the environment, the exit codes and where the documentation is.
func (c *cli) usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: connform [-chdir=DIR] COMMAND [options] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, wrap("connform provisions OAuth connections to Dynamics 365 / Dataverse from HCL files, the way Terraform provisions infrastructure, and writes them into the connection library of Simego Data Sync.", 78, ""))
	summaries := map[string]string{}
	for _, cmd := range commands() {
		summaries[cmd.name] = cmd.summary
	}
	listed := map[string]bool{}
	for _, sec := range commandSections {
		fmt.Fprintf(w, "\n%s:\n", sec.title)
		for _, n := range sec.names {
			if s, ok := summaries[n]; ok {
				fmt.Fprintf(w, "  %-14s%s\n", n, s)
				listed[n] = true
			}
		}
	}
	// A command added without a section is still listed.
	for _, cmd := range commands() {
		if !listed[cmd.name] {
			fmt.Fprintf(w, "  %-14s%s\n", cmd.name, cmd.summary)
		}
	}
	fmt.Fprintln(w, "\nGlobal options (before the command):")
	writeFlagLine(w, "-chdir=DIR", "work in DIR: its configuration, state and library")
	writeFlagLine(w, "-help", "show this help")
	writeFlagLine(w, "-version", "show the version (as connform version)")
	fmt.Fprintln(w, "\nCommon options (after the command):")
	writeFlagLine(w, "-no-color", "never colour the output (every command)")
	writeFlagLine(w, "-var='NAME=VALUE'", "set a variable (every command that reads the configuration; repeatable)")
	writeFlagLine(w, "-var-file=FILE", "read variables from a .vars.hcl file (repeatable)")
	writeFlagLine(w, "-input=false", "never prompt and never open a browser")
	writeFlagLine(w, "-help", "show a command's usage, options and an example")
	fmt.Fprintln(w, "\nEnvironment:")
	for _, e := range environment {
		writeFlagLine(w, e[0], e[1])
	}
	fmt.Fprintln(w, "\nExit codes:")
	writeFlagLine(w, "0", "success")
	writeFlagLine(w, "1", "an error (the message says what to do), or a command line connform cannot read")
	writeFlagLine(w, "2", "plan -detailed-exitcode: the plan has changes")
	writeFlagLine(w, "3", "fmt -check: a file is not formatted")
	fmt.Fprintln(w, "\nRun connform COMMAND -help (or connform help COMMAND) for a command's options.")
	fmt.Fprintln(w, "Documentation: README.md and docs/ in connform's source.")
}

// subcommandHelp answers a command that only dispatches (state, auth) when
// it is given no known subcommand: help on stdout when asked for, or an
// error naming the subcommands.
func (c *cli) subcommandHelp(name string, args []string) error {
	if len(args) > 0 && isHelpArg(args[0]) {
		printHelp(c.io.Out, name, nil)
		return nil
	}
	subs := helps[name].subcommands
	what := "no subcommand"
	if len(args) > 0 {
		what = fmt.Sprintf("unknown subcommand %q", args[0])
	}
	return usageError{name, fmt.Errorf("connform %s: %s; it takes %s", name, what, strings.Join(subs, ", "))}
}

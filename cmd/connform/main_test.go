package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"connform/auth"
	"connform/emulator"
	"connform/state"
)

func TestMain(m *testing.M) {
	// The scripts spend much of their time waiting (for connform processes,
	// loopback HTTP, device code polls, retry backoffs), not computing: run
	// more at once than there are cores. -parallel on the command line
	// still wins, as flags are parsed after this.
	if f := flag.Lookup("test.parallel"); f != nil && f.Value.String() == strconv.Itoa(runtime.GOMAXPROCS(0)) {
		_ = flag.Set("test.parallel", strconv.Itoa(4*runtime.GOMAXPROCS(0)))
	}
	testscript.Main(m, map[string]func(){
		"connform": func() {
			// The scripts' token files need no protection, and the default
			// key derivation cost most of each run's CPU under -race.
			auth.SetScryptCost(1 << 10)
			os.Exit(Main())
		},
		// fakebrowser plays the user at the emulator's sign-in page: it is
		// what CONNFORM_BROWSER runs in the scripts.
		"fakebrowser": func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := emulator.CompleteSignIn(ctx, http.DefaultClient, os.Args[1]); err != nil {
				fmt.Fprintln(os.Stderr, "fakebrowser:", err)
				os.Exit(1)
			}
			os.Exit(0)
		},
		// stallbrowser is a browser whose user never signs in: it says it
		// opened the page by writing the process id of the connform that
		// started it to the file browser-opened, and does nothing more.
		"stallbrowser": func() {
			if err := os.WriteFile("browser-opened", []byte(strconv.Itoa(os.Getppid())), 0o600); err != nil {
				os.Exit(1)
			}
			os.Exit(0)
		},
		// holdlock takes the state lock as another process would (an apply
		// in another terminal), says so in a file, and holds it until killed.
		"holdlock": func() {
			unlock, err := state.NewLocal(os.Args[1]).Lock(context.Background(), state.NewLockInfo("apply", "test"), 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, "holdlock:", err)
				os.Exit(1)
			}
			defer unlock()
			if err := os.WriteFile(os.Args[2], []byte("locked\n"), 0o644); err != nil {
				os.Exit(1)
			}
			time.Sleep(10 * time.Minute)
		},
	})
}

// TestScripts runs the CLI scripts in testdata/script through the real
// binary, each against its own in-process emulator.
func TestScripts(t *testing.T) {
	// Alongside the other long tests (TestCrashConsistency): every script
	// has its own emulator, folder and environment.
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup:               setupEmulator,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"emu":             cmdEmu,
			"nosecrets":       cmdNoSecrets,
			"waitfile":        cmdWaitFile,
			"readmesh":        cmdReadmeSh,
			"signal":          cmdSignal,
			"snapshot":        cmdSnapshot,
			"cmpsnapshot":     cmdCmpSnapshot,
			"leftoverjournal": cmdLeftoverJournal,
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				time.Sleep(d)
			},
		},
	})
}

func setupEmulator(env *testscript.Env) error {
	// Device codes are polled every second (Entra says 5s), so scripts
	// that sign in with a device code finish quickly.
	e, err := emulator.Start(emulator.Options{Orgs: 3, DeviceCodeInterval: time.Second})
	if err != nil {
		return err
	}
	env.Defer(func() { e.Close() })
	env.Values["emu"] = e
	info := e.Info()
	env.Setenv("EMU_AUTHORITY", info.Authority)
	env.Setenv("EMU_AUTHORITY_HOST", strings.TrimPrefix(info.Authority, "http://"))
	env.Setenv("EMU_TENANT", info.TenantID)
	env.Setenv("EMU_USER", info.User)
	for _, a := range info.Apps {
		switch a.Name {
		case "connform-public":
			env.Setenv("EMU_PUBLIC_CLIENT", a.ClientID)
		case "connform-confidential":
			env.Setenv("EMU_CONF_CLIENT", a.ClientID)
			env.Setenv("EMU_CONF_SECRET", a.ClientSecret)
		case emulator.NoAppUserApp:
			env.Setenv("EMU_NOUSER_CLIENT", a.ClientID)
			env.Setenv("EMU_NOUSER_SECRET", a.ClientSecret)
		}
	}
	for i, o := range info.Orgs {
		env.Setenv(fmt.Sprintf("EMU_ORG%d", i+1), o.URL)
	}
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		return err
	}
	env.Setenv("EXAMPLES", examples)
	home := filepath.Join(env.WorkDir, ".connform-home")
	env.Setenv("CONNFORM_HOME", home)
	env.Setenv("CONNFORM_TOKEN_STORE", "file")
	env.Setenv("CONNFORM_TOKEN_PASSPHRASE", "testscript passphrase")
	env.Setenv("CONNFORM_BROWSER", "fakebrowser")
	env.Setenv("NO_COLOR", "1")
	// Under -race every process sleeps a second before it exits (the race
	// runtime's atexit_sleep_ms, there for reports from exiting
	// goroutines): with hundreds of connform runs that second was most of
	// the suite's time. Races are still reported and still fail the run.
	env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	return nil
}

// cmdEmu drives the script's emulator: "emu advance 1h", "emu revoke",
// "emu signins N" (asserts the number of completed sign-ins, browser or
// device code), "emu fault ..." (see emuFault), "emu clearfaults",
// "emu approve-device" (see approveDevice), "emu grant-fewer-scopes on|off"
// and "emu refresh-per-resource on|off" (see emulator.Options).
func cmdEmu(ts *testscript.TestScript, neg bool, args []string) {
	e := ts.Value("emu").(*emulator.Emulator)
	if len(args) == 0 {
		ts.Fatalf("usage: emu advance DURATION | revoke | signins N | fault ENDPOINT KIND [count=N] [client=ID] [delay=D] | clearfaults | approve-device | grant-fewer-scopes on|off | refresh-per-resource on|off")
	}
	switch args[0] {
	case "advance":
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		e.Advance(d)
		// connform's clock moves with the emulator's, as real clocks do.
		var total time.Duration
		if prev := ts.Getenv("CONNFORM_TEST_CLOCK_OFFSET"); prev != "" {
			total, err = time.ParseDuration(prev)
			ts.Check(err)
		}
		ts.Setenv("CONNFORM_TEST_CLOCK_OFFSET", (total + d).String())
	case "revoke":
		e.RevokeRefreshTokens()
	case "grant-fewer-scopes":
		e.SetGrantFewerScopes(args[1] == "on")
	case "refresh-per-resource":
		e.SetRefreshPerResource(args[1] == "on")
	case "fault":
		emuFault(ts, e, args[1:])
	case "clearfaults":
		e.ClearFaults()
	case "approve-device":
		approveDevice(ts, e)
	case "signins":
		got := fmt.Sprint(e.Stats().SignIns)
		if (got == args[1]) == neg {
			ts.Fatalf("emulator completed %s browser sign-in(s), want %s%s", got, map[bool]string{true: "not "}[neg], args[1])
		}
	default:
		ts.Fatalf("unknown emu command %q", args[0])
	}
}

// emuFault scripts a failure: "emu fault ENDPOINT KIND [count=N]
// [client=public|confidential|ID] [delay=DURATION]", e.g. "emu fault token
// expired_refresh_token count=1". ENDPOINT is token, authorize, devicecode,
// webapi, whoami or any.
func emuFault(ts *testscript.TestScript, e *emulator.Emulator, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: emu fault ENDPOINT KIND [count=N] [client=ID] [delay=D]")
	}
	spec := args[0] + ":" + args[1]
	for _, opt := range args[2:] {
		// Scripts name the emulator's apps by role.
		if v, ok := strings.CutPrefix(opt, "client="); ok {
			if id := map[string]string{"public": ts.Getenv("EMU_PUBLIC_CLIENT"), "confidential": ts.Getenv("EMU_CONF_CLIENT")}[v]; id != "" {
				opt = "client=" + id
			}
		}
		spec += "," + opt
	}
	f, err := emulator.ParseFault(spec)
	ts.Check(err)
	e.AddFault(f)
}

// approveDevice plays the user at another device: it waits for connform
// (running in the background) to ask for a device code, then enters every
// pending code on the emulator's verification page and approves it.
func approveDevice(ts *testscript.TestScript, e *emulator.Emulator) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		if codes := e.PendingUserCodes(); len(codes) > 0 {
			for _, code := range codes {
				ts.Check(emulator.ApproveDeviceCode(ctx, http.DefaultClient, ts.Getenv("EMU_AUTHORITY")+"/devicelogin", code))
			}
			return
		}
		select {
		case <-ctx.Done():
			ts.Fatalf("no device code was requested within a minute")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// cmdNoSecrets fails if a file under the work directory (state, backup,
// plan files, library, logs, captured output) contains the emulator's client
// secret or any token or code it issued. The encrypted token file is the one
// place tokens may live, and it must not hold them in clear either.
func cmdNoSecrets(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("nosecrets cannot be negated: no script may expect a secret to leak")
	}
	e := ts.Value("emu").(*emulator.Emulator)
	secrets := e.IssuedSecrets()
	if len(secrets) == 0 {
		ts.Fatalf("the emulator issued nothing: the check would prove nothing")
	}
	root := ts.MkAbs(".")
	var scanned int
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		for _, s := range secrets {
			if strings.Contains(string(data), s) {
				ts.Fatalf("%s contains a secret issued by the emulator (%d chars)", path, len(s))
			}
		}
		return nil
	})
	ts.Check(err)
	for _, name := range []string{"stdout", "stderr"} {
		out := ts.ReadFile(name)
		for _, s := range secrets {
			if strings.Contains(out, s) {
				ts.Fatalf("the last command's %s contains a secret issued by the emulator", name)
			}
		}
	}
	ts.Logf("no secret in %d files", scanned)
}

// cmdWaitFile waits (up to a minute) for a background command to create a
// file: the scripts' way to know another process holds a lock. Negated, it
// waits for the file to go, as a stopping process removes what it wrote.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(ts.MkAbs(args[0])); (err == nil) != neg {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not %s within a minute", args[0], map[bool]string{false: "appear", true: "go"}[neg])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdReadmeSh writes the first sh block of a README to a file, so that a
// script runs an example's steps exactly as a reader copies them. The one
// line that builds connform becomes a link to the binary under test:
// building it again would only test the Go toolchain, slowly.
// Usage: readmesh README.md OUT.
func cmdReadmeSh(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: readmesh README OUT")
	}
	const build = `go build -o "$tmp/connform" ./cmd/connform`
	text := ts.ReadFile(args[0])
	_, block, ok := strings.Cut(text, "```sh\n")
	if ok {
		block, _, ok = strings.Cut(block, "```")
	}
	if !ok {
		ts.Fatalf("%s has no ```sh block", args[0])
	}
	if !strings.Contains(block, build) {
		ts.Fatalf("%s does not build connform with %s", args[0], build)
	}
	block = strings.Replace(block, build, `ln -s "$(command -v connform)" "$tmp/connform"`, 1)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte("set -eu\n"+block), 0o644))
}

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"connform/emulator"
	"connform/internal/atomicfile"
	"connform/library"
	"connform/state"
)

// The crash-consistency test kills `connform apply` with SIGKILL at random
// moments (seeded, so a failure can be replayed) and checks what a user
// would find afterwards. CONNFORM_CRASH_KILLS sets the number of kills (20
// by default), CONNFORM_CRASH_SEED the seed (1), CONNFORM_CRASH_N the
// connections per apply (300). The long run:
//
//	CONNFORM_CRASH_KILLS=100 go test ./cmd/connform -run TestCrashConsistency -v -timeout 30m
func TestCrashConsistency(t *testing.T) {
	// Alongside the scripts: it waits on its own processes and emulator.
	t.Parallel()
	kills := envInt(t, "CONNFORM_CRASH_KILLS", 20)
	seed := envInt(t, "CONNFORM_CRASH_SEED", 1)
	n := envInt(t, "CONNFORM_CRASH_N", 300)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x636f6e6e666f726d))

	e, err := emulator.Start(emulator.Options{Orgs: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	bin := connformBinary(t)
	env := crashEnv(t, e)

	// How long a whole apply takes here, and how long it records
	// connections in its journal, so kills land all over both.
	calib := newCrashDir(t, n, 0)
	start := time.Now()
	_, _, recording := calib.kill(t, bin, env, time.Hour, true)
	full := time.Since(start)
	t.Logf("a full apply of %d connections takes %s, %s of it with its journal open", n, full.Round(time.Millisecond), recording.Round(time.Millisecond))

	consistent, midRun, recovered := 0, 0, 0
	for i := range kills {
		// Even rounds create everything; odd rounds start from an applied
		// state and change it (a third removed, a third updated), so kills
		// also hit deletes and rewrites.
		variant := i % 2
		d := newCrashDir(t, n, 0)
		if variant == 1 {
			d.run(t, bin, env, 0, "apply", "-auto-approve", "-input=false")
			d.writeConfig(t, n, 1)
		}
		// Early enough that most kills land inside the run, which ends
		// sooner when it starts from an applied state. Every other kill
		// counts from the moment the journal appears, so that many land
		// while connections are being recorded rather than at start-up.
		delay := time.Duration(rng.Int64N(int64(full)*2/3 + 1))
		fromJournal := i%4 >= 2
		if fromJournal {
			delay = time.Duration(rng.Int64N(int64(recording) + 1))
		}
		verified, killed, _ := d.kill(t, bin, env, delay, fromJournal)
		if killed {
			midRun++
		}
		if _, err := os.Stat(filepath.Join(d.dir, "connform.state.json.journal")); err == nil {
			recovered++
		}
		if problems := d.check(t, bin, env, verified, n, variant); len(problems) > 0 {
			t.Errorf("kill %d (after %s, variant %d, killed=%v, seed %d):\n  %s", i+1, delay.Round(time.Millisecond), variant, killed, seed, strings.Join(problems, "\n  "))
			continue
		}
		consistent++
	}
	t.Logf("crash consistency: %d kills (%d mid-run, %d leaving a journal to fold), %d consistent (seed %d, %d connections)", kills, midRun, recovered, consistent, seed, n)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return i
}

// connformBinary is this test binary under the name connform, which
// TestMain runs as the real command.
func connformBinary(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "connform")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

func crashEnv(t *testing.T, e *emulator.Emulator) []string {
	info := e.Info()
	app, _ := info.App(emulator.ConfidentialApp)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"CONNFORM_HOME=" + t.TempDir(),
		"CONNFORM_TOKEN_STORE=file",
		"CONNFORM_TOKEN_PASSPHRASE=crash test passphrase",
		"CONNFORM_VAR_app_secret=" + app.ClientSecret,
		"EMU_ORG=" + info.Orgs[0].URL,
		"EMU_TENANT=" + info.TenantID,
		"EMU_CLIENT=" + app.ClientID,
		"EMU_TOKEN_URL=" + info.TokenURL,
		// Nothing may reach for a real identity endpoint.
		"IDENTITY_ENDPOINT=" + info.Authority,
		"NO_COLOR=1",
		// Without it every connform run under -race sleeps a second before
		// exiting (see setupEmulator): most of this test's time.
		strings.TrimSpace("GORACE=" + os.Getenv("GORACE") + " atexit_sleep_ms=0"),
	}
	return env
}

type crashDir struct{ dir string }

func newCrashDir(t *testing.T, n, variant int) *crashDir {
	d := &crashDir{dir: t.TempDir()}
	d.writeConfig(t, n, variant)
	return d
}

// writeConfig writes n client-credentials connections to the one org;
// variant 1 drops every third and changes the description of the next;
// variant 2 changes every description.
func (d *crashDir) writeConfig(t *testing.T, n, variant int) {
	var b strings.Builder
	b.WriteString("variable \"app_secret\" {\n  type      = string\n  sensitive = true\n}\n\nconnform {\n  library_format = \"dsconn\"\n}\n")
	for i := range n {
		desc := "first"
		if variant == 2 {
			desc = "third"
		}
		if variant == 1 {
			if i%3 == 0 {
				continue
			}
			if i%3 == 1 {
				desc = "second"
			}
		}
		fmt.Fprintf(&b, "\nconnection \"c%04d\" {\n  url           = env(\"EMU_ORG\")\n  tenant_id     = env(\"EMU_TENANT\")\n  client_id     = env(\"EMU_CLIENT\")\n  client_secret = var.app_secret\n  grant_type    = \"client_credentials\"\n  token_url     = env(\"EMU_TOKEN_URL\")\n  description   = %q\n}\n", i, desc)
	}
	if err := os.WriteFile(filepath.Join(d.dir, "main.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (d *crashDir) command(bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = d.dir
	cmd.Env = env
	return cmd
}

// run runs connform to the end and returns its stdout; wantExit is the exit
// code expected.
func (d *crashDir) run(t *testing.T, bin string, env []string, wantExit int, args ...string) string {
	t.Helper()
	out, _ := d.run2(t, bin, env, wantExit, args...)
	return out
}

// run2 is run returning stderr too.
func (d *crashDir) run2(t *testing.T, bin string, env []string, wantExit int, args ...string) (string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := d.command(bin, env, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != wantExit {
		t.Fatalf("connform %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantExit, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

var verifiedLine = regexp.MustCompile(`^(connection\.\S+): (verified as|destroyed after)`)

// kill starts an apply, SIGKILLs it after delay (counted from the moment
// its journal appears, with fromJournal; unless it ended first) and
// returns the connections it had reported done, whether it was killed, and
// how long it ran after the delay started.
func (d *crashDir) kill(t *testing.T, bin string, env []string, delay time.Duration, fromJournal bool) (map[string]string, bool, time.Duration) {
	t.Helper()
	cmd := d.command(bin, env, "apply", "-auto-approve", "-input=false")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := map[string]string{}
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := verifiedLine.FindStringSubmatch(sc.Text()); m != nil {
				done[m[1]] = m[2]
			}
		}
	}()
	if fromJournal {
		journal := filepath.Join(d.dir, "connform.state.json.journal")
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if fi, err := os.Stat(journal); err == nil && fi.Size() > 0 {
				break
			}
		}
	}
	from := time.Now()
	timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
	err = cmd.Wait()
	after := time.Since(from)
	killed := !timer.Stop()
	<-lines
	if !killed && err != nil {
		t.Fatalf("apply failed before it was killed: %v", err)
	}
	return done, killed, after
}

// check returns what is wrong after a kill: the state must read and hold
// everything reported done; the next plan and apply must converge with
// nothing lost or duplicated, the state and the library folder must agree
// exactly, and no temporary file or journal may be left.
func (d *crashDir) check(t *testing.T, bin string, env []string, done map[string]string, n, variant int) []string {
	t.Helper()
	var problems []string
	statePath := filepath.Join(d.dir, "connform.state.json")

	// Right after the kill, read-only, as plan and show see it.
	st, err := state.NewLocal(statePath).Read()
	if err != nil {
		return []string{"the state does not read after the kill: " + err.Error()}
	}
	for addr, how := range done {
		got := st.Lookup(addr)
		switch {
		case how == "verified as" && got == nil:
			problems = append(problems, addr+" was reported verified, and is not in the state after the kill")
		case how == "destroyed after" && got != nil:
			problems = append(problems, addr+" was reported destroyed, and is still in the state after the kill")
		}
	}
	_, journalErr := os.Stat(statePath + ".journal")
	_, listErr := d.run2(t, bin, env, 0, "state", "list")
	_, planErr := d.run2(t, bin, env, 0, "plan")
	if strings.Contains(listErr, "did not finish") != strings.Contains(planErr, "did not finish") {
		problems = append(problems, fmt.Sprintf("state list and plan disagree about the journal left behind:\nstate list: %s\nplan: %s", listErr, planErr))
	}
	_, applyErr := d.run2(t, bin, env, 0, "apply", "-auto-approve", "-input=false")
	// A journal with records is announced by plan and folded by apply.
	if journalErr == nil && strings.Contains(planErr, "of a run that did not finish") != strings.Contains(applyErr, "Folded ") {
		problems = append(problems, fmt.Sprintf("plan and apply disagree about the journal left behind:\nplan: %s\napply: %s", planErr, applyErr))
	}
	if journalErr != nil && (strings.Contains(planErr, "did not finish") || strings.Contains(applyErr, "Folded ")) {
		problems = append(problems, "a journal was announced or folded although none was left")
	}
	if out := d.run(t, bin, env, 0, "plan", "-detailed-exitcode"); !strings.Contains(out, "No changes.") {
		problems = append(problems, "a plan after the re-run still has changes:\n"+out)
	}

	st, err = state.NewLocal(statePath).Read()
	if err != nil || st == nil {
		return append(problems, fmt.Sprintf("the state does not read after the re-run: %v", err))
	}
	var want []string
	for i := range n {
		if variant == 1 && i%3 == 0 {
			continue
		}
		want = append(want, fmt.Sprintf("connection.c%04d", i))
	}
	var got []string
	recorded := map[string]string{}
	for _, c := range st.Connections {
		got = append(got, c.Addr)
		recorded[filepath.Base(c.LibraryPath)] = c.LibraryHash
		if s, err := library.Check(filepath.Join(d.dir, c.LibraryPath), c.LibraryHash); err != nil || s != library.StatusOK {
			problems = append(problems, fmt.Sprintf("%s: library entry %s is %s (%v)", c.Addr, c.LibraryPath, s, err))
		}
	}
	if !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("the state holds %d connections, want %d (first difference near %s)", len(got), len(want), firstDiff(got, want)))
	}
	if len(st.Orphans) > 0 {
		problems = append(problems, fmt.Sprintf("the state still lists orphans: %v", st.Orphans))
	}
	files, _ := os.ReadDir(filepath.Join(d.dir, "library"))
	for _, f := range files {
		if _, ok := recorded[f.Name()]; !ok {
			problems = append(problems, "library/"+f.Name()+" is not recorded in the state (an orphan or a temporary file)")
		}
	}
	if len(files) != len(recorded) {
		problems = append(problems, fmt.Sprintf("the library folder holds %d files, the state records %d", len(files), len(recorded)))
	}
	top, _ := os.ReadDir(d.dir)
	for _, f := range top {
		if _, isTemp := atomicfile.TempTarget(f.Name()); isTemp || strings.HasSuffix(f.Name(), ".journal") || strings.Contains(f.Name(), ".conflict-") {
			problems = append(problems, f.Name()+" was left beside the state")
		}
	}
	return problems
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%s / %s", a[i], b[i])
		}
	}
	return "the end"
}

// A state file replaced during an apply by something that ignores the lock
// (a copy put back, another tool) is not overwritten: the run keeps its own
// state beside it and says what happened and what to do.
func TestStateReplacedDuringApply(t *testing.T) {
	e, err := emulator.Start(emulator.Options{Orgs: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	bin := connformBinary(t)
	env := crashEnv(t, e)
	d := newCrashDir(t, 20, 0)
	d.run(t, bin, env, 0, "apply", "-auto-approve", "-input=false")
	statePath := filepath.Join(d.dir, "connform.state.json")

	// The next apply updates every connection, slowly enough to be caught
	// in the middle.
	d.writeConfig(t, 20, 2)
	e.AddFault(emulator.Fault{Endpoint: "webapi", Kind: emulator.FaultLatency, Delay: 100 * time.Millisecond})
	cmd := d.command(bin, env, "apply", "-auto-approve", "-input=false", "-parallelism=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journal := statePath + ".journal"
	deadline := time.Now().Add(time.Minute)
	for {
		if data, err := os.ReadFile(journal); err == nil && len(data) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the apply never started its journal")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Theirs: the same serial, other content (a connection edited away).
	orig, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	theirs := bytes.Replace(orig, []byte(`"description": "first"`), []byte(`"description": "theirs"`), 1)
	if bytes.Equal(theirs, orig) {
		theirs = append(bytes.TrimRight(orig, "\n"), ' ', '\n')
	}
	if err := os.WriteFile(statePath+".tmp", theirs, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(statePath+".tmp", statePath); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("apply = %v, want exit status 1\n%s", err, stderr.String())
	}
	msg := stderr.String()
	for _, want := range []string{"replaced by something that ignored the lock", "was left as it is", "This run's state was saved to connform.state.json.conflict-", "keep the one that is right"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr does not say %q:\n%s", want, msg)
		}
	}
	if got, _ := os.ReadFile(statePath); !bytes.Equal(got, theirs) {
		t.Error("the replaced state file was overwritten")
	}
	kept, _ := filepath.Glob(statePath + ".conflict-*")
	if len(kept) != 1 {
		t.Fatalf("conflict copies: %v, want one", kept)
	}
	ours, err := state.NewLocal(kept[0]).Read()
	if err != nil || ours == nil || len(ours.Connections) != 20 {
		t.Fatalf("the conflict copy does not hold this run's 20 connections: %v %v", ours, err)
	}
	if c := ours.Lookup("connection.c0000"); c == nil || c.Attributes["description"] != "third" {
		t.Errorf("the conflict copy does not hold this run's update: %+v", c)
	}
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal was left behind although the conflict copy holds its work (stat: %v)", err)
	}
}

// Two applies at once with -lock=false: the second finds the first's
// journal busy and stops before touching anything, so it cannot undo or
// remove what the first writes and records.
func TestApplyWithoutLockDuringAnother(t *testing.T) {
	e, err := emulator.Start(emulator.Options{Orgs: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	bin := connformBinary(t)
	env := crashEnv(t, e)
	d := newCrashDir(t, 20, 0)
	e.AddFault(emulator.Fault{Endpoint: "webapi", Kind: emulator.FaultLatency, Delay: 100 * time.Millisecond})

	first := d.command(bin, env, "apply", "-auto-approve", "-input=false", "-parallelism=1")
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(d.dir, "connform.state.json.journal")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if fi, err := os.Stat(journal); err == nil && fi.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first apply never started its journal")
		}
	}
	_, secondErr := d.run2(t, bin, env, 1, "apply", "-auto-approve", "-input=false", "-lock=false")
	if !strings.Contains(secondErr, "is being written by another connform run on this state (was -lock=false used?)") {
		t.Errorf("the second apply does not say why it stopped:\n%s", secondErr)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("the first apply: %v\n%s", err, firstErr.String())
	}
	st, err := state.NewLocal(filepath.Join(d.dir, "connform.state.json")).Read()
	if err != nil || st == nil || len(st.Connections) != 20 {
		t.Fatalf("state after both: %v, %v; want the first apply's 20 connections", st, err)
	}
	for _, c := range st.Connections {
		if s, err := library.Check(filepath.Join(d.dir, c.LibraryPath), c.LibraryHash); err != nil || s != library.StatusOK {
			t.Errorf("%s: library entry %s is %s (%v)", c.Addr, c.LibraryPath, s, err)
		}
	}
}

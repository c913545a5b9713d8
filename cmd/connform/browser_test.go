package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"connform/auth"
	"connform/emulator"
	"connform/state"
)

// chromium finds the browser the test drives: CONNFORM_TEST_CHROMIUM (set
// by ./test.sh, which installs one when none is found), else the names
// distributions give Chromium on PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CONNFORM_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("this test drives a real browser and found no Chromium (CONNFORM_TEST_CHROMIUM, or chromium on PATH): run ./test.sh, which installs it, or `apt-get install -y chromium`")
	return ""
}

// TestBrowserSignIn is the sign-in as a person does it: connform apply opens
// the emulator's sign-in page through the system-browser path (xdg-open on
// PATH), a real headless Chromium shows it, the button is clicked, the
// browser follows the redirect to connform's loopback listener, and apply
// completes both orgs with that one sign-in.
func TestBrowserSignIn(t *testing.T) {
	e, err := emulator.Start(emulator.Options{Orgs: 2}) // not AutoApprove: the page must be clicked
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	info := e.Info()

	dir := t.TempDir()
	writeEmuConfig(t, dir, info, info.Orgs, "via Chromium")

	// The system-browser path: cli/browser runs the first xdg-open on PATH.
	// This one hands the URL to the test, written whole by a rename.
	bin := t.TempDir()
	urlFile := filepath.Join(bin, "opened-url")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$1\" > '%[1]s.tmp' && mv '%[1]s.tmp' '%[1]s'\n", urlFile)
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bctx := startChromium(t, ctx)

	store := auth.NewMemoryStore()
	s, out, errOut := testStreams()
	// No opener is injected and CONNFORM_BROWSER is unset: connform takes
	// the system-browser path.
	c := &cli{io: s, env: []string{"NO_COLOR=1"}, now: e.Now, store: store}
	t.Chdir(dir)
	done := make(chan int, 1)
	go func() { done <- c.run(ctx, []string{"apply", "-auto-approve"}) }()

	authorizeURL := waitForFile(t, ctx, urlFile, done, errOut)
	if !strings.HasPrefix(authorizeURL, info.AuthorizationURL+"?") {
		t.Fatalf("xdg-open was given %q, want the emulator's authorize URL", authorizeURL)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(authorizeURL), chromedp.WaitVisible(chromedp.CSS("#signin"))); err != nil {
		t.Fatalf("showing the sign-in page in Chromium: %v", err)
	}
	if shot := os.Getenv("CONNFORM_SCREENSHOT"); shot != "" {
		// For a person to look at the page; never committed.
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	appText, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#app")))
	if err != nil || !strings.Contains(appText, emulator.PublicApp) {
		t.Fatalf("the sign-in page names %q (err %v), want the app %s", appText, err, emulator.PublicApp)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#signin"))); err != nil {
		t.Fatalf("clicking Sign in: %v", err)
	}

	var code int
	select {
	case code = <-done:
	case <-ctx.Done():
		t.Fatalf("apply did not finish after the sign-in: %v\nstderr:\n%s", ctx.Err(), errOut)
	}
	if code != 0 {
		t.Fatalf("apply exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// The browser landed on connform's own page at the loopback listener.
	// Chromium renders in another process: wait for it to show the page
	// (bounded by bctx) rather than assume it already does.
	_, _ = chromedp.Run(bctx, chromedp.Poll[bool]("location.href.startsWith('http://localhost:') && document.body !== null && document.body.innerText.includes('Signed in')"))
	landed, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil || !strings.HasPrefix(landed, "http://localhost:") {
		t.Errorf("the browser ended at %q (err %v), want connform's loopback listener", redactQuery(landed), err)
	}
	body, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil || !strings.Contains(body, "Signed in. You can close this window.") {
		t.Errorf("the browser shows %q (err %v), want connform's success page", body, err)
	}

	if got := e.Stats().SignIns; got != 1 {
		t.Errorf("the emulator completed %d sign-ins, want 1 for two orgs of one account", got)
	}
	if !strings.Contains(out.String(), "Apply complete! Connections: 2 added, 0 changed, 0 destroyed. 1 interactive sign-in.") {
		t.Errorf("apply's summary is missing from stdout:\n%s", out)
	}
	st, err := state.NewLocal(filepath.Join(dir, "connform.state.json")).Read()
	if err != nil || st == nil {
		t.Fatalf("reading the state: %v", err)
	}
	if len(st.Connections) != 2 {
		t.Fatalf("the state holds %d connections, want 2", len(st.Connections))
	}
	var key string
	for _, sc := range st.Connections {
		if sc.Account != emulator.TestUser || sc.OrganizationID == "" {
			t.Errorf("%s: account %q, organization %q; want %s verified by WhoAmI", sc.Addr, sc.Account, sc.OrganizationID, emulator.TestUser)
		}
		if _, err := os.Stat(filepath.Join(dir, sc.LibraryPath)); err != nil {
			t.Errorf("%s: library entry: %v", sc.Addr, err)
		}
		key = sc.TokenKey
	}
	g, err := store.Get(key)
	if err != nil || g == nil || g.RefreshToken == "" || len(g.Access) != 2 {
		t.Errorf("the token store holds %+v (err %v) under %s, want a refresh token and two access tokens", g != nil, err, key)
	}
	for _, secret := range e.IssuedSecrets() {
		if strings.Contains(out.String(), secret) || strings.Contains(errOut.String(), secret) {
			t.Fatalf("connform's output holds a secret the emulator issued")
		}
	}
}

// startChromium starts a headless Chromium for the test with the flags
// these machines need (REFERENCE.md), and returns a tab's context.
func startChromium(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	chromiumPath := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // root in containers and CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	// The first action starts the browser: fail here, clearly, if it cannot.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return bctx
}

// waitForFile waits for the URL the fake xdg-open writes. It gives up when
// apply ends first (it never opened a browser) or the test's time runs out.
func waitForFile(t *testing.T, ctx context.Context, path string, done <-chan int, errOut fmt.Stringer) string {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			return strings.TrimSpace(string(b))
		}
		select {
		case code := <-done:
			t.Fatalf("apply exited %d without opening a browser\nstderr:\n%s", code, errOut)
		case <-ctx.Done():
			t.Fatalf("xdg-open was not run: %v\nstderr:\n%s", ctx.Err(), errOut)
		case <-tick.C:
		}
	}
}

// writeEmuConfig writes a configuration with one connection per org, all
// under the emulator's public app and its one user.
func writeEmuConfig(t testing.TB, dir string, info emulator.Info, orgs []emulator.Org, description string) {
	t.Helper()
	var client string
	for _, a := range info.Apps {
		if a.Name == emulator.PublicApp {
			client = a.ClientID
		}
	}
	var b strings.Builder
	for _, o := range orgs {
		fmt.Fprintf(&b, "connection %q {\n  url               = %q\n  tenant_id         = %q\n  client_id         = %q\n  authorization_url = %q\n  token_url         = %q\n  description       = %q\n}\n\n",
			o.Name, o.URL, info.TenantID, client, info.AuthorizationURL, info.TokenURL, description)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testStreams returns IOStreams whose outputs may be written by apply's
// parallel workers and read by the test.
func testStreams() (*IOStreams, *lockedBuffer, *lockedBuffer) {
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	return &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, out, errOut
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// redactQuery drops a URL's query, which may hold an authorization code.
func redactQuery(u string) string {
	base, _, _ := strings.Cut(u, "?")
	return base
}

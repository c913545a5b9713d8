package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connform/auth"
	"connform/emulator"
)

// TestTenOrgsSignIns is the measurement, through the command as a
// user runs it: ten orgs under one app and one user need one browser
// sign-in on the first apply, and none on a second apply an hour of
// emulator time later (every access token expired, so all ten are
// refreshed from the one refresh token).
//
// go test ./cmd/connform -run TestTenOrgsSignIns -v   (logs both figures)
func TestTenOrgsSignIns(t *testing.T) {
	e, err := emulator.Start(emulator.Options{Orgs: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	info := e.Info()
	dir := t.TempDir()
	writeEmuConfig(t, dir, info, info.Orgs, "first")
	t.Chdir(dir)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var opened int
	env := []string{
		"NO_COLOR=1",
		"CONNFORM_HOME=" + filepath.Join(dir, "home"),
		"CONNFORM_TOKEN_STORE=file",
		"CONNFORM_TOKEN_PASSPHRASE=ten orgs",
	}
	run := func(args ...string) (string, string) {
		t.Helper()
		s, out, errOut := testStreams()
		c := &cli{io: s, env: env, now: e.Now, opener: auth.OpenerFunc(func(u string) error {
			opened++ // sign-ins are serialised by apply: no race
			go func() {
				if err := emulator.CompleteSignIn(ctx, http.DefaultClient, u); err != nil {
					t.Errorf("completing the sign-in page: %v", err)
				}
			}()
			return nil
		})}
		if code := c.run(ctx, args); code != 0 {
			t.Fatalf("connform %s exited %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
		}
		return out.String(), errOut.String()
	}

	out, _ := run("plan")
	if !strings.Contains(out, "Plan: 10 to add, 0 to change, 0 to destroy. 10 sign-ins needed (1 interactive).") {
		t.Errorf("the plan does not predict one interactive sign-in for ten orgs:\n%s", out)
	}
	out, _ = run("apply", "-auto-approve")
	first := e.Stats().SignIns
	if !strings.Contains(out, "Connections: 10 added") || first != 1 || opened != 1 {
		t.Errorf("first apply: %d emulator sign-ins, %d browser opens, want 1 and 1; stdout:\n%s", first, opened, out)
	}

	e.Advance(time.Hour)
	writeEmuConfig(t, dir, info, info.Orgs, "second") // all ten change: all ten need a token
	refreshesBefore := e.Stats().Tokens["refresh_token"]
	out, _ = run("apply", "-auto-approve", "-input=false")
	second := e.Stats().SignIns - first
	refreshes := e.Stats().Tokens["refresh_token"] - refreshesBefore
	if !strings.Contains(out, "Connections: 0 added, 10 changed") || second != 0 || opened != 1 {
		t.Errorf("second apply: %d new sign-ins, %d browser opens in all, want 0 and 1; stdout:\n%s", second, opened, out)
	}
	if refreshes != 10 {
		t.Errorf("second apply redeemed the refresh token %d times, want 10 (every access token had expired)", refreshes)
	}
	t.Logf("10 orgs, one app, one user: first apply %d interactive sign-in(s); second apply 1h later %d (%d silent refreshes)", first, second, refreshes)

	out, _ = run("auth", "status")
	if !strings.Contains(out, "1 account, 10 connections: 10 valid") {
		t.Errorf("auth status after the second apply:\n%s", out)
	}
}

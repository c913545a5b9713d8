package auth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connform/auth"
	"connform/emulator"
)

// deviceRig is the emulator, the public app's parameters and a Flow whose
// Sleep moves the emulator's clock instead of waiting, recording each wait.
type deviceRig struct {
	e      *emulator.Emulator
	info   emulator.Info
	p      auth.Params
	flow   *auth.Flow
	mu     sync.Mutex
	sleeps []time.Duration
	// onSleep runs before each wait is applied; it may approve the code or
	// change how far the clock moves (advance).
	onSleep func(n int, d time.Duration) (advance time.Duration)
}

func newDeviceRig(t *testing.T) *deviceRig {
	t.Helper()
	e, err := emulator.Start(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	info := e.Info()
	pub, _ := info.App(emulator.PublicApp)
	r := &deviceRig{e: e, info: info}
	r.p = auth.Params{
		AuthorizationURL: info.AuthorizationURL, TokenURL: info.TokenURL, ClientID: pub.ClientID,
		Redirect: "http://localhost", Scopes: []string{info.Orgs[0].URL + "/user_impersonation", "offline_access"},
	}
	r.flow = &auth.Flow{Sleep: func(ctx context.Context, d time.Duration) error {
		r.mu.Lock()
		r.sleeps = append(r.sleeps, d)
		n := len(r.sleeps)
		r.mu.Unlock()
		adv := d
		if r.onSleep != nil {
			adv = r.onSleep(n, d)
		}
		e.Advance(adv)
		return ctx.Err()
	}}
	return r
}

// TestDeviceCode: the code and page are shown, polling waits the announced
// interval, a slow_down adds 5s for good, and approval yields tokens with a
// refresh token for the signed-in user.
func TestDeviceCode(t *testing.T) {
	r := newDeviceRig(t)
	var uri, code, message string
	r.onSleep = func(n int, d time.Duration) time.Duration {
		switch n {
		case 2:
			return 0 // poll too early: the emulator answers slow_down
		case 3:
			if err := emulator.ApproveDeviceCode(context.Background(), nil, uri, code); err != nil {
				t.Errorf("approving: %v", err)
			}
		}
		return d
	}
	res, err := r.flow.DeviceCode(context.Background(), r.p, func(u, c, m string) { uri, code, message = u, c, m })
	if err != nil {
		t.Fatal(err)
	}
	if uri != r.info.Authority+"/devicelogin" || code == "" || !strings.Contains(message, code) {
		t.Errorf("shown %q %q %q", uri, code, message)
	}
	if want := []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second}; !slices.Equal(r.sleeps, want) {
		t.Errorf("waits %v, want %v (interval, then +5s after slow_down)", r.sleeps, want)
	}
	if res.RefreshToken == "" || res.Account != emulator.TestUser || !slices.Contains(res.Scopes, r.info.Orgs[0].URL+"/user_impersonation") {
		t.Errorf("result: refresh token %v, account %q, scopes %v", res.RefreshToken != "", res.Account, res.Scopes)
	}
	if got := r.e.Stats().SignIns; got != 1 {
		t.Errorf("emulator sign-ins = %d, want 1", got)
	}
}

// TestDeviceCodeEnds: every way the wait can end without a token says so
// plainly, and never shows the device code.
func TestDeviceCodeEnds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(r *deviceRig, uri, code *string)
		cancel  bool
		want    string
		wantErr error
	}{
		{
			name: "expired",
			setup: func(r *deviceRig, _, _ *string) {
				r.onSleep = func(int, time.Duration) time.Duration { return 16 * time.Minute }
			},
			want: "the code expired before anyone entered it",
		},
		{
			name: "declined",
			setup: func(r *deviceRig, uri, code *string) {
				r.onSleep = func(n int, d time.Duration) time.Duration {
					if n == 1 {
						_ = emulator.DeclineDeviceCode(context.Background(), nil, *uri, *code)
					}
					return d
				}
			},
			want: "declined on the verification page",
		},
		{
			name:    "cancelled",
			cancel:  true,
			want:    "cancelled while waiting",
			wantErr: context.Canceled,
		},
		{
			name: "configuration error",
			setup: func(r *deviceRig, _, _ *string) {
				r.e.AddFault(emulator.Fault{Endpoint: "devicecode", Kind: emulator.FaultBadSecret})
			},
			want: "AADSTS7000215",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newDeviceRig(t)
			var uri, code string
			if tc.setup != nil {
				tc.setup(r, &uri, &code)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				r.onSleep = func(_ int, d time.Duration) time.Duration { cancel(); return d }
			}
			_, err := r.flow.DeviceCode(ctx, r.p, func(u, c, _ string) { uri, code = u, c })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tc.wantErr)
			}
			for _, s := range r.e.IssuedSecrets() {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error holds a secret: %v", err)
				}
			}
		})
	}
}

// TestDeviceCodeTransient: a 503 while polling is retried after its
// Retry-After, not reported.
func TestDeviceCodeTransient(t *testing.T) {
	r := newDeviceRig(t)
	var uri, code string
	r.e.AddFault(emulator.Fault{Endpoint: "token", Count: 1, Kind: emulator.FaultUnavailable, Delay: 2 * time.Second})
	r.onSleep = func(n int, d time.Duration) time.Duration {
		if n == 1 {
			_ = emulator.ApproveDeviceCode(context.Background(), nil, uri, code)
		}
		return d
	}
	if _, err := r.flow.DeviceCode(context.Background(), r.p, func(u, c, _ string) { uri, code = u, c }); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{5 * time.Second, 2 * time.Second}; !slices.Equal(r.sleeps, want) {
		t.Errorf("waits %v, want %v (interval, then Retry-After)", r.sleeps, want)
	}
}

// TestNoBrowserFallback: with NoBrowserFallback, a missing or failing
// browser ends the browser sign-in at once with ErrNoBrowser, before the
// URL is offered; without it, the flow keeps waiting for the printed URL.
func TestNoBrowserFallback(t *testing.T) {
	r := newDeviceRig(t)
	failing := &auth.RecordingOpener{OnOpen: func(string) error { return errors.New("xdg-open: not found") }}
	for _, tc := range []struct {
		name   string
		opener auth.Opener
	}{
		{"no opener", nil},
		{"opener fails", failing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			notified := false
			f := &auth.Flow{Opener: tc.opener, NoBrowserFallback: true, Notify: func(string) { notified = true }}
			_, err := f.AuthorizationCode(context.Background(), r.p)
			if !errors.Is(err, auth.ErrNoBrowser) {
				t.Fatalf("error %v, want ErrNoBrowser", err)
			}
			if notified {
				t.Error("the sign-in URL was offered although the flow gave up on the browser")
			}
		})
	}
	// Without the fallback the user gets the URL and the flow waits (here
	// until its timeout).
	var offered string
	f := &auth.Flow{Opener: failing, Timeout: 50 * time.Millisecond, Notify: func(u string) { offered = u }}
	_, err := f.AuthorizationCode(context.Background(), r.p)
	if errors.Is(err, auth.ErrNoBrowser) || offered == "" {
		t.Errorf("without fallback: error %v, URL offered %v; want a wait on the printed URL", err, offered != "")
	}
}

// TestDeviceCodeHonoursAuthTimeout: nobody enters the code; the flow waits
// no longer than Flow.Timeout (shorter than the code's 15 minutes), says
// at the start how long it will wait and then, every WaitEvery, that it is
// still waiting, and ends saying the limit came from -auth-timeout.
func TestDeviceCodeHonoursAuthTimeout(t *testing.T) {
	r := newDeviceRig(t)
	r.flow.Now = r.e.Now
	r.flow.Timeout = time.Minute
	r.flow.WaitEvery = 30 * time.Second
	type wait struct{ waited, left time.Duration }
	var waits []wait
	r.flow.Waiting = func(waited, left time.Duration) { waits = append(waits, wait{waited, left}) }
	_, err := r.flow.DeviceCode(context.Background(), r.p, nil)
	if err == nil || !strings.Contains(err.Error(), "within 1m0s (-auth-timeout)") || !auth.Unfinished(err) {
		t.Fatalf("err = %v, want an unfinished sign-in naming -auth-timeout", err)
	}
	if len(waits) < 2 || waits[0] != (wait{0, time.Minute}) {
		t.Fatalf("waiting calls %v, want the full minute announced first, then reminders", waits)
	}
	for _, w := range waits[1:] {
		if w.waited < 30*time.Second || w.waited+w.left != time.Minute {
			t.Errorf("reminder %v: want one after at least 30s, with waited+left = 1m", w)
		}
	}
	var total time.Duration
	for _, d := range r.sleeps {
		total += d
	}
	if total > time.Minute+10*time.Second {
		t.Errorf("waited %s in all, past the one-minute timeout", total)
	}
}

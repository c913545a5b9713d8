package main

import (
	"fmt"
	"time"

	"connform/auth"
)

// AuthStatusView is the output of auth status; now is when the report was
// made, so expiries read "in 59m" against the same instant.
type AuthStatusView interface {
	AuthStatus(rep statusReport, now time.Time) error
}

func newAuthStatusView(asJSON bool, s *IOStreams) AuthStatusView {
	if asJSON {
		return jsonView{s.Out}
	}
	return humanView{s}
}

// The report is built in its JSON shape (format_version 1): it goes out as is.
func (v jsonView) AuthStatus(rep statusReport, _ time.Time) error { return v.write(rep) }

func (v humanView) AuthStatus(rep statusReport, now time.Time) error {
	w := v.s.Out
	fmt.Fprintf(w, "Token store: %s\n", rep.Store)
	if len(rep.Accounts) == 0 {
		fmt.Fprintln(w, "\nNo connections in the configuration.")
		return nil
	}
	counts := map[string]int{}
	var total int
	for _, a := range rep.Accounts {
		fmt.Fprintf(w, "\nAccount: %s\n", accountPhrase(a.Key))
		// An app signs in with its secret, a credential by itself: no
		// person, no refresh token.
		if a.Account != "app" && !auth.IsCredentialMethod(a.Account) {
			who := a.SignedInAs
			if who == "" {
				who = "(nobody yet)"
			}
			fmt.Fprintf(w, "  signed in as:  %s\n", who)
			switch {
			case a.RefreshPerOrg != "":
				fmt.Fprintf(w, "  refresh token: one per org (this provider's do not span orgs; learnt %s)\n", a.RefreshPerOrg)
			case a.RefreshToken:
				fmt.Fprintln(w, "  refresh token: held (serves every org of this account)")
			case a.RefreshDropped != "":
				fmt.Fprintf(w, "  refresh token: none (refused at %s)\n", a.RefreshDropped)
			default:
				fmt.Fprintln(w, "  refresh token: none")
			}
		}
		width := 0
		for _, s := range a.Connections {
			width = max(width, len(s.Address))
		}
		for _, s := range a.Connections {
			total++
			counts[s.State]++
			fmt.Fprintf(w, "  %-*s  %s\n", width, s.Address, v.statusPhrase(s, now))
		}
	}
	fmt.Fprintf(w, "\n%d account%s, %d connection%s: %d valid, %d refreshable, %d with the client secret, ",
		len(rep.Accounts), plural(len(rep.Accounts)), total, plural(total),
		counts[tokenValid], counts[tokenRefreshable], counts[tokenAppSecret])
	if n := counts[tokenCredential]; n > 0 {
		fmt.Fprintf(w, "%d with an Entra credential, ", n)
	}
	fmt.Fprintf(w, "%d need%s sign-in.\n", counts[tokenSignIn], map[bool]string{true: "s"}[counts[tokenSignIn] == 1])
	if counts[tokenSignIn] > 0 {
		fmt.Fprintln(w, "Run connform login NAME (or connform apply in a terminal) to sign in.")
	}
	return nil
}

func (v humanView) statusPhrase(s statusConnection, now time.Time) string {
	switch s.State {
	case tokenValid:
		return v.s.Paint("green", "valid") + " until " + whenPhrase(s.Expiry, now)
	case tokenRefreshable:
		if !s.Expiry.IsZero() {
			return v.s.Paint("green", "refreshable") + ": expired " + whenPhrase(s.Expiry, now) + "; the refresh token renews it silently"
		}
		return v.s.Paint("green", "refreshable") + ": " + s.Reason
	case tokenAppSecret:
		return v.s.Paint("green", "client credentials") + ": " + s.Reason
	case tokenCredential:
		return v.s.Paint("green", "Entra credential") + ": " + s.Reason
	}
	return v.s.Paint("red", "needs sign-in") + ": " + s.Reason
}

// whenPhrase shows an instant in UTC with how far it is from now, e.g.
// "2026-05-01 14:05 UTC (in 59m)".
func whenPhrase(t, now time.Time) string {
	d := t.Sub(now).Round(time.Minute)
	rel := "in " + shortDuration(d)
	if d < 0 {
		rel = shortDuration(-d) + " ago"
	}
	return t.UTC().Format("2006-01-02 15:04 MST") + " (" + rel + ")"
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

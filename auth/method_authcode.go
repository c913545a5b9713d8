package auth

import (
	"context"
	"errors"
	"strings"
)

// authorizationCode signs a user in in a browser (authorization code with
// PKCE); the refresh token it brings keeps later runs silent.
type authorizationCode struct{ user }

// SignIn opens the browser. When no browser can be opened, a public client
// (no client_secret: its registration may allow public client flows)
// switches to the device flow, while a confidential client keeps waiting
// for the user to open the printed URL, because Entra refuses the device
// flow to apps that do not allow public flows.
func (authorizationCode) SignIn(ctx context.Context, env *Env, c Conn, why Need) (*Result, error) {
	f := *waitingFlow(env, c)
	f.NoBrowserFallback = c.ClientSecret == ""
	// Say "browser opened" only once it has: a public client without a
	// browser switches to the device flow, whose instructions are the
	// only thing worth printing.
	announce := func(how string) {
		env.progress(Progress{Addr: c.Addr, Kind: ProgressSigningIn, Message: why.Text() + "; " + how})
	}
	if browser := f.Opener; browser != nil {
		f.Opener = OpenerFunc(func(u string) error {
			if err := browser.Open(u); err != nil {
				if !f.NoBrowserFallback {
					announce("no browser could be opened: open the sign-in URL above")
				}
				return err
			}
			announce("browser opened")
			return nil
		})
	} else if !f.NoBrowserFallback {
		announce("no browser: open the sign-in URL below")
	}
	res, err := f.AuthorizationCode(ctx, c.params())
	if errors.Is(err, ErrNoBrowser) {
		// Say why, or a broken CONNFORM_BROWSER would go unnoticed.
		announce(strings.TrimPrefix(err.Error(), "browser sign-in: ") + "; signing in with a device code instead")
		return deviceCode{}.SignIn(ctx, env, c, why)
	}
	if err != nil {
		return nil, explain(c, "signing in", err)
	}
	return res, nil
}

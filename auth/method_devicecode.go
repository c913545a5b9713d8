package auth

import (
	"context"
	"fmt"
	"time"
)

// deviceCode signs a user in on any device with a short code: for machines
// without a browser.
type deviceCode struct{}

func (deviceCode) Name() string           { return GrantDeviceCode }
func (deviceCode) Key(c Conn) string      { return Key(c.TokenURL, c.ClientID, c.LoginHint) }
func (deviceCode) AppOnly() bool          { return false }
func (deviceCode) Invalidators() []string { return []string{"client_secret"} }

func (deviceCode) Need(c Conn, g *Grant, now time.Time) Need {
	return userNeed(WayDeviceCode, c, g, now)
}

func (deviceCode) Silent(ctx context.Context, env *Env, c Conn, g *Grant) (*Result, error) {
	return refresh(ctx, env, c, g)
}

// SignIn runs the device flow, showing its instructions as progress.
func (deviceCode) SignIn(ctx context.Context, env *Env, c Conn, _ Need) (*Result, error) {
	res, err := env.Flow.DeviceCode(ctx, c.params(), func(uri, code, message string) {
		if message == "" {
			message = fmt.Sprintf("To sign in, open %s in a browser on any device and enter the code %s.", uri, code)
		}
		env.progress(Progress{Addr: c.Addr, Kind: ProgressDeviceCode, Message: message})
	})
	if err != nil {
		return nil, explain(c, "signing in with a device code", err)
	}
	return res, nil
}

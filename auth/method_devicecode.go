package auth

import (
	"context"
	"fmt"
)

// deviceCode signs a user in on any device with a short code: for machines
// without a browser.
type deviceCode struct{ user }

// SignIn runs the device flow, showing its instructions as progress.
func (deviceCode) SignIn(ctx context.Context, env *Env, c Conn, _ Need) (*Result, error) {
	res, err := waitingFlow(env, c).DeviceCode(ctx, c.params(), func(uri, code, message string) {
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

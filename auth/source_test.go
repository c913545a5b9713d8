package auth_test

import (
	"path/filepath"
	"testing"
	"time"

	"connform/auth"
)

// TestDropAccessReachesTheFile: a token an org refused is gone from the
// token file at once, not only when the command ends: another process (the
// next command) must not reuse it, and the deferred write's merge would
// keep the longer-lived token.
func TestDropAccessReachesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	store, err := auth.NewPlainFileStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := auth.Conn{Addr: "connection.sales", Resource: "https://sales.crm4.dynamics.com", TokenURL: "https://login.example/t/oauth2/v2.0/token", ClientID: "app",
		Scopes: []string{"https://sales.crm4.dynamics.com/user_impersonation"}}
	g := &auth.Grant{RefreshToken: "rt", Access: map[string]*auth.AccessToken{c.Resource: {Token: "refused", Expiry: time.Now().Add(time.Hour), Scopes: c.Scopes}}}
	if err := store.Put(c.Key(), g); err != nil {
		t.Fatal(err)
	}
	if err := auth.Flush(store); err != nil {
		t.Fatal(err)
	}
	if err := (&auth.Source{Store: store}).DropAccess(c); err != nil {
		t.Fatal(err)
	}
	other, err := auth.NewPlainFileStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := other.Get(c.Key())
	if err != nil {
		t.Fatal(err)
	}
	if at := got.Access[c.Resource]; at != nil && at.Token != "" {
		t.Errorf("another process still reads the refused token (expiry %s)", at.Expiry)
	}
	if got.RefreshToken != "rt" {
		t.Error("dropping the access token lost the refresh token")
	}
}

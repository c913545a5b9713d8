package plan

import (
	"strings"
	"testing"

	"connform/config"
	"connform/state"
)

// TestPlanEntraCredentials: a connection with an Entra-native credential
// never needs a browser: the plan says "credential" and where the token
// comes from, and an applied one without a cached token stays in sync.
func TestPlanEntraCredentials(t *testing.T) {
	cert := conn("cert", "https://sales.crm4.dynamics.com", func(c *config.Connection) {
		c.AuthenticationMethod = config.MethodClientCertificate
		c.GrantType = ""
		c.CertificatePath = "app.pem"
		c.CertificatePassword = "pfx-password"
		c.Scopes = []string{c.URL + "/.default"}
	})
	cli := conn("cli", "https://finance.crm4.dynamics.com", func(c *config.Connection) {
		c.AuthenticationMethod = config.MethodAzureCLI
		c.GrantType, c.ClientID, c.TokenURL, c.AuthorizationURL = "", "", "", ""
		c.Scopes = []string{c.URL + "/.default"}
	})
	cfg := &config.Config{Connections: []*config.Connection{cert, cli}}

	p, err := Make(Input{Config: cfg, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	wantReason := map[string]string{"connection.cert": "with its certificate", "connection.cli": "az login"}
	for _, ch := range p.Changes {
		if ch.Action != Create || ch.Auth.Kind != AuthCredential || !strings.Contains(ch.Auth.Reason, wantReason[ch.Addr]) {
			t.Errorf("%s: %v, auth %v (%q), want create with a credential (%q)", ch.Addr, ch.Action, ch.Auth.Kind, ch.Auth.Reason, wantReason[ch.Addr])
		}
		for _, a := range ch.Attrs {
			if strings.Contains(a.After, "pfx-password") {
				t.Errorf("%s shows the certificate password in %s", ch.Addr, a.Name)
			}
		}
	}
	if s := p.Summarize(); s.Interactive != 0 || s.SignIns != 2 {
		t.Errorf("summary %+v, want 2 silent sign-ins and no interactive one", s)
	}
	if TokenKey(cert) == TokenKey(cli) {
		t.Errorf("two different credentials share the key %q", TokenKey(cert))
	}

	// Applied, with no token cached: still in sync, since the credential
	// can always get one silently.
	st := &state.State{Lineage: "l1", Connections: []*state.Connection{record("l1", cert), record("l1", cli)}}
	p, err = Make(Input{Config: cfg, State: st, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if p.HasChanges() {
		t.Errorf("an applied credential connection plans changes: %+v", p.Changes[0])
	}
}

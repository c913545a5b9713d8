package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"connform/auth"
	"connform/emulator"
	"connform/internal/atomicfile"
)

func faultKindList() string {
	var names []string
	for _, k := range emulator.FaultKinds {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

func (c *cli) cmdEmulator(ctx context.Context, args []string) error {
	fs := c.flags("emulator")
	addr := fs.String("addr", "127.0.0.1:0", "address of the authority endpoint (orgs get free ports beside it)")
	autoApprove := fs.Bool("auto-approve", false, "approve every sign-in as the test user without a person: the browser sign-in at once, a device code after "+emulator.DefaultDeviceAutoApproveDelay.String()+" (as someone typing it on another device)")
	orgs := fs.Int("orgs", 2, "how many Dynamics orgs to emulate")
	fewer := fs.Bool("grant-fewer-scopes", false, "drop permissions an org does not expose from the grant instead of refusing them, and refuse a refresh asking for more than was granted (as many OpenID providers do)")
	perResource := fs.Bool("refresh-per-resource", false, "bind each refresh token to the org it was issued for (as standard OpenID providers do; Entra's serve every org)")
	var faults stringList
	fs.Var(&faults, "fault", "script a failure: ENDPOINT:KIND[,count=N][,client=ID][,delay=D], e.g. token:revoked,count=1 (repeatable; endpoints: "+strings.Join(emulator.FaultEndpoints(), ", ")+", a Web API route also without webapi/; kinds: "+faultKindList()+")")
	infoFile := fs.String("info-file", "", "also write the JSON to this file (0600) once the emulator is serving, for scripts to wait on")
	varsFile := fs.String("vars-file", "", "also write authority, tenant_id, client_id (the public app) and orgs as a variables file (e.g. emulator.auto.vars.hcl, loaded without a flag); removed when the emulator stops")
	useTLS := fs.Bool("tls", false, "serve https with a self-signed certificate (needed by the Entra-native authentication methods); its file is ca_cert_path in the JSON: point SSL_CERT_FILE at it. "+
		"Also writes, in a private directory removed on exit, the cert app's certificate with its key (native.cert_path, for client_certificate) and a federated token for the federated app (native.federated_token_file, for workload_identity; valid "+fmt.Sprint(emulator.FederatedTokenLifetime.Minutes())+" minutes and rewritten every "+fmt.Sprint((emulator.FederatedTokenLifetime/2).Minutes())+", as Kubernetes does)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	var parsed []emulator.Fault
	for _, s := range faults {
		f, err := emulator.ParseFault(s)
		if err != nil {
			return fmt.Errorf("-fault: %w", err)
		}
		parsed = append(parsed, f)
	}
	e, err := emulator.Start(emulator.Options{Addr: *addr, AutoApprove: *autoApprove, Orgs: *orgs, TLS: *useTLS, GrantFewerScopes: *fewer, RefreshPerResource: *perResource})
	if err != nil {
		return fmt.Errorf("starting the emulator: %w", err)
	}
	defer e.Close()
	for _, f := range parsed {
		e.AddFault(f)
	}
	info := struct {
		emulator.Info
		CACertPath string `json:"ca_cert_path,omitempty"`
	}{Info: e.Info()}
	if *useTLS {
		// A file, so that another process can trust the emulator through
		// SSL_CERT_FILE; it is a public certificate, not a secret.
		f, err := os.CreateTemp("", "connform-emulator-ca-*.pem")
		if err != nil {
			return fmt.Errorf("writing the emulator's certificate: %w", err)
		}
		defer os.Remove(f.Name())
		if _, err := f.Write(e.CACertPEM()); err != nil {
			f.Close()
			return fmt.Errorf("writing the emulator's certificate: %w", err)
		}
		f.Close()
		info.CACertPath = f.Name()

		dir, err := os.MkdirTemp("", "connform-emulator-credentials-")
		if err != nil {
			return fmt.Errorf("writing the emulator's credential files: %w", err)
		}
		defer os.RemoveAll(dir)
		var stop func()
		if info.Native.CertPath, info.Native.FederatedTokenFile, stop, err = writeCredentialFiles(e, dir); err != nil {
			return fmt.Errorf("writing the emulator's credential files: %w", err)
		}
		// Before the directory goes, so that no rewrite races its removal.
		defer stop()
	}
	// The first stdout line is the machine-readable contract: one JSON
	// object with everything a configuration needs.
	if err := json.NewEncoder(c.io.Out).Encode(info); err != nil {
		return err
	}
	if *varsFile != "" {
		remove, err := writeEmulatorVars(*varsFile, info.Info)
		if err != nil {
			return fmt.Errorf("-vars-file: %w", err)
		}
		defer remove()
	}
	if *infoFile != "" {
		// Written whole once the emulator serves, so a script can wait
		// for the file instead of guessing how long start-up takes.
		data, err := json.MarshalIndent(info, "", "  ")
		if err == nil {
			err = atomicfile.Write(*infoFile, append(data, '\n'), 0o600)
		}
		if err != nil {
			return fmt.Errorf("-info-file: %w", err)
		}
	}
	fmt.Fprintf(c.io.ErrOut, "Emulating Entra ID at %s and %s. Press Ctrl-C to stop (or kill %d).\n", e.Info().Authority, count(len(e.Info().Orgs), "Dynamics org"), os.Getpid())
	<-ctx.Done()
	return nil
}

// emulatorVarsHeader starts every variables file the emulator writes: it is
// how a later emulator knows the file is one it may replace.
const emulatorVarsHeader = "# Written by connform emulator, removed when it stops: "

// writeEmulatorVars writes the variables the examples read: the emulated
// authority and tenant, the public client app and the orgs by name. It
// refuses to replace a file some other hand wrote, and returns what removes
// the file again, if it still holds what was written.
func writeEmulatorVars(path string, info emulator.Info) (remove func(), err error) {
	if old, err := os.ReadFile(path); err == nil && !strings.HasPrefix(string(old), emulatorVarsHeader) {
		return nil, fmt.Errorf("%s exists and was not written by connform emulator; remove it or name another file", path)
	}
	var public *emulator.App
	for i := range info.Apps {
		if info.Apps[i].Public {
			public = &info.Apps[i]
		}
	}
	if public == nil {
		return nil, fmt.Errorf("the emulator registered no public client app")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%sthe emulated tenant, its public client app and its orgs.\n", emulatorVarsHeader)
	fmt.Fprintf(&b, "authority = %q\ntenant_id = %q\nclient_id = %q\norgs = {\n", info.Authority, info.TenantID, public.ClientID)
	for _, o := range info.Orgs {
		fmt.Fprintf(&b, "  %s = %q\n", o.Name, o.URL)
	}
	b.WriteString("}\n")
	data := []byte(b.String())
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return nil, err
	}
	return func() {
		if now, err := os.ReadFile(path); err == nil && string(now) == string(data) {
			_ = os.Remove(path)
		}
	}, nil
}

// writeCredentialFiles writes what client_certificate and
// workload_identity read from files: the cert app's certificate with its
// private key, and a federated token. dir must be private (MkdirTemp makes
// it 0700): both are credentials. The token is rewritten at half its
// lifetime until stop is called, so that an emulator left running for a
// session never hands out an expired one.
func writeCredentialFiles(e *emulator.Emulator, dir string) (certPath, tokenPath string, stop func(), err error) {
	certPEM, err := e.ClientCertificatePEM()
	if err != nil {
		return "", "", nil, err
	}
	certPath = filepath.Join(dir, "client-certificate.pem")
	if err := os.WriteFile(certPath, certPEM, 0o600); err != nil {
		return "", "", nil, err
	}
	tokenPath = filepath.Join(dir, "federated-token")
	if err := writeFederatedToken(e, tokenPath); err != nil {
		return "", "", nil, err
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(emulator.FederatedTokenLifetime / 2)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				// A failed rewrite leaves the previous token, still valid
				// for half its life; the next tick tries again.
				_ = writeFederatedToken(e, tokenPath)
			}
		}
	}()
	return certPath, tokenPath, func() { close(quit); <-done }, nil
}

// writeFederatedToken replaces the token file whole, so that a reader
// never sees half a token.
func writeFederatedToken(e *emulator.Emulator, path string) error {
	return atomicfile.Write(path, []byte(e.IssueFederatedToken(emulator.FederatedSubject)), 0o600)
}

const demoConfig = `# Written by connform demo: two emulated Dynamics orgs behind one app and
# one user, so one browser sign-in serves both.
variable "authority" {
  type        = string
  description = "Where the emulated Entra ID answers."
}

variable "tenant_id" {
  type = string
}

variable "client_id" {
  type        = string
  description = "The emulator's public client app (redirect http://localhost)."
}

variable "orgs" {
  type        = map(string)
  description = "Org name to org URL."
}

connform {
  library_format = "dsconn"
}

connection "dynamics" {
  for_each = var.orgs

  url               = each.value
  tenant_id         = var.tenant_id
  client_id         = var.client_id
  authorization_url = "${var.authority}/${var.tenant_id}/oauth2/v2.0/authorize"
  token_url         = "${var.authority}/${var.tenant_id}/oauth2/v2.0/token"
  description       = "Emulated org ${each.key}"
}
`

func (c *cli) cmdDemo(ctx context.Context, args []string) error {
	fs := c.flags("demo")
	keep := fs.Bool("keep", false, "keep the demo's directory (configuration, state, library) afterwards")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	e, err := emulator.Start(emulator.Options{})
	if err != nil {
		return fmt.Errorf("starting the emulator: %w", err)
	}
	defer e.Close()
	info := e.Info()
	var public *emulator.App
	for i := range info.Apps {
		if info.Apps[i].Public {
			public = &info.Apps[i]
		}
	}
	if public == nil {
		return fmt.Errorf("the emulator registered no public client app")
	}

	dir, err := os.MkdirTemp("", "connform-demo-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	var vars strings.Builder
	fmt.Fprintf(&vars, "authority = %q\ntenant_id = %q\nclient_id = %q\norgs = {\n", info.Authority, info.TenantID, public.ClientID)
	for _, o := range info.Orgs {
		fmt.Fprintf(&vars, "  %s = %q\n", o.Name, o.URL)
	}
	vars.WriteString("}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(demoConfig), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "connform.vars.hcl"), []byte(vars.String()), 0o644); err != nil {
		return err
	}

	// The demo keeps its tokens in an encrypted file of its own, so it never
	// touches the user's real token store.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	store, err := auth.NewKeyFileStore(filepath.Join(dir, ".tokens", "tokens.enc"), key)
	if err != nil {
		return err
	}

	w := c.io.ErrOut
	fmt.Fprintf(w, "connform demo: emulated Entra ID at %s with %d Dynamics orgs; working in %s.\n", info.Authority, len(info.Orgs), dir)
	fmt.Fprintf(c.io.Out, "The configuration (main.hcl; its variables, the emulator's URLs and app, are in connform.vars.hcl):\n\n%s", demoConfig)

	demo := &cli{io: c.io, env: c.env, now: c.now, store: store}
	demo.opener, demo.selfSignIn = c.demoBrowser()
	prev, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		return err
	}
	defer os.Chdir(prev)

	// apply shows the plan before it acts, so a separate plan first would
	// only print it twice.
	steps := []struct {
		title string
		args  []string
	}{
		{"connform apply -auto-approve", []string{"apply", "-auto-approve"}},
		{"connform plan   (again: nothing to do, and no sign-in needed)", []string{"plan", "-detailed-exitcode"}},
	}
	for _, s := range steps {
		fmt.Fprintf(c.io.Out, "\n$ %s\n", s.title)
		if code := demo.run(ctx, s.args); code != 0 {
			return fmt.Errorf("demo step %q exited %d", s.title, code)
		}
	}
	libFiles, err := filepath.Glob(filepath.Join(dir, "library", "*"))
	if err != nil || len(libFiles) == 0 {
		return fmt.Errorf("the demo wrote no library entry")
	}
	entry, err := os.ReadFile(libFiles[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.io.Out, "\nThe library now holds %s, one file per connection, for Simego Data Sync to open. %s:\n\n%s", count(len(libFiles), "entry", "entries"), filepath.Join("library", filepath.Base(libFiles[0])), entry)
	if !strings.HasSuffix(string(entry), "\n") {
		fmt.Fprintln(c.io.Out)
	}

	where := "deleted now; connform demo -keep keeps them"
	if *keep {
		where = "kept: the emulator stops with the demo, so commands run there cannot reach its orgs"
		// The demo's tokens were sealed with a passphrase nobody knows, and
		// are for an emulator that stops now: useless, so not kept.
		if err := os.RemoveAll(filepath.Join(dir, ".tokens")); err != nil {
			return err
		}
	}
	home, err := c.connformHome()
	if err != nil {
		home = "the folder CONNFORM_HOME names"
	}
	fmt.Fprintf(c.io.Out, "\nDemo complete: %s for %s. Its files are %s.\n", count(e.Stats().SignIns, "sign-in"), count(len(info.Orgs), "org"), where)
	fmt.Fprintf(c.io.Out, "In a real run, tokens go to the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service) or else an encrypted file in %s, never beside the configuration; "+
		"the library goes to library_path (Simego's own folder on Windows is %s).\n", home, `C:\ProgramData\Simego\DataSyncStudio30\Registry`)
	fmt.Fprintln(c.io.Out, "Next: examples/quickstart/README.md runs the same steps yourself against `connform emulator`; then \"Five minutes with a real tenant\" in README.md.")
	return nil
}

// demoBrowser opens the emulator's sign-in page in the system browser where
// there is one; on a machine without a display it plays the user's part
// itself and says so.
// It reports whether it will play the user without trying a browser, so
// that no one is told to open a URL.
func (c *cli) demoBrowser() (opener auth.Opener, selfSignIn bool) {
	if c.opener != nil {
		return c.opener, false
	}
	complete := func(u, why string) {
		fmt.Fprintf(c.io.ErrOut, "%s: connform demo completes the emulator's sign-in page itself, as you would in a browser.\n", why)
		go func() {
			if err := emulator.CompleteSignIn(context.Background(), http.DefaultClient, u); err != nil {
				fmt.Fprintf(c.io.ErrOut, "demo sign-in failed: %v\n", err)
			}
		}()
	}
	if !hasDisplay(c) {
		return auth.OpenerFunc(func(u string) error { complete(u, "No browser on this machine"); return nil }), true
	}
	// A display without a working browser (a bare X server, a container
	// with DISPLAY set) must not leave the demo waiting for a person.
	return auth.OpenerFunc(func(u string) error {
		if err := (auth.SystemBrowser{}).Open(u); err != nil {
			complete(u, "No browser could be opened ("+err.Error()+")")
		}
		return nil
	}), false
}

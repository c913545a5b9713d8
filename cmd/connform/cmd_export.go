package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"connform/auth"
	"connform/config"
	"connform/library"
	"connform/state"
)

// Export formats.
const (
	exportConnectionString = "connection-string"
	exportEnv              = "env"
	exportJSON             = "json"
)

// cmdExport prints connections in the forms other tools read: Dataverse
// connection strings, environment variables or JSON. Secrets appear only
// with -include-secrets, and then only on stdout: there is deliberately no
// option to write a file, so a secret lands on disk only by the user's own
// redirection.
func (c *cli) cmdExport(_ context.Context, args []string) error {
	const usage = "connform export [-all | NAME] [-format connection-string|env|json] [-include-secrets]"
	fs := c.flags("export")
	var v varFlags
	v.register(fs)
	all := fs.Bool("all", false, "export every connection (connection strings then come as ADDRESS<TAB>STRING lines)")
	format := fs.String("format", exportConnectionString, "connection-string, env or json")
	secrets := fs.Bool("include-secrets", false, "include client secrets (stdout only)")
	var pos []string
	for {
		if err := c.parse(fs, args); err != nil {
			return err
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	switch *format {
	case exportConnectionString, exportEnv, exportJSON:
	default:
		return fmt.Errorf("-format %q is not one of connection-string, env, json; usage: %s", *format, usage)
	}
	switch {
	case *all && len(pos) > 0:
		return fmt.Errorf("give a connection name or -all, not both; usage: %s", usage)
	case !*all && len(pos) == 0:
		return fmt.Errorf("no connection named; usage: %s", usage)
	case len(pos) > 1:
		return fmt.Errorf("unexpected arguments %q; usage: %s", pos[1:], usage)
	}

	cfg := c.loadConfig(v, nil)
	if cfg == nil {
		return exitError(1)
	}
	conns := cfg.Connections
	if !*all {
		conn, err := findConnection(cfg, pos[0])
		if err != nil {
			return err
		}
		conns = []*config.Connection{conn}
	}
	// The state only tells which connections apply has verified; reading it
	// needs no lock, and a missing state just means none has been.
	st, err := state.NewLocal(cfg.Settings.StatePath).Read()
	if err != nil {
		return err
	}
	for _, conn := range conns {
		if st.Lookup(conn.Addr) == nil {
			fmt.Fprintf(c.io.ErrOut, "%s %s has not been applied: no sign-in has been verified for it yet (run connform apply).\n", c.io.Paint("yellow", "Warning:"), conn.Addr)
		}
	}
	warn := c.io.Paint("yellow", "Warning:")

	// Connections a connection string cannot express are left out of every
	// format alike, so that the env and JSON forms never carry a string the
	// connection-string form would refuse.
	type exported struct {
		conn *config.Connection
		in   library.ExportInput
		cs   string
	}
	var out []exported
	for _, conn := range conns {
		in := c.exportInput(conn, *secrets)
		cs, err := library.ConnectionString(in, *secrets)
		var unsupported *library.UnsupportedMethodError
		if errors.As(err, &unsupported) {
			why := fmt.Sprintf("%s: %v. A tool that reads connection strings cannot sign in the way this connection does; give it the org URL (%s) and let it use %s itself, or export a connection with authentication_method = %q or the OAuth app",
				conn.Addr, err, in.URL, methodDescription[unsupported.Method], config.MethodClientCertificate)
			if !*all {
				return fmt.Errorf("cannot export %s", why)
			}
			fmt.Fprintf(c.io.ErrOut, "%s skipping %s.\n", warn, why)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", conn.Addr, err)
		}
		out = append(out, exported{conn: conn, in: in, cs: cs})
	}
	if len(out) == 0 {
		return fmt.Errorf("no connection could be exported: each one's authentication_method has no Dataverse connection string (see the warnings above)")
	}
	if *format == exportEnv {
		// Two names with the same prefix would print the same variables
		// twice, and the second would silently win when sourced.
		seen := map[string]string{}
		for _, e := range out {
			p := library.EnvPrefix(e.in.Name)
			if prev, dup := seen[p]; dup {
				return fmt.Errorf("-format env: %s and %s would both be exported as %s_*; rename one of them (its connection name or for_each key) so that they differ in more than case and punctuation, or export them one at a time", prev, e.conn.Addr, p)
			}
			seen[p] = e.conn.Addr
		}
	}
	// Only a secret actually printed is worth a warning: one that cries
	// wolf on every export teaches people to ignore it.
	if *secrets && slices.ContainsFunc(out, func(e exported) bool { return e.in.ClientSecret != "" }) {
		fmt.Fprintf(c.io.ErrOut, "%s the output holds client secrets: keep it out of files, logs and chat.\n", warn)
	}

	switch *format {
	case exportConnectionString:
		for _, e := range out {
			s := e.cs
			if *all {
				s = e.conn.Addr + "\t" + s
			}
			fmt.Fprintln(c.io.Out, s)
		}
	case exportEnv:
		for _, e := range out {
			lines, err := library.EnvVars(e.in, *secrets)
			if err != nil {
				return fmt.Errorf("%s: %w", e.conn.Addr, err)
			}
			for _, line := range lines {
				fmt.Fprintln(c.io.Out, line)
			}
		}
	case exportJSON:
		entries := make([]exportJSONEntry, len(out))
		for i, e := range out {
			in := e.in
			entries[i] = exportJSONEntry{
				Address: e.conn.Addr, Name: in.Name, URL: in.URL, TenantID: in.TenantID,
				ClientID: in.ClientID, GrantType: in.GrantType, RedirectURI: in.RedirectURI,
				AuthenticationMethod: in.AuthenticationMethod, Thumbprint: in.Thumbprint,
				ConnectionString: e.cs,
			}
			if *secrets {
				entries[i].ClientSecret = in.ClientSecret
			}
		}
		return writeJSON(c.io.Out, entries)
	}
	return nil
}

// methodDescription names what signs in for a method that has no
// connection string, for the warning that tells the user what to do.
var methodDescription = map[string]string{
	config.MethodAzureCLI:         "the Azure CLI's sign-in",
	config.MethodManagedIdentity:  "the managed identity",
	config.MethodWorkloadIdentity: "the federated token (workload identity)",
}

type exportJSONEntry struct {
	Address     string `json:"address"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	TenantID    string `json:"tenant_id,omitempty"`
	ClientID    string `json:"client_id"`
	GrantType   string `json:"grant_type,omitempty"`
	RedirectURI string `json:"redirect_uri,omitempty"`
	// Set only for an Entra-native method (client_certificate).
	AuthenticationMethod string `json:"authentication_method,omitempty"`
	Thumbprint           string `json:"thumbprint,omitempty"`
	ConnectionString     string `json:"connection_string"`
	ClientSecret         string `json:"client_secret,omitempty"`
}

// exportInput is what an export shows of a connection. The secret is only
// copied when asked for, so no later code can print it by mistake. For a
// certificate it reads the file for the thumbprint, and when it cannot,
// warns and leaves the thumbprint out rather than failing the export.
func (c *cli) exportInput(conn *config.Connection, withSecret bool) library.ExportInput {
	in := library.ExportInput{
		Name:                 conn.Address().LibraryKey(),
		URL:                  conn.URL,
		ClientID:             conn.ClientID,
		TenantID:             conn.TenantID,
		GrantType:            conn.GrantType,
		AuthenticationMethod: conn.AuthenticationMethod,
	}
	if conn.GrantType != config.GrantClientCredentials && !config.IsNativeMethod(conn.AuthenticationMethod) {
		// A ServiceClient opens its own sign-in on this redirect.
		in.RedirectURI = conn.Redirect
	}
	if withSecret {
		in.ClientSecret = conn.ClientSecret
	}
	if conn.AuthenticationMethod == config.MethodClientCertificate {
		data, err := os.ReadFile(conn.CertificatePath)
		var thumb string
		if err == nil {
			thumb, err = auth.CertificateThumbprint(data, conn.CertificatePassword)
		}
		if err != nil {
			hint := "check certificate_path"
			if conn.CertificatePassword == "" {
				hint += " (and set certificate_password if the file is encrypted)"
			} else {
				hint += " and certificate_password"
			}
			fmt.Fprintf(c.io.ErrOut, "%s %s: cannot read the certificate %s (%v), so its connection string has no Thumbprint: add Thumbprint=<the certificate's SHA-1 thumbprint> to it yourself, or %s and export again.\n",
				c.io.Paint("yellow", "Warning:"), conn.Addr, conn.CertificatePath, plainError(err), hint)
		}
		in.Thumbprint = thumb
	}
	return in
}

// plainError drops the path an *fs.PathError repeats, since the warning
// names the file already.
func plainError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

package main

import (
	"context"
	"fmt"
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

	conns, recorded, err := c.exportConnections(v, *all, *secrets, pos)
	if err != nil {
		return err
	}
	for _, conn := range conns {
		if !recorded(conn.Addr) {
			fmt.Fprintf(c.io.ErrOut, "%s %s has not been applied: no sign-in has been verified for it yet (run connform apply).\n", c.io.Paint("yellow", "Warning:"), conn.Addr)
		}
	}
	warn := c.io.Paint("yellow", "Warning:")
	out, warnings, err := library.Export(conns, library.ExportOptions{IncludeSecrets: *secrets, SkipUnsupported: *all, Thumbprint: auth.CertificateThumbprint})
	for _, w := range warnings {
		fmt.Fprintf(c.io.ErrOut, "%s %s\n", warn, w)
	}
	if err != nil {
		return err
	}
	if *format == exportEnv {
		if err := library.CheckEnvPrefixes(out); err != nil {
			return err
		}
	}
	// Only a secret actually printed is worth a warning: one that cries
	// wolf on every export teaches people to ignore it.
	if *secrets && slices.ContainsFunc(out, func(e library.Exported) bool { return e.Input.ClientSecret != "" }) {
		fmt.Fprintf(c.io.ErrOut, "%s the output holds client secrets: keep it out of files, logs and chat.\n", warn)
	}

	switch *format {
	case exportConnectionString:
		for _, e := range out {
			s := e.ConnectionString
			if *all {
				s = e.Addr + "\t" + s
			}
			fmt.Fprintln(c.io.Out, s)
		}
	case exportEnv:
		for _, e := range out {
			lines, err := library.EnvVars(e.Input, *secrets)
			if err != nil {
				return fmt.Errorf("%s: %w", e.Addr, err)
			}
			for _, line := range lines {
				fmt.Fprintln(c.io.Out, line)
			}
		}
	case exportJSON:
		entries := make([]exportJSONEntry, len(out))
		for i, e := range out {
			in := e.Input
			entries[i] = exportJSONEntry{
				Address: e.Addr, Name: in.Name, URL: in.URL, TenantID: in.TenantID,
				ClientID: in.ClientID, GrantType: in.GrantType, RedirectURI: in.RedirectURI,
				AuthenticationMethod: in.AuthenticationMethod, Thumbprint: in.Thumbprint,
				ConnectionString: e.ConnectionString,
			}
			if *secrets {
				entries[i].ClientSecret = in.ClientSecret
			}
		}
		return writeJSON(c.io.Out, entries)
	}
	return nil
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

// exportConnections evaluates what export prints, and says which of them
// the state records (apply has verified them). One connection without its
// secret comes from the evaluation cache when it can (see
// session_cache.go); a certificate's connection string needs its password
// for the thumbprint, so it is never served from there.
func (c *cli) exportConnections(v varFlags, all, secrets bool, pos []string) ([]*config.Connection, func(addr string) bool, error) {
	if !all && !secrets {
		if e, facts, ok := c.cachedConnection(pos[0], v); ok && e.Conn.AuthenticationMethod != config.MethodClientCertificate {
			return []*config.Connection{e.Conn}, func(string) bool { return facts.recorded }, nil
		}
	}
	cfg := c.loadConfig(v, nil)
	if cfg == nil {
		return nil, nil, exitError(1)
	}
	conns := cfg.Connections
	if !all {
		conn, err := findConnection(cfg, pos[0])
		if err != nil {
			return nil, nil, err
		}
		conns = []*config.Connection{conn}
		c.cacheConnection(cfg, conn, v, false)
	}
	// The state only tells which connections apply has verified; reading it
	// needs no lock, and a missing state just means none has been.
	st, err := state.NewLocal(cfg.Settings.StatePath).Read()
	if err != nil {
		return nil, nil, err
	}
	return conns, func(addr string) bool { return st.Lookup(addr) != nil }, nil
}

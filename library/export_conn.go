package library

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"connform/config"
)

// Exported is one connection as export gives it out.
type Exported struct {
	Addr             string
	Input            ExportInput
	ConnectionString string
}

// ExportOptions are the choices of an export.
type ExportOptions struct {
	// IncludeSecrets copies client secrets into the output; without it no
	// secret is even read into an ExportInput.
	IncludeSecrets bool
	// SkipUnsupported leaves out, with a warning, the connections no
	// connection string can express (every format alike, so that the env
	// and JSON forms never carry a string the connection-string form would
	// refuse); otherwise such a connection is an error.
	SkipUnsupported bool
	// Thumbprint reads a certificate file's SHA-1 thumbprint
	// (auth.CertificateThumbprint, passed in so that the library does not
	// pull in the credential code).
	Thumbprint func(data []byte, password string) (string, error)
}

// Export gives the connections' export forms, and the warnings the user
// should see: connections skipped, certificates that could not be read.
func Export(conns []*config.Connection, opt ExportOptions) ([]Exported, []string, error) {
	var out []Exported
	var warnings []string
	for _, conn := range conns {
		in, warning := exportInput(conn, opt)
		if warning != "" {
			warnings = append(warnings, warning)
		}
		cs, err := ConnectionString(in, opt.IncludeSecrets)
		var unsupported *UnsupportedMethodError
		if errors.As(err, &unsupported) {
			why := fmt.Sprintf("%s: %v. A tool that reads connection strings cannot sign in the way this connection does; give it the org URL (%s) and let it use %s itself, or export a connection with authentication_method = %q or the OAuth app",
				conn.Addr, err, in.URL, methodDescription[unsupported.Method], config.MethodClientCertificate)
			if !opt.SkipUnsupported {
				return nil, warnings, fmt.Errorf("cannot export %s", why)
			}
			warnings = append(warnings, "skipping "+why+".")
			continue
		}
		if err != nil {
			return nil, warnings, fmt.Errorf("%s: %w", conn.Addr, err)
		}
		out = append(out, Exported{Addr: conn.Addr, Input: in, ConnectionString: cs})
	}
	if len(out) == 0 {
		return nil, warnings, fmt.Errorf("no connection could be exported: each one's authentication_method has no Dataverse connection string (see the warnings above)")
	}
	return out, warnings, nil
}

// CheckEnvPrefixes refuses two connections whose environment variables
// would have one prefix: the second would silently win when sourced.
func CheckEnvPrefixes(out []Exported) error {
	seen := map[string]string{}
	for _, e := range out {
		p := EnvPrefix(e.Input.Name)
		if prev, dup := seen[p]; dup {
			return fmt.Errorf("-format env: %s and %s would both be exported as %s_*; rename one of them (its connection name or for_each key) so that they differ in more than case and punctuation, or export them one at a time", prev, e.Addr, p)
		}
		seen[p] = e.Addr
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

// exportInput is what an export shows of a connection. The secret is only
// copied when asked for, so no later code can print it by mistake. For a
// certificate it reads the file for the thumbprint, and when it cannot,
// returns a warning and leaves the thumbprint out rather than failing the
// export.
func exportInput(conn *config.Connection, opt ExportOptions) (ExportInput, string) {
	in := ExportInput{
		Name:                 conn.Address().LibraryKey(),
		URL:                  conn.URL,
		ClientID:             conn.ClientID,
		TenantID:             conn.TenantID,
		GrantType:            conn.GrantType,
		AuthenticationMethod: conn.AuthenticationMethod,
	}
	if conn.UserSignsIn() {
		// A ServiceClient opens its own sign-in on this redirect.
		in.RedirectURI = conn.Redirect
	}
	if opt.IncludeSecrets {
		in.ClientSecret = conn.ClientSecret
	}
	if conn.AuthenticationMethod != config.MethodClientCertificate || opt.Thumbprint == nil {
		return in, ""
	}
	data, err := os.ReadFile(conn.CertificatePath)
	if err == nil {
		in.Thumbprint, err = opt.Thumbprint(data, conn.CertificatePassword)
	}
	if err == nil {
		return in, ""
	}
	in.Thumbprint = ""
	hint := "check certificate_path"
	if conn.CertificatePassword == "" {
		hint += " (and set certificate_password if the file is encrypted)"
	} else {
		hint += " and certificate_password"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// The warning names the file already.
		err = pe.Err
	}
	return in, fmt.Sprintf("%s: cannot read the certificate %s (%v), so its connection string has no Thumbprint: add Thumbprint=<the certificate's SHA-1 thumbprint> to it yourself, or %s and export again.",
		conn.Addr, conn.CertificatePath, err, hint)
}

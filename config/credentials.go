package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"connform/auth"
)

// NativeMethods lists the Entra-native authentication methods.
func NativeMethods() []string {
	return slices.DeleteFunc(slices.Clone(validMethods), func(m string) bool { return m == MethodOAuth })
}

// ClientIDRequired reports whether method ("" is the OAuth app) needs
// client_id: the Azure CLI signs in with its own app, and a managed
// identity without one is the resource's system-assigned identity.
func ClientIDRequired(method string) bool {
	return method != MethodAzureCLI && method != MethodManagedIdentity
}

// UserSignsIn reports whether a person signs in for the connection (a
// browser or a device code) rather than the app or a credential: auth's
// registry decides.
func (c *Connection) UserSignsIn() bool { return auth.UserSignsIn(c.GrantType, c.AuthenticationMethod) }

// IsNativeMethod reports whether method is an Entra-native credential:
// auth's registry decides.
func IsNativeMethod(method string) bool { return auth.IsCredentialMethod(method) }

// methodAttrs are the attributes that belong to one Entra-native method
// only, by attribute.
var methodAttrs = func() map[string]string {
	out := map[string]string{}
	for _, a := range ConnectionSchema {
		if len(a.Methods) == 1 && a.Methods[0] != MethodOAuth {
			out[a.Name] = a.Methods[0]
		}
	}
	return out
}()

// oauthOnlyAttrs mean nothing to an Entra-native credential; setting one
// with such a method is a mistake worth pointing at.
var oauthOnlyAttrs = attributeNames(func(a Attribute) bool { return slices.Equal(a.Methods, []string{MethodOAuth}) })

// authMethod reads and checks authentication_method and the attributes
// that depend on it. It reports whether the method is Entra-native; for
// those it clears GrantType, which only the OAuth app uses.
func (l *loader) authMethod(c *Connection, b *hcl.Block, vals map[string]string, failedAttr map[string]bool, show func(string) string, rng func(string) hcl.Range) bool {
	method := vals["authentication_method"]
	if method == MethodOAuth {
		// The default spelled out is the default: no replace for it.
		method = ""
	}
	c.AuthenticationMethod = method
	c.CertificatePath = vals["certificate_path"]
	c.CertificatePassword = vals["certificate_password"]
	c.FederatedTokenFile = vals["federated_token_file"]
	if method != "" && !contains(validMethods, method) {
		l.errorf(rng("authentication_method"), "Invalid authentication_method", "authentication_method must be %s; got %s. Remove it to use the OAuth app (client_id with a browser sign-in or client_secret).", oneOf(validMethods), show("authentication_method"))
		return false
	}
	native := IsNativeMethod(method)

	for attr, owner := range methodAttrs {
		if _, set := vals[attr]; set && method != owner {
			l.errorf(rng(attr), "Unexpected "+attr, "%s is used only with authentication_method = %q; %s uses %s. Remove it, or set authentication_method.", attr, owner, c.Addr, methodName(method))
		}
	}
	if native {
		for _, attr := range oauthOnlyAttrs {
			if _, set := vals[attr]; set {
				l.errorf(rng(attr), "Unexpected "+attr, "%s belongs to the OAuth app; with authentication_method = %q the token comes from %s. Remove %s.", attr, method, methodSource[method], attr)
			}
		}
		c.GrantType, c.Prompt, c.Redirect = "", "", ""
	}

	_, hasClient := vals["client_id"]
	switch {
	case hasClient || failedAttr["client_id"]:
		if method == MethodAzureCLI && hasClient {
			l.errorf(rng("client_id"), "Unexpected client_id", "The Azure CLI signs in with its own app, so client_id is not used with authentication_method = %q. Remove it.", MethodAzureCLI)
		}
	case !ClientIDRequired(method):
	default:
		l.errorOnce(b.Body.MissingItemRange(), "Missing required argument", `The argument "client_id" is required, but no definition was found.`)
	}

	if method == MethodClientCertificate && c.CertificatePath == "" && !failedAttr["certificate_path"] {
		l.errorf(b.DefRange, "Missing certificate_path", "%s uses authentication_method = %q: set certificate_path to the PEM or PFX file with the app's certificate and private key (and certificate_password if the file is encrypted).", c.Addr, MethodClientCertificate)
	}
	// A missing certificate would only show at apply; it is not an error
	// here, since CI may plan where the certificate is not installed.
	if method == MethodClientCertificate && c.CertificatePath != "" {
		path := c.CertificatePath
		if !filepath.IsAbs(path) {
			path = filepath.Join(l.dir, path)
		}
		if _, err := os.Stat(path); err != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Certificate file not found",
				Detail:   fmt.Sprintf("%s: certificate_path %s cannot be read (%s); apply will fail for this connection unless the file is there by then.", c.Addr, show("certificate_path"), plainError(err)),
				Subject:  rng("certificate_path").Ptr(),
			})
		}
	}
	if native {
		if raw, ok := vals["token_url"]; ok {
			if u, err := url.Parse(raw); err == nil && u.Host != "" && !strings.EqualFold(u.Scheme, "https") {
				l.errorf(rng("token_url"), "Invalid token_url", "With authentication_method = %q the authority must be https (azidentity refuses plain http, even on loopback); got %s.", method, show("token_url"))
			}
		}
		if len(c.Scopes) > 0 && (len(c.Scopes) != 1 || !strings.HasSuffix(c.Scopes[0], "/.default")) {
			l.errorf(rng("scopes"), "Invalid scopes", "An Entra-native credential asks for exactly one scope ending in /.default, such as \"%s/.default\". Remove scopes to use that default.", orDefault(c.URL, "https://ORG.crm.dynamics.com"))
		}
	}
	return native
}

// needsAuthority reports whether a method must know its tenant's token
// endpoint: the app-based ones do; the CLI and managed identity know
// their own.
func needsAuthority(method string) bool {
	return method != MethodAzureCLI && method != MethodManagedIdentity
}

var methodSource = map[string]string{
	MethodAzureCLI:          "the Azure CLI's sign-in (az login)",
	MethodManagedIdentity:   "the Azure resource's managed identity",
	MethodWorkloadIdentity:  "the federated token file",
	MethodClientCertificate: "the app's certificate",
}

func methodName(method string) string {
	if method == "" {
		return "the OAuth app (the default)"
	}
	return "authentication_method = \"" + method + "\""
}

// errorOnce reports a diagnostic once per subject: checks that run per
// for_each instance would otherwise repeat it for every key.
func (l *loader) errorOnce(subject hcl.Range, summary, detail string) {
	for _, d := range l.diags {
		if d.Summary == summary && d.Subject != nil && *d.Subject == subject {
			return
		}
	}
	l.errorf(subject, summary, "%s", detail)
}

// plainError says what went wrong with a file without repeating its path.
func plainError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

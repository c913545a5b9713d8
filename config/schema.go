package config

import (
	"slices"

	"github.com/zclconf/go-cty/cty"

	"connform/auth"
)

// Grant types a connection may declare. auth's method registry spells
// them, since each names a way of getting a token; the configuration only
// accepts them.
const (
	GrantAuthorizationCode = auth.GrantAuthorizationCode
	GrantClientCredentials = auth.GrantClientCredentials
	// GrantDeviceCode signs a user in on another device with a short code:
	// for machines without a browser. Scopes are delegated, as for
	// authorization_code; no redirect is used.
	GrantDeviceCode = auth.GrantDeviceCode
)

// Authentication methods, as auth's registry spells them. MethodOAuth, the
// default, is the data-sync tool's custom OAuth application (the grant
// types above); the others are Entra-native credentials obtained through
// azidentity, none of which needs a person.
const (
	MethodOAuth             = auth.MethodOAuth
	MethodAzureCLI          = auth.MethodAzureCLI
	MethodManagedIdentity   = auth.MethodManagedIdentity
	MethodWorkloadIdentity  = auth.MethodWorkloadIdentity
	MethodClientCertificate = auth.MethodClientCertificate
)

var validMethods = []string{MethodOAuth, MethodAzureCLI, MethodManagedIdentity, MethodWorkloadIdentity, MethodClientCertificate}

// Attribute describes one attribute of a connection block. ConnectionSchema
// is the one list of them: decoding, the plan's replace rules, import's
// attribute order, the library's parameter names and the README's table are
// all derived from it, so adding an attribute is one entry here (plus the
// Connection field it fills).
type Attribute struct {
	Name string
	// Type is cty.String or cty.List(cty.String).
	Type     cty.Type
	Required bool
	// Sensitive attributes may hold a secret: only their fingerprints leave
	// the process, and only they may be set from a sensitive value.
	Sensitive bool
	// ForcesReplacement marks the connection's identity: a change means
	// tokens for another org, app or authority, so the old entry goes.
	ForcesReplacement bool
	// Credential marks what an app proves itself with: a change makes
	// apply get a new token at once, so that a bad one shows now.
	Credential bool
	// Methods lists the authentication methods that use the attribute; nil
	// means every method.
	Methods []string
	// Stored attributes are recorded in the state and diffed by plan
	// (Connection.Attributes); the others are folded into stored ones (cloud
	// into the endpoints) or are secrets.
	Stored bool
	// LibraryParam is the data-sync tool's parameter name for the attribute
	// in a library entry (unconfirmed against the tool, hence
	// library_parameter_names); "" when entries do not carry it. The
	// schema's order is the order parameters are written in.
	LibraryParam string
	// EntraID marks an Entra directory or application id, which a
	// placeholder GUID (one hex digit throughout) cannot be.
	EntraID bool
	// Doc is the attribute's one-line description for the README table.
	Doc string
}

var (
	nativeAppMethods = []string{MethodOAuth, MethodManagedIdentity, MethodWorkloadIdentity, MethodClientCertificate}
	oauthOnly        = []string{MethodOAuth}
)

// ConnectionSchema lists a connection block's attributes (for_each and the
// lifecycle block aside) in the order they are evaluated, written by import
// and written into library entries: the org, how it signs in, the app, its
// endpoints, then the rest.
var ConnectionSchema = []Attribute{
	{Name: "url", Type: cty.String, Required: true, ForcesReplacement: true, Stored: true, LibraryParam: "ServiceUrl", Doc: "the org's URL (any page of it); the library gets its Organization Service endpoint"},
	{Name: "authentication_method", Type: cty.String, ForcesReplacement: true, Stored: true, LibraryParam: "AuthenticationMethod", Doc: "oauth (default), azure_cli, managed_identity, workload_identity or client_certificate"},
	{Name: "tenant_id", Type: cty.String, ForcesReplacement: true, Stored: true, EntraID: true, LibraryParam: "TenantID", Doc: "the directory (tenant) id; derives the endpoints"},
	{Name: "client_id", Type: cty.String, ForcesReplacement: true, Methods: nativeAppMethods, Stored: true, EntraID: true, LibraryParam: "ClientID", Doc: "the app registration's id"},
	{Name: "client_secret", Type: cty.String, Sensitive: true, Credential: true, Methods: oauthOnly, Doc: "the app's secret, from a sensitive variable"},
	{Name: "authorization_url", Type: cty.String, ForcesReplacement: true, Methods: oauthOnly, Stored: true, LibraryParam: "AuthorizationUrl", Doc: "the authorize endpoint (derived from tenant and cloud when absent)"},
	{Name: "token_url", Type: cty.String, ForcesReplacement: true, Stored: true, LibraryParam: "TokenUrl", Doc: "the token endpoint (derived from tenant and cloud when absent)"},
	{Name: "grant_type", Type: cty.String, ForcesReplacement: true, Methods: oauthOnly, Stored: true, LibraryParam: "GrantType", Doc: "authorization_code (default), device_code or client_credentials"},
	{Name: "redirect", Type: cty.String, Methods: oauthOnly, Stored: true, LibraryParam: "RedirectUri", Doc: "the loopback redirect URI (default http://localhost)"},
	{Name: "scopes", Type: cty.List(cty.String), ForcesReplacement: true, Stored: true, LibraryParam: "Scopes", Doc: "default {org}/user_impersonation and offline_access, or {org}/.default for an app"},
	{Name: "prompt", Type: cty.String, Methods: oauthOnly, Stored: true, Doc: "the sign-in page's prompt (default select_account)"},
	{Name: "login_hint", Type: cty.String, Methods: oauthOnly, Stored: true, Doc: "the account to sign in as; one token per account"},
	{Name: "entity", Type: cty.String, Stored: true, LibraryParam: "EntityName", Doc: "an entity apply checks the account can read"},
	{Name: "description", Type: cty.String, Stored: true, Doc: "the library entry's description"},
	{Name: "cloud", Type: cty.String, Doc: "public, usgovernment, dod or china (default: from the url)"},
	{Name: "certificate_path", Type: cty.String, Credential: true, Methods: []string{MethodClientCertificate}, Stored: true, Doc: "PEM or PFX file with the app's certificate and key"},
	{Name: "certificate_password", Type: cty.String, Sensitive: true, Credential: true, Methods: []string{MethodClientCertificate}, Doc: "the PFX file's password"},
	{Name: "federated_token_file", Type: cty.String, Credential: true, Methods: []string{MethodWorkloadIdentity}, Stored: true, Doc: "the federated token (default $AZURE_FEDERATED_TOKEN_FILE)"},
}

// attributeIndex finds an attribute's schema without a scan: plan asks for
// every attribute of every connection.
var attributeIndex = func() map[string]int {
	m := make(map[string]int, len(ConnectionSchema))
	for i, a := range ConnectionSchema {
		m[a.Name] = i
	}
	return m
}()

// LookupAttribute returns the schema of the attribute called name.
func LookupAttribute(name string) (Attribute, bool) {
	i, ok := attributeIndex[name]
	if !ok {
		return Attribute{}, false
	}
	return ConnectionSchema[i], true
}

// ForcesReplacement reports whether a change of the attribute called name
// replaces the connection.
func ForcesReplacement(name string) bool {
	a, _ := LookupAttribute(name)
	return a.ForcesReplacement
}

// UsedBy reports whether the attribute belongs to method ("" is the OAuth
// app).
func (a Attribute) UsedBy(method string) bool {
	if method == "" {
		method = MethodOAuth
	}
	return a.Methods == nil || slices.Contains(a.Methods, method)
}

// attributeNames lists the names of the attributes that pass keep, in
// schema order.
func attributeNames(keep func(Attribute) bool) []string {
	var out []string
	for _, a := range ConnectionSchema {
		if keep(a) {
			out = append(out, a.Name)
		}
	}
	return out
}

// SecretAttributes are the only attributes that may hold a sensitive value:
// connform keeps nothing of them but fingerprints. Every other attribute
// ends up in the state, plans and the connection library as written, so a
// secret there would be stored in clear however it was declared.
func SecretAttributes() []string {
	return attributeNames(func(a Attribute) bool { return a.Sensitive })
}

// ImportAttributes are what import reads from a library entry and writes
// into a connection block, in that order: the stored attributes every
// method has or the OAuth app uses (import does not create Entra-native
// credentials' files).
func ImportAttributes() []string {
	return attributeNames(func(a Attribute) bool { return a.Stored && (a.Methods == nil || a.UsedBy(MethodOAuth)) })
}

// LibraryTokenKey names the token store key among a library entry's
// attributes: not configured, but written (as TokenCacheKey) so that the
// data-sync tool can find the connection's tokens.
const LibraryTokenKey = "token_key"

// LibraryNameable lists what library_parameter_names may rename: the
// stored attributes (secrets never reach an entry) and the token key.
func LibraryNameable() []string {
	return append(attributeNames(func(a Attribute) bool { return a.Stored }), LibraryTokenKey)
}

// LibraryParameterNames maps attribute names to the parameter names of the
// data-sync tool's library entries, and LibraryAttributes gives the order
// they are written in.
func LibraryParameterNames() map[string]string {
	out := map[string]string{}
	for _, a := range ConnectionSchema {
		if a.LibraryParam != "" {
			out[a.Name] = a.LibraryParam
		}
	}
	return out
}

// LibraryAttributes lists the attributes library entries carry, in the
// order they are written.
func LibraryAttributes() []string {
	return attributeNames(func(a Attribute) bool { return a.LibraryParam != "" })
}

// CredentialChanged names, from the changed attributes, those the
// connection's app proves itself with when it signs in as the app (client
// credentials or an Entra-native method with a credential of its own).
func (c *Connection) CredentialChanged(changed []string) []string {
	if c.UserSignsIn() {
		// A user signs in: the secret of a confidential app is proved by
		// the next refresh, which plan arranges on its own.
		return nil
	}
	var out []string
	for _, a := range ConnectionSchema {
		if a.Credential && a.UsedBy(c.AuthenticationMethod) && slices.Contains(changed, a.Name) {
			out = append(out, a.Name)
		}
	}
	return out
}

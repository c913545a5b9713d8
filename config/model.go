package config

import (
	"connform/addrs"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
)

// Library formats.
const (
	LibraryFormatDSConn = "dsconn"
	LibraryFormatJSON   = "json"
)

// Defaults for the connform block.
const (
	DefaultStatePath     = "connform.state.json"
	DefaultLibraryPath   = "library"
	DefaultLibraryFormat = LibraryFormatDSConn
	DefaultRedirect      = "http://localhost"
	DefaultPrompt        = "select_account"
	// DefaultLibraryDataType is Simego Data Sync's Dynamics provider type
	// name (not checked against the tool itself, see docs/library.md), which is why it can be overridden.
	DefaultLibraryDataType = "Simego.DataSync.Providers.Dynamics365.Dynamics365SourceReader"
)

// Config is one evaluated configuration directory.
type Config struct {
	Dir      string
	Settings Settings
	// Variables holds the declared variables, by name.
	Variables map[string]*Variable
	// Connections are the expanded connection instances (one per for_each
	// key), sorted by Addr.
	Connections []*Connection
	// Files are the sources that were parsed, so the command layer can print
	// diagnostics with the offending line.
	Files map[string]*hcl.File
	// Hash is a digest of every configuration input (file contents and the
	// resolved variable values, sensitive ones salted and hashed) used to
	// detect that a saved plan no longer matches its configuration.
	Hash string
	// reads is what env() and file() returned while evaluating, which the
	// evaluation cache (evalcache.go) checks again before it is trusted.
	reads *inputReads
}

// Settings is the connform block.
type Settings struct {
	StatePath     string
	LibraryPath   string
	LibraryFormat string
	// LibraryDataType and LibraryParameterNames let a team match the exact
	// provider type and parameter names of their data-sync tool's version.
	LibraryDataType       string
	LibraryParameterNames map[string]string
	// TokenStore is where tokens are kept: auto (OS keyring, else an
	// encrypted file), keyring, file, or plaintext, which must be named
	// here to be had at all.
	TokenStore      string
	TokenStoreRange hcl.Range
	DeclRange       hcl.Range
}

// Variable is a declared input variable and its final value.
type Variable struct {
	Name        string
	Description string
	Sensitive   bool
	DeclRange   hcl.Range

	// The loader's working data. The value stays unexported so that a
	// sensitive value cannot be printed by accident; PlanVariables gives the
	// non-sensitive ones out.
	typ         cty.Type
	typeGiven   bool
	defaults    *typeexpr.Defaults
	value       cty.Value // cty.NilVal until some source sets it
	source      hcl.Range // where value was set
	from        string    // which option or file set value, for messages ("-var")
	rejected    bool      // a source's value did not fit the type (already reported)
	validations []validation
	// feedsSecret is set when client_secret or certificate_password reads
	// the variable: its value is then a secret, declared so or not.
	feedsSecret bool
}

type validation struct {
	condition    hcl.Expression
	errorMessage hcl.Expression
	rng          hcl.Range
}

// Connection is one evaluated connection instance. Derived attributes
// (authorization and token URLs, scopes) are already filled in.
type Connection struct {
	// Name is the block label; Key is the for_each key ("" when the block has
	// no for_each; config refuses an empty key). Addr is Address() printed
	// ("connection.NAME" or `connection.NAME["KEY"]`), which state and plans
	// key by.
	Name string
	Key  string
	Addr string

	URL                  string // the org root, normalised (https://org.crm.dynamics.com)
	TenantID             string
	ClientID             string
	ClientSecret         string // sensitive: never rendered, stored or logged
	AuthorizationURL     string
	TokenURL             string
	GrantType            string
	Redirect             string
	Scopes               []string
	Prompt               string
	LoginHint            string
	Entity               string
	Description          string
	AuthenticationMethod string // "" (the OAuth app) or an Entra-native method, see credentials.go
	// For authentication_method = "client_certificate": the PEM or PFX file
	// and its password (sensitive). For "workload_identity": the federated
	// token file ("" means AZURE_FEDERATED_TOKEN_FILE at apply time).
	CertificatePath     string
	CertificatePassword string
	FederatedTokenFile  string

	PreventDestroy bool

	DeclRange hcl.Range
	// attrs are the block's attributes, for Range.
	attrs blockAttrs
}

// Range is where attribute attr was set, so later stages can point at the
// line to fix; false when it was not set (or c was not loaded from files).
// It is looked up when asked for: a map per connection would be 10,000
// maps in a large configuration, and almost never read.
func (c *Connection) Range(attr string) (hcl.Range, bool) {
	if attr == "for_each" {
		return hcl.Range{}, false
	}
	expr, ok := c.attrs.expr(attr)
	if !ok {
		return hcl.Range{}, false
	}
	return expr.Range(), true
}

// Address is the connection instance's address.
func (c *Connection) Address() addrs.Instance { return addrs.NewConnection(c.Name, c.Key) }

// Attributes returns the connection's stored attributes (see Attribute)
// as strings, in the form the planner diffs and the state stores. Scopes are
// joined by a single space, as OAuth writes them.
func (c *Connection) Attributes() map[string]string {
	// Sized for every attribute and the planner's library_file: growing
	// it costs a plan of 10,000 connections 20,000 more allocations.
	attrs := make(map[string]string, len(ConnectionSchema)+1)
	for _, a := range ConnectionSchema {
		if v, ok := c.StoredAttribute(a.Name); ok {
			attrs[a.Name] = v
		}
	}
	return attrs
}

// StoredAttribute is Attributes()[name] without building the map, for
// callers that go through the names themselves (plan, for each of 10,000
// new connections).
func (c *Connection) StoredAttribute(name string) (string, bool) {
	a, ok := LookupAttribute(name)
	if !ok || !a.Stored {
		return "", false
	}
	v := c.value(name)
	// An Entra-native method's own attributes appear only when set, so
	// the attributes (and state, and hashes) of other connections stay
	// as they were before the method existed.
	if v == "" && !a.UsedBy(MethodOAuth) {
		return "", false
	}
	return v, true
}

// Sensitive returns the connection's sensitive inputs by attribute name. Only
// their fingerprints may leave the process.
func (c *Connection) Sensitive() map[string]string {
	var out map[string]string
	for _, a := range ConnectionSchema {
		if v := c.value(a.Name); a.Sensitive && v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[a.Name] = v
		}
	}
	return out
}

// value is the field an attribute of ConnectionSchema fills.
func (c *Connection) value(name string) string {
	switch name {
	case "url":
		return c.URL
	case "authentication_method":
		return c.AuthenticationMethod
	case "tenant_id":
		return c.TenantID
	case "client_id":
		return c.ClientID
	case "client_secret":
		return c.ClientSecret
	case "authorization_url":
		return c.AuthorizationURL
	case "token_url":
		return c.TokenURL
	case "grant_type":
		return c.GrantType
	case "redirect":
		return c.Redirect
	case "scopes":
		return joinScopes(c.Scopes)
	case "prompt":
		return c.Prompt
	case "login_hint":
		return c.LoginHint
	case "entity":
		return c.Entity
	case "description":
		return c.Description
	case "certificate_path":
		return c.CertificatePath
	case "certificate_password":
		return c.CertificatePassword
	case "federated_token_file":
		return c.FederatedTokenFile
	}
	// cloud is folded into URL and the endpoints.
	return ""
}

func joinScopes(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

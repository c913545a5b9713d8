package library

import (
	"fmt"
	"sort"
	"strings"

	"connform/config"
	"connform/dynamics"
)

// ExportInput is what an export knows of one connection. ClientSecret is
// only ever written when the caller asks for it explicitly.
type ExportInput struct {
	Name, URL, ClientID, ClientSecret, TenantID, RedirectURI, GrantType, TokenCachePath string
	// AuthenticationMethod is the connection's authentication_method: "" or
	// "oauth" for the OAuth app, else an Entra-native method.
	AuthenticationMethod string
	// Thumbprint is the certificate's for "client_certificate" (see
	// auth.CertificateThumbprint), "" when connform could not read it.
	Thumbprint string
}

// Auth types of a Dataverse ServiceClient connection string.
const (
	AuthTypeOAuth        = "OAuth"
	AuthTypeClientSecret = "ClientSecret"
	AuthTypeCertificate  = "Certificate"
)

// UnsupportedMethodError says that a connection's authentication method has
// no Dataverse connection string: ServiceClient knows only the AuthTypes
// above, and none of them takes a token from the Azure CLI, a managed
// identity or a federated token file.
type UnsupportedMethodError struct{ Method string }

func (e *UnsupportedMethodError) Error() string {
	return fmt.Sprintf("a Dataverse connection string cannot express authentication_method = %q (its AuthType is %s, %s or %s)",
		e.Method, AuthTypeOAuth, AuthTypeClientSecret, AuthTypeCertificate)
}

// authType is the ServiceClient AuthType for the connection: a certificate
// app signs in with its certificate, an app-only OAuth connection with its
// secret, a user's connection with an OAuth sign-in.
func (in ExportInput) authType() (string, error) {
	switch in.AuthenticationMethod {
	case "", config.MethodOAuth:
	case config.MethodClientCertificate:
		return AuthTypeCertificate, nil
	default:
		return "", &UnsupportedMethodError{Method: in.AuthenticationMethod}
	}
	if in.GrantType == config.GrantClientCredentials {
		return AuthTypeClientSecret, nil
	}
	return AuthTypeOAuth, nil
}

// orgURL is the org root ServiceClient expects in Url, or the URL as given
// when connform cannot parse it (the config check reported that already).
func (in ExportInput) orgURL() string {
	if org, err := dynamics.ParseOrgURL(in.URL); err == nil {
		return org.Root
	}
	return in.URL
}

// ConnectionString renders a Dataverse ServiceClient connection string:
// AuthType, Url, ClientId, ClientSecret, Thumbprint, RedirectUri,
// LoginPrompt, TenantId, TokenCacheStorePath, in that order, leaving out
// empty values. An OAuth (user) connection gets RedirectUri and
// LoginPrompt=Auto; an app-only one (client_credentials) gets
// AuthType=ClientSecret and no prompt; a client_certificate one gets
// AuthType=Certificate and its Thumbprint when known. ClientSecret is
// written only when includeSecret is set and there is one; without it an
// app-only string lacks its secret, which the reader must add from a vault.
// The other Entra-native methods give an *UnsupportedMethodError.
func ConnectionString(in ExportInput, includeSecret bool) (string, error) {
	type kv struct{ k, v string }
	auth, err := in.authType()
	if err != nil {
		return "", err
	}
	pairs := []kv{{"AuthType", auth}, {"Url", in.orgURL()}, {"ClientId", in.ClientID}}
	switch auth {
	case AuthTypeCertificate:
		pairs = append(pairs, kv{"Thumbprint", in.Thumbprint})
	case AuthTypeOAuth:
		if includeSecret {
			pairs = append(pairs, kv{"ClientSecret", in.ClientSecret})
		}
		pairs = append(pairs, kv{"RedirectUri", in.RedirectURI}, kv{"LoginPrompt", "Auto"})
	default:
		if includeSecret {
			pairs = append(pairs, kv{"ClientSecret", in.ClientSecret})
		}
	}
	pairs = append(pairs, kv{"TenantId", in.TenantID}, kv{"TokenCacheStorePath", in.TokenCachePath})
	var parts []string
	for _, p := range pairs {
		if p.v != "" {
			parts = append(parts, p.k+"="+quoteValue(p.v))
		}
	}
	return strings.Join(parts, ";"), nil
}

// quoteValue quotes a connection-string value that would otherwise be cut
// or misread: one holding ';', '=', a quote, or space at either end. The
// quoted form is single quotes with every inner single quote doubled, which
// DbConnectionStringBuilder reads back as the original value.
func quoteValue(v string) string {
	if !strings.ContainsAny(v, `;='"`) && strings.TrimSpace(v) == v {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// EnvVars returns NAME_KEY='value' lines for the connection, sorted by
// variable: AUTHENTICATION_METHOD (when not the OAuth app), CLIENT_ID,
// CLIENT_SECRET (only when includeSecret is set, never for a certificate), CONNECTION_STRING,
// GRANT_TYPE, REDIRECT_URI, TENANT_ID, THUMBPRINT, TOKEN_CACHE_PATH, URL.
// NAME is EnvPrefix of the connection name. Every value is single-quoted
// the POSIX way, so that `set -a; . FILE` and eval give back each value
// exactly, including the ';' of every connection string. A connection
// ConnectionString cannot express gives its error, and no lines.
func EnvVars(in ExportInput, includeSecret bool) ([]string, error) {
	auth, err := in.authType()
	if err != nil {
		return nil, err
	}
	cs, err := ConnectionString(in, includeSecret)
	if err != nil {
		return nil, err
	}
	prefix := EnvPrefix(in.Name)
	vals := map[string]string{
		"URL":               in.orgURL(),
		"TENANT_ID":         in.TenantID,
		"CLIENT_ID":         in.ClientID,
		"REDIRECT_URI":      in.RedirectURI,
		"GRANT_TYPE":        in.GrantType,
		"TOKEN_CACHE_PATH":  in.TokenCachePath,
		"THUMBPRINT":        in.Thumbprint,
		"CONNECTION_STRING": cs,
	}
	if in.AuthenticationMethod != config.MethodOAuth {
		vals["AUTHENTICATION_METHOD"] = in.AuthenticationMethod
	}
	if includeSecret && auth != AuthTypeCertificate {
		vals["CLIENT_SECRET"] = in.ClientSecret
	}
	var keys []string
	for k, v := range vals {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = prefix + "_" + k + "=" + ShellQuote(vals[k])
	}
	return out, nil
}

// ShellQuote quotes v for a POSIX shell: inside single quotes nothing is
// special, and a single quote in v ends the quoted part, is written
// backslash-escaped, and the quoting resumes.
func ShellQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// EnvPrefix turns a connection name into an environment variable prefix:
// upper-cased, every character other than A-Z and 0-9 turned into '_', and
// a leading '_' before a digit, so "sales-dev" gives SALES_DEV. Different
// names can give the same prefix ("sales-dev", "sales_dev"); the caller must
// reject that.
func EnvPrefix(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

package library

import (
	"sort"
	"strings"

	"connform/dynamics"
)

// ExportInput is what an export knows of one connection. ClientSecret is
// only ever written when the caller asks for it explicitly.
type ExportInput struct {
	Name, URL, ClientID, ClientSecret, TenantID, RedirectURI, GrantType, TokenCachePath string
}

// Auth types of a Dataverse ServiceClient connection string.
const (
	AuthTypeOAuth        = "OAuth"
	AuthTypeClientSecret = "ClientSecret"
)

// authType is the ServiceClient AuthType for a grant: app-only connections
// sign in with their secret, every other grant is a user's OAuth sign-in.
func (in ExportInput) authType() string {
	if in.GrantType == "client_credentials" {
		return AuthTypeClientSecret
	}
	return AuthTypeOAuth
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
// AuthType, Url, ClientId, ClientSecret, RedirectUri, LoginPrompt,
// TenantId, TokenCacheStorePath, in that order, leaving out empty values.
// An OAuth (user) connection gets RedirectUri and LoginPrompt=Auto; an
// app-only one (client_credentials) gets AuthType=ClientSecret and no
// prompt. ClientSecret is written only when includeSecret is set and there
// is one; without it an app-only string lacks its secret, which the reader
// must add from a vault.
func ConnectionString(in ExportInput, includeSecret bool) string {
	type kv struct{ k, v string }
	auth := in.authType()
	pairs := []kv{{"AuthType", auth}, {"Url", in.orgURL()}, {"ClientId", in.ClientID}}
	if includeSecret {
		pairs = append(pairs, kv{"ClientSecret", in.ClientSecret})
	}
	if auth == AuthTypeOAuth {
		pairs = append(pairs, kv{"RedirectUri", in.RedirectURI}, kv{"LoginPrompt", "Auto"})
	}
	pairs = append(pairs, kv{"TenantId", in.TenantID}, kv{"TokenCacheStorePath", in.TokenCachePath})
	var parts []string
	for _, p := range pairs {
		if p.v != "" {
			parts = append(parts, p.k+"="+quoteValue(p.v))
		}
	}
	return strings.Join(parts, ";")
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

// EnvVars returns NAME_KEY=value lines for the connection, sorted: URL,
// TENANT_ID, CLIENT_ID, REDIRECT_URI, GRANT_TYPE, TOKEN_CACHE_PATH,
// CONNECTION_STRING, and CLIENT_SECRET only when includeSecret is set.
// NAME is the connection name upper-cased with every other character than
// A-Z and 0-9 turned into '_' (and a leading '_' before a digit), so
// "sales-dev" gives SALES_DEV_URL. Values are not quoted: the lines suit an
// env file; a shell needs them quoted.
func EnvVars(in ExportInput, includeSecret bool) []string {
	prefix := envName(in.Name)
	vals := map[string]string{
		"URL":               in.orgURL(),
		"TENANT_ID":         in.TenantID,
		"CLIENT_ID":         in.ClientID,
		"REDIRECT_URI":      in.RedirectURI,
		"GRANT_TYPE":        in.GrantType,
		"TOKEN_CACHE_PATH":  in.TokenCachePath,
		"CONNECTION_STRING": ConnectionString(in, includeSecret),
	}
	if includeSecret {
		vals["CLIENT_SECRET"] = in.ClientSecret
	}
	var out []string
	for k, v := range vals {
		if v != "" {
			out = append(out, prefix+"_"+k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

// envName turns a connection name into an environment variable prefix.
func envName(name string) string {
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

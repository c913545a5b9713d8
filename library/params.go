package library

import (
	"sort"
	"strings"

	"connform/config"
	"connform/dynamics"
)

// TokenKeyAttribute is the attribute under which the caller passes the token
// store key to BuildParams; it is not a configuration attribute.
const TokenKeyAttribute = config.LibraryTokenKey

// DefaultAuthenticationMethod is written when the connection names none.
const DefaultAuthenticationMethod = "CustomOAuthApplication"

// DefaultParameterNames maps connform attribute names to the data-sync
// tool's parameter names: config.ConnectionSchema's LibraryParam, and the
// token store key. They are unconfirmed (REFERENCE.md), hence BuildParams'
// overrides.
var DefaultParameterNames = func() map[string]string {
	names := config.LibraryParameterNames()
	names[TokenKeyAttribute] = "TokenCacheKey"
	return names
}()

// defaultOrder is the order parameters are written in, the schema's: what
// the tool needs to reach the org first, then how to sign in.
var defaultOrder = append(config.LibraryAttributes(), TokenKeyAttribute)

// BuildParams turns a connection's attributes (config.Connection.Attributes
// plus TokenKeyAttribute) into entry parameters, named by
// DefaultParameterNames with overrides (attribute name → parameter name)
// applied on top. See the package documentation for the order, the values and
// what is never written.
func BuildParams(attrs map[string]string, overrides map[string]string) []Param {
	names := make(map[string]string, len(DefaultParameterNames)+len(overrides))
	for a, n := range DefaultParameterNames {
		names[a] = n
	}
	order := append([]string(nil), defaultOrder...)
	var extra []string
	for a, n := range overrides {
		if _, known := names[a]; !known {
			extra = append(extra, a)
		}
		names[a] = n
	}
	sort.Strings(extra)
	order = append(order, extra...)

	secret := attrs["client_secret"]
	var params []Param
	for _, a := range order {
		name := names[a]
		value := attrs[a]
		switch a {
		case "url":
			value = serviceURL(value)
		case "authentication_method":
			if value == "" {
				value = DefaultAuthenticationMethod
			}
		}
		if name == "" || value == "" || looksSecret(a) || looksSecret(name) {
			continue
		}
		if containsSecret(value, secret) {
			continue
		}
		params = append(params, Param{Name: name, Value: value})
	}
	return params
}

// serviceURL gives the Organization Service endpoint the tool stores for an
// org URL, or the URL unchanged when it is not one connform can parse (the
// config package has reported that already).
func serviceURL(raw string) string {
	if raw == "" {
		return ""
	}
	org, err := dynamics.ParseOrgURL(raw)
	if err != nil {
		return raw
	}
	return org.OrganizationServiceURL()
}

// LooksSecret reports whether an attribute or parameter name stands for a
// secret (a client secret, password or token): what no entry may hold and
// import must never copy.
func LooksSecret(name string) bool { return looksSecret(name) }

// nameSeparators is built once: a Replacer builds its tables on first use,
// and every parameter of every entry is checked.
var nameSeparators = strings.NewReplacer("_", "", "-", "", " ", "", ".", "")

// looksSecret reports whether an attribute or parameter name stands for a
// secret, so that no override can route one into a file.
func looksSecret(name string) bool {
	n := nameSeparators.Replace(strings.ToLower(name))
	for _, s := range []string{"secret", "password", "passwd", "accesstoken", "refreshtoken", "idtoken", "verifier", "authcode", "authorizationcode", "privatekey"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// containsSecret reports whether value holds the client secret. A short
// secret (only seen in tests and typos) is matched whole, so that it does not
// knock out every value that happens to contain its few characters.
func containsSecret(value, secret string) bool {
	if len(secret) < 8 {
		return secret != "" && value == secret
	}
	return strings.Contains(value, secret)
}

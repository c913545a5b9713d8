package dynamics

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Cloud names a Microsoft cloud, which decides the authority host.
type Cloud string

// Clouds connform knows. CloudLocal is a loopback org (the emulator), which
// has no well-known authority: its configuration names the endpoints.
const (
	CloudPublic    Cloud = "public"
	CloudUSGov     Cloud = "usgovernment"
	CloudDoD       Cloud = "dod"
	CloudChina     Cloud = "china"
	CloudLocal     Cloud = "local"
	WebAPIPath           = "/api/data/v9.2/"
	OrgServicePath       = "/XRMServices/2011/Organization.svc"
)

// AuthorityHost returns the Entra ID host a cloud signs in at ("" for
// CloudLocal).
func AuthorityHost(c Cloud) string {
	switch c {
	case CloudPublic:
		return "login.microsoftonline.com"
	case CloudUSGov, CloudDoD:
		return "login.microsoftonline.us"
	case CloudChina:
		return "login.chinacloudapi.cn"
	}
	return ""
}

// Org is a normalised organisation URL.
type Org struct {
	// Root is scheme://host[:port] in lower case, no trailing slash.
	Root  string
	Cloud Cloud
}

// OrganizationServiceURL is the SOAP endpoint Simego Data Sync's Dynamics
// connections store.
func (o Org) OrganizationServiceURL() string { return o.Root + OrgServicePath }

// WebAPIURL is the Web API root, with its trailing slash.
func (o Org) WebAPIURL() string { return o.Root + WebAPIPath }

// DelegatedScopes are the scopes an authorization-code sign-in asks for.
func (o Org) DelegatedScopes() []string {
	return []string{o.Root + "/user_impersonation", "offline_access"}
}

// AppScopes are the only scopes Entra accepts for client credentials.
func (o Org) AppScopes() []string { return []string{o.Root + "/.default"} }

// ParseCloud reads a cloud name: the names connform uses ("public",
// "usgovernment", "dod", "china", "local") in any case, and the names Azure
// tools use for the same clouds ("AzureCloud", "AzureUSGovernment",
// "AzureChinaCloud"...).
func ParseCloud(s string) (Cloud, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "public", "azurecloud", "azurepublic", "azurepubliccloud":
		return CloudPublic, nil
	case "usgovernment", "usgov", "gcchigh", "azureusgovernment", "azureusgovernmentcloud":
		return CloudUSGov, nil
	case "dod", "usdod":
		return CloudDoD, nil
	case "china", "azurechina", "azurechinacloud":
		return CloudChina, nil
	case "local":
		return CloudLocal, nil
	}
	return "", fmt.Errorf("unknown cloud %q: use public, usgovernment, dod, china or local", s)
}

// knownSuffixes maps the host suffix of sovereign orgs to their cloud. A
// public org is {org}.crm{N}.dynamics.com (see publicRegion).
var knownSuffixes = []struct {
	suffix string
	cloud  Cloud
}{
	{".crm.microsoftdynamics.us", CloudUSGov},
	{".crm.appsplatform.us", CloudDoD},
	{".crm.dynamics.cn", CloudChina},
}

// ParseOrgURL normalises any form of an org URL a user may paste: the org
// root, the Organization Service endpoint (with or without /web), the Web API
// root, the browser's address of the app (main.aspx or /apps/NAME, with any
// query or fragment), any trailing slash, mixed case and the scheme's default
// port. A bare host of a known Dynamics domain (contoso.crm4.dynamics.com)
// gets https://. Only https is accepted, except on a loopback host (the
// emulator).
func ParseOrgURL(raw string) (Org, error) { return ParseOrgURLInCloud(raw, "") }

// ParseOrgURLInCloud is ParseOrgURL for an org whose cloud the user named.
// The named cloud wins over the one the host suggests, and any https host
// is accepted, not just the known Dynamics suffixes: a custom or future
// domain has no suffix to recognise it by. With cloud "" it is ParseOrgURL.
func ParseOrgURLInCloud(raw string, cloud Cloud) (Org, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Org{}, fmt.Errorf("the URL is empty; give the org URL, such as https://contoso.crm4.dynamics.com")
	}
	s = withScheme(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return Org{}, fmt.Errorf("%q is not a URL; give the org URL, such as https://contoso.crm4.dynamics.com", withoutUserInfo(raw))
	}
	if u.User != nil {
		// Say no more than that: the URL may hold a password.
		return Org{}, fmt.Errorf("%q has credentials in it; give just the org URL, such as https://contoso.crm4.dynamics.com, and never a password in a URL", u.Redacted())
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	loopback := IsLoopbackHost(host)
	switch {
	case scheme == "https":
	case scheme == "http" && loopback:
	default:
		return Org{}, fmt.Errorf("%q must use https (plain http is allowed only on a loopback address such as the emulator's)", raw)
	}
	// A browser page's query and fragment say which app, view or record is
	// open, none of which is part of the org; on an API path they would be
	// a request, not an address, and are refused.
	browser := browserPath(u.Path)
	if !browser && (u.RawQuery != "" || u.Fragment != "") {
		return Org{}, fmt.Errorf("%q has a query or a fragment; give just the org URL", raw)
	}
	if !browser && !knownPath(u.Path) {
		return Org{}, fmt.Errorf("%q has an unexpected path %q; give the org root, the Organization Service endpoint or the Web API root", raw, u.Path)
	}
	org := Org{Cloud: CloudLocal}
	if !loopback {
		h, known := cloudOf(host)
		switch {
		case known != "":
			host, org.Cloud = h, known
		case cloud == "":
			return Org{}, fmt.Errorf("%q is not a Dynamics 365 org host (expected ORG.crm.dynamics.com or ORG.crmN.dynamics.com, ORG.crm.microsoftdynamics.us, ORG.crm.appsplatform.us or ORG.crm.dynamics.cn); set cloud explicitly for another host", raw)
		}
	}
	if cloud != "" {
		org.Cloud = cloud
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	// The default port is no part of the org's identity: a token for
	// https://org.crm.dynamics.com must serve https://org.crm.dynamics.com:443,
	// and the scopes derived from the root must match what Entra knows.
	if p := u.Port(); p != "" && p != defaultPort[scheme] {
		host += ":" + p
	}
	org.Root = scheme + "://" + host
	return org, nil
}

var defaultPort = map[string]string{"https": "443", "http": "80"}

// cloudOf returns an org's host name in lower case without an "api" label
// (the Developer resources page shows ORG.api.crm4.dynamics.com, but tokens
// are for the org root) and its cloud; the cloud is "" when host is not an
// org host.
func cloudOf(host string) (string, Cloud) {
	name := strings.ToLower(host)
	orgPart, cloud := "", Cloud("")
	for _, k := range knownSuffixes {
		if p, ok := strings.CutSuffix(name, k.suffix); ok {
			orgPart, cloud = p, k.cloud
		}
	}
	if cloud == "" {
		rest, ok := strings.CutSuffix(name, ".dynamics.com")
		dot := strings.LastIndexByte(rest, '.')
		if !ok || dot < 0 || !publicRegion(rest[dot+1:]) {
			return "", ""
		}
		orgPart, cloud = rest[:dot], CloudPublic
	}
	org := strings.TrimSuffix(orgPart, ".api")
	if org == "" || orgPart == "api" {
		return "", ""
	}
	return org + name[len(orgPart):], cloud
}

// publicRegion reports whether label is a public-cloud region label: crm
// followed by an optional number (crm, crm2 ... crm17, and any later one).
func publicRegion(label string) bool {
	n, ok := strings.CutPrefix(label, "crm")
	if !ok {
		return false
	}
	for _, r := range n {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// withScheme puts https:// before a pasted address without a scheme whose
// host is a known Dynamics org host; any other string is returned as it is.
// Only known hosts: for another host, "https" would be a guess about what
// the user meant.
func withScheme(s string) string {
	if strings.Contains(s, "://") {
		return s
	}
	host := s
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	// With user info too, so that the credentials are refused as such.
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if _, cloud := cloudOf(host); cloud == "" {
		return s
	}
	return "https://" + s
}

// withoutUserInfo hides whatever comes before an "@" in a string that did
// not parse as a URL: it may be a user name and password.
func withoutUserInfo(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return "xxxxx" + s[i:]
	}
	return s
}

// browserPath reports whether p is a page of the model-driven app as the
// browser's address bar shows it: /main.aspx, or an app opened by its URL
// suffix, /apps/NAME and anything below it.
func browserPath(p string) bool {
	p = strings.ToLower(p)
	if p == "/main.aspx" {
		return true
	}
	name, ok := strings.CutPrefix(p, "/apps/")
	name, _, _ = strings.Cut(name, "/")
	return ok && name != ""
}

func knownPath(p string) bool {
	p = strings.ToLower(strings.TrimRight(p, "/"))
	switch {
	case p == "":
		return true
	case p == strings.ToLower(OrgServicePath), p == strings.ToLower(OrgServicePath)+"/web":
		return true
	case strings.HasPrefix(p, "/api/data"):
		// The root of any Web API version, such as /api/data/v9.1.
		rest := strings.TrimPrefix(p, "/api/data")
		if rest == "" {
			return true
		}
		v, ok := strings.CutPrefix(rest, "/v")
		return ok && v != "" && strings.Trim(v, "0123456789.") == "" && v[0] != '.'
	}
	return false
}

// IsLoopbackHost reports whether host (without port) is localhost or a
// loopback IP address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

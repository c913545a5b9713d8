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

// OrganizationServiceURL is the SOAP endpoint the seed's tool stores.
func (o Org) OrganizationServiceURL() string { return o.Root + OrgServicePath }

// WebAPIURL is the Web API root, with its trailing slash.
func (o Org) WebAPIURL() string { return o.Root + WebAPIPath }

// DelegatedScopes are the scopes an authorization-code sign-in asks for.
func (o Org) DelegatedScopes() []string {
	return []string{o.Root + "/user_impersonation", "offline_access"}
}

// AppScopes are the only scopes Entra accepts for client credentials.
func (o Org) AppScopes() []string { return []string{o.Root + "/.default"} }

// knownSuffixes maps a host suffix to its cloud. Longer suffixes come first
// where one contains another.
var knownSuffixes = []struct {
	suffix string
	cloud  Cloud
}{
	{".crm.microsoftdynamics.us", CloudUSGov},
	{".crm.appsplatform.us", CloudDoD},
	{".crm.dynamics.cn", CloudChina},
	{".dynamics.com", CloudPublic},
}

// ParseOrgURL normalises any form of an org URL a user may paste: the org
// root, the Organization Service endpoint (with or without /web), the Web API
// root, any trailing slash and mixed case. Only https is accepted, except on
// a loopback host (the emulator).
func ParseOrgURL(raw string) (Org, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Org{}, fmt.Errorf("the URL is empty; give the org URL, such as https://contoso.crm4.dynamics.com")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Org{}, fmt.Errorf("%q is not a URL; give the org URL, such as https://contoso.crm4.dynamics.com", raw)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	loopback := IsLoopbackHost(u.Hostname())
	switch {
	case scheme == "https":
	case scheme == "http" && loopback:
	default:
		return Org{}, fmt.Errorf("%q must use https (plain http is allowed only on a loopback address such as the emulator's)", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Org{}, fmt.Errorf("%q has credentials, a query or a fragment; give just the org URL", raw)
	}
	if !knownPath(u.Path) {
		return Org{}, fmt.Errorf("%q has an unexpected path %q; give the org root, the Organization Service endpoint or the Web API root", raw, u.Path)
	}
	org := Org{Root: scheme + "://" + host, Cloud: CloudLocal}
	if !loopback {
		org.Cloud = cloudOf(u.Hostname())
		if org.Cloud == "" {
			return Org{}, fmt.Errorf("%q is not a Dynamics 365 host (expected *.dynamics.com, *.crm.microsoftdynamics.us, *.crm.appsplatform.us or *.crm.dynamics.cn); set cloud explicitly for another host", raw)
		}
	}
	return org, nil
}

func cloudOf(host string) Cloud {
	host = strings.ToLower(host)
	for _, k := range knownSuffixes {
		if strings.HasSuffix(host, k.suffix) {
			return k.cloud
		}
	}
	return ""
}

func knownPath(p string) bool {
	p = strings.ToLower(strings.TrimRight(p, "/"))
	switch {
	case p == "":
		return true
	case p == strings.ToLower(OrgServicePath), p == strings.ToLower(OrgServicePath)+"/web":
		return true
	case strings.HasPrefix(p, "/api/data"):
		rest := strings.TrimPrefix(p, "/api/data")
		return rest == "" || (strings.HasPrefix(rest, "/v") && !strings.Contains(rest[1:], "/"))
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

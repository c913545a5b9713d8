package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// oidcScopes are the scopes that name no resource.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// scopes is a parsed scope parameter: one resource (an org), the
// permissions asked of it, and the OpenID Connect scopes.
type scopes struct {
	org   *org
	perms []string // user_impersonation, .default
	oidc  []string
}

// delegated is the scope string a user token grants: the resource's
// permissions in full; /.default stands for every consented permission,
// which for Dynamics is user_impersonation.
func (s scopes) delegated() string {
	var out []string
	for _, p := range s.perms {
		if p == ".default" {
			p = "user_impersonation"
		}
		full := s.org.URL + "/" + p
		if !slices.Contains(out, full) {
			out = append(out, full)
		}
	}
	return strings.Join(out, " ")
}

// delegatedPerms is the scp claim of a user token.
func (s scopes) delegatedPerms() string {
	return strings.TrimPrefix(strings.ReplaceAll(" "+s.delegated(), " "+s.org.URL+"/", " "), " ")
}

// parseScopes applies Entra's rules: at least one resource scope, all
// resource scopes for one resource, the resource known in the tenant, and
// only permissions the resource exposes.
func (e *Emulator) parseScopes(raw string) (scopes, *entraError) {
	var s scopes
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return s, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
	}
	resources := map[string]bool{}
	var resource string
	var perms []string
	for _, f := range fields {
		lf := strings.ToLower(f)
		if slices.Contains(oidcScopes, lf) {
			if !slices.Contains(s.oidc, lf) {
				s.oidc = append(s.oidc, lf)
			}
			continue
		}
		res, perm := splitScope(f)
		key := strings.TrimSuffix(strings.ToLower(res), "/")
		if !resources[key] {
			resources[key] = true
			resource = res
		}
		perms = append(perms, perm)
	}
	if len(resources) > 1 {
		return s, newErr(http.StatusBadRequest, "invalid_scope", 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", raw)
	}
	if len(resources) == 0 {
		return s, newErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope '%s' names no resource; ask for an org's scope, such as {org}/user_impersonation.", raw)
	}
	if resource == graph {
		return s, newErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid: this emulator serves Dynamics orgs only.", raw)
	}
	s.org = e.orgByResource(resource)
	if s.org == nil {
		return s, newErr(http.StatusBadRequest, "invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenantDomain)
	}
	for _, p := range perms {
		if p != "user_impersonation" && p != ".default" {
			return s, newErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope '%s/%s' is not valid: the resource exposes user_impersonation and .default.", resource, p)
		}
	}
	s.perms = perms
	return s, nil
}

// graph is where Entra sends scopes without a resource URI, such as
// "User.Read".
const graph = "https://graph.microsoft.com"

// splitScope splits "https://org.crm.dynamics.com/user_impersonation" into
// resource and permission. A bare name belongs to Microsoft Graph.
func splitScope(s string) (resource, perm string) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return graph, s
	}
	host, path, _ := strings.Cut(rest, "/")
	return scheme + "://" + host, path
}

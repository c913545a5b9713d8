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
	// dropped are the permissions asked for that the org does not expose,
	// left out of the grant under Options.GrantFewerScopes.
	dropped []string
}

// SetGrantFewerScopes switches Options.GrantFewerScopes while running.
func (e *Emulator) SetGrantFewerScopes(on bool) { e.grantFewer.Store(on) }

// SetRefreshPerResource switches Options.RefreshPerResource while running.
func (e *Emulator) SetRefreshPerResource(on bool) { e.refreshPerResource.Store(on) }

// refreshRefusal is why a refresh for asked may not be had with a refresh
// token granted for granted, under the non-Entra options; nil when it may.
func (e *Emulator) refreshRefusal(granted, asked scopes) *entraError {
	if e.refreshPerResource.Load() && granted.org != asked.org {
		return newErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The refresh token was issued for %s and cannot be used for %s.", granted.org.URL, asked.org.URL)
	}
	if e.grantFewer.Load() && granted.org == asked.org {
		for _, p := range asked.dropped {
			return newErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope '%s/%s' was not granted with the refresh token.", asked.org.URL, p)
		}
	}
	return nil
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
			if e.grantFewer.Load() {
				s.dropped = append(s.dropped, p)
				continue
			}
			return s, newErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope '%s/%s' is not valid: the resource exposes user_impersonation and .default.", resource, p)
		}
	}
	s.perms = slices.DeleteFunc(perms, func(p string) bool { return slices.Contains(s.dropped, p) })
	if len(s.perms) == 0 {
		return s, newErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. None of the scopes '%s' is exposed by %s.", raw, resource)
	}
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

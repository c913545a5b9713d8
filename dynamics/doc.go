// Package dynamics owns what connform knows about Dynamics 365 / Dataverse:
// turning any URL a user pastes into the org root, the endpoints and scopes
// that follow from it, the cloud and authority it signs in at, and the Web
// API client (WhoAmI, EntityDefinitions, record preview).
//
// It never stores tokens: callers pass a bearer token per request.
package dynamics

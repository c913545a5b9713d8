// Package emulator is a local stand-in for Microsoft Entra ID v2 (the
// authorization server) and Dynamics 365 orgs (the Web API), so that every
// connform flow runs offline: in tests, and in `connform demo`.
//
// It imitates the real services closely enough that client code written
// against it works unchanged against Microsoft's: the same endpoint paths,
// the same loopback redirect rules, and the same error shapes (Entra's JSON
// with AADSTS codes, Dynamics' OData errors and WWW-Authenticate challenges).
//
// Deliberate choices where Entra leaves room:
//
//   - PKCE is required for the public client app and optional for
//     confidential apps (Entra's rule for SPAs, applied to native apps so
//     that a client forgetting PKCE fails loudly).
//   - Refresh tokens rotate on every use and the old one stops working at
//     once (AADSTS70008). Entra keeps old ones valid for a while; the strict
//     rule catches a client that does not persist the newest token.
//   - The clock is real time plus whatever Advance added (or Options.Now plus
//     that), so tests can say "an hour later" without sleeping.
//   - Tokens are HS256 JWTs signed with a per-instance key; only the
//     emulator checks the signature.
//
// Tenant id, client ids, secrets and org ids are random per instance; tests
// read them from Info. The tenant holds one user (TestUser) and three apps:
// PublicApp, ConfidentialApp (client credentials, with an application user
// in every org) and NoAppUserApp (client credentials, but Dynamics answers
// 403 because it has no application user).
//
// Each org's Web API authenticates the bearer token first and then routes
// on the first path segment below /api/data/v9.2/ through webAPIRoutes;
// new resources (EntityDefinitions, entity sets) register there from their
// own files.
//
// Each org holds sample metadata (account, businessunit, contact, lead,
// opportunity, systemuser) and rows (27 accounts, 12 contacts, ...) derived
// from the org's name alone, so org1 shows the same rows in every run and
// golden files stay stable. Entity sets answer $select, $top, $filter and
// Prefer: odata.maxpagesize, with two deliberate differences from Dataverse:
// the server page size is 10 (not 5000), so that clients must follow
// @odata.nextLink, and $filter takes only equalities joined by "and"; any
// other query option is a 400, never silently ignored.
//
// Production packages must not import this package; only the `emulator`
// and `demo` commands and tests do.
package emulator

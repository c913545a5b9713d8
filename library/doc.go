// Package library writes the connection library: the folder in which
// Simego Data Sync (Data Sync Studio) keeps one file per connection. connform writes one
// entry per applied connection, either in the tool's own XML form (a
// NAME.dsconn file) or as JSON (NAME.json), and reads such folders back for
// import.
//
// A .dsconn file looks like this:
//
//	<?xml version="1.0" encoding="utf-8"?>
//	<Connection Key="sales" Description="Sales org" DataType="provider type">
//	  <Parameter Name="ServiceUrl" Value="https://contoso.crm4.dynamics.com/XRMServices/2011/Organization.svc" />
//	</Connection>
//
// # Parameters
//
// BuildParams turns a connection's non-secret attributes into parameters.
// The tool's parameter names for its Dynamics provider are unconfirmed
// (REFERENCE.md), so every name can be replaced through the connform block's
// library parameter names. The defaults and their order are
// config.ConnectionSchema's (its LibraryParam column, which the README's
// attribute table shows), followed by token_key as TokenCacheKey: the token
// store key, a reference and not a secret. The url is written as the org's
// Organization Service endpoint, and an empty authentication_method as
// "CustomOAuthApplication".
//
// Empty values are left out. An override with an empty name leaves that
// attribute out; an override for an attribute not in the table (prompt,
// login_hint) adds it after the defaults.
//
// # Secrets
//
// No entry ever holds a secret. The client secret is never a parameter, not
// even an empty one: the data-sync tool gets its token through connform's
// token store (the TokenCacheKey parameter names the entry) or its own sign-in
// prompt. BuildParams drops any attribute or parameter name that looks like a
// secret, and any value equal to the client secret, so that a mistaken
// override cannot write one.
//
// # Files
//
// Writes are atomic (temp file in the same folder, fsync, rename, fsync of the
// folder); entries are 0600 and a folder connform creates is 0700, because an
// entry tells which app and tenant a machine signs in with. Encode is
// deterministic, so the hash recorded in the state at apply time detects a
// hand-edited or deleted entry at plan time (Check).
//
// FileName maps different keys to the same name when they differ only in
// characters a file name cannot hold ("sales dev" and "sales_dev"); the caller
// must reject such collisions.
package library

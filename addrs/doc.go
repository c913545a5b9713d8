// Package addrs owns the addresses of the things connform manages:
// connection.crm, connection.crm["dev"], and what a person may type for
// them. It parses and prints them in one place, so that -target, every
// command that names a connection, the state, plans and library file names
// all agree on one spelling.
//
// It is a top-level package because every layer names resources (config
// gives them, plan and state key by them, apply reports them, the commands
// take them from people) and none of those owns the others. Resource types
// beyond connection are coming (the Entra application, its client secret,
// the Dataverse application user), so an address carries its resource type
// as well as the block name and the optional for_each key.
package addrs

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
// as well as the block name and the optional for_each key, and Types is
// the one registry of resource types: state files, plan files, -target and
// configuration references accept only the types listed there.
//
// Adding a resource type (application, say) touches:
//   - addrs/addrs.go: its ResourceType constant, and an entry in Types;
//   - config: a decoder for its block (as connection.go decodes
//     connection blocks), and evaluation of references to its attributes
//     (load.go's checkRefs refuses them today), recorded as the referring
//     resource's dependencies;
//   - state/model.go: its record list, keyed by the full address as
//     Connections is (checkAddresses holds each list to its own type);
//   - plan: a diff function making its Changes, with DependsOn set from
//     the configuration's references (plan.go calls each type's);
//   - apply/apply.go: its case in runner.check and runner.carryOut.
//
// The order of work needs nothing new: plan.Graph and apply's walk
// (internal/dag) already order changes by DependsOn, delete in reverse,
// and skip a change whose reference failed.
package addrs

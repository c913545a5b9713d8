// Package config owns connform's configuration language: loading the *.hcl
// files of a directory, the schema of every block, variables, locals,
// for_each, functions, validation with source-ranged diagnostics, and fmt.
//
// It never touches the network, the state or the token store: its output is a
// fully evaluated Config whose connections carry every resolved endpoint, so
// that the planner can diff it without knowing anything about HCL.
package config

// Package config owns connform's configuration language: loading the *.hcl
// files of a directory, the schema of every block, variables, locals,
// for_each, functions, validation with source-ranged diagnostics, and fmt.
//
// It never touches the network, the state or the token store: its output is a
// fully evaluated Config whose connections carry every resolved endpoint, so
// that the planner can diff it without knowing anything about HCL.
//
// The design follows Terraform's internal/configs: one decoder per block,
// every problem collected as an hcl.Diagnostic with a Subject range (file
// names relative to the directory, so messages and golden files are stable),
// and evaluation that carries on past errors: a value that failed becomes
// unknown, and whatever depends on it is skipped rather than reported again.
//
// Files: every *.hcl in the directory is configuration, except variable
// files (*.vars.hcl). connform.vars.hcl and *.auto.vars.hcl are loaded
// automatically; other variable files only through -var-file.
//
// Sensitive variables are marked while expressions are evaluated. Only
// client_secret and certificate_password may hold a value derived from one:
// connform keeps every other attribute in clear, so a sensitive value there
// is an error at the attribute, naming the variable. A message about a
// value derived from one says "(sensitive value)" instead, and an
// evaluation error touching one has its detail replaced, since cty's
// function errors quote their arguments.
package config

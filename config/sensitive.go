package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// secretAttrs are the attributes that may hold a sensitive value (see
// SecretAttributes).
var secretAttrs = SecretAttributes()

// Where the values of non-secret attributes go, for the messages.
const (
	storedConnection = "keeps %s, and what it derives from it, in the state and the connection library in clear, and shows it in plans"
	storedSetting    = "shows %s in its output and writes it to the files it keeps, all in clear"
	storedForEach    = "uses for_each's keys as connection addresses, which it writes to the state, plans and the connection library in clear, and passes its values on as each.value"
)

// sensitiveInClear reports that the value of attr, set by expr, derives from
// a sensitive value although connform does not treat attr as a secret. The
// message names what is sensitive, never the value.
func (l *loader) sensitiveInClear(expr hcl.Expression, ctx *hcl.EvalContext, attr, stored string) {
	refs, vars := l.sensitiveSources(expr, ctx)
	from := "a sensitive value"
	if len(refs) > 0 {
		from = strings.Join(refs, " and ")
	}
	fix := "Use sensitive values only in client_secret or certificate_password."
	if len(vars) > 0 {
		decls := make([]string, len(vars))
		names := make([]string, len(vars))
		for i, v := range vars {
			names[i] = "var." + v.Name
			decls[i] = fmt.Sprintf("var.%s (%s)", v.Name, at(v.DeclRange))
		}
		fix += fmt.Sprintf(" If %s is not a secret, remove sensitive = true from the declaration of %s.", strings.Join(names, " or "), strings.Join(decls, " and "))
	}
	what := stored
	if strings.Contains(stored, "%s") {
		what = fmt.Sprintf(stored, attr)
	}
	l.errorf(expr.Range(), "Sensitive value in "+attr, "%s is built from %s. connform %s, so the secret would be stored unprotected. %s", attr, from, what, fix)
}

// sensitiveSources names the references in expr that read a sensitive
// value ("var.secret", "local.key (from var.secret)") and the sensitive
// variables behind them, each once, in the order they appear.
func (l *loader) sensitiveSources(expr hcl.Expression, ctx *hcl.EvalContext) (refs []string, vars []*Variable) {
	seenRef := map[string]bool{}
	seenVar := map[string]bool{}
	addVar := func(v *Variable) {
		if !seenVar[v.Name] {
			seenVar[v.Name] = true
			vars = append(vars, v)
		}
	}
	for _, tr := range expr.Variables() {
		if len(tr) < 2 {
			continue
		}
		attr, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		val, diags := hcl.Traversal{tr[0], attr}.TraverseAbs(ctx)
		if diags.HasErrors() || !val.ContainsMarked() {
			continue
		}
		ref := tr.RootName() + "." + attr.Name
		if seenRef[ref] {
			continue
		}
		seenRef[ref] = true
		switch tr.RootName() {
		case "var":
			if v, ok := l.cfg.Variables[attr.Name]; ok {
				addVar(v)
			}
		case "local":
			behind := l.sensitiveVarsOfLocal(attr.Name, map[string]bool{})
			if len(behind) > 0 {
				names := make([]string, len(behind))
				for i, v := range behind {
					names[i] = "var." + v.Name
					addVar(v)
				}
				ref += " (from " + strings.Join(names, " and ") + ")"
			}
		}
		refs = append(refs, ref)
	}
	return refs, vars
}

// sensitiveVarsOfLocal returns the sensitive variables a local value is
// built from, directly or through other locals, sorted by name.
func (l *loader) sensitiveVarsOfLocal(name string, seen map[string]bool) []*Variable {
	a, ok := l.locals[name]
	if !ok || seen[name] {
		return nil
	}
	seen[name] = true
	found := map[string]*Variable{}
	l.varRefs(a.Expr, seen, func(v *Variable, _ hcl.Range) {
		if v.Sensitive {
			found[v.Name] = v
		}
	})
	out := make([]*Variable, 0, len(found))
	for _, v := range found {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// markSecretSources marks every variable that expr reads, directly or
// through locals, as feeding attr (a secret attribute), so that its value
// never reaches a plan file. A variable not declared sensitive gets a
// warning: its value is a secret all the same.
func (l *loader) markSecretSources(expr hcl.Expression, attr string) {
	l.varRefs(expr, nil, func(v *Variable, ref hcl.Range) {
		if v.feedsSecret {
			return
		}
		v.feedsSecret = true
		if !v.Sensitive {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Secret in a variable not declared sensitive",
				Detail: fmt.Sprintf("var.%s feeds %s, so its value is a secret: connform keeps it out of plan files and output all the same. Add sensitive = true to its declaration (%s) to say so.",
					v.Name, attr, at(v.DeclRange)),
				Subject: ref.Ptr(),
			})
		}
	})
}

// varRefs calls fn for every declared variable expr reads, directly or
// through the locals it reads (each local once per seen).
func (l *loader) varRefs(expr hcl.Expression, seen map[string]bool, fn func(v *Variable, at hcl.Range)) {
	for _, tr := range exprVariables(expr) {
		if len(tr) < 2 {
			continue
		}
		name, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		switch tr.RootName() {
		case "var":
			if v := l.cfg.Variables[name.Name]; v != nil {
				fn(v, tr.SourceRange())
			}
		case "local":
			if a := l.locals[name.Name]; a != nil && !seen[name.Name] {
				if seen == nil {
					// Made only here: nearly every expression reads no local.
					seen = map[string]bool{}
				}
				seen[name.Name] = true
				l.varRefs(a.Expr, seen, fn)
			}
		}
	}
}

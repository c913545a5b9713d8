package config

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func (l *loader) declareLocals(b *hcl.Block) {
	attrs, diags := b.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	for _, a := range list {
		if prev, dup := l.locals[a.Name]; dup {
			l.errorf(a.NameRange, "Duplicate local value", "A local value %q is already defined at %s. Remove or rename one of them.", a.Name, at(prev.Range))
			continue
		}
		l.locals[a.Name] = a
	}
}

// evalLocals evaluates the locals in dependency order. A local that fails,
// or sits on a cycle, becomes unknown so that its users are skipped instead
// of reporting the same problem again.
func (l *loader) evalLocals() {
	names := make([]string, 0, len(l.locals))
	for name := range l.locals {
		names = append(names, name)
	}
	sort.Strings(names)
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(name string, path []string)
	visit = func(name string, path []string) {
		switch state[name] {
		case done:
			return
		case visiting:
			// Report the cycle once, at the local where it was entered.
			start := 0
			for i, p := range path {
				if p == name {
					start = i
				}
			}
			cycle := append(append([]string{}, path[start:]...), name)
			for i := range cycle {
				cycle[i] = "local." + cycle[i]
			}
			a := l.locals[name]
			l.errorf(a.Range, "Cycle in local values", "%s: a local value cannot depend on itself. Break the cycle.", strings.Join(cycle, " → "))
			for _, p := range path[start:] {
				l.localValues[p] = cty.DynamicVal
			}
			return
		}
		state[name] = visiting
		a := l.locals[name]
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() != "local" || len(tr) < 2 {
				continue
			}
			if dep, ok := tr[1].(hcl.TraverseAttr); ok {
				if _, declared := l.locals[dep.Name]; declared {
					visit(dep.Name, append(path, name))
				}
			}
		}
		state[name] = done
		if _, failed := l.localValues[name]; failed {
			return
		}
		l.ctx.Variables["local"] = objectOf(l.localValues)
		val := cty.DynamicVal
		if v, sensitive, ok := l.eval(a.Expr, l.ctx, false, cty.DynamicPseudoType, "local."+name); ok {
			val = markIf(v, sensitive)
		}
		l.localValues[name] = val
	}
	for _, name := range names {
		visit(name, nil)
	}
}

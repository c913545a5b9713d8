package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// constant evaluates an expression that may not refer to anything. An
// expression the parser could not read evaluates to an unknown value with
// no error of its own (the parse error was reported with the file), and an
// unknown value must never reach AsString or True, which panic on it.
func (l *loader) constant(expr hcl.Expression, what string) (cty.Value, bool) {
	val, diags := expr.Value(nil)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if !val.IsWhollyKnown() {
		l.errorUnlessReported(expr.Range(), "Invalid expression", "%s must be a value written out, such as \"text\", true or [\"a\"]; this expression could not be read. Complete or remove it.", what)
		return cty.NilVal, false
	}
	return val, true
}

// errorUnlessReported adds an error at rng unless one is already reported
// on its lines (a syntax error hcl found while parsing, usually), so that one
// mistake gives one message.
func (l *loader) errorUnlessReported(rng hcl.Range, summary, detail string, args ...any) {
	for _, d := range l.diags {
		if d.Severity == hcl.DiagError && d.Subject != nil && d.Subject.Filename == rng.Filename &&
			d.Subject.Start.Line <= rng.End.Line && rng.Start.Line <= d.Subject.End.Line {
			return
		}
	}
	l.errorf(rng, summary, detail, args...)
}

func convertValue(v cty.Value, want cty.Type) (cty.Value, error) {
	if want == cty.DynamicPseudoType {
		return v, nil
	}
	return convert.Convert(v, want)
}

func (l *loader) decodeVariable(b *hcl.Block) {
	name := b.Labels[0]
	if !hclsyntax.ValidIdentifier(name) {
		l.errorf(b.LabelRanges[0], "Invalid variable name", "%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name)
		return
	}
	if prev, dup := l.cfg.Variables[name]; dup {
		l.errorf(b.DefRange, "Duplicate variable", "A variable %q is already declared at %s. Remove or rename one of them.", name, at(prev.DeclRange))
		return
	}
	v := &Variable{Name: name, DeclRange: b.DefRange, typ: cty.DynamicPseudoType}
	l.cfg.Variables[name] = v

	content, diags := b.Body.Content(variableSchema)
	l.diags = append(l.diags, diags...)

	if a, ok := content.Attributes["type"]; ok {
		ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			v.typ, v.defaults, v.typeGiven = ty, defaults, true
		}
	}
	if a, ok := content.Attributes["description"]; ok {
		if val, ok := l.literal(a, cty.String); ok && !val.IsNull() {
			v.Description = val.AsString()
		}
	}
	if a, ok := content.Attributes["sensitive"]; ok {
		if val, ok := l.literal(a, cty.Bool); ok && !val.IsNull() {
			v.Sensitive = val.True()
		} else if !ok {
			// Someone meant to say something here: until it reads, the
			// value is kept out of every message as a secret would be.
			v.Sensitive = true
		}
	}
	if a, ok := content.Attributes["default"]; ok {
		if val, ok := l.constant(a.Expr, "default"); ok {
			l.setVariable(v, val, a.Expr.Range(), "its default")
		} else {
			v.rejected = true
		}
	}
	for _, vb := range content.Blocks {
		vc, diags := vb.Body.Content(validationSchema)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		v.validations = append(v.validations, validation{
			condition:    vc.Attributes["condition"].Expr,
			errorMessage: vc.Attributes["error_message"].Expr,
			rng:          vb.DefRange,
		})
	}
}

// literal evaluates an attribute that must be a constant.
func (l *loader) literal(a *hcl.Attribute, want cty.Type) (cty.Value, bool) {
	val, ok := l.constant(a.Expr, a.Name)
	if !ok {
		return cty.NilVal, false
	}
	cv, err := convert.Convert(val, want)
	if err != nil {
		l.errorf(a.Expr.Range(), "Incorrect value type", "%s must be %s: %s.", a.Name, typeName(want), err)
		return cty.NilVal, false
	}
	return cv, true
}

// setVariable converts a value from one source to the variable's type and,
// when it fits, makes it the variable's value: sources are applied lowest
// precedence first.
func (l *loader) setVariable(v *Variable, val cty.Value, src hcl.Range, from string) {
	if !val.IsWhollyKnown() {
		// Every reader of a variable's value assumes it known; a value
		// that is not must stop here.
		l.errorUnlessReported(src, "Invalid value for variable", "The value for var.%s from %s could not be read; write it out in full.", v.Name, from)
		v.rejected = true
		return
	}
	if v.defaults != nil {
		val = v.defaults.Apply(val)
	}
	cv, err := convertValue(val, v.typ)
	if err != nil {
		// cty's conversion errors describe types, never the value itself.
		l.errorf(src, "Invalid value for variable", "The value for var.%s from %s does not match its type %s: %s.", v.Name, from, typeexpr.TypeString(v.typ), err)
		v.rejected = true
		return
	}
	v.value, v.source, v.from, v.rejected = cv, src, from, false
}

// setVariableText sets a variable from the text of -var, CONNFORM_VAR_name
// or a saved plan: a raw string when the variable is a string (or untyped),
// otherwise an HCL expression, as Terraform reads them.
func (l *loader) setVariableText(v *Variable, text, srcName, from string, literal bool) {
	src := hcl.Range{Filename: srcName, Start: hcl.InitialPos, End: hcl.InitialPos}
	if literal {
		l.setVariable(v, cty.StringVal(text), src, from)
		return
	}
	if diags := checkText([]byte(text), srcName); diags.HasErrors() {
		l.diags = append(l.diags, diags...)
		v.rejected = true
		return
	}
	expr, diags := hclsyntax.ParseExpression([]byte(text), srcName, hcl.InitialPos)
	if !diags.HasErrors() {
		var vd hcl.Diagnostics
		var val cty.Value
		val, vd = expr.Value(nil)
		diags = append(diags, vd...)
		if !diags.HasErrors() {
			l.setVariable(v, val, src, from)
			return
		}
	}
	// One error that names the variable and where its value came from:
	// hcl's own would point at "<value for var.NAME>", a file that is not
	// there.
	v.rejected = true
	why, hint := "", ""
	if !v.Sensitive {
		// hcl's messages may quote the text, which for a sensitive
		// variable is the secret.
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				why = " (" + d.Summary + ": " + strings.TrimSuffix(d.Detail, ".") + ")"
				break
			}
		}
		if hclsyntax.ValidIdentifier(strings.TrimSpace(text)) {
			hint = " A bare word reads as a reference in HCL; quote a string that is part of the value."
		}
	}
	l.errorf(src, "Invalid value for variable", "The value for var.%s from %s is not a valid HCL value of type %s%s. Write it as HCL, e.g. %s.%s", v.Name, from, typeexpr.TypeString(v.typ), why, example(v.typ), hint)
}

// example is a value of type t as a person would write it for -var.
func example(t cty.Type) string {
	switch {
	case t == cty.Number:
		return "42"
	case t == cty.Bool:
		return "true"
	case t.IsMapType() || t.IsObjectType():
		return `{ key = "value" }`
	}
	return `["a", "b"] for a list`
}

func (v *Variable) literalText() bool {
	return !v.typeGiven || v.typ == cty.String
}

func (l *loader) assignVariables() {
	// Environment.
	for _, kv := range l.opts.Env {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvVarPrefix) {
			continue
		}
		name := strings.TrimPrefix(k, EnvVarPrefix)
		if v, declared := l.cfg.Variables[name]; declared {
			l.setVariableText(v, val, "<environment variable "+k+">", "the environment variable "+k, v.literalText())
		}
	}
	for _, name := range l.varFiles[:l.autoVars] {
		l.assignFile(name)
	}
	before := map[string]cty.Value{}
	for name, v := range l.cfg.Variables {
		before[name] = v.value
	}
	for _, a := range l.varArgs {
		if a.File {
			l.assignFile(l.displayName(a.Value))
		} else {
			l.assignVarArg(a.Value)
		}
	}
	// What the command line set, so that it cannot silently lose to a
	// saved plan's value below.
	fromCommandLine := map[string]bool{}
	for name, v := range l.cfg.Variables {
		if v.value != cty.NilVal && (before[name] == cty.NilVal || !v.value.RawEquals(before[name])) {
			fromCommandLine[name] = true
		}
	}
	// Saved plan values.
	names := make([]string, 0, len(l.opts.PlanVars))
	for name := range l.opts.PlanVars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		src := hcl.Range{Filename: "<saved plan>", Start: hcl.InitialPos, End: hcl.InitialPos}
		v, declared := l.cfg.Variables[name]
		if !declared {
			l.errorf(src, "Saved plan sets an undeclared variable", "The saved plan sets var.%s, which the configuration no longer declares. Run connform plan again.", name)
			continue
		}
		if fromCommandLine[name] {
			l.errorf(src, "Variable fixed by the saved plan", "The saved plan was made with its own value of var.%s, and a saved plan runs as it was made: -var and -var-file cannot change it. Run connform plan again with the new value (only sensitive variables, which plan files never hold, are given again when applying).", name)
			continue
		}
		// An untyped variable holding a non-string (from a default or a
		// variable file) was saved as HCL text by PlanVariables.
		literal := v.literalText()
		if !v.typeGiven && v.value != cty.NilVal && v.value.Type() != cty.String {
			literal = false
		}
		l.setVariableText(v, l.opts.PlanVars[name], "<saved plan value for var."+name+">", "the saved plan", literal)
	}

	vnames := make([]string, 0, len(l.cfg.Variables))
	for name := range l.cfg.Variables {
		vnames = append(vnames, name)
	}
	sort.Strings(vnames)
	for _, name := range vnames {
		v := l.cfg.Variables[name]
		if v.value == cty.NilVal {
			if v.rejected || l.lostVarSource {
				// Its value was refused with an error already, or a whole
				// -var-file or -var that may have set it could not be
				// read: "no value" would only repeat that less precisely.
				continue
			}
			l.errorf(v.DeclRange, "No value for required variable", "var.%s has no default and no value: set it with -var '%s=...', a .vars.hcl file or the environment variable %s%s.", name, name, EnvVarPrefix, name)
			continue
		}
		l.validateVariable(v)
	}
}

// assignVarArg applies one -var "name=value".
func (l *loader) assignVarArg(arg string) {
	name, val, ok := strings.Cut(arg, "=")
	src := hcl.Range{Filename: "<-var>", Start: hcl.InitialPos, End: hcl.InitialPos}
	if !ok || name == "" {
		// Not quoted: a mistyped flag may hold a secret.
		l.errorf(src, "Invalid -var option", "A -var option is not of the form name=value. Write it as -var 'name=value'.")
		l.lostVarSource = true
		return
	}
	v, declared := l.cfg.Variables[name]
	if !declared {
		l.errorf(src, "Value for undeclared variable", "-var sets %q, but no variable %q block declares it. Declare it, or correct the name.", name, name)
		return
	}
	l.setVariableText(v, val, "<value for var."+name+">", "-var", v.literalText())
}

func (l *loader) assignFile(name string) {
	seen := len(l.diags)
	f := l.parseFile(name)
	if f == nil || l.diags[seen:].HasErrors() {
		l.lostVarSource = true
	}
	if f == nil {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		l.lostVarSource = true
	}
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	for _, a := range list {
		v, declared := l.cfg.Variables[a.Name]
		if !declared {
			l.errorf(a.NameRange, "Value for undeclared variable", "%s sets %q, but no variable %q block declares it. Declare it, or remove the assignment.", name, a.Name, a.Name)
			continue
		}
		val, ok := l.constant(a.Expr, a.Name)
		if !ok {
			v.rejected = true
			continue
		}
		l.setVariable(v, val, a.Expr.Range(), name)
	}
}

// validateVariable runs the variable's validation rules against its final
// value.
func (l *loader) validateVariable(v *Variable) {
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: markIf(v.value, v.Sensitive)})},
		Functions: l.funcs,
	}
	msgCtx := &hcl.EvalContext{Functions: l.funcs}
	for _, rule := range v.validations {
		refOK := true
		for _, tr := range rule.condition.Variables() {
			if tr.RootName() != "var" || len(tr) < 2 || !isAttr(tr[1], v.Name) {
				l.errorf(tr.SourceRange(), "Invalid reference in variable validation", "A validation condition may refer only to var.%s, the variable it validates.", v.Name)
				refOK = false
			}
		}
		if !refOK {
			continue
		}
		val, diags := rule.condition.Value(ctx)
		if v.Sensitive && diags.HasErrors() {
			diags = redact(diags)
		}
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		val, _ = val.UnmarkDeep()
		val, err := convert.Convert(val, cty.Bool)
		if err != nil || val.IsNull() {
			l.errorf(rule.condition.Range(), "Invalid validation condition", "The condition must be true or false.")
			continue
		}
		if !val.IsKnown() || val.True() {
			continue
		}
		msg := "The value is not valid."
		if len(rule.errorMessage.Variables()) > 0 {
			// Only constants: a message built from the value could leak it.
			l.errorf(rule.errorMessage.Range(), "Invalid error_message", "error_message must be a constant string; it may not refer to variables.")
		} else if m, diags := rule.errorMessage.Value(msgCtx); !diags.HasErrors() && m.Type() == cty.String && m.IsKnown() && !m.IsNull() {
			msg = m.AsString()
		} else {
			l.diags = append(l.diags, diags...)
		}
		subject := rule.condition.Range()
		checked := fmt.Sprintf("This was checked by the validation rule at %s.", at(rule.rng))
		if _, inFile := l.cfg.Files[v.source.Filename]; inFile {
			subject = v.source
		} else if v.from != "" {
			// No line to point at: say where the value came from instead.
			checked = fmt.Sprintf("The value of var.%s came from %s; this was checked by the validation rule at %s.", v.Name, v.from, at(rule.rng))
		}
		l.errorf(subject, "Invalid value for variable", "%s\n\n%s", msg, checked)
	}
}

func isAttr(t hcl.Traverser, name string) bool {
	a, ok := t.(hcl.TraverseAttr)
	return ok && a.Name == name
}

func markIf(v cty.Value, sensitive bool) cty.Value {
	if sensitive {
		return v.Mark(sensitiveMark{})
	}
	return v
}

// varObject is what var.NAME reads; unset variables are unknown so that
// expressions using them are skipped rather than reported twice.
func (l *loader) varObject() cty.Value {
	m := map[string]cty.Value{}
	for name, v := range l.cfg.Variables {
		val := v.value
		if val == cty.NilVal {
			val = cty.UnknownVal(v.typ)
		}
		m[name] = markIf(val, v.Sensitive)
	}
	return objectOf(m)
}

// PlanVariables returns the non-sensitive variables' final values in the
// text form -var accepts, to be saved in a plan file and given back as
// LoadOptions.PlanVars: raw text for string and untyped variables, HCL
// expression text for every other type (so a string in a variable of type
// any is quoted, because -var parses such a variable as HCL).
// Sensitive variables are left out: they must be supplied again. Null values
// are left out too, since the raw text form cannot express them.
func (c *Config) PlanVariables() map[string]string {
	out := map[string]string{}
	for name, v := range c.Variables {
		if v.Sensitive || v.feedsSecret || v.value == cty.NilVal || v.value.IsNull() || !v.value.IsWhollyKnown() {
			continue
		}
		if v.literalText() && v.value.Type() == cty.String {
			out[name] = v.value.AsString()
			continue
		}
		out[name] = string(hclwrite.TokensForValue(v.value).Bytes())
	}
	return out
}

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"connform/addrs"
)

// LoadOptions are the inputs to a configuration besides its directory.
type LoadOptions struct {
	// VarArgs are the -var and -var-file options in command-line order: a
	// later one beats an earlier one, whichever kind each is, as in
	// Terraform.
	VarArgs []VarArg
	// Vars ("name=value") and VarFiles (paths) set variables for callers
	// without a command line. They keep no order between them: they apply
	// as if given on the command line before VarArgs, VarFiles first in
	// their order, then Vars in theirs, so every entry of Vars beats every
	// entry of VarFiles. A command line belongs in VarArgs.
	Vars     []string
	VarFiles []string
	// Env is the environment as os.Environ gives it: CONNFORM_VAR_name=value
	// sets variables, and env("NAME") reads it.
	Env []string
	// PlanVars are non-sensitive variable values restored from a saved plan
	// (see Config.PlanVariables); they beat every other source.
	PlanVars map[string]string
	// AllowEmpty accepts a directory without configuration files as an
	// empty configuration, for commands such as destroy that work from the
	// state. Otherwise such a directory is an error: planning against it
	// would propose to destroy every connection, which is almost always a
	// wrong working directory rather than an intention.
	AllowEmpty bool
}

// VarArg is one -var or -var-file option.
type VarArg struct {
	// File is true for -var-file, whose Value is a path: relative paths
	// are relative to the configuration directory, because the CLI applies
	// -chdir first, as Terraform does. Otherwise Value is -var's
	// "name=value".
	File  bool
	Value string
}

// Suffixes that decide how a *.hcl file in the directory is read.
const (
	varFileSuffix     = ".vars.hcl"
	autoVarFileSuffix = ".auto.vars.hcl"
	// AutoVarFile is loaded as a variable file when present.
	AutoVarFile = "connform.vars.hcl"
	// EnvVarPrefix prefixes environment variables that set input variables.
	EnvVarPrefix = "CONNFORM_VAR_"
)

// DefaultDiagnosticWidth is the line width the CLI should pass to
// WriteDiagnostics for a terminal of unknown width.
const DefaultDiagnosticWidth = 78

// sensitiveMark marks values derived from sensitive variables while
// expressions are evaluated, so that messages can leave them out.
type sensitiveMark struct{}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "connform"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "connection", LabelNames: []string{"name"}},
	},
}

type loader struct {
	dir   string
	opts  LoadOptions
	cfg   *Config
	diags hcl.Diagnostics

	configNames []string // config file names, sorted
	noConfig    bool     // the directory has no config file and that is refused
	varFiles    []string // variable file names, in load order
	autoVars    int      // how many of varFiles are loaded without being named
	// lostVarSource is set when a variables file or -var option could not
	// be read at all, so the variables it was meant to set are unknown.
	lostVarSource bool
	varArgs       []VarArg // the command line's variable options, in order

	locals      map[string]*hcl.Attribute
	localValues map[string]cty.Value
	funcs       map[string]function.Function
	reads       *inputReads // what env() and file() read, for the hash
	ctx         *hcl.EvalContext

	lastEndpoints derivedEndpoints // see endpointsOf
}

// Load reads and evaluates the configuration in dir: every *.hcl file except
// variable files (*.vars.hcl), then the variable values from, lowest to
// highest precedence: defaults, CONNFORM_VAR_name in opts.Env,
// connform.vars.hcl, *.auto.vars.hcl (sorted), the command line
// (opts.VarFiles, opts.Vars, then opts.VarArgs, each in order), then
// opts.PlanVars.
//
// Load reports every problem it finds, not just the first. The Config is
// never nil, so that the caller can print the diagnostics with their source
// lines from Config.Files; it is complete only when diags has no errors.
func Load(dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	l := &loader{
		dir:  dir,
		opts: opts,
		cfg: &Config{
			Dir:       dir,
			Variables: map[string]*Variable{},
			Files:     map[string]*hcl.File{},
		},
		locals:      map[string]*hcl.Attribute{},
		localValues: map[string]cty.Value{},
	}
	for _, p := range opts.VarFiles {
		l.varArgs = append(l.varArgs, VarArg{File: true, Value: p})
	}
	for _, v := range opts.Vars {
		l.varArgs = append(l.varArgs, VarArg{Value: v})
	}
	l.varArgs = append(l.varArgs, opts.VarArgs...)
	l.funcs, l.reads = recordReads(functions(dir, opts.Env))
	l.load()
	return l.cfg, dedupe(l.diags)
}

func (l *loader) load() {
	bodies := l.readDir()
	if l.noConfig || l.diags.HasErrors() {
		// Variables and settings would only add errors about a
		// configuration that is not there, or that the parser had to
		// guess at: after a syntax error its recovery can swallow the
		// next block, which would then be reported as misplaced.
		return
	}

	var settings, conns []*hcl.Block
	var localBlocks []*hcl.Block
	for _, body := range bodies {
		content, diags := body.Content(rootSchema)
		l.diags = append(l.diags, diags...)
		for _, b := range content.Blocks {
			switch b.Type {
			case "connform":
				settings = append(settings, b)
			case "variable":
				l.decodeVariable(b)
			case "locals":
				localBlocks = append(localBlocks, b)
			case "connection":
				conns = append(conns, b)
			}
		}
	}
	for _, b := range localBlocks {
		l.declareLocals(b)
	}

	l.assignVariables()
	l.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": l.varObject(), "local": cty.EmptyObjectVal},
		Functions: l.funcs,
	}
	l.evalLocals()
	l.ctx.Variables["local"] = objectOf(l.localValues)

	l.decodeSettings(settings)
	l.decodeConnections(conns)
	sort.Slice(l.cfg.Connections, func(i, j int) bool {
		return l.cfg.Connections[i].Addr < l.cfg.Connections[j].Addr
	})
	l.checkLibraryFiles()
	l.cfg.Hash = l.hash()
	l.cfg.reads = l.reads
}

// readDir parses the configuration files and returns their bodies. Variable
// files found here are remembered for assignVariables.
func (l *loader) readDir() []hcl.Body {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the configuration directory",
			Detail:   fmt.Sprintf("%v. Run connform in the directory that holds your *.hcl files, or point -chdir at it.", err),
			Subject:  &hcl.Range{Filename: l.dir},
		})
		return nil
	}
	var autoVars []string
	hasDefaultVars := false
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".hcl") || strings.HasPrefix(name, ".") {
			continue
		}
		switch {
		case name == AutoVarFile:
			hasDefaultVars = true
		case strings.HasSuffix(name, autoVarFileSuffix):
			autoVars = append(autoVars, name)
		case strings.HasSuffix(name, varFileSuffix):
			// Loaded only when named by -var-file.
		default:
			l.configNames = append(l.configNames, name)
		}
	}
	if len(l.configNames) == 0 && !l.opts.AllowEmpty {
		l.noConfig = true
		where := l.dir
		if abs, err := filepath.Abs(l.dir); err == nil {
			where = abs
		}
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail: fmt.Sprintf("%s holds no connform configuration files (*.hcl; *.vars.hcl files only set variables), so there is no configuration to work with. "+
				"Run connform in the directory with your .hcl files (cd there, or use -chdir=DIR). To remove every connection the state holds, run connform destroy.", where),
			Subject: &hcl.Range{Filename: l.dir},
		})
		return nil
	}
	sort.Strings(l.configNames)
	sort.Strings(autoVars)
	if hasDefaultVars {
		l.varFiles = append(l.varFiles, AutoVarFile)
	}
	l.varFiles = append(l.varFiles, autoVars...)
	l.autoVars = len(l.varFiles)
	for _, a := range l.varArgs {
		if a.File {
			l.varFiles = append(l.varFiles, l.displayName(a.Value))
		}
	}

	// Parsing is most of the time a large configuration takes, and files
	// parse independently.
	type parsed struct {
		f     *hcl.File
		diags hcl.Diagnostics
	}
	results := make([]parsed, len(l.configNames))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, name := range l.configNames {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f, diags := l.readFile(name)
			results[i] = parsed{f, diags}
		}()
	}
	wg.Wait()
	var bodies []hcl.Body
	for i, r := range results {
		l.diags = append(l.diags, r.diags...)
		if r.f != nil {
			l.cfg.Files[l.configNames[i]] = r.f
			bodies = append(bodies, r.f.Body)
		}
	}
	return bodies
}

// displayName is how a -var-file path appears in diagnostics and in Files:
// relative to the directory when it lies inside it.
func (l *loader) displayName(p string) string {
	if !filepath.IsAbs(p) {
		return filepath.ToSlash(filepath.Clean(p))
	}
	if absDir, err := filepath.Abs(l.dir); err == nil {
		if rel, err := filepath.Rel(absDir, p); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return p
}

func (l *loader) fullPath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(l.dir, filepath.FromSlash(name))
}

// parseFile reads and parses one file under its display name and records
// it in Files. It returns nil when the file cannot be read; a file with
// syntax errors is still returned, since hcl recovers enough of it to report
// further problems.
func (l *loader) parseFile(name string) *hcl.File {
	f, diags := l.readFile(name)
	l.diags = append(l.diags, diags...)
	if f != nil {
		l.cfg.Files[name] = f
	}
	return f
}

// readFile touches no loader state, so files can be read concurrently.
func (l *loader) readFile(name string) (*hcl.File, hcl.Diagnostics) {
	src, diags := readSource(l.fullPath(name), name)
	if diags.HasErrors() {
		return nil, diags
	}
	return hclsyntax.ParseConfig(src, name, hcl.InitialPos)
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (l *loader) errorf(subject hcl.Range, summary, detail string, args ...any) {
	s := subject
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  &s,
	})
}

// at renders a range as file:line for messages that point at a second place.
func at(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

// checkRefs reports references to things that do not exist, with messages
// that say what to declare; hcl's own would only say "unsupported
// attribute". It returns false when the expression should not be evaluated.
func (l *loader) checkRefs(expr hcl.Expression, allowEach bool) bool {
	ok := true
	for _, tr := range exprVariables(expr) {
		root := tr.RootName()
		var attr string
		if len(tr) > 1 {
			if a, isAttr := tr[1].(hcl.TraverseAttr); isAttr {
				attr = a.Name
			}
		}
		rng := tr.SourceRange()
		switch root {
		case "var":
			if attr == "" {
				l.errorf(rng, "Invalid reference", "Refer to an input variable as var.NAME.")
				ok = false
			} else if _, found := l.cfg.Variables[attr]; !found {
				l.errorf(rng, "Reference to undeclared input variable", "No variable %q is declared. Declare it with a variable %q {} block, or correct the name.", attr, attr)
				ok = false
			}
		case "local":
			if attr == "" {
				l.errorf(rng, "Invalid reference", "Refer to a local value as local.NAME.")
				ok = false
			} else if _, found := l.locals[attr]; !found {
				l.errorf(rng, "Reference to undeclared local value", "No local value %q is declared. Declare it in a locals {} block, or correct the name.", attr)
				ok = false
			}
		case "each":
			switch {
			case !allowEach:
				l.errorf(rng, "Reference to each outside for_each", "each.key and each.value exist only inside a connection block that sets for_each.")
				ok = false
			case attr != "key" && attr != "value":
				l.errorf(rng, "Invalid each reference", "Use each.key or each.value.")
				ok = false
			}
		default:
			if addrs.Known(addrs.ResourceType(root)) {
				// The seam for references between resources (an
				// application's client_id in a connection): the plan and
				// apply already order work by them (plan.Change.DependsOn);
				// evaluating one needs a resource type that has
				// attributes to refer to.
				l.errorf(rng, "Reference to another resource", "%s.%s is another resource: connection blocks cannot refer to other resources yet. Use a variable or a local value instead.", root, attr)
				ok = false
				continue
			}
			l.errorf(rng, "Unknown reference", "%q is not something connform knows; refer to var.NAME, local.NAME, or each.key / each.value inside for_each.", root)
			ok = false
		}
	}
	return ok
}

// exprVariables is expr.Variables() without its walk for the expressions
// most attributes are: a literal, a quoted string without interpolation, a
// reference, or a reference in "${...}". hcl's walk allocates for every
// node it visits, and a large configuration has 100,000 such attributes.
func exprVariables(expr hcl.Expression) []hcl.Traversal {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return nil
	case *hclsyntax.ScopeTraversalExpr:
		return []hcl.Traversal{e.Traversal}
	case *hclsyntax.TemplateWrapExpr:
		return exprVariables(e.Wrapped)
	case *hclsyntax.TemplateExpr:
		literal := true
		for _, p := range e.Parts {
			_, ok := p.(*hclsyntax.LiteralValueExpr)
			literal = literal && ok
		}
		if literal {
			return nil
		}
	}
	return expr.Variables()
}

// eval checks and evaluates expr and converts it to want. ok is false when
// it failed (already reported) or depends on something that failed.
// sensitive says whether the value came from a sensitive variable; the value
// returned is unmarked.
func (l *loader) eval(expr hcl.Expression, ctx *hcl.EvalContext, allowEach bool, want cty.Type, what string) (val cty.Value, sensitive, ok bool) {
	if !l.checkRefs(expr, allowEach) {
		return cty.NilVal, false, false
	}
	val, diags := expr.Value(ctx)
	if diags.HasErrors() && touchesSensitive(expr, ctx) {
		diags = redact(diags)
	}
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false, false
	}
	// Unmarking walks and copies the value: only a marked one needs it,
	// and a string or other primitive (every client_secret) carries its
	// marks on itself, which Unmark removes without UnmarkDeep's walk.
	if sensitive = val.ContainsMarked(); sensitive {
		if val.Type().IsPrimitiveType() {
			val, _ = val.Unmark()
		} else {
			val, _ = val.UnmarkDeep()
		}
	}
	if !val.IsWhollyKnown() {
		return cty.NilVal, sensitive, false
	}
	cv, err := convertValue(val, want)
	if err != nil {
		l.errorf(expr.Range(), "Incorrect value type", "%s must be %s: %s.", what, typeName(want), err)
		return cty.NilVal, sensitive, false
	}
	return cv, sensitive, true
}

// touchesSensitive reports whether expr reads a sensitive value.
func touchesSensitive(expr hcl.Expression, ctx *hcl.EvalContext) bool {
	for _, tr := range expr.Variables() {
		v, diags := tr.TraverseAbs(ctx)
		if !diags.HasErrors() && v.ContainsMarked() {
			return true
		}
	}
	return false
}

// redact replaces the details of evaluation errors that involve a sensitive
// value: cty's function errors quote their arguments ("cannot convert
// \"...\" to number"), and a secret may have been transformed on the way,
// so there is no reliable way to cut just the value out.
func redact(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		c.Detail = "The details are hidden because this expression uses a sensitive value. Check the expression and the type of the values it uses."
		c.Expression, c.EvalContext = nil, nil
		out[i] = &c
	}
	return out
}

func typeName(t cty.Type) string {
	switch {
	case t == cty.String:
		return "a string"
	case t == cty.Bool:
		return "a bool (true or false)"
	case t == cty.Number:
		return "a number"
	case t.Equals(cty.List(cty.String)):
		return `a list of strings, such as ["a", "b"]`
	case t.Equals(cty.Map(cty.String)):
		return `a map of strings, such as { key = "value" }`
	}
	return t.FriendlyNameForConstraint()
}

func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// dedupe drops repeated diagnostics, which for_each produces when every
// instance trips over the same literal.
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		sev             hcl.DiagnosticSeverity
		summary, detail string
		subject         hcl.Range
	}
	seen := map[key]bool{}
	out := diags[:0:0]
	for _, d := range diags {
		k := key{sev: d.Severity, summary: d.Summary, detail: d.Detail}
		if d.Subject != nil {
			k.subject = *d.Subject
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}

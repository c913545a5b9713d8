package library

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"connform/config"
	"connform/dynamics"
	"connform/internal/safetext"
)

// ImportOptions are the inputs of Import.
type ImportOptions struct {
	// Dir is the library folder read; OutDir the folder the configuration
	// is written to (library_path is made relative to it).
	Dir, OutDir string
	// Names maps a connform attribute to the parameter name entries keep it
	// under, for the attributes whose names are not the defaults
	// (ImportParameterNames checks them).
	Names map[string]string
	// DataType is the library_data_type of a configuration that named one:
	// entries of that type are Dynamics entries too.
	DataType string
}

// ImportResult is a library folder turned into configuration.
type ImportResult struct {
	// Source is the generated configuration, and Config what it loads to:
	// derived attributes (endpoints, scopes) are exactly what plan will see.
	Source []byte
	Config *config.Config
	// SecretVars are the sensitive variables the configuration reads client
	// secrets from, which the user must set.
	SecretVars []string
	// Entries gives, by connection name, the entry file as plan will name
	// it (relative to OutDir) and the digest of its content.
	Entries map[string]ImportedEntry
	// Warnings are what the user should know, one sentence each: entries
	// skipped, parameters without an attribute, secrets left behind.
	Warnings []string
	// Learned says which parameter names and DataType were learned from
	// which entry ("learned from DIR/x.dsconn: url is Url; DataType T"),
	// for the user to review: the configuration now depends on them.
	Learned []string
}

// ImportedEntry is where one imported connection's entry lies.
type ImportedEntry struct{ Path, Hash string }

// importedConn is one library entry on its way to a connection block.
type importedConn struct {
	name  string
	path  string            // the entry file as read
	attrs map[string]string // connform attribute → value, as configured
	// libraryPath is the entry file as plan will name it (relative to the
	// configuration folder), and hash its content's digest.
	libraryPath, hash string
	// secret is whether the entry held a client secret: the app is then a
	// confidential one, and the configuration reads its secret from a
	// variable.
	secret bool
	// dataType is the entry's DataType.
	dataType string
}

type importer struct {
	opt       ImportOptions
	conns     []*importedConn
	byName    map[string]*importedConn
	formats   map[string]int
	dataTypes map[string]int
	// names maps a connform attribute to its parameter name, byParam a
	// lower-cased parameter name back to its attribute, and overrides holds
	// the names that are not the defaults, for library_parameter_names.
	names, byParam, overrides map[string]string
	warnings                  []string
	// taught holds, by entry path in taughtOrder, the parameter names
	// learned from that entry.
	taught      map[string][]string
	taughtOrder []string
}

// Import reads every entry of a library folder and turns the Dynamics ones
// into connection blocks. Nothing is written: the caller writes Source and
// a state from Config and Entries. An entry that is a Dynamics connection
// but cannot be imported (its URL, client id or method unreadable) stops the
// import with an error naming the entry and what is missing, so that no
// connection is lost quietly; the warnings found until then come with it.
func Import(opt ImportOptions) (*ImportResult, error) {
	entries, paths, err := ReadDir(opt.Dir)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", opt.Dir, err)
	}
	imp := newImporter(opt)
	if problems := imp.learn(entries, paths); len(problems) > 0 {
		return &ImportResult{}, fmt.Errorf("import %s: nothing was written: %s", opt.Dir, strings.Join(problems, "; "))
	}
	// An entry of a Dynamics DataType without the URL parameter is one whose
	// parameter names differ from those connform reads: importing the rest
	// without it would lose a connection quietly, so nothing is written.
	dynamicsTypes := map[string]bool{config.DefaultLibraryDataType: true, opt.DataType: true}
	for _, e := range entries {
		if imp.urlOf(e) != "" {
			dynamicsTypes[e.DataType] = true
		}
	}
	delete(dynamicsTypes, "")
	var problems []string
	for i, e := range entries {
		if imp.urlOf(e) == "" {
			if dynamicsTypes[e.DataType] {
				problems = append(problems, imp.unreadable(e, paths[i]))
				continue
			}
			imp.warnf("skipping %s: not a Dynamics connection (DataType %q, and no %s parameter)", paths[i], e.DataType, imp.names["url"])
			continue
		}
		if problem := imp.add(e, paths[i]); problem != "" {
			problems = append(problems, problem)
		}
	}
	if len(problems) > 0 {
		return &ImportResult{Warnings: imp.warnings}, fmt.Errorf("import %s: nothing was written: %s", opt.Dir, strings.Join(problems, "; "))
	}
	if len(imp.conns) == 0 {
		return &ImportResult{Warnings: imp.warnings}, fmt.Errorf("import %s: no Dynamics connection entry (.dsconn or .json with a %s parameter) in the folder; if the entries name the org URL otherwise, import again with -param url=NAME", opt.Dir, imp.names["url"])
	}

	if dt := imp.dataType(); len(imp.dataTypes) > 1 {
		// One library_data_type serves every entry: apply would rewrite the
		// others with it, which the user should hear before it happens.
		for _, ic := range imp.conns {
			if ic.dataType != dt {
				imp.warnf("%s has DataType %q, the other entries %q: library_data_type holds one, so connform apply will rewrite this entry with %q; import it from a folder of its own to keep its DataType", ic.path, ic.dataType, dt, dt)
			}
		}
	}

	// Load what was generated, as plan will: anything connform would reject
	// is caught before a file is written, and named by its entry.
	src := imp.hcl()
	cfg, diags := loadGenerated(src, imp.secretVars())
	if diags.HasErrors() {
		return &ImportResult{Warnings: imp.warnings}, fmt.Errorf("import %s: nothing was written: %s", opt.Dir, imp.explain(src, diags))
	}
	res := &ImportResult{Source: src, Config: cfg, SecretVars: imp.secretVars(), Entries: map[string]ImportedEntry{}, Warnings: imp.warnings}
	res.Learned = imp.learnedLines(imp.learnedDataType())
	for _, ic := range imp.conns {
		res.Entries[ic.name] = ImportedEntry{Path: ic.libraryPath, Hash: ic.hash}
	}
	return res, nil
}

func newImporter(opt ImportOptions) *importer {
	imp := &importer{opt: opt, byName: map[string]*importedConn{},
		formats: map[string]int{}, dataTypes: map[string]int{},
		names: maps.Clone(DefaultParameterNames), byParam: map[string]string{}, overrides: map[string]string{}}
	for attr, name := range opt.Names {
		imp.names[attr] = name
		if DefaultParameterNames[attr] != name {
			imp.overrides[attr] = name
		}
	}
	for attr, name := range imp.names {
		imp.byParam[strings.ToLower(name)] = attr
	}
	return imp
}

func (imp *importer) warnf(format string, args ...any) {
	imp.warnings = append(imp.warnings, fmt.Sprintf(format, args...))
}

// urlOf is the entry's org URL parameter, "" when it has none.
func (imp *importer) urlOf(e Entry) string {
	for _, p := range e.Params {
		if imp.byParam[strings.ToLower(p.Name)] == "url" && p.Value != "" {
			return p.Value
		}
	}
	return ""
}

// unreadable says why a Dynamics entry without the URL parameter cannot be
// imported, and which -param would read it.
func (imp *importer) unreadable(e Entry, path string) string {
	why := fmt.Sprintf("%s has the Dynamics DataType but no %s parameter", path, imp.names["url"])
	for _, p := range e.Params {
		if _, err := dynamics.ParseOrgURL(p.Value); err == nil && !LooksSecret(p.Name) {
			name := safetext.Line(p.Name, safetext.FieldMax)
			return fmt.Sprintf("%s; its org URL is in the parameter %s: import again with -param url=%s (and -param ATTRIBUTE=NAME for any other renamed parameter)", why, name, name)
		}
	}
	return why + " and no parameter holds an org URL: import again with -param url=NAME naming the parameter that does, or move the entry out of the folder"
}

// add takes one entry with a URL parameter. It returns why the entry cannot
// be imported, "" when it was; an entry that is only odd is skipped with a
// warning.
func (imp *importer) add(e Entry, path string) string {
	attrs := map[string]string{}
	var unknown []string
	var secrets []Param
	for _, p := range e.Params {
		attr, ok := imp.byParam[strings.ToLower(p.Name)]
		switch {
		case LooksSecret(p.Name):
			if p.Value != "" {
				secrets = append(secrets, p)
			}
		case !ok:
			unknown = append(unknown, p.Name)
		case attr == TokenKeyAttribute:
			// A reference into some token store: connform keys its own.
		default:
			attrs[attr] = p.Value
		}
	}
	org, err := dynamics.ParseOrgURL(attrs["url"])
	if err != nil {
		// A Dynamics entry whose org connform cannot reach is refused like
		// one it cannot sign in to: skipping it would leave a folder of
		// such entries "without a Dynamics entry".
		return fmt.Sprintf("%s has a %s connform refuses: %s; correct it in the entry, or move the entry out of the folder", path, imp.names["url"], err)
	}
	attrs["url"] = org.Root
	method := attrs["authentication_method"]
	if method == DefaultAuthenticationMethod || method == config.MethodOAuth {
		delete(attrs, "authentication_method")
		method = ""
	}
	if method != "" && !config.IsNativeMethod(method) {
		return fmt.Sprintf("%s has %s %q, a sign-in connform does not perform: it imports entries of the OAuth app (%s %q) and of the Entra-native methods %s; move the entry out of the folder, or change its %s",
			path, imp.names["authentication_method"], method, imp.names["authentication_method"], DefaultAuthenticationMethod, strings.Join(config.NativeMethods(), ", "), imp.names["authentication_method"])
	}
	if attrs["client_id"] == "" && config.ClientIDRequired(method) {
		return fmt.Sprintf("%s has no %s parameter: the app's client id (the application id of its Entra app registration) is needed to sign in; add it to the entry, or import again with -param client_id=NAME if the entry keeps it under another name", path, imp.names["client_id"])
	}
	if e.Description != "" {
		attrs["description"] = e.Description
	}
	name := Identifier(e.Key)
	if prev, dup := imp.byName[name]; dup {
		imp.warnf("skipping %s: its key %q gives the connection name %q, already taken by %s", path, e.Key, name, prev.path)
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		imp.warnf("skipping %s: %s", path, err)
		return ""
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	ic := &importedConn{name: name, path: path, dataType: e.DataType, attrs: attrs, libraryPath: filepath.Join(imp.libraryDir(), filepath.Base(path)), hash: Hash(data)}
	for _, p := range secrets {
		ic.secret = ic.secret || isClientSecret(p.Name)
	}
	if config.IsNativeMethod(method) {
		// Such a connection cannot take a client secret.
		ic.secret = false
	}
	imp.conns = append(imp.conns, ic)
	imp.byName[name] = ic
	imp.formats[format]++
	imp.dataTypes[e.DataType]++
	for _, p := range secrets {
		imp.warnings = append(imp.warnings, secretWarning(path, p, ic))
	}
	if len(unknown) > 0 {
		// apply rewrites the entry from the configuration, so these would
		// be lost then: say so now, while the file is intact.
		what := "parameter " + unknown[0] + " has"
		if len(unknown) > 1 {
			what = "parameters " + strings.Join(unknown, ", ") + " have"
		}
		imp.warnf("%s: %s no connform attribute; connform apply will rewrite the entry without them (if one holds a connform attribute under another name, import again with -param ATTRIBUTE=%s)",
			path, what, unknown[0])
	}
	return ""
}

// learnedDataType is the DataType the configuration names when it is not
// the default nor the one a configuration here gave, and the first entry
// that has it; "" otherwise.
func (imp *importer) learnedDataType() (dataType, from string) {
	dt := imp.dataType()
	if dt == "" || dt == config.DefaultLibraryDataType || dt == imp.opt.DataType {
		return "", ""
	}
	for _, ic := range imp.conns {
		if ic.dataType == dt && (from == "" || ic.path < from) {
			from = ic.path
		}
	}
	return dt, from
}

// dataType is the DataType most imported entries have.
func (imp *importer) dataType() string { return mostCommon(imp.dataTypes) }

// explain names the entry behind each error of the generated
// configuration: the error is the entry's content, not connform's.
func (imp *importer) explain(src []byte, diags hcl.Diagnostics) string {
	f, _ := hclsyntax.ParseConfig(src, "imported.hcl", hcl.InitialPos)
	var out []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		what := d.Summary
		if d.Detail != "" {
			what += ": " + d.Detail
		}
		if ic := imp.blockAt(f, d.Subject); ic != nil {
			out = append(out, fmt.Sprintf("%s gives a connection connform refuses (%s); correct the entry or move it out of the folder", ic.path, what))
			continue
		}
		out = append(out, what)
	}
	return strings.Join(out, "; ")
}

// blockAt returns the imported connection whose block holds rng.
func (imp *importer) blockAt(f *hcl.File, rng *hcl.Range) *importedConn {
	if f == nil || rng == nil {
		return nil
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	for _, b := range body.Blocks {
		if b.Type == "connection" && len(b.Labels) == 1 && b.Range().ContainsPos(rng.Start) {
			return imp.byName[b.Labels[0]]
		}
	}
	return nil
}

// isClientSecret tells a client secret from the other secrets an entry
// might hold (a password, a token).
func isClientSecret(param string) bool {
	return strings.Contains(strings.ToLower(param), "secret")
}

// secretWarning is what import says about a secret it found in an entry:
// that it stays out of the configuration, where the secret goes instead,
// and that it should be rotated, since it sat in a file.
func secretWarning(path string, p Param, ic *importedConn) string {
	if isClientSecret(p.Name) && ic.secret {
		v := ic.name + "_client_secret"
		return fmt.Sprintf("%s holds a client secret in plaintext (parameter %s); connform will not copy it: the configuration sets client_secret from the sensitive variable %s (set CONNFORM_VAR_%s, -var or a .vars.hcl file). After connform apply rewrites the entry without it, consider rotating the secret, since it sat in a file.", path, p.Name, v, v)
	}
	return fmt.Sprintf("%s holds a secret in plaintext (parameter %s); connform will not copy it and has no attribute for it. After connform apply rewrites the entry without it, consider rotating it, since it sat in a file.", path, p.Name)
}

// ImportParameterNames checks the parameter names import is to read: base
// (a configuration's library_parameter_names) with params (-param
// ATTRIBUTE=PARAMETER, in order) on top. Each attribute needs a parameter
// of its own, and none may look like a secret.
func ImportParameterNames(base map[string]string, params []string) (map[string]string, error) {
	names := maps.Clone(base)
	if names == nil {
		names = map[string]string{}
	}
	readable := append(config.ImportAttributes(), TokenKeyAttribute)
	for _, p := range params {
		attr, name, ok := strings.Cut(p, "=")
		attr, name = strings.TrimSpace(attr), strings.TrimSpace(name)
		if !ok || attr == "" || name == "" {
			return nil, fmt.Errorf("-param %q: write ATTRIBUTE=PARAMETER, e.g. -param url=Url", p)
		}
		if LooksSecret(attr) || LooksSecret(name) {
			return nil, fmt.Errorf("-param %s: parameter %s for %s looks like a secret: connform never reads a secret from a library or writes one into it; set client_secret from a sensitive variable instead", p, name, attr)
		}
		if !slices.Contains(readable, attr) {
			return nil, fmt.Errorf("-param %s: %q is not a connform attribute import reads; use one of %s", p, attr, strings.Join(readable, ", "))
		}
		names[attr] = name
	}
	byName := map[string]string{}
	for _, attr := range slices.Sorted(maps.Keys(names)) {
		name := names[attr]
		if LooksSecret(attr) || LooksSecret(name) {
			return nil, fmt.Errorf("library_parameter_names in this folder's configuration gives %s the parameter %s, which looks like a secret: connform never reads a secret from a library or writes one into it; remove that entry", attr, name)
		}
		byName[strings.ToLower(name)] = attr
	}
	// A name given to one attribute may be another's default: that one must
	// move too, or the two would read the same parameter.
	for attr, def := range DefaultParameterNames {
		if _, moved := names[attr]; moved {
			continue
		}
		if other, taken := byName[strings.ToLower(def)]; taken && other != attr {
			return nil, fmt.Errorf("parameter %s is given to %s, but it is also the default name of %s: give %s another name too (-param %s=NAME)", def, other, attr, attr, attr)
		}
	}
	seen := map[string]string{}
	for _, attr := range slices.Sorted(maps.Keys(names)) {
		key := strings.ToLower(names[attr])
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("parameter %s is given to both %s and %s: each attribute needs its own parameter", names[attr], prev, attr)
		}
		seen[key] = attr
	}
	return names, nil
}

// libraryDir is the library folder as the configuration will name it:
// relative to the configuration folder when possible.
func (imp *importer) libraryDir() string {
	absDir, err1 := filepath.Abs(imp.opt.Dir)
	absOut, err2 := filepath.Abs(imp.opt.OutDir)
	if err1 == nil && err2 == nil {
		if rel, err := filepath.Rel(absOut, absDir); err == nil {
			return rel
		}
		return absDir
	}
	return imp.opt.Dir
}

func (imp *importer) secretVars() []string {
	var vars []string
	for _, ic := range imp.conns {
		if ic.needsSecret() {
			vars = append(vars, ic.name+"_client_secret")
		}
	}
	return vars
}

// needsSecret is whether the connection's configuration reads a client
// secret: an app-only one always does, another when its entry held one.
func (ic *importedConn) needsSecret() bool {
	return ic.attrs["grant_type"] == config.GrantClientCredentials || ic.secret
}

// isDefault reports the attribute values config derives or assumes when
// absent; writing them would only pin them (scopes that no longer follow
// url).
func isDefault(attr, value, url string) bool {
	org, _ := dynamics.ParseOrgURL(url)
	switch attr {
	case "redirect":
		return value == config.DefaultRedirect
	case "prompt":
		return value == config.DefaultPrompt
	case "grant_type":
		return value == config.GrantAuthorizationCode
	case "scopes":
		return slices.Equal(strings.Fields(value), org.DelegatedScopes()) || slices.Equal(strings.Fields(value), org.AppScopes())
	}
	return false
}

// hcl renders the configuration: a connform block naming the imported
// folder, then one connection block per entry in name order, attributes in
// schema order.
func (imp *importer) hcl() []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	sort.Slice(imp.conns, func(i, j int) bool { return imp.conns[i].name < imp.conns[j].name })

	for _, v := range imp.secretVars() {
		vb := body.AppendNewBlock("variable", []string{v}).Body()
		vb.SetAttributeTraversal("type", hcl.Traversal{hcl.TraverseRoot{Name: "string"}})
		vb.SetAttributeValue("sensitive", cty.True)
		body.AppendNewline()
	}

	cb := body.AppendNewBlock("connform", nil).Body()
	cb.SetAttributeValue("library_path", cty.StringVal(filepath.ToSlash(imp.libraryDir())))
	cb.SetAttributeValue("library_format", cty.StringVal(mostCommon(imp.formats)))
	if dt := imp.dataType(); dt != "" && dt != config.DefaultLibraryDataType {
		cb.SetAttributeValue("library_data_type", cty.StringVal(dt))
	}
	if len(imp.overrides) > 0 {
		// apply then writes the entries with the names they were read by.
		m := map[string]cty.Value{}
		for attr, name := range imp.overrides {
			m[attr] = cty.StringVal(name)
		}
		cb.SetAttributeValue("library_parameter_names", cty.MapVal(m))
	}

	for _, ic := range imp.conns {
		body.AppendNewline()
		b := body.AppendNewBlock("connection", []string{ic.name}).Body()
		for _, attr := range config.ImportAttributes() {
			v := ic.attrs[attr]
			if v == "" || isDefault(attr, v, ic.attrs["url"]) {
				continue
			}
			if attr == "scopes" {
				var vals []cty.Value
				for _, s := range strings.Fields(v) {
					vals = append(vals, cty.StringVal(s))
				}
				b.SetAttributeValue(attr, cty.ListVal(vals))
				continue
			}
			b.SetAttributeValue(attr, cty.StringVal(v))
			if attr == "grant_type" && ic.needsSecret() {
				b.SetAttributeTraversal("client_secret", hcl.Traversal{hcl.TraverseRoot{Name: "var"}, hcl.TraverseAttr{Name: ic.name + "_client_secret"}})
			}
		}
		if ic.needsSecret() && (ic.attrs["grant_type"] == "" || isDefault("grant_type", ic.attrs["grant_type"], ic.attrs["url"])) {
			// No grant_type line to follow: the secret goes last.
			b.SetAttributeTraversal("client_secret", hcl.Traversal{hcl.TraverseRoot{Name: "var"}, hcl.TraverseAttr{Name: ic.name + "_client_secret"}})
		}
	}
	return hclwrite.Format(f.Bytes())
}

// mostCommon returns the key with the highest count (the first in order on
// a tie), so that a folder of .dsconn files keeps that format.
func mostCommon(m map[string]int) string {
	best, n := "", -1
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > n {
			best, n = k, m[k]
		}
	}
	return best
}

// Identifier turns an entry key into a connection name: characters a name
// cannot hold become '_', and a name must start with a letter.
func Identifier(key string) string {
	var b strings.Builder
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || !hclsyntax.ValidIdentifier(s) || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		s = "c_" + s
	}
	return s
}

// loadGenerated loads src alone, in a scratch folder, with placeholder
// values for the secret variables (only the secrets' presence matters).
func loadGenerated(src []byte, secretVars []string) (*config.Config, hcl.Diagnostics) {
	tmp, err := os.MkdirTemp("", "connform-import-")
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot check the generated configuration", Detail: err.Error()}}
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "imported.hcl"), src, 0o600); err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot check the generated configuration", Detail: err.Error()}}
	}
	var vars []string
	for _, v := range secretVars {
		vars = append(vars, v+"=placeholder-for-import")
	}
	cfg, diags := config.Load(tmp, config.LoadOptions{Vars: vars})
	return cfg, diags
}

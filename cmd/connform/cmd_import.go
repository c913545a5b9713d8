package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	"connform/library"
	"connform/plan"
	"connform/state"
)

// cmdImport moves a hand-kept connection library into connform: one
// connection block per Dynamics entry, and a state that records each as
// existing, with its entry file, so that the next plan shows no creation,
// only the sign-in each needs (there are no tokens yet).
func (c *cli) cmdImport(_ context.Context, args []string) error {
	const usage = "connform import [-out FILE] [-param ATTRIBUTE=PARAMETER]... DIR"
	fset := c.flags("import")
	out := fset.String("out", "imported.hcl", "the configuration file to write; the state goes beside it")
	var params stringList
	fset.Var(&params, "param", "read connform attribute ATTRIBUTE from the entries' parameter PARAMETER, e.g. -param url=Url (repeatable); written into library_parameter_names")
	dir, err := c.parseConnArgs(fset, nil, args, usage)
	if err != nil {
		if strings.HasPrefix(err.Error(), "no connection named") {
			return fmt.Errorf("no library folder named; usage: %s", usage)
		}
		return err
	}
	outDir := filepath.Dir(*out)
	statePath := filepath.Join(outDir, config.DefaultStatePath)
	for _, p := range []string{*out, statePath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s already exists; import writes a new configuration and state: choose another -out folder, or move the file away", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checking %s: %w", p, err)
		}
	}

	names, dataType, err := c.importParameterNames(params)
	if err != nil {
		return err
	}
	entries, paths, err := library.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("import %s: %w", dir, err)
	}
	imp := newImporter(dir, outDir, names)
	warn := c.io.Paint("yellow", "Warning:")
	// An entry of a Dynamics DataType without the URL parameter is one whose
	// parameter names differ from those connform reads: importing the rest
	// without it would lose a connection quietly, so nothing is written.
	dynamicsTypes := map[string]bool{config.DefaultLibraryDataType: true}
	for _, e := range entries {
		if imp.urlOf(e) != "" {
			dynamicsTypes[e.DataType] = true
		}
	}
	dynamicsTypes[dataType] = true
	delete(dynamicsTypes, "")
	var unread []string
	for i, e := range entries {
		if imp.urlOf(e) == "" {
			if dynamicsTypes[e.DataType] {
				unread = append(unread, imp.unreadable(e, paths[i]))
				continue
			}
			fmt.Fprintf(c.io.ErrOut, "%s skipping %s: not a Dynamics connection (DataType %q, and no %s parameter)\n", warn, paths[i], e.DataType, imp.names["url"])
			continue
		}
		res := imp.add(e, paths[i])
		if res.skip != "" {
			fmt.Fprintf(c.io.ErrOut, "%s skipping %s: %s\n", warn, paths[i], res.skip)
			continue
		}
		for _, p := range res.secrets {
			fmt.Fprintf(c.io.ErrOut, "%s %s\n", warn, secretWarning(paths[i], p, imp.byName[res.name]))
		}
		if len(res.unknown) > 0 {
			// apply rewrites the entry from the configuration, so these
			// would be lost then: say so now, while the file is intact.
			what := "parameter " + res.unknown[0] + " has"
			if len(res.unknown) > 1 {
				what = "parameters " + strings.Join(res.unknown, ", ") + " have"
			}
			fmt.Fprintf(c.io.ErrOut, "%s %s: %s no connform attribute; connform apply will rewrite the entry without them (if one holds a connform attribute under another name, import again with -param ATTRIBUTE=%s)\n",
				warn, paths[i], what, res.unknown[0])
		}
	}
	if len(unread) > 0 {
		return fmt.Errorf("import %s: nothing was written: %s", dir, strings.Join(unread, "; "))
	}
	if len(imp.conns) == 0 {
		return fmt.Errorf("import %s: no Dynamics connection entry (.dsconn or .json with a %s parameter) in the folder; if the entries name the org URL otherwise, import again with -param url=NAME", dir, imp.names["url"])
	}

	// Load what was generated, as plan will: derived attributes (endpoints,
	// scopes) then match what the configuration evaluates to exactly, and
	// anything connform would reject is caught before a file is written.
	src := imp.hcl()
	cfg, err := loadGenerated(src, imp.secretVars())
	if err != nil {
		return fmt.Errorf("import %s: the generated configuration does not load (a bug in connform): %w", dir, err)
	}
	st := state.New(version)
	for _, conn := range cfg.Connections {
		ic := imp.byName[conn.Name]
		org, err := dynamics.ParseOrgURL(conn.URL)
		if err != nil {
			return fmt.Errorf("%s: %w", conn.Addr, err)
		}
		st.Connections = append(st.Connections, &state.Connection{
			Addr: conn.Addr, Name: conn.Name,
			Attributes:             conn.Attributes(),
			TokenKey:               plan.TokenKey(conn),
			OrganizationServiceURL: org.OrganizationServiceURL(),
			WebAPIURL:              org.WebAPIURL(),
			LibraryPath:            ic.libraryPath,
			LibraryHash:            ic.hash,
		})
	}

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", outDir, err)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if _, err := f.Write(src); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := state.NewLocal(statePath).Write(st); err != nil {
		return fmt.Errorf("%w; %s was written, remove it before trying again", err, *out)
	}
	fmt.Fprintf(c.io.ErrOut, "Imported %s from %s into %s and %s.\n", count(len(st.Connections), "connection"), dir, *out, statePath)
	if vars := imp.secretVars(); len(vars) > 0 {
		fmt.Fprintf(c.io.ErrOut, "The configuration reads client secrets from sensitive variables, never from the library: set %s (-var, a .vars.hcl file or CONNFORM_VAR_name) before plan.\n", strings.Join(vars, ", "))
	}
	fmt.Fprintln(c.io.ErrOut, "Run connform plan: nothing is created, and each connection needs a sign-in, since the token store has no token for it yet.")
	return nil
}

// importedConn is one library entry on its way to a connection block.
type importedConn struct {
	name  string
	attrs map[string]string // connform attribute → value, as configured
	// libraryPath is the entry file as plan will name it (relative to the
	// configuration folder), and hash its content's digest.
	libraryPath, hash string
	// secret is whether the entry held a client secret: the app is then a
	// confidential one, and the configuration reads its secret from a
	// variable.
	secret bool
}

type importer struct {
	dir, outDir string
	conns       []*importedConn
	byName      map[string]*importedConn
	formats     map[string]int
	dataTypes   map[string]int
	// names maps a connform attribute to its parameter name, byParam a
	// lower-cased parameter name back to its attribute, and overrides holds
	// the names that are not the defaults, for library_parameter_names.
	names, byParam, overrides map[string]string
}

func newImporter(dir, outDir string, overrides map[string]string) *importer {
	imp := &importer{dir: dir, outDir: outDir, byName: map[string]*importedConn{},
		formats: map[string]int{}, dataTypes: map[string]int{},
		names: map[string]string{}, byParam: map[string]string{}, overrides: map[string]string{}}
	for attr, name := range library.DefaultParameterNames {
		imp.names[attr] = name
	}
	for attr, name := range overrides {
		imp.names[attr] = name
		if library.DefaultParameterNames[attr] != name {
			imp.overrides[attr] = name
		}
	}
	for attr, name := range imp.names {
		imp.byParam[strings.ToLower(name)] = attr
	}
	return imp
}

// urlOf is the entry's org URL parameter, "" when it has none.
func (imp *importer) urlOf(e library.Entry) string {
	for _, p := range e.Params {
		if imp.byParam[strings.ToLower(p.Name)] == "url" && p.Value != "" {
			return p.Value
		}
	}
	return ""
}

// unreadable says why a Dynamics entry without the URL parameter cannot be
// imported, and which -param would read it.
func (imp *importer) unreadable(e library.Entry, path string) string {
	why := fmt.Sprintf("%s has the Dynamics DataType but no %s parameter", path, imp.names["url"])
	for _, p := range e.Params {
		if _, err := dynamics.ParseOrgURL(p.Value); err == nil && !library.LooksSecret(p.Name) {
			return fmt.Sprintf("%s; its org URL is in the parameter %s: import again with -param url=%s (and -param ATTRIBUTE=NAME for any other renamed parameter)", why, p.Name, p.Name)
		}
	}
	return why + " and no parameter holds an org URL: import again with -param url=NAME naming the parameter that does, or move the entry out of the folder"
}

// added is what add made of one entry.
type added struct {
	skip    string          // why the entry was left out, "" when imported
	name    string          // the connection name
	unknown []string        // parameters with no connform attribute
	secrets []library.Param // parameters holding a secret, never copied
}

// add takes one entry with a URL parameter, or says why it was left out.
func (imp *importer) add(e library.Entry, path string) added {
	attrs := map[string]string{}
	var res added
	for _, p := range e.Params {
		attr, ok := imp.byParam[strings.ToLower(p.Name)]
		switch {
		case library.LooksSecret(p.Name):
			if p.Value != "" {
				res.secrets = append(res.secrets, p)
			}
		case !ok:
			res.unknown = append(res.unknown, p.Name)
		case attr == library.TokenKeyAttribute:
			// A reference into some token store: connform keys its own.
		default:
			attrs[attr] = p.Value
		}
	}
	org, err := dynamics.ParseOrgURL(attrs["url"])
	if err != nil {
		return added{skip: err.Error()}
	}
	attrs["url"] = org.Root
	if attrs["authentication_method"] == library.DefaultAuthenticationMethod {
		delete(attrs, "authentication_method")
	}
	if e.Description != "" {
		attrs["description"] = e.Description
	}
	name := identifier(e.Key)
	if prev, dup := imp.byName[name]; dup {
		return added{skip: fmt.Sprintf("its key %q gives the connection name %q, already taken by %s", e.Key, name, prev.libraryPath)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return added{skip: err.Error()}
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	ic := &importedConn{name: name, attrs: attrs, libraryPath: filepath.Join(imp.libraryDir(), filepath.Base(path)), hash: library.Hash(data)}
	for _, p := range res.secrets {
		ic.secret = ic.secret || isClientSecret(p.Name)
	}
	if config.IsNativeMethod(attrs["authentication_method"]) {
		// Such a connection cannot take a client secret.
		ic.secret = false
	}
	imp.conns = append(imp.conns, ic)
	imp.byName[name] = ic
	imp.formats[format]++
	imp.dataTypes[e.DataType]++
	res.name = name
	return res
}

// isClientSecret tells a client secret from the other secrets an entry
// might hold (a password, a token).
func isClientSecret(param string) bool {
	return strings.Contains(strings.ToLower(param), "secret")
}

// secretWarning is what import says about a secret it found in an entry:
// that it stays out of the configuration, where the secret goes instead,
// and that it should be rotated, since it sat in a file.
func secretWarning(path string, p library.Param, ic *importedConn) string {
	if isClientSecret(p.Name) && ic.secret {
		v := ic.name + "_client_secret"
		return fmt.Sprintf("%s holds a client secret in plaintext (parameter %s); connform will not copy it: the configuration sets client_secret from the sensitive variable %s (set CONNFORM_VAR_%s, -var or a .vars.hcl file). After connform apply rewrites the entry without it, consider rotating the secret, since it sat in a file.", path, p.Name, v, v)
	}
	return fmt.Sprintf("%s holds a secret in plaintext (parameter %s); connform will not copy it and has no attribute for it. After connform apply rewrites the entry without it, consider rotating it, since it sat in a file.", path, p.Name)
}

// importParameterNames gives the parameter names import reads: the
// defaults, then library_parameter_names of a configuration in the current
// folder, then -param. It also returns that configuration's
// library_data_type, "" when there is none.
func (c *cli) importParameterNames(params []string) (map[string]string, string, error) {
	names := map[string]string{}
	var dataType string
	// Only the connform block matters here: a configuration that lacks a
	// variable or has another error still names its parameters.
	if cfg, _ := config.Load(".", config.LoadOptions{Env: c.env}); cfg != nil && len(cfg.Files) > 0 {
		var used []string
		for _, attr := range sortedKeys(cfg.Settings.LibraryParameterNames) {
			names[attr] = cfg.Settings.LibraryParameterNames[attr]
			used = append(used, attr+"="+names[attr])
		}
		if len(used) > 0 {
			fmt.Fprintf(c.io.ErrOut, "Reading parameter names from library_parameter_names of the configuration in this folder: %s (-param overrides them).\n", strings.Join(used, ", "))
		}
		if cfg.Settings.LibraryDataType != config.DefaultLibraryDataType {
			dataType = cfg.Settings.LibraryDataType
		}
	}
	for _, p := range params {
		attr, name, ok := strings.Cut(p, "=")
		attr, name = strings.TrimSpace(attr), strings.TrimSpace(name)
		if !ok || attr == "" || name == "" {
			return nil, "", fmt.Errorf("-param %q: write ATTRIBUTE=PARAMETER, e.g. -param url=Url", p)
		}
		if library.LooksSecret(attr) || library.LooksSecret(name) {
			return nil, "", fmt.Errorf("-param %s: parameter %s for %s looks like a secret: connform never reads a secret from a library or writes one into it; set client_secret from a sensitive variable instead", p, name, attr)
		}
		if !slices.Contains(attrOrder, attr) && attr != library.TokenKeyAttribute {
			return nil, "", fmt.Errorf("-param %s: %q is not a connform attribute import reads; use one of %s", p, attr, strings.Join(append(slices.Clone(attrOrder), library.TokenKeyAttribute), ", "))
		}
		names[attr] = name
	}
	byName := map[string]string{}
	for _, attr := range sortedKeys(names) {
		name := names[attr]
		if library.LooksSecret(attr) || library.LooksSecret(name) {
			return nil, "", fmt.Errorf("library_parameter_names in this folder's configuration gives %s the parameter %s, which looks like a secret: connform never reads a secret from a library or writes one into it; remove that entry", attr, name)
		}
		byName[strings.ToLower(name)] = attr
	}
	// A name given to one attribute may be another's default: that one must
	// move too, or the two would read the same parameter.
	for attr, def := range library.DefaultParameterNames {
		if _, moved := names[attr]; moved {
			continue
		}
		if other, taken := byName[strings.ToLower(def)]; taken && other != attr {
			return nil, "", fmt.Errorf("parameter %s is given to %s, but it is also the default name of %s: give %s another name too (-param %s=NAME)", def, other, attr, attr, attr)
		}
	}
	seen := map[string]string{}
	for _, attr := range sortedKeys(names) {
		key := strings.ToLower(names[attr])
		if prev, dup := seen[key]; dup {
			return nil, "", fmt.Errorf("parameter %s is given to both %s and %s: each attribute needs its own parameter", names[attr], prev, attr)
		}
		seen[key] = attr
	}
	return names, dataType, nil
}

// libraryDir is the library folder as the configuration will name it:
// relative to the configuration folder when possible.
func (imp *importer) libraryDir() string {
	absDir, err1 := filepath.Abs(imp.dir)
	absOut, err2 := filepath.Abs(imp.outDir)
	if err1 == nil && err2 == nil {
		if rel, err := filepath.Rel(absOut, absDir); err == nil {
			return rel
		}
		return absDir
	}
	return imp.dir
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

// defaults are the attribute values config derives or assumes when absent;
// writing them would only pin them (scopes that no longer follow url).
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

// attrOrder is the order attributes are written in a block: the schema's.
var attrOrder = config.ImportAttributes()

// hcl renders the configuration: a connform block naming the imported
// folder, then one connection block per entry in name order.
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
	if dt := mostCommon(imp.dataTypes); dt != "" && dt != config.DefaultLibraryDataType {
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
		for _, attr := range attrOrder {
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
	for _, k := range sortedKeys(m) {
		if m[k] > n {
			best, n = k, m[k]
		}
	}
	return best
}

// identifier turns an entry key into a connection name: characters a name
// cannot hold become '_', and a name must start with a letter.
func identifier(key string) string {
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
func loadGenerated(src []byte, secretVars []string) (*config.Config, error) {
	tmp, err := os.MkdirTemp("", "connform-import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "imported.hcl"), src, 0o600); err != nil {
		return nil, err
	}
	var vars []string
	for _, v := range secretVars {
		vars = append(vars, v+"=placeholder-for-import")
	}
	cfg, diags := config.Load(tmp, config.LoadOptions{Vars: vars})
	if diags.HasErrors() {
		return nil, diags
	}
	return cfg, nil
}

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
	const usage = "connform import [-out FILE] DIR"
	fset := c.flags("import")
	out := fset.String("out", "imported.hcl", "the configuration file to write; the state goes beside it")
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

	entries, paths, err := library.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("import %s: %w", dir, err)
	}
	imp := newImporter(dir, outDir)
	for i, e := range entries {
		why, unknown := imp.add(e, paths[i])
		if why != "" {
			fmt.Fprintf(c.io.ErrOut, "%s skipping %s: %s\n", c.io.Paint("yellow", "Warning:"), paths[i], why)
			continue
		}
		if len(unknown) > 0 {
			// apply rewrites the entry from the configuration, so these
			// would be lost then: say so now, while the file is intact.
			fmt.Fprintf(c.io.ErrOut, "%s %s: parameter(s) %s have no connform attribute; connform apply will rewrite the entry without them (map them with library_parameter_names to keep them)\n",
				c.io.Paint("yellow", "Warning:"), paths[i], strings.Join(unknown, ", "))
		}
	}
	if len(imp.conns) == 0 {
		return fmt.Errorf("import %s: no Dynamics connection entry (.dsconn or .json with a %s parameter) in the folder", dir, library.DefaultParameterNames["url"])
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
	fmt.Fprintf(c.io.ErrOut, "Imported %d connection(s) from %s into %s and %s.\n", len(st.Connections), dir, *out, statePath)
	if vars := imp.secretVars(); len(vars) > 0 {
		fmt.Fprintf(c.io.ErrOut, "Client secrets are not in a library: set %s (-var, a .vars.hcl file or CONNFORM_VAR_name).\n", strings.Join(vars, ", "))
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
}

type importer struct {
	dir, outDir string
	conns       []*importedConn
	byName      map[string]*importedConn
	formats     map[string]int
	dataTypes   map[string]int
	// byParam maps a lower-cased parameter name to its connform attribute.
	byParam map[string]string
}

func newImporter(dir, outDir string) *importer {
	imp := &importer{dir: dir, outDir: outDir, byName: map[string]*importedConn{},
		formats: map[string]int{}, dataTypes: map[string]int{}, byParam: map[string]string{}}
	for attr, name := range library.DefaultParameterNames {
		imp.byParam[strings.ToLower(name)] = attr
	}
	return imp
}

// add takes one entry, or says why it was left out. It also returns the
// parameters that have no connform attribute.
func (imp *importer) add(e library.Entry, path string) (skip string, unknown []string) {
	attrs := map[string]string{}
	for _, p := range e.Params {
		attr, ok := imp.byParam[strings.ToLower(p.Name)]
		switch {
		case !ok:
			unknown = append(unknown, p.Name)
		case attr == library.TokenKeyAttribute:
			// A reference into some token store: connform keys its own.
		default:
			attrs[attr] = p.Value
		}
	}
	if attrs["url"] == "" {
		return "no " + library.DefaultParameterNames["url"] + " parameter: not a Dynamics connection", nil
	}
	org, err := dynamics.ParseOrgURL(attrs["url"])
	if err != nil {
		return err.Error(), nil
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
		return fmt.Sprintf("its key %q gives the connection name %q, already taken by %s", e.Key, name, prev.libraryPath), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error(), nil
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	ic := &importedConn{name: name, attrs: attrs, libraryPath: filepath.Join(imp.libraryDir(), filepath.Base(path)), hash: library.Hash(data)}
	imp.conns = append(imp.conns, ic)
	imp.byName[name] = ic
	imp.formats[format]++
	imp.dataTypes[e.DataType]++
	return "", unknown
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
		if ic.attrs["grant_type"] == config.GrantClientCredentials {
			vars = append(vars, ic.name+"_client_secret")
		}
	}
	return vars
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

// attrOrder is the order attributes are written in a block: the org, the
// app, its endpoints, then how to sign in.
var attrOrder = []string{
	"url", "tenant_id", "client_id", "authorization_url", "token_url", "grant_type",
	"redirect", "scopes", "prompt", "login_hint", "entity", "description", "authentication_method",
}

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
			if attr == "grant_type" && v == config.GrantClientCredentials {
				b.SetAttributeTraversal("client_secret", hcl.Traversal{hcl.TraverseRoot{Name: "var"}, hcl.TraverseAttr{Name: ic.name + "_client_secret"}})
			}
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

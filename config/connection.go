package config

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"connform/addrs"
	"connform/dynamics"
)

var settingsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "state_path"},
		{Name: "library_path"},
		{Name: "library_format"},
		{Name: "library_data_type"},
		{Name: "library_parameter_names"},
		{Name: "token_store"},
	},
}

// stringAttrs are the connection's string attributes, evaluated in schema
// order; scopes, the one list, is evaluated after them.
var stringAttrs = attributeNames(func(a Attribute) bool { return a.Type == cty.String })

var connectionSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "for_each"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "lifecycle"}},
	}
	for _, a := range ConnectionSchema {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
	}
	return s
}()

var lifecycleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "prevent_destroy"}},
}

var (
	validPrompts = []string{"login", "none", "consent", "select_account"}
	validClouds  = []string{string(dynamics.CloudPublic), string(dynamics.CloudUSGov), string(dynamics.CloudDoD), string(dynamics.CloudChina)}
	validGrants  = []string{GrantAuthorizationCode, GrantDeviceCode, GrantClientCredentials}
	validFormats = []string{LibraryFormatDSConn, LibraryFormatJSON}
	// Token stores a configuration may ask for; memory is for tests and
	// CONNFORM_TOKEN_STORE only.
	validTokenStores = []string{"auto", "keyring", "file", "plaintext"}
)

func (l *loader) decodeSettings(blocks []*hcl.Block) {
	s := &l.cfg.Settings
	s.StatePath = DefaultStatePath
	s.LibraryPath = DefaultLibraryPath
	s.LibraryFormat = DefaultLibraryFormat
	s.LibraryDataType = DefaultLibraryDataType
	s.TokenStore = "auto"
	if len(blocks) == 0 {
		return
	}
	for _, b := range blocks[1:] {
		l.errorf(b.DefRange, "Duplicate connform block", "A connform block is already declared at %s. Merge them into one.", at(blocks[0].DefRange))
	}
	b := blocks[0]
	s.DeclRange = b.DefRange
	content, diags := b.Body.Content(settingsSchema)
	l.diags = append(l.diags, diags...)
	str := func(name string, dst *string) {
		a, ok := content.Attributes[name]
		if !ok {
			return
		}
		if v, sensitive, ok := l.eval(a.Expr, l.ctx, false, cty.String, name); ok && !v.IsNull() {
			if sensitive {
				l.sensitiveInClear(a.Expr, l.ctx, name, storedSetting)
				return
			}
			if v.AsString() == "" {
				l.errorf(a.Expr.Range(), "Empty "+name, "%s must not be empty; remove it to use the default %q.", name, *dst)
				return
			}
			*dst = v.AsString()
		}
	}
	str("state_path", &s.StatePath)
	str("library_path", &s.LibraryPath)
	str("library_format", &s.LibraryFormat)
	str("library_data_type", &s.LibraryDataType)
	str("token_store", &s.TokenStore)
	if a, ok := content.Attributes["token_store"]; ok {
		s.TokenStoreRange = a.Expr.Range()
		if !contains(validTokenStores, s.TokenStore) {
			l.errorf(a.Expr.Range(), "Invalid token_store", "token_store must be %s; got %q. \"auto\" (the default) uses the OS keyring where one answers, else an encrypted file; \"plaintext\" writes tokens unencrypted and is for machines with no other way.", oneOf(validTokenStores), s.TokenStore)
		}
	}
	if a, ok := content.Attributes["library_format"]; ok && !contains(validFormats, s.LibraryFormat) {
		l.errorf(a.Expr.Range(), "Invalid library_format", "library_format must be %s; got %q.", oneOf(validFormats), s.LibraryFormat)
	}
	if a, ok := content.Attributes["library_parameter_names"]; ok {
		if v, sensitive, ok := l.eval(a.Expr, l.ctx, false, cty.Map(cty.String), "library_parameter_names"); sensitive {
			l.sensitiveInClear(a.Expr, l.ctx, "library_parameter_names", storedSetting)
		} else if ok && !v.IsNull() {
			s.LibraryParameterNames = map[string]string{}
			nameable := LibraryNameable()
			for k, e := range v.AsValueMap() {
				if !contains(nameable, k) {
					// A misspelt attribute would otherwise rename nothing,
					// silently.
					l.errorf(a.Expr.Range(), "Invalid library_parameter_names", "%q is not an attribute a library entry carries; library_parameter_names renames %s.", k, strings.Join(nameable, ", "))
					continue
				}
				if e.IsNull() || e.AsString() == "" {
					l.errorf(a.Expr.Range(), "Invalid library_parameter_names", "The parameter name for %q is empty; give a name or remove the entry.", k)
					continue
				}
				s.LibraryParameterNames[k] = e.AsString()
			}
		}
	}
}

func (l *loader) decodeConnections(blocks []*hcl.Block) {
	first := map[string]*hcl.Block{}
	for _, b := range blocks {
		name := b.Labels[0]
		if !addrs.ValidName(name) {
			l.errorf(b.LabelRanges[0], "Invalid connection name", "%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name)
			continue
		}
		if prev, dup := first[name]; dup {
			l.errorf(b.DefRange, "Duplicate connection", "A connection %q is already declared at %s. Rename one of them: names are unique across all files.", name, at(prev.DefRange))
			continue
		}
		first[name] = b
		l.decodeConnection(b)
	}
}

func (l *loader) decodeConnection(b *hcl.Block) {
	name := b.Labels[0]
	attrs, plain := plainAttrs(b.Body)
	var blocks hcl.Blocks
	if !plain {
		content, diags := b.Body.Content(connectionSchema)
		l.diags = append(l.diags, diags...)
		attrs, blocks = blockAttrs{content: content.Attributes}, content.Blocks
	}

	preventDestroy := false
	for i, lb := range blocks {
		if i > 0 {
			l.errorf(lb.DefRange, "Duplicate lifecycle block", "connection.%s already has a lifecycle block at %s. Merge them into one.", name, at(blocks[0].DefRange))
			continue
		}
		lc, diags := lb.Body.Content(lifecycleSchema)
		l.diags = append(l.diags, diags...)
		if a, ok := lc.Attributes["prevent_destroy"]; ok {
			if v, _, ok := l.eval(a.Expr, l.ctx, false, cty.Bool, "prevent_destroy"); ok && !v.IsNull() {
				preventDestroy = v.True()
			}
		}
	}

	fe, hasForEach := attrs.expr("for_each")
	if !hasForEach {
		l.instance(name, "", false, attrs, l.ctx, b, preventDestroy)
		return
	}
	v, sensitive, ok := l.eval(fe, l.ctx, false, cty.DynamicPseudoType, "for_each")
	if !ok {
		return
	}
	if sensitive {
		// Refused whole, as Terraform does: each.value would otherwise carry
		// the secret into attributes unmarked.
		l.sensitiveInClear(fe, l.ctx, "for_each", storedForEach)
		return
	}
	if v.IsNull() {
		l.errorf(fe.Range(), "Invalid for_each argument", "for_each is null; give a map, or a set of strings.")
		return
	}
	ty := v.Type()
	var keys []string
	vals := map[string]cty.Value{}
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			keys = append(keys, k.AsString())
			vals[k.AsString()] = e
		}
	case ty.IsSetType():
		sv, err := convertValue(v, cty.Set(cty.String))
		if err != nil {
			l.errorf(fe.Range(), "Invalid for_each argument", "for_each must be a map, or a set of strings; this set holds %s.", ty.ElementType().FriendlyName())
			return
		}
		for it := sv.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				l.errorf(fe.Range(), "Invalid for_each argument", "for_each's set contains null; remove it.")
				return
			}
			keys = append(keys, e.AsString())
			vals[e.AsString()] = e
		}
	default:
		hint := ""
		if ty.IsListType() || ty.IsTupleType() {
			hint = " Convert a list with toset(...)."
		}
		l.errorf(fe.Range(), "Invalid for_each argument", "for_each must be a map, or a set of strings; got %s.%s", ty.FriendlyName(), hint)
		return
	}
	for _, k := range keys {
		if k == "" {
			// An empty key would give the instance the block's own address
			// and library entry name.
			l.errorf(fe.Range(), "Invalid for_each argument", "for_each has an empty key; every key names an instance (connection.%s[\"KEY\"]) and its library entry, so give it a name.", name)
			continue
		}
		ctx := l.ctx.NewChild()
		ctx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{
			"key":   cty.StringVal(k),
			"value": vals[k],
		})}
		l.instance(name, k, true, attrs, ctx, b, preventDestroy)
	}
}

// blockAttrs are a connection block's attributes: the parser's own map
// when the block passed plainAttrs, else what hcl's schema decoding
// returned. Either way nothing is copied per attribute.
type blockAttrs struct {
	syntax  hclsyntax.Attributes
	content hcl.Attributes
}

func (a blockAttrs) expr(name string) (hcl.Expression, bool) {
	if a.syntax != nil {
		if at, ok := a.syntax[name]; ok {
			return at.Expr, true
		}
		return nil, false
	}
	if at, ok := a.content[name]; ok {
		return at.Expr, true
	}
	return nil, false
}

// connectionAttrs are the attribute names connectionSchema accepts.
var connectionAttrs = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range connectionSchema.Attributes {
		m[a.Name] = true
	}
	return m
}()

// plainAttrs returns a block body's attributes straight from the parser
// when hcl's Content(connectionSchema) would have nothing to say about
// it: native syntax, no nested block, every attribute known, every
// required one present. That is nearly every block, and Content copies
// each attribute and builds two maps per block, which a configuration of
// 10,000 connections pays 10,000 times. Any other body goes through
// Content, for its diagnostics.
func plainAttrs(body hcl.Body) (blockAttrs, bool) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok || len(sb.Blocks) > 0 {
		return blockAttrs{}, false
	}
	for name := range sb.Attributes {
		if !connectionAttrs[name] {
			return blockAttrs{}, false
		}
	}
	for _, a := range connectionSchema.Attributes {
		if _, set := sb.Attributes[a.Name]; a.Required && !set {
			return blockAttrs{}, false
		}
	}
	return blockAttrs{syntax: sb.Attributes}, true
}

// instance evaluates one connection instance and derives its defaults.
func (l *loader) instance(name, key string, hasKey bool, attrs blockAttrs, ctx *hcl.EvalContext, b *hcl.Block, preventDestroy bool) {
	c := &Connection{
		Name:           name,
		Key:            key,
		Addr:           addrs.NewConnection(name, key).String(),
		PreventDestroy: preventDestroy,
		DeclRange:      b.DefRange,
		attrs:          attrs,
	}
	in := &instanceEval{l: l, c: c, b: b, vals: map[string]string{}, sens: map[string]bool{}, failedAttr: map[string]bool{}}
	in.evalAttrs(attrs, ctx, hasKey)
	in.evalScopes(attrs, ctx, hasKey)
	in.assign()
	// client_id is required only by some methods (see credentials.go).
	in.native = l.authMethod(c, b, in.vals, in.failedAttr, in.show, in.rng)
	in.checkGrant()
	org, orgOK := in.parseOrg()
	in.checkEndpoints()
	if orgOK && !in.failed {
		in.deriveEndpoints(org)
	}
	in.checkGrantRules()
	if len(c.Scopes) == 0 && orgOK {
		if c.GrantType == GrantClientCredentials || in.native {
			c.Scopes = org.AppScopes()
		} else {
			c.Scopes = org.DelegatedScopes()
		}
	}
	l.cfg.Connections = append(l.cfg.Connections, c)
}

// instanceEval is one connection instance being decoded: the raw values,
// which came from sensitive inputs, and which failed to evaluate (so that
// checks derived from them are skipped rather than reported twice).
type instanceEval struct {
	l          *loader
	c          *Connection
	b          *hcl.Block
	vals       map[string]string
	sens       map[string]bool
	failed     bool // some attribute could not be evaluated
	failedAttr map[string]bool
	native     bool // an Entra-native authentication_method
	grantOK    bool
}

// show quotes a value for a message, unless it came from a sensitive
// variable.
func (in *instanceEval) show(attr string) string {
	if in.sens[attr] {
		return "(sensitive value)"
	}
	return strconv.Quote(in.vals[attr])
}

// rng is where attr was set, or the block when it was not.
func (in *instanceEval) rng(attr string) hcl.Range {
	if r, ok := in.c.Range(attr); ok {
		return r
	}
	return in.b.DefRange
}

func (in *instanceEval) evalAttrs(attrs blockAttrs, ctx *hcl.EvalContext, hasKey bool) {
	for _, attr := range stringAttrs {
		expr, ok := attrs.expr(attr)
		if !ok {
			continue
		}
		v, sensitive, ok := in.l.eval(expr, ctx, hasKey, cty.String, attr)
		if !ok {
			in.failed = true
			in.failedAttr[attr] = true
			continue
		}
		if v.IsNull() {
			continue
		}
		in.vals[attr] = v.AsString()
		if sensitive {
			// Only the rare sensitive one is recorded: a write per
			// attribute would give every connection a map to fill.
			in.sens[attr] = true
		}
		if schema, _ := LookupAttribute(attr); schema.EntraID && isPlaceholderID(in.vals[attr]) {
			in.l.placeholder(expr, in.c.Name, attr, in.vals[attr])
			in.failed = true
			in.failedAttr[attr] = true
		}
		if sensitive && !contains(secretAttrs, attr) {
			in.l.sensitiveInClear(expr, ctx, attr, storedConnection)
		}
		if contains(secretAttrs, attr) {
			in.l.markSecretSources(expr, attr)
		}
	}
}

func (in *instanceEval) evalScopes(attrs blockAttrs, ctx *hcl.EvalContext, hasKey bool) {
	expr, ok := attrs.expr("scopes")
	if !ok {
		return
	}
	v, sensitive, ok := in.l.eval(expr, ctx, hasKey, cty.List(cty.String), "scopes")
	if !ok {
		in.failed = true
		return
	}
	if v.IsNull() {
		return
	}
	if sensitive {
		in.l.sensitiveInClear(expr, ctx, "scopes", storedConnection)
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || strings.TrimSpace(e.AsString()) == "" {
			in.l.errorf(expr.Range(), "Invalid scopes", "scopes contains an empty or null scope; remove it.")
			continue
		}
		in.c.Scopes = append(in.c.Scopes, e.AsString())
	}
}

// assign copies the plain values, with their defaults.
func (in *instanceEval) assign() {
	c, vals := in.c, in.vals
	c.TenantID = vals["tenant_id"]
	c.ClientID = vals["client_id"]
	c.ClientSecret = vals["client_secret"]
	c.LoginHint = vals["login_hint"]
	c.Entity = vals["entity"]
	c.Description = vals["description"]
	c.AuthenticationMethod = vals["authentication_method"]
	c.GrantType = orDefault(vals["grant_type"], GrantAuthorizationCode)
	c.Redirect = orDefault(vals["redirect"], DefaultRedirect)
	c.Prompt = orDefault(vals["prompt"], DefaultPrompt)
	if c.GrantType == GrantClientCredentials {
		// Nobody is redirected or prompted: defaults would only clutter the
		// plan and the library entry.
		c.Redirect, c.Prompt = vals["redirect"], vals["prompt"]
	}
	c.AuthorizationURL = vals["authorization_url"]
	c.TokenURL = vals["token_url"]
}

func (in *instanceEval) checkGrant() {
	c := in.c
	in.grantOK = in.native || contains(validGrants, c.GrantType)
	if !in.grantOK {
		in.l.errorf(in.rng("grant_type"), "Unsupported grant_type", "grant_type must be %q (a user signs in in a browser), %q (a user signs in on another device with a code) or %q (the app signs in with client_secret); got %s.", GrantAuthorizationCode, GrantDeviceCode, GrantClientCredentials, in.show("grant_type"))
	}
	if !in.native && c.Prompt != "" && !contains(validPrompts, c.Prompt) {
		in.l.errorf(in.rng("prompt"), "Invalid prompt", "prompt must be %s; got %s.", oneOf(validPrompts), in.show("prompt"))
	}
}

// parseOrg reads cloud and url into the org, normalised to its root.
func (in *instanceEval) parseOrg() (dynamics.Org, bool) {
	cloud := dynamics.Cloud("")
	if raw, ok := in.vals["cloud"]; ok {
		// Azure's own names are accepted too, since users copy them from
		// az cloud list or an SDK. "local" is not: a loopback url implies
		// it, and on any other host it would leave no authority to sign in at.
		parsed, err := dynamics.ParseCloud(raw)
		if err == nil && parsed != dynamics.CloudLocal {
			cloud = parsed
		} else {
			in.l.errorf(in.rng("cloud"), "Invalid cloud", "cloud must be %s (or Azure's name for it, such as \"AzureCloud\", \"AzureUSGovernment\" or \"AzureChinaCloud\"); got %s. Remove it to derive the cloud from the url.", oneOf(validClouds), in.show("cloud"))
			in.failed = true
		}
	}
	raw, ok := in.vals["url"]
	if !ok {
		// The schema catches a missing url, but not one that evaluates to
		// null (url = null, or each.value of a map holding null): without
		// this the plan would create a connection to no org at all.
		if _, set := in.c.Range("url"); set && !in.failedAttr["url"] {
			in.l.errorf(in.rng("url"), "Missing url", "connection.%s's url is null; set it to the org's URL, e.g. https://contoso.crm.dynamics.com.", in.c.Name)
			in.failed = true
		}
		return dynamics.Org{}, false
	}
	org, err := dynamics.ParseOrgURLInCloud(raw, cloud)
	if err != nil {
		detail := err.Error()
		if in.sens["url"] {
			detail = strings.ReplaceAll(detail, strconv.Quote(raw), "the url")
		}
		in.l.errorf(in.rng("url"), "Invalid url", "%s", detail)
		return dynamics.Org{}, false
	}
	in.c.URL = org.Root
	return org, true
}

func (in *instanceEval) checkEndpoints() {
	for _, attr := range []string{"authorization_url", "token_url"} {
		if raw, ok := in.vals[attr]; ok && !isSecureURL(raw) {
			in.l.errorf(in.rng(attr), "Invalid "+attr, "%s must be an https URL (plain http only on a loopback address, such as the emulator's), e.g. https://login.microsoftonline.com/TENANT/oauth2/v2.0/%s; got %s.", attr, map[string]string{"authorization_url": "authorize", "token_url": "token"}[attr], in.show(attr))
		}
	}
}

// deriveEndpoints fills the authorize and token URLs a connection left out
// from its tenant and its org's cloud.
func (in *instanceEval) deriveEndpoints(org dynamics.Org) {
	c := in.c
	if (c.AuthorizationURL != "" || in.native) && c.TokenURL != "" {
		return
	}
	// Entra-native credentials and client credentials need only the token
	// endpoint: nobody is sent to the authorize page.
	appOnly := in.native || c.GrantType == GrantClientCredentials
	host := dynamics.AuthorityHost(org.Cloud)
	switch {
	case in.native && !needsAuthority(c.AuthenticationMethod) && (host == "" || c.TenantID == ""):
		// The Azure CLI and managed identities know their authority.
	case host == "" && appOnly && c.TokenURL != "":
		// Nobody is sent to an authorize page: the token endpoint is enough.
	case host == "":
		need, ends := "authorization_url and token_url", "AUTHORITY/TENANT/oauth2/v2.0/authorize and …/token"
		if appOnly {
			need, ends = "token_url", "AUTHORITY/TENANT/oauth2/v2.0/token"
		}
		// Said once for the block: every for_each instance would repeat it.
		in.l.errorOnce(in.rng("url"), "No sign-in endpoints for a loopback org", fmt.Sprintf("connection.%s's url is a loopback address, which has no well-known Entra ID authority to derive the sign-in endpoints from. "+
			"For connform emulator, set %s to %s, with the authority and tenant the emulator prints on its first line (or writes to the file given by -info-file). "+
			"For a real org, use its https://ORG.crm.dynamics.com url, or set cloud.", c.Name, need, ends))
	case c.TenantID == "":
		in.l.errorf(in.b.DefRange, "Missing tenant_id", "%s cannot derive its sign-in endpoints: set tenant_id (your directory's tenant id) or authorization_url and token_url.", c.Addr)
	default:
		e := in.l.endpointsOf(host, c.TenantID)
		// Derived for client credentials too: library entries carry it.
		if c.AuthorizationURL == "" && !in.native {
			c.AuthorizationURL = e.authorize
		}
		if c.TokenURL == "" {
			c.TokenURL = e.token
		}
	}
}

// derivedEndpoints are the authorize and token URLs of an authority host
// and tenant.
type derivedEndpoints struct {
	host, tenant, authorize, token string
}

// endpointsOf derives the endpoints of host and tenant, keeping the last
// answer: the connections of a large configuration share a few tenants,
// and so share the strings instead of holding 20,000 copies.
func (l *loader) endpointsOf(host, tenant string) derivedEndpoints {
	if e := l.lastEndpoints; e.host == host && e.tenant == tenant && e.token != "" {
		return e
	}
	base := "https://" + host + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/"
	l.lastEndpoints = derivedEndpoints{host: host, tenant: tenant, authorize: base + "authorize", token: base + "token"}
	return l.lastEndpoints
}

// checkGrantRules checks what each grant type needs.
func (in *instanceEval) checkGrantRules() {
	c := in.c
	if !in.grantOK {
		return
	}
	if c.GrantType == GrantAuthorizationCode && !isLoopbackRedirect(c.Redirect) {
		in.l.errorf(in.rng("redirect"), "Invalid redirect", "With authorization_code, redirect must be an http loopback URL such as http://localhost or http://localhost:8400/callback (host localhost or 127.0.0.1): connform listens there for the code. Register the same URL on the app. Got %s.", in.show("redirect"))
	}
	if c.GrantType == GrantClientCredentials {
		if c.ClientSecret == "" && !in.failedAttr["client_secret"] {
			in.l.errorf(in.rng("grant_type"), "Missing client_secret", "client_credentials signs in as the app itself and needs client_secret: set it from a sensitive variable (client_secret = var.NAME), or use grant_type = %q.", GrantAuthorizationCode)
		}
		if len(c.Scopes) > 0 && (len(c.Scopes) != 1 || !strings.HasSuffix(c.Scopes[0], "/.default")) {
			in.l.errorf(in.rng("scopes"), "Invalid scopes for client_credentials", "Entra accepts exactly one scope ending in /.default for client credentials, such as \"%s/.default\". Remove scopes to use that default.", orDefault(c.URL, "https://ORG.crm.dynamics.com"))
		}
	}
}

func isSecureURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		return dynamics.IsLoopbackHost(u.Hostname())
	}
	return false
}

// isLoopbackRedirect accepts the redirects Entra allows over plain http.
// [::1] is left out: Entra does not support it.
func isLoopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if h != "localhost" && h != "127.0.0.1" {
		return false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return true
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func oneOf(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return fmt.Sprintf("one of %s", strings.Join(q, ", "))
}

// checkLibraryFiles refuses two connections whose library entries would be
// one file: the second would overwrite the first, and every later apply
// would flip between them. Names that differ only in case collide too, on
// the file systems of Windows and macOS.
func (l *loader) checkLibraryFiles() {
	// In source order, so that the error points at the block written later.
	conns := slices.Clone(l.cfg.Connections)
	slices.SortStableFunc(conns, func(a, b *Connection) int {
		return cmp.Or(cmp.Compare(a.DeclRange.Filename, b.DeclRange.Filename), cmp.Compare(a.DeclRange.Start.Byte, b.DeclRange.Start.Byte))
	})
	first := map[string]*Connection{}
	for _, c := range conns {
		id := c.Address().FileIdentity()
		prev, taken := first[id]
		if !taken {
			first[id] = c
			continue
		}
		file := addrs.FileStem(prev.Address().LibraryKey()) + "." + l.cfg.Settings.LibraryFormat
		l.errorf(c.DeclRange, "Library entries would share a file",
			"%s (%s) and %s (%s) would both write their library entry to %s, so one of them would be lost. Rename one of them (its block name or for_each key) so that the two differ in more than case and punctuation: library file names keep only letters, digits, '.', '-' and '_'.",
			prev.Addr, at(prev.DeclRange), c.Addr, at(c.DeclRange), file)
	}
}

// isPlaceholderID reports a GUID of one hex digit throughout, such as
// 00000000-0000-0000-0000-000000000000: what examples and templates put
// where a real id goes, and what no directory or app registration has.
func isPlaceholderID(v string) bool {
	hex := strings.ReplaceAll(v, "-", "")
	if len(hex) != 32 || len(v) != 36 {
		return false
	}
	return strings.Count(strings.ToLower(hex), strings.ToLower(hex[:1])) == 32
}

// placeholder reports an id left at a placeholder, naming the variables it
// came from, since those are what to set.
func (l *loader) placeholder(expr hcl.Expression, block, attr, value string) {
	what := map[string]string{"tenant_id": "your directory (tenant) id", "client_id": "the application (client) id of your app registration"}[attr]
	var vars []string
	for _, tr := range expr.Variables() {
		if tr.RootName() == "var" && len(tr) > 1 {
			if a, ok := tr[1].(hcl.TraverseAttr); ok && !slices.Contains(vars, a.Name) {
				vars = append(vars, a.Name)
			}
		}
	}
	fix := fmt.Sprintf("replace it with %s", what)
	if len(vars) > 0 {
		fix = fmt.Sprintf("set var.%s to %s (-var '%s=...', a .vars.hcl file or the environment variable %s%s)", vars[0], what, vars[0], EnvVarPrefix, vars[0])
	}
	l.errorOnce(expr.Range(), "Placeholder "+attr, fmt.Sprintf("connection.%s's %s is %s, a placeholder rather than a real id: %s.", block, attr, value, fix))
}

package plan

import (
	"cmp"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"connform/auth"
	"connform/config"
	"connform/state"
)

// Action is what apply will do to one connection.
type Action int

// Actions, in the order a plan lists them.
const (
	NoOp Action = iota
	Create
	Update
	Replace
	Delete
)

var actionNames = [...]string{"no-op", "create", "update", "replace", "delete"}

func (a Action) String() string { return actionNames[a] }

// MarshalText makes plan files and -json output use the names.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an action name back from a plan file.
func (a *Action) UnmarshalText(b []byte) error {
	i := slices.Index(actionNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("unknown action %q", b)
	}
	*a = Action(i)
	return nil
}

// AuthKind is how apply will obtain a token for a connection.
type AuthKind int

// Authorisation kinds. Only AuthInteractive needs a person.
const (
	AuthNone AuthKind = iota
	AuthRefresh
	AuthClientCredentials
	AuthInteractive
	// AuthCredential gets the token from an Entra-native credential
	// (azure_cli, managed_identity, workload_identity, client_certificate):
	// silent, and never a browser.
	AuthCredential
)

var authNames = [...]string{"none", "refresh", "client-credentials", "interactive", "credential"}

func (k AuthKind) String() string { return authNames[k] }

// MarshalText writes the kind's name.
func (k AuthKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *AuthKind) UnmarshalText(b []byte) error {
	i := slices.Index(authNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("unknown authorisation kind %q", b)
	}
	*k = AuthKind(i)
	return nil
}

// Auth is the authorisation a change needs, and why.
type Auth struct {
	Kind   AuthKind `json:"kind"`
	Reason string   `json:"reason,omitempty"`
	// Account is the token store key the connection's tokens live under;
	// connections sharing it share one interactive sign-in.
	Account string `json:"account,omitempty"`
	// Fresh makes apply get a new token even when a cached one is valid:
	// the credential changed, and only a new token proves it works.
	Fresh bool `json:"fresh,omitempty"`
	// CoveredBy names the change whose interactive sign-in brings this
	// one's token; apply waits for it, so the sign-in happens where the
	// plan said.
	CoveredBy string `json:"covered_by,omitempty"`
	// Via says how an interactive sign-in happens: "browser" or
	// "device_code" (a code typed in on another device).
	Via string `json:"via,omitempty"`
}

// AttrChange is one attribute of a change. For a create only After is set,
// for a delete only Before.
type AttrChange struct {
	Name              string `json:"name"`
	Before            string `json:"before,omitempty"`
	After             string `json:"after,omitempty"`
	Sensitive         bool   `json:"sensitive,omitempty"`
	ForcesReplacement bool   `json:"forces_replacement,omitempty"`
}

// Change is the plan for one connection.
type Change struct {
	Addr   string `json:"address"`
	Action Action `json:"action"`
	// Reason says in words why the action was chosen.
	Reason string `json:"reason,omitempty"`
	// Attrs lists every attribute for a create or delete, and only the
	// changed ones for an update or replace.
	Attrs []AttrChange `json:"attributes,omitempty"`
	Auth  Auth         `json:"auth"`
	// Note is what the user must have done outside connform for the
	// change to succeed (an app-only connection's application user).
	Note string `json:"note,omitempty"`
}

// Plan is the whole plan. A plan file is its JSON form; it holds no secret.
type Plan struct {
	FormatVersion   int       `json:"format_version"`
	ConnformVersion string    `json:"connform_version"`
	CreatedAt       time.Time `json:"created_at"`
	Destroy         bool      `json:"destroy,omitempty"`
	Targets         []string  `json:"targets,omitempty"`
	// ConfigHash, StateLineage and StateSerial pin the plan to the inputs it
	// was made from, so a stale plan file is refused.
	ConfigHash   string            `json:"config_hash"`
	StateLineage string            `json:"state_lineage,omitempty"`
	StateSerial  uint64            `json:"state_serial"`
	Variables    map[string]string `json:"variables,omitempty"`
	Changes      []*Change         `json:"changes"`
	// Removals are the library files apply will remove, or leave in place
	// and why, so that a run never deletes a file the plan did not show.
	Removals []Removal `json:"library_removals,omitempty"`
}

// Removal is one library file connform recorded and apply will no longer
// keep: a deleted connection's entry, a replaced entry's old name, or an
// orphan (written by a run that died before recording it).
type Removal struct {
	Path string `json:"path"`
	// Addr is the connection the file belongs (or belonged) to.
	Addr   string `json:"address,omitempty"`
	Orphan bool   `json:"orphan,omitempty"`
	// Kept says why apply will leave the file in place ("" when it
	// removes it): outside the library folder, a link, content changed.
	Kept string `json:"left_in_place,omitempty"`
}

// Summary counts a plan the way Terraform's closing line does: a replace is
// one add and one destroy.
type Summary struct {
	Add, Change, Destroy int
	// SignIns counts token acquisitions; Interactive counts the browser
	// sign-ins among them, at most one per account.
	SignIns, Interactive int
	// InteractiveAccounts lists the accounts that need a browser sign-in.
	InteractiveAccounts []string
}

// Summarize counts the plan's changes.
func (p *Plan) Summarize() Summary {
	var s Summary
	seen := map[string]bool{}
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Add++
		case Update:
			s.Change++
		case Replace:
			s.Add++
			s.Destroy++
		case Delete:
			s.Destroy++
		}
		if c.Auth.Kind != AuthNone {
			s.SignIns++
		}
		if c.Auth.Kind == AuthInteractive && !seen[c.Auth.Account] {
			seen[c.Auth.Account] = true
			s.Interactive++
			s.InteractiveAccounts = append(s.InteractiveAccounts, c.Auth.Account)
		}
	}
	return s
}

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Action != NoOp {
			return true
		}
	}
	for _, r := range p.Removals {
		if r.Kept == "" {
			return true
		}
	}
	return false
}

// TokenStatus is what the token store knows for one connection, read by
// the caller without touching the network.
type TokenStatus struct {
	// Grant is true when the store has an entry for the connection's key.
	Grant bool
	// Refreshable is true when that entry holds a refresh token.
	Refreshable bool
	// Access is the access token for this connection's org, if any: its
	// expiry and granted scopes.
	AccessExpiry time.Time
	AccessScopes []string
}

// LibraryStatus is how a recorded library entry looks on disk now.
type LibraryStatus string

// Library entry states.
const (
	LibraryOK       LibraryStatus = "ok"
	LibraryMissing  LibraryStatus = "missing"
	LibraryModified LibraryStatus = "modified"
)

// Input is everything a plan is made from.
type Input struct {
	Config *config.Config
	State  *state.State // nil when there is none yet
	// Tokens reports the store's status for a key and resource. Nil means
	// the store is empty.
	Tokens func(key, resource string) TokenStatus
	// Library reports a recorded entry's status. Nil means not checked.
	Library func(path, hash string) LibraryStatus
	// LibraryFile returns where a connection's library entry goes.
	LibraryFile func(c *config.Connection) string
	Now         time.Time
	Targets     []string
	Destroy     bool
	Version     string

	// Removable says whether apply may remove a recorded library file:
	// gone when it no longer exists, else kept says why it would be left
	// in place ("" to remove it). Nil means no file is checked or listed.
	Removable func(path, hash string) (gone bool, kept string)
}

// replaceAttrs are the identity of a connection: changing one means new
// tokens for a different org, app or authority, so the old entry goes.
var replaceAttrs = map[string]bool{
	"url": true, "tenant_id": true, "client_id": true, "grant_type": true,
	"scopes": true, "authorization_url": true, "token_url": true,
	"authentication_method": true,
}

// FormatVersion is the plan file format this build reads and writes.
const FormatVersion = 1

// Make builds a plan. Its errors are about the inputs as a whole (a target
// matching nothing, prevent_destroy); each names the connection and the fix.
func Make(in Input) (*Plan, error) {
	p := &Plan{
		FormatVersion:   FormatVersion,
		ConnformVersion: in.Version,
		CreatedAt:       in.Now.UTC(),
		Destroy:         in.Destroy,
		Targets:         in.Targets,
		ConfigHash:      in.Config.Hash,
		Variables:       in.Config.PlanVariables(),
	}
	if in.State != nil {
		p.StateLineage = in.State.Lineage
		p.StateSerial = in.State.Serial
	}
	in.Targets = normalizeTargets(in.Targets)
	p.Targets = in.Targets
	if err := checkTargets(in); err != nil {
		return nil, err
	}
	var errs []string
	inConfig := map[string]bool{}
	for _, c := range in.Config.Connections {
		inConfig[c.Addr] = true
		if !targeted(in.Targets, c.Addr) {
			continue
		}
		prior := in.State.Lookup(c.Addr)
		if in.Destroy {
			if prior == nil {
				continue
			}
			if c.PreventDestroy {
				errs = append(errs, fmt.Sprintf("%s has lifecycle.prevent_destroy set, so it cannot be destroyed; remove that setting first%s", c.Addr, where(c)))
				continue
			}
			p.Changes = append(p.Changes, deleteChange(prior, "destroy requested"))
			continue
		}
		ch := diff(in, c, prior)
		if ch.Action == Replace && c.PreventDestroy {
			errs = append(errs, fmt.Sprintf("%s would be replaced (%s), but lifecycle.prevent_destroy is set; revert the change or remove that setting%s", c.Addr, ch.Reason, where(c)))
			continue
		}
		p.Changes = append(p.Changes, ch)
	}
	if in.State != nil {
		for _, r := range in.State.Connections {
			if inConfig[r.Addr] || !targeted(in.Targets, r.Addr) {
				continue
			}
			p.Changes = append(p.Changes, deleteChange(r, "no longer in the configuration"))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Addr < p.Changes[j].Addr })
	shareSignIns(p.Changes)
	p.Removals = removals(in, p.Changes)
	return p, nil
}

// removals lists the recorded library files apply will stop keeping:
// those of deleted connections, the old names of moved entries, and the
// orphans of runs that died. A file already gone is not listed.
func removals(in Input, changes []*Change) []Removal {
	if in.Removable == nil || in.State == nil {
		return nil
	}
	var out []Removal
	add := func(addr, path, hash string, orphan bool) {
		if gone, kept := in.Removable(path, hash); !gone {
			out = append(out, Removal{Path: path, Addr: addr, Orphan: orphan, Kept: kept})
		}
	}
	byAddr := map[string]*config.Connection{}
	for _, c := range in.Config.Connections {
		byAddr[c.Addr] = c
	}
	for _, ch := range changes {
		prior := in.State.Lookup(ch.Addr)
		if prior == nil || prior.LibraryPath == "" {
			continue
		}
		switch {
		case ch.Action == Delete:
			add(ch.Addr, prior.LibraryPath, prior.LibraryHash, false)
		case ch.Action != NoOp && in.LibraryFile != nil && byAddr[ch.Addr] != nil && in.LibraryFile(byAddr[ch.Addr]) != prior.LibraryPath:
			add(ch.Addr, prior.LibraryPath, prior.LibraryHash, false)
		}
	}
	for _, o := range in.State.Orphans {
		if !in.State.Records(o.Path) {
			add(o.Addr, o.Path, o.Hash, true)
		}
	}
	return out
}

// shareSignIns makes the plan say what apply will do: within one account,
// the first connection that needs a browser sign-in gets it, and every
// other connection of that account is then served silently by the refresh
// token that sign-in brings (Entra refresh tokens are not bound to an org).
func shareSignIns(changes []*Change) {
	first := map[string]string{}
	for _, ch := range changes {
		if ch.Auth.Kind != AuthInteractive {
			continue
		}
		if addr, ok := first[ch.Auth.Account]; ok {
			ch.Auth.Kind = AuthRefresh
			ch.Auth.Via = ""
			ch.Auth.CoveredBy = addr
			ch.Auth.Reason = "covered by the sign-in for " + addr
			continue
		}
		first[ch.Auth.Account] = ch.Addr
	}
}

// where names the block's source position for an error, when known.
func where(c *config.Connection) string {
	if c.DeclRange.Filename == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", c.DeclRange.Filename, c.DeclRange.Start.Line)
}

func deleteChange(r *state.Connection, reason string) *Change {
	ch := &Change{Addr: r.Addr, Action: Delete, Reason: reason}
	for _, name := range slices.Sorted(maps.Keys(r.Attributes)) {
		if r.Attributes[name] != "" {
			ch.Attrs = append(ch.Attrs, AttrChange{Name: name, Before: r.Attributes[name]})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.SensitiveFingerprints)) {
		ch.Attrs = append(ch.Attrs, AttrChange{Name: name, Before: "(sensitive)", Sensitive: true})
	}
	return ch
}

// diff compares one configured connection with its state record.
func diff(in Input, c *config.Connection, prior *state.Connection) *Change {
	ch := &Change{Addr: c.Addr}
	after := c.Attributes()
	if in.LibraryFile != nil {
		after["library_file"] = in.LibraryFile(c)
	}
	lineage := ""
	if in.State != nil {
		lineage = in.State.Lineage
	}
	if prior == nil {
		ch.Action = Create
		ch.Reason = "not yet created"
		for _, name := range slices.Sorted(maps.Keys(after)) {
			if after[name] != "" {
				ch.Attrs = append(ch.Attrs, AttrChange{Name: name, After: after[name]})
			}
		}
		for name := range c.Sensitive() {
			ch.Attrs = append(ch.Attrs, AttrChange{Name: name, After: "(sensitive)", Sensitive: true})
		}
		ch.Auth = authFor(in, c, "no token yet")
		ch.Note = appUserNote(c)
		return ch
	}

	before := maps.Clone(prior.Attributes)
	if before == nil {
		before = map[string]string{}
	}
	before["library_file"] = prior.LibraryPath
	var changed, forcing []string
	for _, name := range unionKeys(before, after) {
		if before[name] == after[name] {
			continue
		}
		if name == "library_file" && in.LibraryFile == nil {
			continue
		}
		ac := AttrChange{Name: name, Before: before[name], After: after[name], ForcesReplacement: replaceAttrs[name]}
		ch.Attrs = append(ch.Attrs, ac)
		changed = append(changed, name)
		if ac.ForcesReplacement {
			forcing = append(forcing, name)
		}
	}
	sens := c.Sensitive()
	for _, name := range unionKeys(sens, prior.SensitiveFingerprints) {
		want := ""
		if v, ok := sens[name]; ok {
			want = state.Fingerprint(lineage, v)
		}
		if want == prior.SensitiveFingerprints[name] {
			continue
		}
		ac := AttrChange{Name: name, Sensitive: true}
		if prior.SensitiveFingerprints[name] != "" {
			ac.Before = "(sensitive)"
		}
		if want != "" {
			ac.After = "(sensitive)"
		}
		ch.Attrs = append(ch.Attrs, ac)
		changed = append(changed, name)
	}

	switch {
	case len(forcing) > 0:
		ch.Action = Replace
		ch.Reason = strings.Join(forcing, ", ") + " changed"
		ch.Auth = authFor(in, c, "identity changed ("+strings.Join(forcing, ", ")+")")
		ch.Note = appUserNote(c)
		return ch
	case len(changed) > 0:
		ch.Action = Update
		ch.Reason = strings.Join(changed, ", ") + " changed"
	}

	if in.Library != nil && prior.LibraryPath != "" && !slices.Contains(changed, "library_file") {
		switch st := in.Library(prior.LibraryPath, prior.LibraryHash); st {
		case LibraryMissing, LibraryModified:
			ch.Action = Update
			how := map[LibraryStatus]string{LibraryMissing: "deleted", LibraryModified: "edited"}[st]
			ch.Reason = joinReason(ch.Reason, fmt.Sprintf("library entry %s was %s outside connform", prior.LibraryPath, how))
			// The entry is what changes: show it, so the block is not empty.
			ch.Attrs = append(ch.Attrs, AttrChange{Name: "library_file", Before: "(" + how + " outside connform)", After: prior.LibraryPath})
		}
	}

	// An unchanged connection is in sync while a token can still be had
	// without a person; otherwise it needs an update that signs in again.
	key := TokenKey(c)
	ts := tokenStatus(in, key, c.URL)
	usable := c.GrantType == config.GrantClientCredentials || config.IsNativeMethod(c.AuthenticationMethod) || ts.Refreshable ||
		(accessValid(ts, in.Now) && auth.ScopesCover(ts.AccessScopes, c.Scopes))
	if !usable {
		if ch.Action == NoOp {
			ch.Action = Update
		}
		why := "no token in the token store"
		if ts.Grant {
			why = "token expired and there is no refresh token"
		}
		ch.Reason = joinReason(ch.Reason, why)
	}
	if attrs := credentialChanged(c, changed); attrs != "" {
		// The cached token proves the old credential only; apply gets a
		// new one so a bad secret or certificate shows now, not at the
		// next expiry.
		kind := AuthClientCredentials
		if config.IsNativeMethod(c.AuthenticationMethod) {
			kind = AuthCredential
		}
		ch.Auth = Auth{Kind: kind, Reason: attrs + " changed; a new token proves it", Account: key, Fresh: true}
		return ch
	}
	if slices.Contains(changed, "client_secret") && ts.Refreshable {
		// A confidential app's user sign-in: a refresh presents the new
		// secret, so a wrong one shows now.
		ch.Auth = Auth{Kind: AuthRefresh, Reason: "client_secret changed; a refresh with it proves it", Account: key, Fresh: true}
		return ch
	}
	if c.LoginHint != prior.Attributes["login_hint"] {
		ch.Auth = authFor(in, c, "account changed")
		return ch
	}
	if ch.Action != NoOp {
		ch.Auth = authFor(in, c, "")
	}
	return ch
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// authFor predicts how apply will get a token for c. why is the reason to
// give when no usable token exists ("" lets the store's status speak).
func authFor(in Input, c *config.Connection, why string) Auth {
	key := TokenKey(c)
	ts := tokenStatus(in, key, c.URL)
	a := Auth{Account: key}
	switch {
	case accessValid(ts, in.Now) && auth.ScopesCover(ts.AccessScopes, c.Scopes):
		a.Kind = AuthNone
		a.Reason = "token valid until " + ts.AccessExpiry.UTC().Format("2006-01-02 15:04 MST")
	case config.IsNativeMethod(c.AuthenticationMethod):
		a.Kind = AuthCredential
		a.Reason = cmp.Or(why, "no valid token") + "; " + CredentialSource[c.AuthenticationMethod]
	case c.GrantType == config.GrantClientCredentials:
		a.Kind = AuthClientCredentials
		a.Reason = cmp.Or(why, "no valid token; the app signs in with its secret")
	case ts.Refreshable && (ts.AccessExpiry.IsZero() || auth.ScopesCover(ts.AccessScopes, c.Scopes)):
		a.Kind = AuthRefresh
		if ts.AccessExpiry.IsZero() {
			a.Reason = "no token for this org yet; the account's refresh token covers it"
		} else {
			a.Reason = "token expired; refreshing silently"
		}
	default:
		a.Kind = AuthInteractive
		a.Via = "browser"
		if c.GrantType == config.GrantDeviceCode {
			a.Via = "device_code"
		}
		switch {
		case ts.Refreshable:
			a.Reason = "scopes changed"
		case ts.Grant:
			a.Reason = "token expired and there is no refresh token"
		default:
			a.Reason = cmp.Or(why, "no token")
		}
	}
	return a
}

func tokenStatus(in Input, key, resource string) TokenStatus {
	if in.Tokens == nil {
		return TokenStatus{}
	}
	return in.Tokens(key, resource)
}

func accessValid(ts TokenStatus, now time.Time) bool {
	return !ts.AccessExpiry.IsZero() && now.Add(auth.ExpiryMargin).Before(ts.AccessExpiry)
}

// appUserNote reminds that an app acting as itself is let into an org only
// as an application user with a security role, which no sign-in creates.
func appUserNote(c *config.Connection) string {
	if !c.AppOnly() {
		return ""
	}
	who := "the app " + c.ClientID
	if c.ClientID == "" {
		who = "the managed identity"
	}
	return fmt.Sprintf("%s needs an application user with a security role in %s (Power Platform admin center → the environment → Settings → Users + permissions → Application users)", who, c.URL)
}

// credentialChanged names the changed attributes that an app proves
// itself with, when the connection signs in as the app.
func credentialChanged(c *config.Connection, changed []string) string {
	var creds []string
	switch {
	case c.AuthenticationMethod == config.MethodClientCertificate:
		creds = []string{"certificate_path", "certificate_password"}
	case c.AuthenticationMethod == config.MethodWorkloadIdentity:
		creds = []string{"federated_token_file"}
	case c.GrantType == config.GrantClientCredentials && !config.IsNativeMethod(c.AuthenticationMethod):
		creds = []string{"client_secret"}
	}
	var out []string
	for _, a := range creds {
		if slices.Contains(changed, a) {
			out = append(out, a)
		}
	}
	return strings.Join(out, ", ")
}

// CredentialSource says where an Entra-native credential's token comes
// from, in words for a reason shown to the user.
var CredentialSource = map[string]string{
	config.MethodAzureCLI:          "from the Azure CLI's sign-in (az login)",
	config.MethodManagedIdentity:   "from the managed identity endpoint",
	config.MethodWorkloadIdentity:  "the app signs in with the federated token",
	config.MethodClientCertificate: "the app signs in with its certificate",
}

// TokenKey is the token store key for a connection: one per authority,
// client and account, so every org reached by the same app and user shares
// one refresh token and one sign-in.
func TokenKey(c *config.Connection) string {
	account := c.LoginHint
	if c.GrantType == config.GrantClientCredentials {
		account = "app"
	}
	if config.IsNativeMethod(c.AuthenticationMethod) {
		// Each credential is its own account: a CLI sign-in, an identity,
		// an app with a certificate or a federated token.
		account = c.AuthenticationMethod
	}
	return auth.Key(c.TokenURL, c.ClientID, account)
}

// LibraryKey is the library entry name for a connection: the block name,
// and for a for_each instance its key after a dash.
func LibraryKey(c *config.Connection) string {
	if c.Key == "" {
		return c.Name
	}
	return c.Name + "-" + c.Key
}

// QuoteKey writes an address's instance key the one way state and plans
// do: connection.crm[sales], as a shell leaves it when the quotes were not
// escaped, becomes connection.crm["sales"]. Every command that takes an
// address reads it through here.
func QuoteKey(addr string) string {
	if block, key, ok := strings.Cut(addr, "["); ok && strings.HasSuffix(key, "]") {
		return fmt.Sprintf("%s[%q]", block, strings.Trim(strings.TrimSuffix(key, "]"), `"`))
	}
	return addr
}

func normalizeTargets(targets []string) []string {
	if len(targets) == 0 {
		return targets
	}
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = QuoteKey(t)
	}
	return out
}

func checkTargets(in Input) error {
	for _, t := range in.Targets {
		if !strings.HasPrefix(t, "connection.") {
			return fmt.Errorf("invalid target %q: targets look like connection.NAME or connection.NAME[\"KEY\"]", t)
		}
		found := false
		for _, c := range in.Config.Connections {
			found = found || targeted([]string{t}, c.Addr)
		}
		if in.State != nil {
			for _, r := range in.State.Connections {
				found = found || targeted([]string{t}, r.Addr)
			}
		}
		if !found {
			return fmt.Errorf("target %q matches no connection in the configuration or the state", t)
		}
	}
	return nil
}

// targeted reports whether addr is selected: no targets select everything,
// and connection.NAME selects every instance of that block.
func targeted(targets []string, addr string) bool {
	if len(targets) == 0 {
		return true
	}
	for _, t := range targets {
		if addr == t || strings.HasPrefix(addr, t+"[") {
			return true
		}
	}
	return false
}

func unionKeys[A, B any](a map[string]A, b map[string]B) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// DefaultLibraryFile places an entry in the configured library folder.
func DefaultLibraryFile(dir, format string, fileName func(key, format string) string) func(c *config.Connection) string {
	return func(c *config.Connection) string {
		return filepath.Join(dir, fileName(LibraryKey(c), format))
	}
}

package plan

import (
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
	// ReasonCode is Reason's stable code (auth.ReasonCode): no_token,
	// expired, scopes_not_granted, ...; programs read it, people Reason.
	ReasonCode auth.ReasonCode `json:"reason_code,omitempty"`
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
}

// Summary counts a plan the way Terraform's closing line does: a replace is
// one add and one destroy.
type Summary struct {
	Add, Change, Destroy int
	// SignIns counts token acquisitions; Interactive counts the browser
	// sign-ins among them: one per account, or one per org where the
	// provider's refresh tokens do not span orgs.
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
		if c.Auth.Kind != AuthInteractive {
			continue
		}
		// shareSignIns left one interactive change per account, unless
		// the account's provider gives each org its own sign-in.
		s.Interactive++
		if !seen[c.Auth.Account] {
			seen[c.Auth.Account] = true
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
	return false
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
	// Grant returns what the token store holds for a key, read without
	// touching the network; nil (or a nil Grant) means nothing.
	Grant func(key string) *auth.Grant
	// Library reports a recorded entry's status. Nil means not checked.
	Library func(path, hash string) LibraryStatus
	// LibraryFile returns where a connection's library entry goes.
	LibraryFile func(c *config.Connection) string
	Now         time.Time
	Targets     []string
	Destroy     bool
	Version     string
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
	shareSignIns(in, p.Changes)
	return p, nil
}

// shareSignIns makes the plan say what apply will do: within one account,
// the first connection that needs an interactive sign-in gets it, and every
// other connection of that account is then served silently by the refresh
// token that sign-in brings, unless the token store learnt that the
// account's provider binds refresh tokens to one org.
func shareSignIns(in Input, changes []*Change) {
	first := map[string]string{}
	for _, ch := range changes {
		if ch.Auth.Kind != AuthInteractive || !auth.SignInSpans(grantOf(in, ch.Auth.Account)) {
			continue
		}
		if addr, ok := first[ch.Auth.Account]; ok {
			ch.Auth = authOf(auth.Need{Kind: auth.NeedRefresh, Code: auth.ReasonCovered, By: addr}, ch.Auth.Account)
			ch.Auth.CoveredBy = addr
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
		ch.Auth = authOf(decide(in, c, auth.Situation{}), AuthConn(c).Key())
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
		ch.Auth = authOf(decide(in, c, auth.Situation{Unstored: auth.ReasonIdentityChanged, UnstoredAttrs: forcing}), AuthConn(c).Key())
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
	sit := auth.Situation{Changed: changed}
	if c.LoginHint != prior.Attributes["login_hint"] {
		sit.Unstored = auth.ReasonAccountChanged
	}
	need := decide(in, c, sit)
	if need.Kind == auth.NeedInteractive {
		if ch.Action == NoOp {
			ch.Action = Update
		}
		ch.Reason = joinReason(ch.Reason, need.Text())
	}
	if ch.Action != NoOp || need.Fresh {
		// A changed credential's cached token proves the old one only:
		// apply gets a new token so a bad secret or certificate shows
		// now, not at the next expiry.
		ch.Auth = authOf(need, AuthConn(c).Key())
	}
	return ch
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// decide asks auth what getting c's token takes: the one decision plan,
// apply and auth status share.
func decide(in Input, c *config.Connection, sit auth.Situation) auth.Need {
	ac := AuthConn(c)
	return auth.Decide(ac, grantOf(in, ac.Key()), in.Now, sit)
}

func grantOf(in Input, key string) *auth.Grant {
	if in.Grant == nil {
		return nil
	}
	return in.Grant(key)
}

// authKinds maps auth's needs onto the plan's kinds.
var authKinds = map[auth.NeedKind]AuthKind{
	auth.NeedNothing:      AuthNone,
	auth.NeedRefresh:      AuthRefresh,
	auth.NeedClientSecret: AuthClientCredentials,
	auth.NeedInteractive:  AuthInteractive,
	auth.NeedCredential:   AuthCredential,
}

// authOf records a need in the plan.
func authOf(n auth.Need, key string) Auth {
	return Auth{Kind: authKinds[n.Kind], Reason: n.Text(), ReasonCode: n.Code, Account: key, Fresh: n.Fresh, Via: string(n.Way)}
}

// Need is the plan's promise for a change, as the token source takes it.
func (a Auth) Need() auth.Need {
	n := auth.Need{Code: a.ReasonCode, Fresh: a.Fresh, Way: auth.Way(a.Via), By: a.CoveredBy}
	for k, v := range authKinds {
		if v == a.Kind {
			n.Kind = k
		}
	}
	return n
}

// appUserNote reminds that an app acting as itself is let into an org only
// as an application user with a security role, which no sign-in creates.
func appUserNote(c *config.Connection) string {
	if !AuthConn(c).AppOnly() {
		return ""
	}
	who := "the app " + c.ClientID
	if c.ClientID == "" {
		who = "the managed identity"
	}
	return fmt.Sprintf("%s needs an application user with a security role in %s (Power Platform admin center → the environment → Settings → Users + permissions → Application users)", who, c.URL)
}

// AuthConn is c as auth sees it.
func AuthConn(c *config.Connection) auth.Conn {
	return auth.Conn{
		Addr: c.Addr, Resource: c.URL,
		GrantType: c.GrantType, AuthenticationMethod: c.AuthenticationMethod,
		AuthorizationURL: c.AuthorizationURL, TokenURL: c.TokenURL, ClientID: c.ClientID,
		ClientSecret: c.ClientSecret, Redirect: c.Redirect, Scopes: c.Scopes,
		Prompt: c.Prompt, LoginHint: c.LoginHint, TenantID: c.TenantID,
		CertificatePath: c.CertificatePath, CertificatePassword: c.CertificatePassword,
		FederatedTokenFile: c.FederatedTokenFile,
	}
}

// TokenKey is the token store key for a connection: one per authority,
// client and account, so every org reached by the same app and user shares
// one refresh token and one sign-in.
func TokenKey(c *config.Connection) string { return AuthConn(c).Key() }

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

package plan

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"connform/config"
	"connform/state"
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
}

// replaceAttrs are the identity of a connection: changing one means new
// tokens for a different org, app or authority, so the old entry goes.
var replaceAttrs = map[string]bool{
	"url": true, "tenant_id": true, "client_id": true, "grant_type": true,
	"scopes": true, "authorization_url": true, "token_url": true,
	"authentication_method": true,
}

// Make builds a plan. Its errors are about the inputs as a whole (a target
// matching nothing, prevent_destroy); each names the connection and the fix.
func Make(in Input) (*Plan, error) {
	p := &Plan{
		ConnformVersion: in.Version,
		CreatedAt:       in.Now.UTC(),
		Destroy:         in.Destroy,
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
	recorded := recordsByAddr(in.State)
	var errs []string
	p.Changes = make([]*Change, 0, len(in.Config.Connections))
	for _, c := range in.Config.Connections {
		if !targeted(in.Targets, c.Addr) {
			continue
		}
		prior := recorded[c.Addr]
		delete(recorded, c.Addr)
		ch, err := configured(in, c, prior)
		if err != nil {
			errs = append(errs, err.Error())
		} else if ch != nil {
			p.Changes = append(p.Changes, ch)
		}
	}
	// What is left was recorded but is no longer configured.
	for addr, r := range recorded {
		if targeted(in.Targets, addr) {
			p.Changes = append(p.Changes, deleteChange(r, ReasonRemovedFromConfig))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Addr < p.Changes[j].Addr })
	shareSignIns(p.Changes)
	return p, nil
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

// DefaultLibraryFile places an entry in the configured library folder.
func DefaultLibraryFile(dir, format string, fileName func(key, format string) string) func(c *config.Connection) string {
	return func(c *config.Connection) string {
		return filepath.Join(dir, fileName(LibraryKey(c), format))
	}
}

package plan

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"connform/addrs"
	"connform/auth"
	"connform/config"
	"connform/state"
)

// Input is everything a plan is made from.
type Input struct {
	Config *config.Config
	State  *state.State // nil when there is none yet
	// Grant returns what the token store holds for a key, read without
	// touching the network; nil (or a nil Grant) means nothing.
	Grant func(key string) *auth.Grant
	// Library reports a recorded entry's status (for a path with no
	// record, hash is "": anything but missing means a file is there).
	// Nil means not checked.
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
	targets, err := parseTargets(in)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		p.Targets = append(p.Targets, t.String())
	}
	recorded := recordsByAddr(in.State)
	var errs []string
	p.Changes = make([]*Change, 0, len(in.Config.Connections))
	for _, c := range in.Config.Connections {
		if !addrs.Selects(targets, c.Addr) {
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
		if addrs.Selects(targets, addr) {
			p.Changes = append(p.Changes, deleteChange(r, ReasonRemovedFromConfig))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Addr < p.Changes[j].Addr })
	shareSignIns(in, p.Changes)
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
	byAddr := make(map[string]*config.Connection, len(in.Config.Connections))
	for _, c := range in.Config.Connections {
		byAddr[c.Addr] = c
	}
	for _, ch := range changes {
		prior := in.State.Lookup(ch.Addr)
		if prior == nil || prior.LibraryPath == "" {
			continue
		}
		c := byAddr[ch.Addr]
		switch {
		case ch.Action == Delete:
			add(ch.Addr, prior.LibraryPath, prior.LibraryHash, false)
		case ch.Action != NoOp && c != nil && in.LibraryFile != nil && in.LibraryFile(c) != prior.LibraryPath:
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
	// Concatenated rather than fmt.Sprintf'd: a plan of 10,000 app-only
	// connections carries 10,000 notes.
	return who + " needs an application user with a security role in " + c.URL + " (Power Platform admin center → the environment → Settings → Users + permissions → Application users)"
}

// parseTargets reads -target values in every spelling addrs accepts
// (crm, crm[dev], connection.crm["dev"]) and checks that each selects
// something in the configuration or the state.
func parseTargets(in Input) ([]addrs.Target, error) {
	var out []addrs.Target
	for _, raw := range in.Targets {
		t, err := addrs.ParseTarget(raw)
		if err != nil {
			return nil, fmt.Errorf("-target: %w", err)
		}
		found := false
		for _, c := range in.Config.Connections {
			found = found || t.Matches(c.Address())
		}
		if in.State != nil {
			for _, r := range in.State.Connections {
				found = found || addrs.Selects([]addrs.Target{t}, r.Addr)
			}
		}
		if !found {
			return nil, fmt.Errorf("target %s matches no connection in the configuration or the state", t)
		}
		out = append(out, t)
	}
	return out, nil
}

// DefaultLibraryFile places an entry in the configured library folder.
func DefaultLibraryFile(dir, format string, fileName func(key, format string) string) func(c *config.Connection) string {
	return func(c *config.Connection) string {
		return filepath.Join(dir, fileName(c.Address().LibraryKey(), format))
	}
}

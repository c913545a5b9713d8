package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"connform/auth"
	"connform/config"
	"connform/state"
)

// recordsByAddr indexes the state's records, so that the diff looks each
// connection up once instead of scanning the state for it.
func recordsByAddr(st *state.State) map[string]*state.Connection {
	if st == nil {
		return map[string]*state.Connection{}
	}
	m := make(map[string]*state.Connection, len(st.Connections))
	for _, r := range st.Connections {
		m[r.Addr] = r
	}
	return m
}

// configured plans one configured connection: nil when a destroy finds
// nothing to destroy, an error when lifecycle.prevent_destroy forbids it.
func configured(in Input, c *config.Connection, prior *state.Connection) (*Change, error) {
	if in.Destroy {
		if prior == nil {
			return nil, nil
		}
		if c.PreventDestroy {
			return nil, fmt.Errorf("%s has lifecycle.prevent_destroy set, so it cannot be destroyed; remove that setting first%s", c.Addr, where(c))
		}
		return deleteChange(prior, ReasonDestroyRequested), nil
	}
	ch := diff(in, c, prior)
	if ch.Action == Replace && c.PreventDestroy {
		return nil, fmt.Errorf("%s would be replaced (%s changed), but lifecycle.prevent_destroy is set; revert the change or remove that setting%s",
			c.Addr, strings.Join(ch.Reasons[0].Attrs, ", "), where(c))
	}
	return ch, nil
}

// where names the block's source position for an error, when known.
func where(c *config.Connection) string {
	if c.DeclRange.Filename == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", c.DeclRange.Filename, c.DeclRange.Start.Line)
}

func deleteChange(r *state.Connection, why ReasonCode) *Change {
	ch := &Change{Addr: r.Addr, Action: Delete, Reasons: []Reason{{Code: why}}}
	ch.Attrs = make([]AttrChange, 0, len(r.Attributes)+len(r.SensitiveFingerprints))
	for _, name := range sortedNames(r.Attributes) {
		if r.Attributes[name] != "" {
			ch.Attrs = append(ch.Attrs, AttrChange{Name: name, Before: r.Attributes[name]})
		}
	}
	for _, name := range sortedNames(r.SensitiveFingerprints) {
		ch.Attrs = append(ch.Attrs, AttrChange{Name: name, Before: "(sensitive)", Sensitive: true})
	}
	return ch
}

// diff compares one configured connection with its state record.
func diff(in Input, c *config.Connection, prior *state.Connection) *Change {
	if prior == nil {
		return createChange(in, c)
	}
	after := c.Attributes()
	if in.LibraryFile != nil {
		after["library_file"] = in.LibraryFile(c)
	}
	ch := &Change{Addr: c.Addr}
	changed, forcing := diffAttrs(in, ch, prior, after)
	changed = append(changed, diffSensitive(in, ch, c, prior)...)
	switch {
	case len(forcing) > 0:
		ch.Action = Replace
		ch.Reasons = []Reason{{Code: ReasonForcesReplacement, Attrs: forcing}}
		ch.Auth = authOf(decide(in, c, auth.Situation{Unstored: auth.ReasonIdentityChanged, UnstoredAttrs: forcing}))
		ch.Note = appUserNote(c)
		return ch
	case len(changed) > 0:
		ch.Action = Update
		ch.Reasons = []Reason{{Code: ReasonAttributesChanged, Attrs: changed}}
	}
	if !slices.Contains(changed, "library_file") {
		checkLibrary(in, ch, prior)
	}
	signIn(in, c, prior, ch, changed)
	return ch
}

// createChange plans a connection the state does not have yet: every
// attribute that has a value is shown. The values are taken one by one in
// name order rather than through c.Attributes(), whose map a plan of
// 10,000 new connections would build and sort 10,000 times.
func createChange(in Input, c *config.Connection) *Change {
	ch := &Change{Addr: c.Addr, Action: Create, Reasons: []Reason{{Code: ReasonNotCreated}}}
	file := ""
	if in.LibraryFile != nil {
		file = in.LibraryFile(c)
	}
	var buf [24]AttrChange
	attrs := buf[:0]
	for _, name := range attrOrder {
		var v string
		if name == "library_file" {
			v = file
		} else {
			v, _ = c.StoredAttribute(name)
		}
		if v != "" {
			attrs = append(attrs, AttrChange{Name: name, After: v})
		}
	}
	for _, name := range sortedNames(c.Sensitive()) {
		attrs = append(attrs, AttrChange{Name: name, After: "(sensitive)", Sensitive: true})
	}
	ch.Attrs = slices.Clone(attrs)
	ch.Auth = authOf(decide(in, c, auth.Situation{}))
	ch.Note = joinNotes(appUserNote(c), occupiedNote(in, file))
	return ch
}

// occupiedNote warns, before apply, that a file connform did not write
// stands where a new connection's library entry goes: apply leaves it and
// fails that connection rather than overwrite it.
func occupiedNote(in Input, path string) string {
	if path == "" || in.Library == nil || in.Library(path, "") == LibraryMissing {
		return ""
	}
	return path + " exists and connform did not write it: apply will leave it and fail this connection; move it away, or bring it under connform with connform import"
}

func joinNotes(notes ...string) string {
	// Built by hand: nearly every change has one note or none, which then
	// costs no allocation.
	out := ""
	for _, n := range notes {
		switch {
		case n == "":
		case out == "":
			out = n
		default:
			out += "; " + n
		}
	}
	return out
}

// diffAttrs adds the non-sensitive attributes whose value differs from the
// record's to ch, and names them, and those among them that force a
// replacement.
func diffAttrs(in Input, ch *Change, prior *state.Connection, after map[string]string) (changed, forcing []string) {
	before := func(name string) string {
		if name == "library_file" {
			return prior.LibraryPath
		}
		return prior.Attributes[name]
	}
	for _, name := range unionKeys(prior.Attributes, after, "library_file") {
		b, a := before(name), after[name]
		if b == a || (name == "library_file" && in.LibraryFile == nil) {
			continue
		}
		ac := AttrChange{Name: name, Before: b, After: a, ForcesReplacement: config.ForcesReplacement(name)}
		ch.Attrs = append(ch.Attrs, ac)
		changed = append(changed, name)
		if ac.ForcesReplacement {
			forcing = append(forcing, name)
		}
	}
	return changed, forcing
}

// diffSensitive compares sensitive inputs by fingerprint, the only form
// the state has of them, and adds those that changed to ch.
func diffSensitive(in Input, ch *Change, c *config.Connection, prior *state.Connection) (changed []string) {
	sens := c.Sensitive()
	if len(sens) == 0 && len(prior.SensitiveFingerprints) == 0 {
		return nil
	}
	lineage := ""
	if in.State != nil {
		lineage = in.State.Lineage
	}
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
	return changed
}

// checkLibrary makes an update of a connection whose library entry was
// deleted or edited outside connform: apply writes it again.
func checkLibrary(in Input, ch *Change, prior *state.Connection) {
	if in.Library == nil || prior.LibraryPath == "" {
		return
	}
	code := map[LibraryStatus]ReasonCode{LibraryMissing: ReasonLibraryMissing, LibraryModified: ReasonLibraryModified}
	st := in.Library(prior.LibraryPath, prior.LibraryHash)
	if code[st] == "" {
		return
	}
	ch.Action = Update
	ch.Reasons = append(ch.Reasons, Reason{Code: code[st], Path: prior.LibraryPath})
	how := map[LibraryStatus]string{LibraryMissing: "deleted", LibraryModified: "edited"}[st]
	// The entry is what changes: show it, so the block is not empty.
	ch.Attrs = append(ch.Attrs, AttrChange{Name: "library_file", Before: "(" + how + " outside connform)", After: prior.LibraryPath})
}

// unionKeys is the sorted union of two maps' keys and any extra names.
func unionKeys[A, B any](a map[string]A, b map[string]B, extra ...string) []string {
	keys := make([]string, 0, len(a)+len(extra))
	inA, inB := 0, 0
	for _, k := range attrOrder {
		_, okA := a[k]
		_, okB := b[k]
		if okA {
			inA++
		}
		if okB {
			inB++
		}
		if okA || okB || slices.Contains(extra, k) {
			keys = append(keys, k)
		}
	}
	if inA == len(a) && inB == len(b) && !slices.ContainsFunc(extra, func(k string) bool { return !slices.Contains(attrOrder, k) }) {
		return keys
	}
	// A name outside the schema (an older state's): sort them all.
	keys = keys[:0]
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, dup := a[k]; !dup {
			keys = append(keys, k)
		}
	}
	for _, k := range extra {
		if _, dup := a[k]; !dup {
			if _, dup := b[k]; !dup {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// attrOrder is every attribute name a change can show, sorted once: a plan
// of 10,000 connections would otherwise sort the same names 10,000 times.
var attrOrder = func() []string {
	names := []string{"library_file"}
	for _, a := range config.ConnectionSchema {
		names = append(names, a.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}()

// sortedNames returns m's keys in order.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for _, name := range attrOrder {
		if _, ok := m[name]; ok {
			out = append(out, name)
		}
	}
	if len(out) != len(m) {
		// A name outside the schema: sort them all.
		return slices.Sorted(maps.Keys(m))
	}
	return out
}

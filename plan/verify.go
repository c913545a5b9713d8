package plan

import (
	"fmt"
	"slices"
	"strings"
)

// Verify checks that a saved plan says what a plan made now from the same
// configuration and state says: the same changes, actions, reasons,
// attributes and sign-ins, address by address, and the same library files
// removed or left in place (when it was made, and the
// wording of sign-in reasons, which carries times, do not count). A plan
// file edited by hand or by a pull request therefore cannot make apply do
// anything the configuration does not say. The error names the first
// difference.
func (p *Plan) Verify(now *Plan) error {
	if p.Destroy != now.Destroy {
		return fmt.Errorf("the plan says destroy=%t, a plan made now says destroy=%t", p.Destroy, now.Destroy)
	}
	if !slices.Equal(p.Targets, now.Targets) {
		return fmt.Errorf("the plan's targets %q differ from %q", p.Targets, now.Targets)
	}
	i, j := 0, 0
	for i < len(p.Changes) || j < len(now.Changes) {
		switch {
		case j == len(now.Changes) || i < len(p.Changes) && p.Changes[i].Addr < now.Changes[j].Addr:
			return fmt.Errorf("the plan lists %s, which a plan made now does not", p.Changes[i].Addr)
		case i == len(p.Changes) || now.Changes[j].Addr < p.Changes[i].Addr:
			return fmt.Errorf("a plan made now lists %s (%s), which the plan does not", now.Changes[j].Addr, now.Changes[j].Action)
		}
		if d := changeDiff(p.Changes[i], now.Changes[j]); d != "" {
			return fmt.Errorf("%s: %s", p.Changes[i].Addr, d)
		}
		i, j = i+1, j+1
	}
	return removalsDiff(p.Removals, now.Removals)
}

// removalsDiff names the first library file the two plans treat
// differently: the reviewed plan must have shown every file apply removes.
func removalsDiff(saved, now []Removal) error {
	for k := range max(len(saved), len(now)) {
		switch {
		case k >= len(saved):
			return fmt.Errorf("a plan made now also handles the library file %s, which the plan does not", now[k].Path)
		case k >= len(now):
			return fmt.Errorf("the plan handles the library file %s, which a plan made now does not", saved[k].Path)
		case saved[k] != now[k]:
			return fmt.Errorf("the library file %s: the plan says %s, a plan made now %s", now[k].Path, removalSummary(saved[k]), removalSummary(now[k]))
		}
	}
	return nil
}

func removalSummary(r Removal) string {
	if r.Kept != "" {
		return "it is left in place (" + r.Kept + ")"
	}
	return "it is removed"
}

// changeDiff says how a saved change differs from the one made now, or "".
func changeDiff(saved, now *Change) string {
	switch {
	case saved.Action != now.Action:
		return fmt.Sprintf("the plan says %s, a plan made now says %s", saved.Action, now.Action)
	case !slices.EqualFunc(saved.Reasons, now.Reasons, sameReason):
		return fmt.Sprintf("the plan gives the reasons %s, a plan made now %s", reasonCodes(saved.Reasons), reasonCodes(now.Reasons))
	case !slices.Equal(saved.Attrs, now.Attrs):
		return "the plan's attribute changes differ from a plan made now" + firstAttrDiff(saved.Attrs, now.Attrs)
	case saved.Note != now.Note:
		return "the plan's note differs from a plan made now"
	case !slices.Equal(saved.DependsOn, now.DependsOn):
		// An edited dependency would reorder apply's work, or let a change
		// run after what it refers to failed.
		return fmt.Sprintf("the plan says it depends on %q, a plan made now %q", saved.DependsOn, now.DependsOn)
	}
	sa, na := saved.Auth, now.Auth
	sa.Reason, na.Reason = "", ""
	if expiredSince(sa, na) {
		// A token valid when the plan was made has expired since: apply
		// gets another silently, as a plan made now says. Time passing is
		// not a change to refuse; a sign-in the plan did not announce is.
		sa.Kind, sa.ReasonCode = na.Kind, na.ReasonCode
	}
	if sa != na {
		return fmt.Sprintf("the plan's sign-in (%s) differs from a plan made now (%s)", authSummary(saved.Auth), authSummary(now.Auth))
	}
	return ""
}

// expiredSince reports whether the only difference is that the plan used a
// stored token and a plan made now gets one without a person.
func expiredSince(saved, now Auth) bool {
	silent := now.Kind == AuthRefresh && now.CoveredBy == "" || now.Kind == AuthClientCredentials || now.Kind == AuthCredential
	return saved.Kind == AuthNone && silent && now.Via == ""
}

func sameReason(a, b Reason) bool {
	return a.Code == b.Code && a.Path == b.Path && slices.Equal(a.Attrs, b.Attrs)
}

func reasonCodes(rs []Reason) string {
	codes := make([]string, len(rs))
	for i, r := range rs {
		codes[i] = string(r.Code)
		if len(r.Attrs) > 0 {
			codes[i] += " (" + strings.Join(r.Attrs, ", ") + ")"
		}
	}
	return "[" + strings.Join(codes, ", ") + "]"
}

func firstAttrDiff(a, b []AttrChange) string {
	for k := range max(len(a), len(b)) {
		switch {
		case k >= len(a):
			return fmt.Sprintf(": a plan made now also changes %s", b[k].Name)
		case k >= len(b):
			return fmt.Sprintf(": the plan also changes %s", a[k].Name)
		case a[k] != b[k]:
			return fmt.Sprintf(" at %s", b[k].Name)
		}
	}
	return ""
}

func authSummary(a Auth) string {
	s := a.Kind.String()
	if a.Via != "" {
		s += " via " + a.Via
	}
	if a.CoveredBy != "" {
		s += ", covered by " + a.CoveredBy
	}
	if a.Fresh {
		s += ", fresh"
	}
	if a.ReasonCode != "" {
		s += ", " + string(a.ReasonCode)
	}
	return s
}

package plan

import (
	"slices"
	"time"
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

// ParseAction reads an action's name, as String writes it.
func ParseAction(s string) (Action, bool) {
	i := slices.Index(actionNames[:], s)
	return Action(i), i >= 0
}

// ReasonCode names why a change has its action. The codes are stable:
// plan -json and plan files carry them, and the words people read are made
// from them by the views.
type ReasonCode string

// Reason codes. A change may carry several (an update because attributes
// changed and its library entry was deleted).
const (
	// ReasonNotCreated: the connection is configured but not in the state.
	ReasonNotCreated ReasonCode = "not_created"
	// ReasonRemovedFromConfig: the state has a connection the
	// configuration no longer declares.
	ReasonRemovedFromConfig ReasonCode = "removed_from_config"
	// ReasonDestroyRequested: plan -destroy, or destroy.
	ReasonDestroyRequested ReasonCode = "destroy_requested"
	// ReasonAttributesChanged: Attrs changed in place.
	ReasonAttributesChanged ReasonCode = "attributes_changed"
	// ReasonForcesReplacement: Attrs changed, and they are the
	// connection's identity.
	ReasonForcesReplacement ReasonCode = "forces_replacement"
	// ReasonLibraryMissing and ReasonLibraryModified: the library entry at
	// Path was deleted or edited outside connform.
	ReasonLibraryMissing  ReasonCode = "library_missing"
	ReasonLibraryModified ReasonCode = "library_modified"
	// ReasonNoToken and ReasonTokenExpired: nothing else changed, but no
	// token can be had without a person, so apply signs in again.
	ReasonNoToken      ReasonCode = "no_token"
	ReasonTokenExpired ReasonCode = "token_expired"
	// ReasonSignInNeeded: nothing else changed, but the token needs a
	// person for another reason (Auth.ReasonCode says which).
	ReasonSignInNeeded ReasonCode = "sign_in_needed"
)

// ReasonCodes lists every code, for plan-file validation and documentation.
var ReasonCodes = []ReasonCode{
	ReasonNotCreated, ReasonRemovedFromConfig, ReasonDestroyRequested,
	ReasonAttributesChanged, ReasonForcesReplacement,
	ReasonLibraryMissing, ReasonLibraryModified,
	ReasonNoToken, ReasonTokenExpired, ReasonSignInNeeded,
}

// Reason is one reason for a change's action: a code and what it is about.
type Reason struct {
	Code ReasonCode
	// Attrs names the attributes, for attributes_changed and
	// forces_replacement.
	Attrs []string
	// Path is the library entry, for library_missing and library_modified.
	Path string
}

// AttrChange is one attribute of a change. For a create only After is set,
// for a delete only Before.
type AttrChange struct {
	Name              string
	Before            string
	After             string
	Sensitive         bool
	ForcesReplacement bool
}

// Change is the plan for one connection.
type Change struct {
	Addr   string
	Action Action
	// Reasons say why the action was chosen, in the order they were found.
	Reasons []Reason
	// Attrs lists every attribute for a create or delete, and only the
	// changed ones for an update or replace.
	Attrs []AttrChange
	Auth  Auth
	// DependsOn lists the addresses of the resources this one refers to
	// (a connection naming application.app.client_id): apply creates and
	// updates them first and deletes this one before them (Plan.Graph). A
	// change's work needs their results, so it does not start when one of
	// them failed. Every address is a change of the same plan. No
	// connection refers to anything yet: the field is the seam the
	// application, its secret and the application user come through.
	DependsOn []string
	// Note is what the user must have done outside connform for the
	// change to succeed (an app-only connection's application user).
	Note string
}

// Plan is the whole plan: the model plan makes and apply carries out. Its
// saved form is file.go's, its public JSON the views'; neither is this
// struct, so each can change without breaking the others.
type Plan struct {
	// ConnformVersion is the version that made the plan.
	ConnformVersion string
	CreatedAt       time.Time
	Destroy         bool
	Targets         []string
	// ConfigHash, StateLineage and StateSerial pin the plan to the inputs it
	// was made from, so a stale plan file is refused.
	ConfigHash   string
	StateLineage string
	StateSerial  uint64
	// Variables are the non-sensitive variable values; a saved plan gives
	// them back to the configuration when it is applied.
	Variables map[string]string
	Changes   []*Change
	// Removals are the library files apply will remove, or leave in place
	// and why, so that a run never deletes a file the plan did not show.
	Removals []Removal
}

// Removal is one library file connform recorded and apply will no longer
// keep: a deleted connection's entry, a replaced entry's old name, or an
// orphan (written by a run that died before recording it).
type Removal struct {
	Path string
	// Addr is the connection the file belongs (or belonged) to.
	Addr   string
	Orphan bool
	// Kept says why apply will leave the file in place ("" when it
	// removes it): outside the library folder, a link, content changed.
	Kept string
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
	for _, r := range p.Removals {
		if r.Kept == "" {
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

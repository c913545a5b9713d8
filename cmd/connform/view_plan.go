package main

import (
	"fmt"
	"strings"

	"connform/plan"
)

// The public -json form of a plan lives here, with the views, rather than
// in plan: it is output, documented in README.md for programs to read,
// and its wording of reasons is the human view's (reasonText), so both
// views say the same thing. plan keeps the model and the plan file; the
// three change apart: planJSONVersion moves only when this struct breaks
// its readers, plan.FileFormatVersion only when saved plans do.
const planJSONVersion = 1

// planJSON is the documented -json form of a plan (see README.md).
type planJSON struct {
	FormatVersion int          `json:"format_version"`
	Changes       []changeJSON `json:"changes"`
	// LibraryRemovals lists the library files apply removes, or leaves in
	// place (left_in_place says why).
	LibraryRemovals []removalJSON `json:"library_removals,omitempty"`
	Summary         summaryJSON   `json:"summary"`
}

type removalJSON struct {
	Path        string `json:"path"`
	Address     string `json:"address,omitempty"`
	Orphan      bool   `json:"orphan,omitempty"`
	LeftInPlace string `json:"left_in_place,omitempty"`
}

type changeJSON struct {
	Address string `json:"address"`
	Action  string `json:"action"`
	// Reason is Reasons in words, as the human view prints them.
	Reason     string          `json:"reason,omitempty"`
	Reasons    []reasonJSON    `json:"reasons"`
	Attributes []attributeJSON `json:"attributes,omitempty"`
	Auth       authJSON        `json:"auth"`
	// DependsOn: the resources this change refers to (plan.Change).
	DependsOn []string `json:"depends_on,omitempty"`
	Note      string   `json:"note,omitempty"`
}

type reasonJSON struct {
	Code       plan.ReasonCode `json:"code"`
	Attributes []string        `json:"attributes,omitempty"`
	Path       string          `json:"path,omitempty"`
}

type attributeJSON struct {
	Name              string `json:"name"`
	Before            string `json:"before,omitempty"`
	After             string `json:"after,omitempty"`
	Sensitive         bool   `json:"sensitive,omitempty"`
	ForcesReplacement bool   `json:"forces_replacement,omitempty"`
}

type authJSON struct {
	Kind       string `json:"kind"`
	Reason     string `json:"reason,omitempty"`
	ReasonCode string `json:"reason_code,omitempty"`
	Account    string `json:"account,omitempty"`
	Fresh      bool   `json:"fresh,omitempty"`
	CoveredBy  string `json:"covered_by,omitempty"`
	Via        string `json:"via,omitempty"`
}

type summaryJSON struct {
	Add                 int      `json:"add"`
	Change              int      `json:"change"`
	Destroy             int      `json:"destroy"`
	SignIns             int      `json:"sign_ins"`
	Interactive         int      `json:"interactive"`
	InteractiveAccounts []string `json:"interactive_accounts"`
}

func (v jsonView) Plan(p *plan.Plan) error {
	sum := p.Summarize()
	out := planJSON{FormatVersion: planJSONVersion, Changes: make([]changeJSON, len(p.Changes)), Summary: summaryJSON{
		Add: sum.Add, Change: sum.Change, Destroy: sum.Destroy, SignIns: sum.SignIns,
		Interactive: sum.Interactive, InteractiveAccounts: sum.InteractiveAccounts,
	}}
	for i, ch := range p.Changes {
		out.Changes[i] = changeToJSON(ch)
	}
	for _, r := range p.Removals {
		out.LibraryRemovals = append(out.LibraryRemovals, removalJSON{Path: r.Path, Address: r.Addr, Orphan: r.Orphan, LeftInPlace: r.Kept})
	}
	if out.Summary.InteractiveAccounts == nil {
		out.Summary.InteractiveAccounts = []string{}
	}
	return v.write(out)
}

func changeToJSON(ch *plan.Change) changeJSON {
	a := ch.Auth
	out := changeJSON{
		Address: ch.Addr, Action: ch.Action.String(), Reason: reasonText(ch.Reasons), Reasons: make([]reasonJSON, len(ch.Reasons)),
		Auth: authJSON{Kind: a.Kind.String(), Reason: a.Reason, ReasonCode: string(a.ReasonCode), Account: a.Account, Fresh: a.Fresh, CoveredBy: a.CoveredBy, Via: a.Via},
		Note: ch.Note, DependsOn: ch.DependsOn,
	}
	for i, r := range ch.Reasons {
		out.Reasons[i] = reasonJSON{Code: r.Code, Attributes: r.Attrs, Path: r.Path}
	}
	for _, at := range ch.Attrs {
		out.Attributes = append(out.Attributes, attributeJSON(at))
	}
	return out
}

// reasonText says a change's reasons in words, joined by "; ".
func reasonText(rs []plan.Reason) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = reasonPhrase(r)
	}
	return strings.Join(parts, "; ")
}

func reasonPhrase(r plan.Reason) string {
	switch r.Code {
	case plan.ReasonNotCreated:
		return "not yet created"
	case plan.ReasonRemovedFromConfig:
		return "no longer in the configuration"
	case plan.ReasonDestroyRequested:
		return "destroy requested"
	case plan.ReasonAttributesChanged, plan.ReasonForcesReplacement:
		return strings.Join(r.Attrs, ", ") + " changed"
	case plan.ReasonLibraryMissing:
		return fmt.Sprintf("library entry %s was deleted outside connform", r.Path)
	case plan.ReasonLibraryModified:
		return fmt.Sprintf("library entry %s was edited outside connform", r.Path)
	case plan.ReasonNoToken:
		return "no token in the token store"
	case plan.ReasonTokenExpired:
		return "token expired and there is no refresh token"
	case plan.ReasonSignInNeeded:
		return "the token needs a sign-in"
	}
	// A code added to plan without words here still says something.
	return string(r.Code)
}

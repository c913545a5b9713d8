package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"connform/addrs"
	"connform/auth"
	"connform/config"
	"connform/library"
	"connform/plan"
	"connform/state"
)

var libraryFileName = library.FileName

// Each command prints through a view chosen once from -json, so no command
// branches on the flag: humanView for people, jsonView for the documented
// schemas (README.md). Both write data on Out; progress stays on ErrOut.
type humanView struct{ s *IOStreams }

type jsonView struct{ w io.Writer }

// write prints x as indented JSON. & < > stay as they are: the documents
// are read by programs and people, never embedded in HTML.
func (v jsonView) write(x any) error {
	enc := json.NewEncoder(v.w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(x)
}

// writeJSON is for output that has no view of its own (export).
func writeJSON(w io.Writer, x any) error { return jsonView{w: w}.write(x) }

// PlanView is the output of plan.
type PlanView interface {
	Plan(*plan.Plan) error
	// Saved tells people how to apply a plan written with -out.
	Saved(path string)
}

func newPlanView(asJSON bool, s *IOStreams) PlanView {
	if asJSON {
		return jsonView{s.Out}
	}
	return humanView{s}
}

// ShowView is the output of show: the state, or a saved plan.
type ShowView interface {
	Plan(*plan.Plan) error
	State(*state.State) error
}

func newShowView(asJSON bool, s *IOStreams) ShowView {
	if asJSON {
		return jsonView{s.Out}
	}
	return humanView{s}
}

func (v humanView) Plan(p *plan.Plan) error { renderPlan(v.s, p); return nil }

func (v humanView) Saved(path string) {
	fmt.Fprintf(v.s.Out, "\nSaved the plan to: %s\n\nTo perform exactly these actions, run:\n    connform apply %q\n", path, path)
}

func (v humanView) State(st *state.State) error { renderState(v.s, st); return nil }

// Saved prints nothing: the JSON document is the whole of stdout.
func (jsonView) Saved(string) {}

func (v jsonView) State(st *state.State) error {
	if st == nil {
		return v.write(map[string]any{"connections": []any{}})
	}
	// Empty attributes are unset ones: left out, as plan -json leaves out
	// empty values. The state itself is not changed.
	out := *st
	out.Connections = make([]*state.Connection, len(st.Connections))
	for i, c := range st.Connections {
		cc := *c
		cc.Attributes = map[string]string{}
		for k, val := range c.Attributes {
			if val != "" {
				cc.Attributes[k] = val
			}
		}
		out.Connections[i] = &cc
	}
	return v.write(out)
}

// symbols belong to the renderer alone; the plan package only has actions.
var actionSymbol = map[plan.Action]string{
	plan.Create: "+", plan.Update: "~", plan.Replace: "-/+", plan.Delete: "-",
}

// paddedSymbol is actionSymbol right-aligned in three columns, as the
// block's first line shows it.
var paddedSymbol = func() map[plan.Action]string {
	m := map[plan.Action]string{}
	for a, sym := range actionSymbol {
		m[a] = fmt.Sprintf("%3s", sym)
	}
	return m
}()

var actionColor = map[plan.Action]string{
	plan.Create: "green", plan.Update: "yellow", plan.Replace: "yellow", plan.Delete: "red",
}

var actionPhrase = map[plan.Action]string{
	plan.Create: "will be created", plan.Update: "will be updated in-place",
	plan.Replace: "must be replaced", plan.Delete: "will be destroyed",
}

// renderPlan prints a plan in Terraform's shape on Out.
func renderPlan(s *IOStreams, p *plan.Plan) {
	w := s.Out
	if !p.HasChanges() {
		switch {
		case p.Destroy && len(p.Targets) > 0:
			fmt.Fprintf(w, "%s Nothing to destroy: no connection that -target names is in the state.\n", s.Paint("green", "No changes."))
		case p.Destroy:
			fmt.Fprintf(w, "%s Nothing to destroy: the state records no connections.\n", s.Paint("green", "No changes."))
		default:
			fmt.Fprintf(w, "%s Your connections match the configuration, and no sign-in is needed.\n", s.Paint("green", "No changes."))
		}
		renderRemovals(w, s, p.Removals)
		return
	}
	fmt.Fprintln(w, "connform will perform the following actions:")
	// Each change is built in one reused buffer and written at once: fmt,
	// or a string per value, would cost allocations for each of the
	// 100,000 lines of a large plan.
	var b []byte
	for _, ch := range p.Changes {
		if ch.Action == plan.NoOp {
			continue
		}
		b = appendChange(b[:0], s, ch)
		_, _ = w.Write(b)
	}
	renderRemovals(w, s, p.Removals)
	sum := p.Summarize()
	fmt.Fprintf(w, "\n%s %d to add, %d to change, %d to destroy.", s.Paint("bold", "Plan:"), sum.Add, sum.Change, sum.Destroy)
	switch {
	case sum.SignIns == 0:
		fmt.Fprintln(w, " No sign-in needed.")
	default:
		fmt.Fprintf(w, " %d sign-in%s needed (%d interactive).\n", sum.SignIns, plural(sum.SignIns), sum.Interactive)
	}
	for _, acct := range sum.InteractiveAccounts {
		how := "Browser"
		if i := slices.IndexFunc(p.Changes, func(c *plan.Change) bool {
			return c.Auth.Account == acct && c.Auth.Kind == plan.AuthInteractive
		}); i >= 0 && p.Changes[i].Auth.Via == string(auth.WayDeviceCode) {
			how = "Device code"
		}
		fmt.Fprintf(w, "  %s sign-in: %s\n", how, accountPhrase(acct))
	}
}

// renderRemovals says, a line per file, which library files apply removes
// and which it leaves in place, so that no file goes unannounced.
func renderRemovals(w io.Writer, s *IOStreams, rs []plan.Removal) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nLibrary files:")
	for _, r := range rs {
		whose := r.Addr
		if r.Orphan {
			whose = "written for " + cmp.Or(r.Addr, "a connection") + " by a run that did not record it"
		}
		if r.Kept != "" {
			fmt.Fprintf(w, "  %s %s will be left in place (%s): %s\n", s.Paint("yellow", "!"), escapeControl(r.Path), escapeControl(whose), escapeControl(r.Kept))
			continue
		}
		fmt.Fprintf(w, "  %s %s will be removed (%s)\n", s.Paint("red", "-"), escapeControl(r.Path), escapeControl(whose))
	}
}

// escapeControl shows control characters of a string that came from a
// file (the state can be edited by anyone) as Go escapes, so it cannot
// move the cursor or fake output.
func escapeControl(v string) string {
	if !strings.ContainsFunc(v, unicode.IsControl) {
		return v
	}
	q := strconv.QuoteToGraphic(v)
	return q[1 : len(q)-1]
}

// appendChange appends one change as renderPlan shows it.
func appendChange(b []byte, s *IOStreams, ch *plan.Change) []byte {
	b = append(b, "\n  # "...)
	b = append(b, ch.Addr...)
	b = append(b, ' ')
	b = append(b, actionPhrase[ch.Action]...)
	if ch.Action != plan.Create {
		if why := reasonText(ch.Reasons); why != "" {
			b = append(b, " ("...)
			b = append(b, why...)
			b = append(b, ')')
		}
	}
	b = append(b, '\n')
	b = append(b, s.Paint(actionColor[ch.Action], paddedSymbol[ch.Action])...)
	b = append(b, " connection "...)
	b = appendQuoted(b, blockLabel(ch.Addr))
	b = append(b, " {\n"...)
	width := 0
	for _, a := range ch.Attrs {
		width = max(width, len(a.Name))
	}
	for _, a := range ch.Attrs {
		b = appendAttr(b, s, ch.Action, a, width)
	}
	if len(ch.Attrs) == 0 {
		// Only the token needs renewing: say so rather than show an
		// empty block.
		b = append(b, s.Paint("dim", "      # (no attribute changes)")...)
		b = append(b, '\n')
	}
	b = append(b, "    }\n"...)
	if ch.Action != plan.Delete {
		b = append(b, "    sign-in: "...)
		b = append(b, authPhrase(ch.Auth)...)
		if ch.Auth.Reason != "" {
			b = append(b, " ("...)
			b = append(b, ch.Auth.Reason...)
			b = append(b, ')')
		}
		b = append(b, '\n')
	}
	if ch.Note != "" {
		b = append(b, "    note: "...)
		b = append(b, ch.Note...)
		b = append(b, '\n')
	}
	return b
}

// appendAttr appends one attribute line of a change.
func appendAttr(line []byte, s *IOStreams, action plan.Action, a plan.AttrChange, width int) []byte {
	line = append(line, "      "...)
	value := func(v string) {
		if a.Sensitive {
			line = append(line, "(sensitive value)"...)
		} else {
			line = appendAttrValue(line, a.Name, v)
		}
	}
	head := func(sym string) {
		line = append(line, sym...)
		line = append(line, ' ')
		line = append(line, a.Name...)
		for range width - len(a.Name) {
			line = append(line, ' ')
		}
		line = append(line, " = "...)
	}
	switch {
	case action == plan.Create || (a.Before == "" && a.After != ""):
		head(s.Paint("green", "+"))
		value(a.After)
	case action == plan.Delete || (a.After == "" && a.Before != ""):
		head(s.Paint("red", "-"))
		value(a.Before)
	default:
		head(s.Paint("yellow", "~"))
		value(a.Before)
		line = append(line, " -> "...)
		value(a.After)
		if a.ForcesReplacement {
			line = append(line, s.Paint("red", " # forces replacement")...)
		}
	}
	return append(line, '\n')
}

// appendAttrValue appends attrValue(name, v), built in place: a plan of
// 10,000 connections shows 100,000 values.
func appendAttrValue(b []byte, name, v string) []byte {
	if name != "scopes" {
		return appendQuoted(b, v)
	}
	b = append(b, '[')
	sep := false
	for s := range strings.FieldsSeq(v) {
		if sep {
			b = append(b, ", "...)
		}
		b, sep = appendQuoted(b, s), true
	}
	return append(b, ']')
}

// appendQuoted appends strconv.Quote(v). Most values are printable ASCII
// without a quote or backslash, which Quote leaves as they are; only the
// others need its rune-by-rune escaping.
func appendQuoted(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, v)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

func authPhrase(a plan.Auth) string {
	switch a.Kind {
	case plan.AuthNone:
		return "none"
	case plan.AuthRefresh:
		return "silent refresh"
	case plan.AuthClientCredentials:
		return "client credentials, silent"
	case plan.AuthCredential:
		return "Entra credential, silent"
	}
	if a.Via == string(auth.WayDeviceCode) {
		return "interactive, with a device code"
	}
	return "interactive, in a browser"
}

// blockLabel turns connection.NAME["KEY"] into NAME: the block's label, as
// Terraform shows instances under their resource block.
func blockLabel(addr string) string {
	if i, err := addrs.ParseInstance(addr); err == nil {
		return i.Name
	}
	return addr
}

// signedInPhrase is accountPhrase naming the user who signed in, once
// known, instead of "(whoever signs in)".
func signedInPhrase(key, user string) string {
	phrase := accountPhrase(key)
	if _, _, account := auth.SplitKey(key); account == "default" && user != "" {
		return user + strings.TrimPrefix(phrase, "(whoever signs in)")
	}
	return phrase
}

// accountPhrase makes a token store key readable: which account, of which
// app, at which authority.
func accountPhrase(key string) string {
	authority, client, who := auth.SplitKey(key)
	if client == "" && who == "" {
		return key
	}
	switch who {
	case "default":
		who = "(whoever signs in)"
	case "app":
		who = "(the app itself)"
	case config.MethodAzureCLI:
		who = "(the Azure CLI's account)"
	case config.MethodManagedIdentity:
		who = "(the managed identity)"
	case config.MethodWorkloadIdentity:
		who = "(the app, by its federated token)"
	case config.MethodClientCertificate:
		who = "(the app, by its certificate)"
	}
	out := who
	if client != "" {
		out += " with app " + client
	}
	if authority != "" {
		out += " at " + authority
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// renderState prints what the state knows, one block per connection.
func renderState(s *IOStreams, st *state.State) {
	w := s.Out
	if st == nil || len(st.Connections) == 0 {
		fmt.Fprintln(w, "The state is empty: no connections have been applied.")
		return
	}
	for i, c := range st.Connections {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "# %s:\nconnection %q {\n", c.Addr, blockLabel(c.Addr))
		rows := [][2]string{}
		for _, k := range sortedKeys(c.Attributes) {
			if c.Attributes[k] != "" {
				rows = append(rows, [2]string{k, attrValue(k, c.Attributes[k])})
			}
		}
		for _, k := range sortedKeys(c.SensitiveFingerprints) {
			rows = append(rows, [2]string{k, "(sensitive value)"})
		}
		for _, kv := range [][2]string{
			{"account", c.Account}, {"organization_id", c.OrganizationID}, {"user_id", c.UserID},
			{"business_unit_id", c.BusinessUnitID}, {"organization_service_url", c.OrganizationServiceURL},
			{"web_api_url", c.WebAPIURL}, {"library_file", c.LibraryPath},
		} {
			if kv[1] != "" {
				rows = append(rows, [2]string{kv[0], fmt.Sprintf("%q", kv[1])})
			}
		}
		width := 0
		for _, r := range rows {
			width = max(width, len(r[0]))
		}
		for _, r := range rows {
			fmt.Fprintf(w, "    %s%s = %s\n", r[0], strings.Repeat(" ", width-len(r[0])), r[1])
		}
		fmt.Fprintln(w, "}")
	}
}

// commandOpener opens URLs with a user-chosen command (CONNFORM_BROWSER).
type commandOpener struct {
	cmd    string
	stderr io.Writer
}

func (o commandOpener) Open(u string) error {
	parts := strings.Fields(o.cmd)
	cmd := exec.Command(parts[0], append(parts[1:], u)...)
	cmd.Stdout = o.stderr
	cmd.Stderr = o.stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("CONNFORM_BROWSER=%s: %w", o.cmd, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Openers such as xdg-open exit at once, with a failure status when
	// they found no browser; a browser started directly keeps running.
	// Either way the answer comes within a moment.
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("CONNFORM_BROWSER=%s: %w", o.cmd, err)
		}
	case <-time.After(openerGrace):
	}
	return nil
}

// openerGrace is how long a CONNFORM_BROWSER command may take to fail.
const openerGrace = 2 * time.Second

package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"connform/addrs"
	"connform/auth"
	"connform/internal/atomicfile"
	"connform/internal/safetext"
)

// FileFormatVersion is the plan file format this build reads and writes.
// It moves only with the file struct below, never with plan -json's, so
// either can change without breaking the other. Version 1 stored the
// model's JSON with reasons as text; it is not read.
const FileFormatVersion = 2

// MaxFileSize bounds a plan file, and so the memory its decoding takes: a
// plan of 10,000 connections is about 18 MiB, and a file far larger is not
// one connform wrote.
const MaxFileSize = 128 << 20

// planFile is the saved form of a Plan. It holds no secret: sensitive
// values appear only as "(sensitive)" and sensitive variables are not
// saved (apply reads them again from the same sources).
type planFile struct {
	FormatVersion   int               `json:"format_version"`
	ConnformVersion string            `json:"connform_version"`
	CreatedAt       time.Time         `json:"created_at"`
	Destroy         bool              `json:"destroy,omitempty"`
	Targets         []string          `json:"targets,omitempty"`
	ConfigHash      string            `json:"config_hash"`
	StateLineage    string            `json:"state_lineage,omitempty"`
	StateSerial     uint64            `json:"state_serial"`
	Variables       map[string]string `json:"variables,omitempty"`
	Changes         []*fileChange     `json:"changes"`
	Removals        []fileRemoval     `json:"library_removals,omitempty"`
}

type fileRemoval struct {
	Path    string `json:"path"`
	Address string `json:"address,omitempty"`
	Orphan  bool   `json:"orphan,omitempty"`
	Kept    string `json:"left_in_place,omitempty"`
}

type fileChange struct {
	Address    string       `json:"address"`
	Action     string       `json:"action"`
	Reasons    []fileReason `json:"reasons,omitempty"`
	Attributes []fileAttr   `json:"attributes,omitempty"`
	Auth       fileAuth     `json:"auth"`
	// DependsOn is Change.DependsOn. Added within format 2: a plan without
	// it has no references, which is what every earlier plan meant.
	DependsOn []string `json:"depends_on,omitempty"`
	Note      string   `json:"note,omitempty"`
}

type fileReason struct {
	Code       string   `json:"code"`
	Attributes []string `json:"attributes,omitempty"`
	Path       string   `json:"path,omitempty"`
}

type fileAttr struct {
	Name              string `json:"name"`
	Before            string `json:"before,omitempty"`
	After             string `json:"after,omitempty"`
	Sensitive         bool   `json:"sensitive,omitempty"`
	ForcesReplacement bool   `json:"forces_replacement,omitempty"`
}

type fileAuth struct {
	Kind       string `json:"kind"`
	Reason     string `json:"reason,omitempty"`
	ReasonCode string `json:"reason_code,omitempty"`
	Account    string `json:"account,omitempty"`
	Fresh      bool   `json:"fresh,omitempty"`
	CoveredBy  string `json:"covered_by,omitempty"`
	Via        string `json:"via,omitempty"`
}

// sensitiveShown is the only value a sensitive attribute has in a plan.
const sensitiveShown = "(sensitive)"

// WriteFile saves p as a plan file: JSON, mode 0600, written to a temporary
// file and renamed so a crash never leaves half a plan.
func WriteFile(path string, p *Plan) error {
	data, err := Encode(p)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("cannot write plan file %s: %w", path, err)
	}
	return nil
}

// Encode returns p's plan file form.
func Encode(p *Plan) ([]byte, error) {
	data, err := json.MarshalIndent(toFile(p), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ReadFile loads and validates a plan file written by WriteFile.
func ReadFile(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read plan file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read plan file %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB, which no connform plan is: it is not a plan file", path, MaxFileSize>>20)
	}
	p, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// errRemake ends every complaint about a plan file's content: whatever
// changed it, the way back is a new plan.
const errRemake = "make the plan again with connform plan -out"

// Decode reads a plan file's content and checks all of it: a plan that
// decodes is one apply can carry out without a panic or a wait that never
// ends. It never returns a Plan and an error together.
func Decode(data []byte) (*Plan, error) {
	var head struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&head); err != nil || head.FormatVersion == nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// A plan file cut short (a full disk, a partial copy) is still
			// one: saying it has no format_version would send the user
			// looking for the wrong problem.
			return nil, fmt.Errorf("not a valid plan file: %s; %s", jsonProblem(err), errRemake)
		}
		return nil, errors.New("not a connform plan file (no format_version)")
	}
	if *head.FormatVersion != FileFormatVersion {
		return nil, fmt.Errorf("written in plan format %d; this connform reads format %d: make the plan again with this version", *head.FormatVersion, FileFormatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f planFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a valid plan file: %s; %s", jsonProblem(err), errRemake)
	}
	if dec.More() {
		return nil, fmt.Errorf("not a valid plan file: data after the plan; %s", errRemake)
	}
	p, err := fromFile(&f)
	if err != nil {
		return nil, fmt.Errorf("not a valid plan file: %v; %s", err, errRemake)
	}
	return p, nil
}

// jsonProblem says what encoding/json found, without quoting the input
// back (a plan file is hostile until checked).
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("broken JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s holds a JSON %s where %s belongs", typ.Field, typ.Value, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the file ends early"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + sanitize(strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return "broken JSON"
}

func toFile(p *Plan) *planFile {
	f := &planFile{
		FormatVersion: FileFormatVersion, ConnformVersion: p.ConnformVersion, CreatedAt: p.CreatedAt,
		Destroy: p.Destroy, Targets: p.Targets, ConfigHash: p.ConfigHash, StateLineage: p.StateLineage,
		StateSerial: p.StateSerial, Variables: p.Variables, Changes: make([]*fileChange, len(p.Changes)),
	}
	for i, ch := range p.Changes {
		f.Changes[i] = toFileChange(ch)
	}
	for _, r := range p.Removals {
		f.Removals = append(f.Removals, fileRemoval{Path: r.Path, Address: r.Addr, Orphan: r.Orphan, Kept: r.Kept})
	}
	return f
}

func toFileChange(ch *Change) *fileChange {
	fc := &fileChange{
		Address: ch.Addr, Action: ch.Action.String(), Note: ch.Note, DependsOn: ch.DependsOn,
		Auth: fileAuth{Kind: ch.Auth.Kind.String(), Reason: ch.Auth.Reason, ReasonCode: string(ch.Auth.ReasonCode), Account: ch.Auth.Account,
			Fresh: ch.Auth.Fresh, CoveredBy: ch.Auth.CoveredBy, Via: ch.Auth.Via},
	}
	for _, r := range ch.Reasons {
		fc.Reasons = append(fc.Reasons, fileReason{Code: string(r.Code), Attributes: r.Attrs, Path: r.Path})
	}
	for _, a := range ch.Attrs {
		fc.Attributes = append(fc.Attributes, fileAttr(a))
	}
	return fc
}

// fromFile checks a decoded plan file and turns it into a Plan.
func fromFile(f *planFile) (*Plan, error) {
	p := &Plan{
		ConnformVersion: f.ConnformVersion, CreatedAt: f.CreatedAt, Destroy: f.Destroy,
		ConfigHash: f.ConfigHash, StateLineage: f.StateLineage, StateSerial: f.StateSerial,
		Variables: f.Variables, Changes: make([]*Change, 0, len(f.Changes)),
	}
	if f.Changes == nil {
		return nil, errors.New("it has no change list")
	}
	if f.ConfigHash == "" {
		return nil, errors.New("it has no config_hash")
	}
	if !oneLine(f.ConfigHash) || !oneLine(f.StateLineage) || !oneLine(f.ConnformVersion) {
		return nil, errors.New("its header holds control characters")
	}
	for i, t := range f.Targets {
		if err := checkAddr(t); err != nil {
			return nil, fmt.Errorf("targets[%d]: %v", i, err)
		}
		p.Targets = append(p.Targets, t)
	}
	for name, v := range f.Variables {
		if !hclsyntax.ValidIdentifier(name) || !printable(v) {
			return nil, fmt.Errorf("variable %s is not a variable name with a printable value", strconv.Quote(name))
		}
	}
	seen := make(map[string]int, len(f.Changes))
	for i, fc := range f.Changes {
		if fc == nil {
			return nil, fmt.Errorf("changes[%d] is null", i)
		}
		ch, err := fromFileChange(fc)
		if err != nil {
			return nil, fmt.Errorf("changes[%d]%s: %v", i, addrSuffix(fc), err)
		}
		if j, dup := seen[ch.Addr]; dup {
			return nil, fmt.Errorf("changes[%d] and changes[%d] are both %s", j, i, ch.Addr)
		}
		seen[ch.Addr] = i
		p.Changes = append(p.Changes, ch)
	}
	if err := checkCovers(p.Changes, seen); err != nil {
		return nil, err
	}
	// Apply walks this graph: a dependency it could not find, or a cycle,
	// would make a change wait forever.
	if _, err := p.Graph(); err != nil {
		return nil, err
	}
	// Shown by show, never acted on: apply removes what the state and the
	// library folder say when it runs.
	for i, r := range f.Removals {
		if r.Path == "" || !printable(r.Path) || !printable(r.Kept) || (r.Address != "" && checkAddr(r.Address) != nil) {
			return nil, fmt.Errorf("library_removals[%d] is not a file path with a printable reason and a connection address", i)
		}
		p.Removals = append(p.Removals, Removal{Path: r.Path, Addr: r.Address, Orphan: r.Orphan, Kept: r.Kept})
	}
	return p, nil
}

func addrSuffix(fc *fileChange) string {
	if checkAddr(fc.Address) != nil {
		return ""
	}
	return " (" + fc.Address + ")"
}

func fromFileChange(fc *fileChange) (*Change, error) {
	if err := checkAddr(fc.Address); err != nil {
		return nil, err
	}
	action, ok := ParseAction(fc.Action)
	if !ok {
		return nil, fmt.Errorf("unknown action %s; actions are %s", quote(fc.Action), strings.Join(actionNames[:], ", "))
	}
	ch := &Change{Addr: fc.Address, Action: action, Note: fc.Note}
	for _, dep := range fc.DependsOn {
		if err := checkAddr(dep); err != nil {
			return nil, fmt.Errorf("depends_on: %v", err)
		}
		ch.DependsOn = append(ch.DependsOn, dep)
	}
	if !printable(fc.Note) {
		return nil, errors.New("note holds control characters")
	}
	for _, r := range fc.Reasons {
		if !slices.Contains(ReasonCodes, ReasonCode(r.Code)) {
			return nil, fmt.Errorf("unknown reason code %s", quote(r.Code))
		}
		if !oneLine(r.Path) || slices.ContainsFunc(r.Attributes, func(s string) bool { return !oneLine(s) }) {
			return nil, errors.New("a reason holds control characters")
		}
		ch.Reasons = append(ch.Reasons, Reason{Code: ReasonCode(r.Code), Attrs: r.Attributes, Path: r.Path})
	}
	for _, a := range fc.Attributes {
		if !hclsyntax.ValidIdentifier(a.Name) {
			return nil, fmt.Errorf("attribute name %s is not an identifier", quote(a.Name))
		}
		if a.Sensitive && (a.Before != "" && a.Before != sensitiveShown || a.After != "" && a.After != sensitiveShown) {
			return nil, fmt.Errorf("sensitive attribute %s holds a value; a plan file never does", a.Name)
		}
		if !printable(a.Before) || !printable(a.After) {
			return nil, fmt.Errorf("attribute %s holds control characters", a.Name)
		}
		ch.Attrs = append(ch.Attrs, AttrChange(a))
	}
	auth, err := fromFileAuth(fc.Auth)
	if err != nil {
		return nil, err
	}
	ch.Auth = auth
	return ch, nil
}

func fromFileAuth(fa fileAuth) (Auth, error) {
	i := slices.Index(authNames[:], fa.Kind)
	if i < 0 {
		return Auth{}, fmt.Errorf("unknown sign-in kind %s; kinds are %s", quote(fa.Kind), strings.Join(authNames[:], ", "))
	}
	a := Auth{Kind: AuthKind(i), Reason: fa.Reason, ReasonCode: auth.ReasonCode(fa.ReasonCode), Account: fa.Account, Fresh: fa.Fresh, CoveredBy: fa.CoveredBy, Via: fa.Via}
	switch {
	case fa.ReasonCode != "" && !auth.KnownReason(a.ReasonCode):
		return Auth{}, fmt.Errorf("unknown sign-in reason code %s", quote(fa.ReasonCode))
	case fa.Via != "" && (a.Kind != AuthInteractive || a.Via != string(auth.WayBrowser) && a.Via != string(auth.WayDeviceCode)):
		return Auth{}, fmt.Errorf("sign-in via %s with kind %s; only an interactive sign-in has a way, %s or %s", quote(fa.Via), fa.Kind, auth.WayBrowser, auth.WayDeviceCode)
	case !printable(fa.Reason) || !oneLine(fa.Account) || !oneLine(fa.ReasonCode):
		return Auth{}, errors.New("the sign-in holds control characters")
	case fa.CoveredBy != "" && a.Kind != AuthRefresh:
		return Auth{}, fmt.Errorf("a sign-in of kind %s cannot be covered by another change's", fa.Kind)
	}
	return a, nil
}

// checkCovers makes sure every covered_by names another change of the
// plan that signs in interactively for the same account: apply waits for
// that change, so anything else (itself, a cycle, a change not in the
// plan) would make it wait forever or for the wrong sign-in.
func checkCovers(changes []*Change, index map[string]int) error {
	for i, ch := range changes {
		by := ch.Auth.CoveredBy
		if by == "" {
			continue
		}
		if by == ch.Addr {
			return fmt.Errorf("changes[%d] (%s) names itself as the change covering its sign-in", i, ch.Addr)
		}
		j, ok := index[by]
		if !ok {
			return fmt.Errorf("changes[%d] (%s) is covered by the sign-in of %s, which is not in the plan", i, ch.Addr, quote(by))
		}
		cover := changes[j]
		if cover.Auth.CoveredBy != "" {
			return fmt.Errorf("changes[%d] (%s) is covered by %s, which is itself covered by %s: covering sign-ins do not chain", i, ch.Addr, by, cover.Auth.CoveredBy)
		}
		if cover.Auth.Kind != AuthInteractive || cover.Action == Delete || cover.Action == NoOp {
			return fmt.Errorf("changes[%d] (%s) is covered by %s, which does not sign in interactively", i, ch.Addr, by)
		}
		if cover.Auth.Account != ch.Auth.Account {
			return fmt.Errorf("changes[%d] (%s) is covered by %s, which signs in another account", i, ch.Addr, by)
		}
	}
	return nil
}

// checkAddr accepts only the one spelling state and plans write
// (addrs.Instance.String): connection.NAME or connection.NAME["KEY"]; for a
// target the first is a whole block. Anything else was not written by
// connform.
func checkAddr(addr string) error {
	bad := fmt.Errorf("address %s is not a connection address such as connection.NAME or connection.NAME[\"KEY\"]", quote(addr))
	if len(addr) > 1024 || !oneLine(addr) {
		return bad
	}
	if _, err := addrs.ParseWritten(addr); err != nil {
		return bad
	}
	return nil
}

// printable refuses what could act on a terminal when show prints it:
// control characters other than line breaks and tabs (which a heredoc
// value may hold, and renderers quote), bidirectional overrides, bytes
// that are not UTF-8.
func printable(s string) bool { return safetext.Safe(s) }

// oneLine is printable for what connform writes on one line: names, ids,
// codes, paths.
func oneLine(s string) bool { return safetext.Safe(s) && !strings.ContainsAny(s, "\n\t") }

// quote shows a value from the file in a message: quoted, escaped, and cut
// short.
func quote(s string) string {
	return strconv.Quote(sanitize(s))
}

func sanitize(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

// CheckFresh refuses a saved plan whose inputs changed since it was made:
// applying it would act on a diff that no longer holds.
func (p *Plan) CheckFresh(configHash, lineage string, serial uint64) error {
	if p.ConfigHash != configHash {
		return fmt.Errorf("the configuration or its variables changed since this plan was made; run connform plan again")
	}
	if p.StateLineage != "" && lineage != "" && p.StateLineage != lineage {
		return fmt.Errorf("the plan was made for another state (lineage %s, the state now has %s); run connform plan again", p.StateLineage, lineage)
	}
	if p.StateSerial != serial || (p.StateLineage == "" && lineage != "") {
		return fmt.Errorf("the state changed since this plan was made (serial %d, now %d); run connform plan again", p.StateSerial, serial)
	}
	return nil
}

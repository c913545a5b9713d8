package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"connform/addrs"
	"connform/auth"
	"connform/config"
	"connform/dynamics"
	"connform/internal/dag"
	"connform/library"
	"connform/plan"
	"connform/state"
)

// StateWriter records the run's work durably, in the order apply makes it
// (a state.Journal in production, which the caller commits once the run is
// over). Record returns once its entries survive a crash; it is called
// concurrently, and concurrent calls may share one sync.
type StateWriter interface {
	Record(...state.Entry) error
}

// EventKind names a progress event.
type EventKind int

// Progress events, in the order a connection goes through them.
const (
	EventStart EventKind = iota
	EventSigningIn
	EventRefreshing
	EventVerified
	EventDeleted
	EventFailed
	// EventDeviceCode carries, in Message, what the user must do to sign
	// in with a device code: the page to open and the code to enter.
	EventDeviceCode
	// EventFileRemoved says a library file connform wrote was removed
	// (Message: its path); Addr is the connection it belonged to.
	EventFileRemoved
	// EventFileKept says a file connform would have removed or put back
	// was left in place (Message: "left in place: PATH: REASON").
	EventFileKept
	// EventPlanNotKept says, in Message, why the plan's promise of a
	// silent token could not be kept: a person must sign in after all.
	EventPlanNotKept
	// EventWaiting says, in Message, that a sign-in waits for a person:
	// how long it still will and how to give up.
	EventWaiting
)

// Event is one step of progress, for the command layer to show as it
// happens. It never carries a secret.
type Event struct {
	Addr    string
	Kind    EventKind
	Action  plan.Action
	Account string // the signed-in user, for EventVerified
	Message string
	Elapsed time.Duration
}

// Options configure a run.
type Options struct {
	Store    auth.Store
	Flow     *auth.Flow
	Dynamics *dynamics.Client
	// Interactive is false under -input=false: nothing may prompt or open a
	// browser, so connections that need a sign-in fail saying so.
	Interactive bool
	Parallelism int
	Now         func() time.Time
	Events      func(Event)
	// Library settings from the configuration.
	LibraryFormat   string
	LibraryDataType string
	LibraryParams   map[string]string
	LibraryFile     func(c *config.Connection) string
	// LibraryDir is the library folder: apply removes only files directly
	// inside it whose content is what connform recorded.
	LibraryDir string
	// Log records the run's decisions (which way each token was had, what
	// was written); nil means none. Never a secret.
	Log *slog.Logger
}

// defaults fills in what a caller may leave out.
func (opt *Options) defaults() {
	opt.Parallelism = max(opt.Parallelism, 1)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Events == nil {
		opt.Events = func(Event) {}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
}

// Outcome is what happened to one change.
type Outcome struct {
	Addr    string
	Action  plan.Action
	Err     error
	Account string
	Elapsed time.Duration
}

// Result sums up a run.
type Result struct {
	Outcomes []Outcome
	// Interactive counts the browser sign-ins performed.
	Interactive int
}

// Failed returns the outcomes that failed.
func (r *Result) Failed() []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.Err != nil {
			out = append(out, o)
		}
	}
	return out
}

// Run carries out p against cfg, updating st in place and recording each
// change through w as it finishes, so that a crash loses at most the
// connections in flight. One connection's failure does not stop the
// others. Library files the state lists as orphans are removed first.
func Run(ctx context.Context, p *plan.Plan, cfg *config.Config, st *state.State, w StateWriter, opt Options) (*Result, error) {
	opt.defaults()
	graph, err := p.Graph()
	if err != nil {
		return nil, fmt.Errorf("the plan cannot be carried out: %w; run connform plan again", err)
	}
	r := &runner{cfg: cfg, st: st, w: w, opt: opt, src: newSource(opt), steps: map[string]*dag.Step{}}
	r.tokenUse = map[string]int{}
	for _, c := range st.Connections {
		r.tokenUse[c.TokenKey]++
	}
	r.conns = map[string]*config.Connection{}
	for _, c := range cfg.Connections {
		r.conns[c.Addr] = c
	}

	var changes []*plan.Change
	byAddr := map[string]*plan.Change{}
	for _, ch := range p.Changes {
		byAddr[ch.Addr] = ch
		if ch.Action == plan.NoOp {
			continue
		}
		if err := r.check(ch); err != nil {
			return nil, err
		}
		changes = append(changes, ch)
	}

	res := &Result{}
	if err := r.removeOrphans(); err != nil {
		return nil, err
	}
	if err := r.announce(changes); err != nil {
		return nil, fmt.Errorf("saving the state: %w", err)
	}
	var mu sync.Mutex
	// The walk starts a change once what it waits for allows (a covering
	// sign-in settled, what it refers to done), at most -parallelism at a
	// time, and on Ctrl-C starts no more while the changes in flight
	// finish (their state is saved as each ends), as Terraform does.
	results, err := graph.Walk(ctx, opt.Parallelism, func(ctx context.Context, addr string, step *dag.Step) error {
		ch := byAddr[addr]
		if ch.Action == plan.NoOp {
			return nil
		}
		r.mu.Lock()
		r.steps[addr] = step
		r.mu.Unlock()
		start := time.Now()
		o := Outcome{Addr: ch.Addr, Action: ch.Action}
		o.Account, o.Err = r.carryOut(ctx, ch)
		o.Elapsed = time.Since(start)
		if o.Err != nil {
			opt.Events(Event{Addr: ch.Addr, Kind: EventFailed, Action: ch.Action, Message: o.Err.Error(), Elapsed: o.Elapsed})
		}
		mu.Lock()
		res.Outcomes = append(res.Outcomes, o)
		mu.Unlock()
		return o.Err
	})
	if err != nil {
		return nil, err
	}
	for _, ch := range changes {
		var ns *dag.NotStarted
		if errors.As(results[ch.Addr], &ns) {
			res.Outcomes = append(res.Outcomes, Outcome{Addr: ch.Addr, Action: ch.Action, Err: fmt.Errorf("%s: %w", ch.Addr, ns)})
		}
	}
	if err := r.withdraw(); err != nil {
		// Harmless: the next plan shows those files as orphans, and
		// finds them gone or not connform's.
		opt.Log.Warn("could not record the library files not written", "error", err)
	}
	sort.Slice(res.Outcomes, func(i, j int) bool { return res.Outcomes[i].Addr < res.Outcomes[j].Addr })
	res.Interactive = r.src.InteractiveCount()
	return res, nil
}

// check refuses, before anything is done, a change this run cannot carry
// out: a resource type it has no work for, or a configured resource the
// configuration no longer has.
func (r *runner) check(ch *plan.Change) error {
	inst, err := addrs.ParseWritten(ch.Addr)
	if err != nil {
		return fmt.Errorf("the plan names %q, which is not a resource address; run connform plan again", ch.Addr)
	}
	switch inst.Type {
	case addrs.Connection:
		if ch.Action != plan.Delete && r.conns[ch.Addr] == nil {
			return fmt.Errorf("%s is in the plan but not in the configuration; run connform plan again", ch.Addr)
		}
		return nil
	}
	return fmt.Errorf("%s: this connform cannot apply a %s", ch.Addr, inst.Type)
}

// carryOut does one change's work, by its resource type (check accepted
// it). A new resource type adds its case here and in check.
func (r *runner) carryOut(ctx context.Context, ch *plan.Change) (string, error) {
	if ch.Action == plan.Delete {
		return "", r.delete(ch)
	}
	return r.converge(ctx, ch, r.conns[ch.Addr])
}

type runner struct {
	cfg *config.Config
	st  *state.State
	w   StateWriter
	opt Options

	// src hands out every token of the run.
	src *auth.Source

	mu sync.Mutex // guards st, tokenUse and written
	// tokenUse counts the connections of st per token key, so a delete
	// knows in O(1) whether a token is still needed.
	tokenUse map[string]int
	// files are the library entries the run announced (rendered once);
	// written says which of them it wrote and kept.
	files   map[string]library.File
	written map[string]bool
	// conns are the configured connections by address.
	conns map[string]*config.Connection
	// steps are the running changes' handles on the walk: a change
	// settles its sign-in (the changes it covers may start) and yields
	// its place while it waits for the disk.
	steps map[string]*dag.Step
}

// step is addr's handle on the walk, nil outside one.
func (r *runner) step(addr string) *dag.Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.steps[addr]
}

// tokenSettled says addr's token step is over, however it ended: the
// changes the plan says its sign-in covers may start.
func (r *runner) tokenSettled(addr string) {
	if s := r.step(addr); s != nil {
		s.Settle()
	}
}

// lookup reads a state record under the runner's lock: other goroutines
// replace records as they finish.
func (r *runner) lookup(addr string) *state.Connection {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.Lookup(addr)
}

// releaseSlot lets the next change start while this one writes its
// library entry and waits for its record to reach the disk: -parallelism
// bounds the work against orgs and Entra, and the changes that finish
// meanwhile share the next sync instead of each waiting a sync of its own.
func (r *runner) releaseSlot(addr string) {
	if s := r.step(addr); s != nil {
		s.Yield()
	}
}

// record makes e durable through w, then applies it to the run's state.
// The state lock is not held while w syncs, so that concurrent
// completions share one sync.
func (r *runner) record(e state.Entry) error {
	if err := r.w.Record(e); err != nil {
		return fmt.Errorf("saving the state: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Op == state.OpPut || e.Op == state.OpRemove {
		addr := e.Addr
		if e.Conn != nil {
			addr = e.Conn.Addr
		}
		if old := r.st.Lookup(addr); old != nil {
			r.tokenUse[old.TokenKey]--
		}
		if e.Conn != nil {
			r.tokenUse[e.Conn.TokenKey]++
		}
	}
	r.st.Apply(e)
	return nil
}

// libraryFile renders a connection's library entry. It depends on the
// configuration alone, so Run renders every entry before it starts and
// announces all the writes in one journal commit.
func (r *runner) libraryFile(c *config.Connection) (library.File, error) {
	if f, ok := r.files[c.Addr]; ok {
		return f, nil
	}
	org, err := dynamics.ParseOrgURL(c.URL)
	if err != nil {
		return library.File{}, err
	}
	libAttrs := c.Attributes()
	libAttrs["url"] = org.OrganizationServiceURL()
	libAttrs["token_key"] = plan.TokenKey(c)
	entry := library.Entry{
		Key:         c.Address().LibraryKey(),
		Description: c.Description,
		DataType:    r.opt.LibraryDataType,
		Params:      library.BuildParams(libAttrs, r.opt.LibraryParams),
	}
	return library.Render(filepath.Dir(r.opt.LibraryFile(c)), r.opt.LibraryFormat, entry)
}

// announce records, in one commit, the library files the run may write,
// before it writes any: every file connform writes is then either
// recorded by the state or, if the run dies, an orphan the next run
// reclaims. It renders each entry once, for converge to write.
func (r *runner) announce(changes []*plan.Change) error {
	r.files = map[string]library.File{}
	r.written = map[string]bool{}
	var intents []state.Entry
	for _, ch := range changes {
		c := r.conns[ch.Addr]
		if ch.Action == plan.Delete || c == nil {
			continue // only a configured connection has a library entry
		}
		f, err := r.libraryFile(c)
		if err != nil {
			continue // converge reports it
		}
		r.files[ch.Addr] = f
		intents = append(intents, state.Entry{Op: state.OpWriting, Addr: ch.Addr, Path: f.Path, Hash: f.Hash})
	}
	return r.w.Record(intents...)
}

// withdraw records, in one commit, that the announced files the run did
// not write (a failed or interrupted change, an undone write) are no
// concern of the next run.
func (r *runner) withdraw() error {
	var gone []state.Entry
	r.mu.Lock()
	for addr, f := range r.files {
		if !r.written[addr] {
			gone = append(gone, state.Entry{Op: state.OpGone, Path: f.Path})
		}
	}
	r.mu.Unlock()
	return r.w.Record(gone...)
}

func (r *runner) setWritten(addr string, written bool) {
	r.mu.Lock()
	r.written[addr] = written
	r.mu.Unlock()
}

// removeFile removes a library file connform recorded, when it can prove
// it wrote it, and says what it did; a file left in place is reported, not
// an error. It returns an error only when the removal itself failed.
func (r *runner) removeFile(addr, path, hash string) error {
	removed, err := library.RemoveOwned(r.opt.LibraryDir, path, hash)
	var kept *library.KeptError
	switch {
	case errors.As(err, &kept):
		r.opt.Log.Warn("library file left in place", "address", addr, "path", path, "reason", kept.Reason)
		r.opt.Events(Event{Addr: addr, Kind: EventFileKept, Message: err.Error()})
	case err != nil:
		return err
	case removed:
		r.opt.Log.Debug("library file removed", "address", addr, "path", path)
		r.opt.Events(Event{Addr: addr, Kind: EventFileRemoved, Message: path})
	}
	return nil
}

// removeOrphans deals with the library files connform wrote and no longer
// records: each is removed (when its content is still connform's) or
// reported, and then forgotten.
func (r *runner) removeOrphans() error {
	var gone []state.Entry
	for _, o := range r.st.Orphans {
		// A connection may have come to record the path since.
		if !r.st.Records(o.Path) {
			if err := r.removeFile(o.Addr, o.Path, o.Hash); err != nil {
				return err
			}
		}
		gone = append(gone, state.Entry{Op: state.OpGone, Path: o.Path})
	}
	if err := r.w.Record(gone...); err != nil {
		return fmt.Errorf("saving the state: %w", err)
	}
	for _, e := range gone {
		r.st.Apply(e)
	}
	return nil
}

func (r *runner) delete(ch *plan.Change) error {
	r.opt.Events(Event{Addr: ch.Addr, Kind: EventStart, Action: ch.Action})
	start := time.Now()
	prior := r.lookup(ch.Addr)
	if prior == nil {
		return nil
	}
	if prior.LibraryPath != "" {
		if err := r.removeFile(ch.Addr, prior.LibraryPath, prior.LibraryHash); err != nil {
			return fmt.Errorf("%s: %w", ch.Addr, err)
		}
	}
	r.releaseSlot(ch.Addr)
	if err := r.record(state.Entry{Op: state.OpRemove, Addr: ch.Addr}); err != nil {
		return fmt.Errorf("%s: %w", ch.Addr, err)
	}
	r.forgetUnused(prior.TokenKey)
	r.opt.Events(Event{Addr: ch.Addr, Kind: EventDeleted, Action: ch.Action, Elapsed: time.Since(start)})
	return nil
}

// forgetUnused drops a token store entry no remaining connection uses, so
// destroy leaves no tokens behind.
func (r *runner) forgetUnused(key string) {
	if key == "" || r.opt.Store == nil {
		return
	}
	r.mu.Lock()
	used := r.tokenUse[key] > 0
	r.mu.Unlock()
	if !used {
		_ = r.opt.Store.Delete(key)
	}
}

// converge creates, updates or replaces one connection.
func (r *runner) converge(ctx context.Context, ch *plan.Change, c *config.Connection) (string, error) {
	start := time.Now()
	r.opt.Events(Event{Addr: c.Addr, Kind: EventStart, Action: ch.Action})
	org, err := dynamics.ParseOrgURL(c.URL)
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.Addr, err)
	}
	prior := r.lookup(c.Addr)

	key := plan.TokenKey(c)
	t, err := r.token(ctx, c, ch)
	r.tokenSettled(c.Addr)
	if err != nil {
		return "", err
	}
	tok, account := t.AccessToken, t.Account
	who, err := r.opt.Dynamics.WhoAmI(ctx, org, tok)
	var apiErr *dynamics.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized && !t.SignedIn {
		// A cached or refreshed token the org refuses must not be reused
		// by the next run: drop it, get one new token silently, try once
		// more, and only then fail.
		t, terr := r.src.Rejected(ctx, plan.AuthConn(c))
		if terr != nil {
			return "", fmt.Errorf("%w (the org had answered: %v)", terr, describeAPIError(err, plan.AuthConn(c).AppOnly()))
		}
		tok, account = t.AccessToken, t.Account
		who, err = r.opt.Dynamics.WhoAmI(ctx, org, tok)
	}
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized {
		if derr := r.src.DropAccess(plan.AuthConn(c)); derr != nil {
			return "", derr
		}
	}
	if err != nil {
		if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden) {
			return "", fmt.Errorf("%s: the org refused the token: %w", c.Addr, describeAPIError(err, plan.AuthConn(c).AppOnly()))
		}
		return "", fmt.Errorf("%s: verifying against %s failed: %w", c.Addr, org.Root, describeAPIError(err, plan.AuthConn(c).AppOnly()))
	}
	// The org accepted the token: one granted fewer scopes than asked for
	// serves from now on (auth.AccessToken.Accepted).
	if err := r.src.Accepted(plan.AuthConn(c)); err != nil {
		return "", fmt.Errorf("%s: updating the token store: %w", c.Addr, err)
	}
	r.opt.Log.Debug("verified", "address", c.Addr, "org", org.Root, "organization_id", who.OrganizationID, "user_id", who.UserID)
	// A misspelt entity would otherwise surface only when the data-sync
	// tool first runs against the library entry.
	if c.Entity != "" {
		if _, err := CheckEntity(ctx, r.opt.Dynamics, org, tok, c.Entity, plan.AuthConn(c).AppOnly()); err != nil {
			return "", fmt.Errorf("%s: %w", c.Addr, err)
		}
	}

	// The org has answered: what is left is local (the library entry, the
	// record), and the next change may start its requests meanwhile.
	r.releaseSlot(c.Addr)
	attrs := c.Attributes()
	file, err := r.libraryFile(c)
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.Addr, err)
	}
	// A file where the state records no entry of this connection is not
	// connform's (a hand-made entry, another tool's; connform's own
	// leftovers were reclaimed as orphans first): never overwrite it.
	if prior == nil || prior.LibraryPath != file.Path {
		if _, err := os.Lstat(file.Path); err == nil {
			return "", fmt.Errorf("%s: %s exists and connform did not write it (the state records no entry there), so connform leaves it alone: move it away, or bring it under connform with connform import, then apply again", c.Addr, file.Path)
		}
	}
	undo, err := library.Undo(file.Path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.Addr, err)
	}
	// The write was announced when the run started (Run): if the run dies
	// after the write and before the record, the next run knows the file
	// is connform's to reclaim. It is synced with the record that names
	// it, together with the other connections finishing at the same time.
	r.setWritten(c.Addr, true)
	if err := file.WriteUnsynced(); err != nil {
		r.setWritten(c.Addr, false)
		return "", fmt.Errorf("%s: writing the library entry: %w", c.Addr, err)
	}
	r.opt.Log.Debug("library entry written", "address", c.Addr, "path", file.Path, "hash", file.Hash)

	rec := &state.Connection{
		Addr: c.Addr, Name: c.Name, Key: c.Key,
		Attributes:             attrs,
		OrganizationID:         who.OrganizationID,
		UserID:                 who.UserID,
		BusinessUnitID:         who.BusinessUnitID,
		Account:                account,
		VerifiedAt:             r.opt.Now().UTC(),
		TokenKey:               key,
		OrganizationServiceURL: org.OrganizationServiceURL(),
		WebAPIURL:              org.WebAPIURL(),
		LibraryPath:            file.Path,
		LibraryHash:            file.Hash,
	}
	if sens := c.Sensitive(); len(sens) > 0 {
		rec.SensitiveFingerprints = map[string]string{}
		for k, v := range sens {
			rec.SensitiveFingerprints[k] = state.Fingerprint(r.st.Lineage, v)
		}
	}
	put := state.Entry{Op: state.OpPut, Conn: rec, Durable: []string{file.Path}}
	// An old entry under another name becomes an orphan in the same
	// record, so no crash can leave it recorded by nobody.
	movedFrom := prior != nil && prior.LibraryPath != "" && prior.LibraryPath != file.Path
	if movedFrom {
		put.Addr, put.Path, put.Hash = c.Addr, prior.LibraryPath, prior.LibraryHash
	}
	if err := r.record(put); err != nil {
		if uerr := undo(file.Hash); uerr != nil {
			return "", fmt.Errorf("%s: %w; and the library entry could not be put back (%v)", c.Addr, err, uerr)
		}
		r.setWritten(c.Addr, false)
		return "", fmt.Errorf("%s: %w (the library entry was put back as it was)", c.Addr, err)
	}
	if prior != nil && prior.TokenKey != key {
		r.forgetUnused(prior.TokenKey)
	}
	// The old entry goes only once the new one is recorded, so a failed
	// replacement leaves the connection library as it was.
	if movedFrom {
		if err := r.removeFile(c.Addr, prior.LibraryPath, prior.LibraryHash); err != nil {
			return "", fmt.Errorf("%s: removing the old library entry: %w", c.Addr, err)
		}
		if err := r.record(state.Entry{Op: state.OpGone, Path: prior.LibraryPath}); err != nil {
			return "", fmt.Errorf("%s: %w", c.Addr, err)
		}
	}
	r.opt.Events(Event{Addr: c.Addr, Kind: EventVerified, Action: ch.Action, Account: displayAccount(c, account), Elapsed: time.Since(start)})
	return account, nil
}

// displayAccount names who a connection acts as, for progress lines.
func displayAccount(c *config.Connection, account string) string {
	if plan.AuthConn(c).Method().Name() == auth.GrantClientCredentials {
		return "the app (client credentials)"
	}
	return cmp.Or(account, "an unknown user")
}

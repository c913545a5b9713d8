package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"connform/auth"
	"connform/config"
	"connform/dynamics"
	"connform/internal/atomicfile"
	"connform/library"
	"connform/plan"
	"connform/state"
)

// StateWriter persists a state snapshot (state.Local in production).
type StateWriter interface {
	Write(*state.State) error
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
	// Log records the run's decisions (which way each token was had, what
	// was written); nil means none. Never a secret.
	Log *slog.Logger
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

// Run carries out p against cfg, updating st in place and persisting it
// through w after every connection so that a crash loses at most the
// connection in flight. One connection's failure does not stop the others.
func Run(ctx context.Context, p *plan.Plan, cfg *config.Config, st *state.State, w StateWriter, opt Options) (*Result, error) {
	if opt.Parallelism < 1 {
		opt.Parallelism = 1
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Events == nil {
		opt.Events = func(Event) {}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	r := &runner{cfg: cfg, st: st, w: w, opt: opt, src: newSource(opt), tokenDone: map[string]*settled{}}
	byAddr := map[string]*config.Connection{}
	for _, c := range cfg.Connections {
		byAddr[c.Addr] = c
	}

	var changes []*plan.Change
	for _, ch := range p.Changes {
		if ch.Action == plan.NoOp {
			continue
		}
		if ch.Action != plan.Delete && byAddr[ch.Addr] == nil {
			return nil, fmt.Errorf("%s is in the plan but not in the configuration; run connform plan again", ch.Addr)
		}
		changes = append(changes, ch)
		if ch.Action != plan.Delete {
			r.tokenDone[ch.Addr] = &settled{done: make(chan struct{})}
		}
	}

	res := &Result{}
	var mu sync.Mutex
	sem := make(chan struct{}, opt.Parallelism)
	var wg sync.WaitGroup
	for i, ch := range changes {
		// On Ctrl-C, let the changes in flight finish (their state is
		// saved as each ends) but start no more, as Terraform does.
		acquired := false
		select {
		case sem <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			if acquired {
				<-sem
			}
			mu.Lock()
			for _, rest := range changes[i:] {
				res.Outcomes = append(res.Outcomes, Outcome{Addr: rest.Addr, Action: rest.Action,
					Err: fmt.Errorf("%s: not started: the run was interrupted", rest.Addr)})
				r.tokenSettled(rest.Addr)
			}
			mu.Unlock()
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			start := time.Now()
			o := Outcome{Addr: ch.Addr, Action: ch.Action}
			if ch.Action == plan.Delete {
				o.Err = r.delete(ch)
			} else {
				o.Account, o.Err = r.converge(ctx, ch, byAddr[ch.Addr])
				r.tokenSettled(ch.Addr)
			}
			o.Elapsed = time.Since(start)
			if o.Err != nil {
				opt.Events(Event{Addr: ch.Addr, Kind: EventFailed, Action: ch.Action, Message: o.Err.Error(), Elapsed: o.Elapsed})
			}
			mu.Lock()
			res.Outcomes = append(res.Outcomes, o)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(res.Outcomes, func(i, j int) bool { return res.Outcomes[i].Addr < res.Outcomes[j].Addr })
	res.Interactive = r.src.InteractiveCount()
	return res, nil
}

type runner struct {
	cfg *config.Config
	st  *state.State
	w   StateWriter
	opt Options

	// src hands out every token of the run.
	src *auth.Source

	mu sync.Mutex // guards st and writes through w
	// tokenDone says, per change, when its token step has settled; a
	// change the plan says is covered by another's sign-in waits for it.
	// Changes start in plan order, so the awaited one is always running.
	// The map is written before any change starts, and only read after.
	tokenDone map[string]*settled
}

// settled is closed once, when a change's token step is over.
type settled struct {
	done chan struct{}
	once sync.Once
}

// tokenSettled says addr's token step is over, however it ended (it may be
// said twice: after the token, and when the change ends early).
func (r *runner) tokenSettled(addr string) {
	if s := r.tokenDone[addr]; s != nil {
		s.once.Do(func() { close(s.done) })
	}
}

// awaitCover waits until the change whose sign-in covers ch has its token,
// so that the sign-in happens where the plan said it would.
func (r *runner) awaitCover(ctx context.Context, ch *plan.Change) error {
	s := r.tokenDone[ch.Auth.CoveredBy]
	if s == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lookup reads a state record under the runner's lock: other goroutines
// replace records as they finish.
func (r *runner) lookup(addr string) *state.Connection {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.Lookup(addr)
}

// persist applies fn to the state and writes it, under the runner's lock.
func (r *runner) persist(fn func(*state.State)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.st)
	sort.Slice(r.st.Connections, func(i, j int) bool { return r.st.Connections[i].Addr < r.st.Connections[j].Addr })
	if err := r.w.Write(r.st); err != nil {
		return fmt.Errorf("saving the state: %w", err)
	}
	r.opt.Log.Debug("state saved", "serial", r.st.Serial, "connections", len(r.st.Connections))
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
		if err := library.Remove(prior.LibraryPath); err != nil {
			return fmt.Errorf("removing library entry %s: %w", prior.LibraryPath, err)
		}
	}
	if err := r.persist(func(s *state.State) {
		s.Connections = slices.DeleteFunc(s.Connections, func(c *state.Connection) bool { return c.Addr == ch.Addr })
	}); err != nil {
		return err
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
	used := slices.ContainsFunc(r.st.Connections, func(c *state.Connection) bool { return c.TokenKey == key })
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
	if err := r.awaitCover(ctx, ch); err != nil {
		return "", fmt.Errorf("%s: %w", c.Addr, err)
	}
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

	attrs := c.Attributes()
	libAttrs := maps.Clone(attrs)
	libAttrs["url"] = org.OrganizationServiceURL()
	libAttrs["token_key"] = key
	entry := library.Entry{
		Key:         c.Address().LibraryKey(),
		Description: c.Description,
		DataType:    r.opt.LibraryDataType,
		Params:      library.BuildParams(libAttrs, r.opt.LibraryParams),
	}
	libDir := filepath.Dir(r.opt.LibraryFile(c))
	undo, err := library.Undo(filepath.Join(libDir, library.FileName(entry.Key, r.opt.LibraryFormat)))
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.Addr, err)
	}
	path, hash, err := library.Write(libDir, r.opt.LibraryFormat, entry)
	if err != nil {
		return "", fmt.Errorf("%s: writing the library entry: %w", c.Addr, err)
	}
	r.opt.Log.Debug("library entry written", "address", c.Addr, "path", path, "hash", hash)

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
		LibraryPath:            path,
		LibraryHash:            hash,
	}
	err = r.persist(func(s *state.State) {
		if sens := c.Sensitive(); len(sens) > 0 {
			rec.SensitiveFingerprints = map[string]string{}
			for k, v := range sens {
				rec.SensitiveFingerprints[k] = state.Fingerprint(s.Lineage, v)
			}
		}
		s.Connections = slices.DeleteFunc(s.Connections, func(x *state.Connection) bool { return x.Addr == c.Addr })
		s.Connections = append(s.Connections, rec)
	})
	if errors.Is(err, atomicfile.ErrNotDurable) {
		// The state holds the new entry, only not durably yet: keep the
		// library as the state says, and report it.
		return "", fmt.Errorf("%s: %w", c.Addr, err)
	}
	if err != nil {
		if uerr := undo(); uerr != nil {
			return "", fmt.Errorf("%s: %w; and the library entry could not be put back (%v): the next plan will show it as edited", c.Addr, err, uerr)
		}
		return "", fmt.Errorf("%s: %w (the library entry was put back as it was)", c.Addr, err)
	}
	if prior != nil && prior.TokenKey != key {
		r.forgetUnused(prior.TokenKey)
	}
	// The old entry goes only once the new one is in place, so a failed
	// replacement leaves the connection library as it was.
	if prior != nil && prior.LibraryPath != "" && prior.LibraryPath != path {
		if err := library.Remove(prior.LibraryPath); err != nil {
			return "", fmt.Errorf("%s: removing the old library entry %s: %w", c.Addr, prior.LibraryPath, err)
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

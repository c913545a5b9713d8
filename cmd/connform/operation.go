package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"connform/auth"
	"connform/config"
	"connform/internal/redact"
	"connform/library"
	"connform/plan"
	"connform/state"
)

// varFlags are the options every command that reads the configuration takes.
type varFlags struct {
	// args keeps -var and -var-file in command-line order: a later one wins,
	// whichever kind, as in Terraform.
	args []config.VarArg
	// allowEmpty accepts a directory without configuration files, for
	// commands that can work from the state alone (destroy, logout).
	allowEmpty bool
}

func (v *varFlags) register(fs *flag.FlagSet) {
	fs.Var(varArgFlag{&v.args, false}, "var", "set a variable (repeatable; of -var and -var-file, the later wins)")
	fs.Var(varArgFlag{&v.args, true}, "var-file", "read variables from a .vars.hcl file (repeatable)")
}

// varArgFlag appends one kind of variable option to a shared list.
type varArgFlag struct {
	args *[]config.VarArg
	file bool
}

func (f varArgFlag) String() string { return "" }

func (f varArgFlag) Set(s string) error {
	*f.args = append(*f.args, config.VarArg{File: f.file, Value: s})
	return nil
}

// loadConfig loads and validates the configuration of the working
// directory, printing its diagnostics. It returns nil when there were errors.
func (c *cli) loadConfig(v varFlags, planVars map[string]string) *config.Config {
	cfg, diags := config.Load(".", config.LoadOptions{VarArgs: v.args, AllowEmpty: v.allowEmpty, Env: c.env, PlanVars: planVars})
	if len(diags) > 0 {
		var files = map[string]*hcl.File{}
		if cfg != nil {
			files = cfg.Files
		}
		_ = config.WriteDiagnostics(c.io.ErrOut, files, diags, 78, c.io.ColorEnabled())
	}
	if diags.HasErrors() {
		return nil
	}
	c.logger().Debug("configuration evaluated", "connections", len(cfg.Connections))
	c.storeChoice = auth.Choice{Store: cfg.Settings.TokenStore}
	if r := cfg.Settings.TokenStoreRange; r.Filename != "" {
		c.storeChoice.Where = fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
	}
	return cfg
}

// lockFlags are the state-locking options of plan, apply and destroy.
type lockFlags struct {
	lock    bool
	timeout time.Duration
}

func (l *lockFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&l.lock, "lock", true, "lock the state while working")
	fs.DurationVar(&l.timeout, "lock-timeout", 0, "how long to wait for a state lock held by another run (e.g. 30s)")
}

// operation is an open, locked state together with the configuration and
// token store a plan or apply works on.
type operation struct {
	cfg     *config.Config
	backend *state.Local
	st      *state.State
	existed bool
	store   auth.Store
	unlock  func() error
	log     *slog.Logger
}

func (o *operation) close() {
	if o.unlock != nil {
		_ = o.unlock()
	}
}

// open locks (unless -lock=false) and reads the state for a command. A
// command that writes (apply, destroy) first folds in the journal of a run
// that died and removes the temporary files killed writes left; the others
// read such a journal without writing anything.
func (c *cli) open(ctx context.Context, name string, cfg *config.Config, lf lockFlags) (*operation, error) {
	op := &operation{cfg: cfg, backend: state.NewLocal(cfg.Settings.StatePath), log: c.logger()}
	op.backend.Notify = func(msg string) { fmt.Fprintln(c.io.ErrOut, msg) }
	writes := name == "apply" || name == "destroy"
	op.log.Debug("configuration loaded", "dir", c.dir, "files", len(cfg.Files), "connections", len(cfg.Connections), "hash", cfg.Hash)
	if lf.lock {
		info := state.NewLockInfo(name, version)
		unlock, err := op.backend.Lock(ctx, info, lf.timeout)
		if err != nil {
			return nil, err
		}
		op.unlock = unlock
		op.log.Debug("state locked", "path", cfg.Settings.StatePath, "lock_id", info.ID, "operation", name)
	}
	if writes {
		if err := c.recoverState(op, lf.lock); err != nil {
			op.close()
			return nil, err
		}
	}
	st, err := op.backend.Read()
	if err != nil {
		op.close()
		return nil, err
	}
	op.existed = st != nil
	if st == nil {
		st = state.New(version)
	}
	op.st = st
	op.log.Debug("state read", "path", cfg.Settings.StatePath, "existed", op.existed, "serial", st.Serial, "lineage", st.Lineage, "connections", len(st.Connections))
	store, desc, err := c.openStore()
	if err != nil {
		op.close()
		return nil, fmt.Errorf("opening the token store: %w", err)
	}
	op.store = store
	op.log.Debug("token store opened", "store", desc)
	return op, nil
}

// recoverState folds a journal left by a run that died, and (holding the
// lock, so no other run can be mid-write) removes the temporary files that
// killed writes left beside the state and in the library folder.
func (c *cli) recoverState(op *operation, locked bool) error {
	n, err := op.backend.Recover()
	if err != nil {
		return err
	}
	op.log.Debug("state journal recovered", "records", n)
	if !locked {
		return nil
	}
	removed, err := op.backend.RemoveTemps()
	more, lerr := library.RemoveTemps(op.cfg.Settings.LibraryPath)
	removed = append(removed, more...)
	for _, p := range removed {
		op.log.Debug("leftover temporary file removed", "path", p)
	}
	if err := errors.Join(err, lerr); err != nil {
		fmt.Fprintf(c.io.ErrOut, "%s %v\n", c.io.Paint("yellow", "Warning:"), err)
	}
	return nil
}

// tokenStore opens the machine's token store, or the injected one.
func (c *cli) tokenStore() (auth.Store, error) {
	store, _, err := c.openStore()
	if err != nil {
		return nil, fmt.Errorf("opening the token store: %w", err)
	}
	return store, nil
}

// openStore opens the token store the configuration and environment ask
// for (or the one given to this process), with its description; a
// plaintext store warns on stderr before its first write.
func (c *cli) openStore() (auth.Store, string, error) {
	if c.store != nil {
		c.opened = append(c.opened, c.store)
		return c.store, "the store given to this process", nil
	}
	choice := c.storeChoice
	choice.Warn = func(msg string) {
		fmt.Fprintf(c.io.ErrOut, "%s %s\n", c.io.Paint("yellow", "Warning:"), msg)
	}
	home, err := c.connformHome()
	if err != nil {
		return nil, "", err
	}
	s, desc, err := auth.Open(home, c.env, choice)
	if err == nil {
		c.opened = append(c.opened, s)
	}
	return s, desc, err
}

// planInput gathers what plan.Make needs from an open operation.
func (c *cli) planInput(op *operation, targets []string, destroy bool) plan.Input {
	s := op.cfg.Settings
	// One read of the store per account and per authority, not per
	// connection: 10,000 connections of one app would otherwise read and
	// decrypt the token file 10,000 times.
	grants := auth.NewGrantReader(op.store)
	libDir := filepath.Clean(s.LibraryPath)
	libDirGone := sync.OnceValue(func() bool {
		_, err := os.Stat(libDir)
		return errors.Is(err, fs.ErrNotExist)
	})
	in := plan.Input{
		Config:      op.cfg,
		Now:         c.now(),
		Targets:     targets,
		Destroy:     destroy,
		Version:     version,
		LibraryFile: plan.DefaultLibraryFile(s.LibraryPath, s.LibraryFormat, library.FileName),
		Removable: func(path, hash string) (bool, string) {
			err := library.Owned(s.LibraryPath, path, hash)
			var kept *library.KeptError
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return true, ""
			case errors.As(err, &kept):
				return false, kept.Reason
			}
			return false, ""
		},
		Library: func(path, hash string) plan.LibraryStatus {
			if filepath.Clean(filepath.Dir(path)) == libDir && libDirGone() {
				// No folder, no file in it: asked of every new connection,
				// 10,000 failing opens would say the same.
				return plan.LibraryMissing
			}
			st, err := library.Check(path, hash)
			if err != nil {
				return plan.LibraryMissing
			}
			return plan.LibraryStatus(st)
		},
		// An unreadable entry plans as none: apply signs in afresh.
		Grant: grants.Grant,
	}
	if op.existed {
		in.State = op.st
	}
	return in
}

// httpClientFor returns the HTTP client for token and Web API requests,
// logging each request (method, host, path, status: never a query or body,
// which may hold a code or a token).
func (c *cli) httpClientFor(log *slog.Logger) *http.Client {
	base := http.DefaultTransport
	if t, ok := base.(*http.Transport); ok {
		// Apply works on -parallelism connections at once, often of one
		// org: with Go's default of 2 idle connections per host, most
		// requests would open a new connection (and TLS session).
		t = t.Clone()
		t.MaxIdleConnsPerHost = 64
		base = t
	}
	if c.httpClient != nil && c.httpClient.Transport != nil {
		base = c.httpClient.Transport
	}
	// Outermost, so that neither the log nor any caller sees an answer
	// that echoes a secret of its request.
	return &http.Client{Transport: redact.Transport(loggingTransport{base: base, log: log}), Timeout: 2 * time.Minute, CheckRedirect: refuseRedirect}
}

// refuseRedirect stops every redirect. Token requests carry the client
// secret, the code and its verifier or the refresh token, and Web API
// requests the bearer token: a redirect would resend them to wherever the
// Location points, even over plain http. Entra and Dataverse answer these
// requests directly.
func refuseRedirect(req *http.Request, via []*http.Request) error {
	return fmt.Errorf("refusing to follow a redirect from %s to %s://%s%s: connform sends secrets and tokens only to the endpoints configured; check token_url and url",
		via[0].URL.Host, req.URL.Scheme, req.URL.Host, req.URL.Path)
}

type loggingTransport struct {
	base http.RoundTripper
	log  *slog.Logger
}

func (t loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	attrs := []any{"method", req.Method, "host", req.URL.Host, "path", req.URL.Path, "duration", time.Since(start).Round(time.Millisecond)}
	if err != nil {
		t.log.Debug("http request failed", append(attrs, "error", err.Error())...)
		return nil, err
	}
	t.log.Debug("http request", append(attrs, "status", resp.StatusCode)...)
	if t.log.Enabled(req.Context(), levelTrace) {
		// Names only: the values of a query (a code, a state) or of a
		// header (a bearer token) are secrets or near enough.
		t.log.Log(req.Context(), levelTrace, "http exchange", "method", req.Method, "path", req.URL.Path,
			"query_params", sortedKeys(req.URL.Query()), "request_headers", sortedKeys(req.Header),
			"response_type", resp.Header.Get("Content-Type"), "response_length", resp.ContentLength)
	}
	return resp, err
}

// levelTrace is below debug: what each HTTP exchange carried (by name).
const levelTrace = slog.LevelDebug - 4

// logger returns the structured log CONNFORM_LOG asks for: debug or trace
// to stderr or CONNFORM_LOG_PATH; otherwise a logger that drops everything.
// It is made once per run, so the log file is opened once and closed when
// the command ends.
func (c *cli) logger() *slog.Logger {
	if c.log != nil {
		return c.log
	}
	var lv slog.Level
	switch strings.ToLower(c.getenv("CONNFORM_LOG")) {
	case "trace":
		lv = levelTrace
	case "debug":
		lv = slog.LevelDebug
	case "info":
		lv = slog.LevelInfo
	default:
		c.log = slog.New(slog.DiscardHandler)
		return c.log
	}
	w := c.io.ErrOut
	if p := c.getenv("CONNFORM_LOG_PATH"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err == nil {
			// An older file keeps its mode on open; the log is nobody
			// else's business even though it holds no secret.
			err = f.Chmod(0o600)
		}
		if err != nil {
			fmt.Fprintf(c.io.ErrOut, "%s CONNFORM_LOG_PATH=%s cannot be written (%v); logging to stderr instead\n", c.io.Paint("yellow", "Warning:"), p, err)
		} else {
			w = f
			c.closeLog = f.Close
		}
	}
	c.log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.LevelKey && a.Value.Any() == levelTrace {
			a.Value = slog.StringValue("TRACE")
		}
		return a
	}}))
	return c.log
}

// logPlan records what the plan decided, per connection at trace level.
func logPlan(log *slog.Logger, p *plan.Plan) {
	sum := p.Summarize()
	log.Debug("plan made", "add", sum.Add, "change", sum.Change, "destroy", sum.Destroy, "sign_ins", sum.SignIns, "interactive", sum.Interactive)
	if !log.Enabled(context.Background(), levelTrace) {
		// The words of 10,000 reasons would be made for nothing.
		return
	}
	for _, ch := range p.Changes {
		log.Log(context.Background(), levelTrace, "planned", "address", ch.Addr, "action", ch.Action.String(), "reason", reasonText(ch.Reasons),
			"auth", ch.Auth.Kind.String(), "auth_reason", ch.Auth.Reason, "account_key", ch.Auth.Account)
	}
}

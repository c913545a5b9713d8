package config

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"connform/internal/atomicfile"
)

// The evaluation cache lets a command about one connection (token,
// entities, preview) skip evaluating every connection: a large estate has
// 10,000, and `connform token NAME` should not take longer for it. An entry
// holds one evaluated connection without its secrets, keyed by the content
// of every input of Load (CacheKey); what env() and file() read is checked
// again when the entry is read. A secret is never cached: a caller that
// needs one (to sign in) loads the configuration in full.
//
// Entries live in CacheDir inside the configuration directory, beside the
// default state file, one small file (0600) per connection asked for, so
// that reading one is O(1) in the number of connections.

// CacheDir is where evaluation cache entries are kept, relative to the
// configuration directory. Load skips it: it is hidden.
const CacheDir = ".connform/cache"

// cacheFormat marks a file as an entry this build wrote; connform
// overwrites no file that lacks it.
const cacheFormat = "connform evaluation cache 1"

// CacheKey digests every input Load reads for dir and opts, without
// parsing: the configuration and variable files, the variable options and
// CONNFORM_VAR_ variables, and version (a new build may evaluate
// differently). It reads the files, so it costs their size, not their
// connections.
func CacheKey(dir string, opts LoadOptions, version string) (string, error) {
	h := sha256.New()
	field := func(parts ...string) {
		for _, p := range parts {
			io.WriteString(h, p)
			h.Write([]byte{0})
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	field(cacheFormat, version, abs)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	// Every .hcl file Load may read: configuration, connform.vars.hcl and
	// *.auto.vars.hcl (and *.vars.hcl, read only when named, costs little).
	files := make([]string, 0, len(entries))
	for _, e := range entries {
		if name := e.Name(); !e.IsDir() && strings.HasSuffix(name, ".hcl") && !strings.HasPrefix(name, ".") {
			files = append(files, name)
		}
	}
	for _, a := range opts.VarArgs {
		field("arg", map[bool]string{true: "file", false: "var"}[a.File], a.Value)
		if a.File {
			files = append(files, a.Value)
		}
	}
	for _, v := range opts.VarFiles {
		files = append(files, v)
		field("varfile", v)
	}
	for _, v := range opts.Vars {
		field("var", v)
	}
	for k, v := range opts.PlanVars {
		field("planvar", k, v)
	}
	for _, name := range files {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if err := hashFile(h, name, p); err != nil {
			return "", err
		}
	}
	env := slices.Clone(opts.Env)
	slices.Sort(env)
	for _, kv := range env {
		if strings.HasPrefix(kv, "CONNFORM_VAR_") {
			field("env", kv)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile streams a file into h after its name and size, so that the
// key costs no copy of the configuration.
func hashFile(h io.Writer, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "file\x00%s\x00%d\x00", name, fi.Size())
	n, err := io.Copy(h, f)
	if err == nil && n != fi.Size() {
		err = errors.New(name + " changed while it was read")
	}
	return err
}

// CachedConnection is a connection as the cache keeps it: no secret, and
// the settings a command about it needs.
type CachedConnection struct {
	Conn            *Connection
	StatePath       string
	TokenStore      string
	TokenStoreWhere string
	// Extra is what the caller stored with the entry to check it again
	// (such as a digest of the state the connection was checked against).
	Extra string
}

// cacheEntry is an entry's file form.
type cacheEntry struct {
	Format string `json:"format"`
	Key    string `json:"key"`
	Addr   string `json:"address"`
	// Reads are the env() and file() calls of the evaluation; ReadsDigest
	// digests what they returned, salted so that a digest of a secret read
	// by env() cannot be looked up in a table.
	Reads       []inputCall `json:"reads,omitempty"`
	Salt        string      `json:"salt"`
	ReadsDigest string      `json:"reads_digest"`

	StatePath       string `json:"state_path"`
	TokenStore      string `json:"token_store"`
	TokenStoreWhere string `json:"token_store_where,omitempty"`
	Extra           string `json:"extra,omitempty"`

	Name                 string   `json:"name"`
	InstanceKey          string   `json:"instance_key,omitempty"`
	URL                  string   `json:"url"`
	TenantID             string   `json:"tenant_id,omitempty"`
	ClientID             string   `json:"client_id,omitempty"`
	AuthorizationURL     string   `json:"authorization_url,omitempty"`
	TokenURL             string   `json:"token_url,omitempty"`
	GrantType            string   `json:"grant_type,omitempty"`
	Redirect             string   `json:"redirect,omitempty"`
	Scopes               []string `json:"scopes,omitempty"`
	Prompt               string   `json:"prompt,omitempty"`
	LoginHint            string   `json:"login_hint,omitempty"`
	Entity               string   `json:"entity,omitempty"`
	Description          string   `json:"description,omitempty"`
	AuthenticationMethod string   `json:"authentication_method,omitempty"`
	CertificatePath      string   `json:"certificate_path,omitempty"`
	FederatedTokenFile   string   `json:"federated_token_file,omitempty"`
	PreventDestroy       bool     `json:"prevent_destroy,omitempty"`
}

func cachePath(dir, key, addr string) string {
	sum := sha256.Sum256([]byte(key + "\x00" + addr))
	return filepath.Join(dir, CacheDir, hex.EncodeToString(sum[:16])+".json")
}

// ReadCache returns the cached evaluation of addr for the inputs key, or
// false when there is none or it no longer holds (what env() or file()
// read has changed). env is the environment Load would be given.
func ReadCache(dir, key, addr string, env []string) (*CachedConnection, bool) {
	data, err := os.ReadFile(cachePath(dir, key, addr))
	if err != nil || len(data) > 1<<20 {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(data, &e) != nil || e.Format != cacheFormat || e.Key != key || e.Addr != addr {
		return nil, false
	}
	if digest, ok := readsDigest(dir, env, e.Reads, e.Salt); !ok || digest != e.ReadsDigest {
		return nil, false
	}
	c := &Connection{
		Name: e.Name, Key: e.InstanceKey, Addr: e.Addr, URL: e.URL, TenantID: e.TenantID, ClientID: e.ClientID,
		AuthorizationURL: e.AuthorizationURL, TokenURL: e.TokenURL, GrantType: e.GrantType, Redirect: e.Redirect,
		Scopes: e.Scopes, Prompt: e.Prompt, LoginHint: e.LoginHint, Entity: e.Entity, Description: e.Description,
		AuthenticationMethod: e.AuthenticationMethod, CertificatePath: e.CertificatePath,
		FederatedTokenFile: e.FederatedTokenFile, PreventDestroy: e.PreventDestroy,
	}
	if c.Address().String() != addr {
		return nil, false
	}
	return &CachedConnection{Conn: c, StatePath: e.StatePath, TokenStore: e.TokenStore, TokenStoreWhere: e.TokenStoreWhere, Extra: e.Extra}, true
}

// WriteCache records c, evaluated as part of cfg from the inputs key, for
// ReadCache. tokenStoreWhere and extra are the caller's, returned as they
// were given. A file in the cache's place that is not an entry is left
// alone (and the entry not written).
func WriteCache(cfg *Config, key string, c *Connection, tokenStoreWhere, extra string) error {
	path := cachePath(cfg.Dir, key, c.Addr)
	if old, err := os.ReadFile(path); err == nil {
		var e cacheEntry
		if json.Unmarshal(old, &e) != nil || e.Format != cacheFormat {
			return errors.New(path + " is not an evaluation cache entry; left in place")
		}
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	var reads []inputCall
	var seen []string
	if cfg.reads != nil {
		cfg.reads.mu.Lock()
		reads = slices.SortedFunc(maps.Keys(cfg.reads.calls), func(a, b inputCall) int {
			return strings.Compare(a.Fn+"\x00"+a.Arg, b.Fn+"\x00"+b.Arg)
		})
		seen = slices.Sorted(maps.Keys(cfg.reads.seen))
		cfg.reads.mu.Unlock()
	}
	digest := saltedDigest(hex.EncodeToString(salt), seen)
	e := cacheEntry{
		Format: cacheFormat, Key: key, Addr: c.Addr, Reads: reads, Salt: hex.EncodeToString(salt), ReadsDigest: digest,
		StatePath: cfg.Settings.StatePath, TokenStore: cfg.Settings.TokenStore, TokenStoreWhere: tokenStoreWhere, Extra: extra,
		Name: c.Name, InstanceKey: c.Key, URL: c.URL, TenantID: c.TenantID, ClientID: c.ClientID,
		AuthorizationURL: c.AuthorizationURL, TokenURL: c.TokenURL, GrantType: c.GrantType, Redirect: c.Redirect,
		Scopes: c.Scopes, Prompt: c.Prompt, LoginHint: c.LoginHint, Entity: c.Entity, Description: c.Description,
		AuthenticationMethod: c.AuthenticationMethod, CertificatePath: c.CertificatePath,
		FederatedTokenFile: c.FederatedTokenFile, PreventDestroy: c.PreventDestroy,
	}
	return writeEntry(path, e)
}

// readsDigest reads again what calls read during an evaluation and digests
// it as WriteCache did; false when something can no longer be read.
func readsDigest(dir string, environ []string, calls []inputCall, salt string) (string, bool) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	seen := make([]string, 0, len(calls))
	for _, call := range calls {
		var value string
		switch call.Fn {
		case "env":
			value = env[call.Arg]
		case "file":
			p := call.Arg
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return "", false
			}
			value = string(b)
		default:
			return "", false
		}
		seen = append(seen, readText(call.Fn, call.Arg, value))
	}
	slices.Sort(seen)
	return saltedDigest(salt, seen), true
}

func saltedDigest(salt string, seen []string) string {
	h := sha256.New()
	io.WriteString(h, salt)
	for _, s := range seen {
		h.Write([]byte{0})
		io.WriteString(h, s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeEntry(path string, e cacheEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// Entries are this machine's, never the repository's: keep git from
	// offering them for a commit. Written only where no such file is.
	if f, err := os.OpenFile(filepath.Join(dir, ".gitignore"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		_, _ = f.WriteString("# connform's evaluation cache: local to this machine\n*\n")
		_ = f.Close()
	}
	return atomicfile.Write(path, data, 0o600)
}

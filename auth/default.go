package auth

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService is the service name of connform's OS keyring items.
const KeyringService = "connform"

// openers are the machine facilities Open probes; tests replace them.
type openers struct {
	// probeKeyring returns nil when an OS keyring answers.
	probeKeyring func() error
	// kernelKey returns the token file key kept in the kernel keyring,
	// creating it when absent (created reports that).
	kernelKey func() (key []byte, created bool, err error)
}

var machine = openers{probeKeyring: probeOSKeyring, kernelKey: kernelKey}

// Open picks the token store for this machine and returns it with a
// description for status lines. env (KEY=VALUE entries, as os.Environ) may
// set CONNFORM_TOKEN_STORE to "keyring", "file" or "memory", and
// CONNFORM_TOKEN_PASSPHRASE for the file; otherwise the configuration's
// Choice applies. By default the OS keyring is used when one answers, else
// the encrypted file dir/tokens.enc. Tokens are written in clear only to
// dir/tokens.json, and only when the configuration names "plaintext".
func Open(dir string, env []string, c Choice) (Store, string, error) {
	return machine.open(dir, env, c)
}

// Choice is the token store a configuration asks for (connform {
// token_store }). CONNFORM_TOKEN_STORE overrides it, except that plaintext
// can only be asked for here, where the choice is reviewed with the rest of
// the configuration.
type Choice struct {
	// Store is "", "auto", "keyring", "file" or "plaintext".
	Store string
	// Where names the attribute's source position for messages.
	Where string
	// Warn is called once, before a plaintext token file is first written.
	Warn func(msg string)
}

func (o openers) open(dir string, env []string, c Choice) (Store, string, error) {
	vars := envMap(env)
	kind := vars["CONNFORM_TOKEN_STORE"]
	if kind == "" && c.Store != "auto" {
		kind = c.Store
		if kind == "plaintext" {
			return openPlain(dir, c)
		}
	}
	switch kind {
	case "plaintext":
		return nil, "", errors.New(`CONNFORM_TOKEN_STORE=plaintext is refused: unencrypted tokens must be asked for in the configuration (connform { token_store = "plaintext" }), where the choice is reviewed; use keyring, file or memory`)
	case "memory":
		return NewMemoryStore(), "memory (tokens are forgotten when connform exits)", nil
	case "keyring":
		if err := o.probeKeyring(); err != nil {
			return nil, "", fmt.Errorf("CONNFORM_TOKEN_STORE=keyring, but the OS keyring does not answer (%v); unset it to use the encrypted token file", err)
		}
		return NewKeyringStore(KeyringService), "OS keyring", nil
	case "file":
		return o.openFile(dir, vars)
	case "":
		if o.probeKeyring() == nil {
			return NewKeyringStore(KeyringService), "OS keyring", nil
		}
		return o.openFile(dir, vars)
	default:
		return nil, "", fmt.Errorf("CONNFORM_TOKEN_STORE=%q is not a token store; use keyring, file or memory", kind)
	}
}

func openPlain(dir string, c Choice) (Store, string, error) {
	where := ""
	if c.Where != "" {
		where = " (" + c.Where + ")"
	}
	var warn func(string)
	if c.Warn != nil {
		warn = func(path string) {
			c.Warn(fmt.Sprintf("token_store = \"plaintext\"%s: tokens are about to be written unencrypted to %s. Anyone who can read that file can use your orgs as you until the refresh token expires (up to 90 days); remove token_store to keep them encrypted.", where, tildePath(path)))
		}
	}
	s, err := NewPlainFileStore(filepath.Join(dir, "tokens.json"), warn)
	if err != nil {
		return nil, "", err
	}
	return s, "plaintext file " + tildePath(s.Path()) + " (unencrypted: token_store = \"plaintext\"" + where + ")", nil
}

func (o openers) openFile(dir string, vars map[string]string) (Store, string, error) {
	path := filepath.Join(dir, "tokens.enc")
	shown := "encrypted file " + tildePath(path)
	if p := vars["CONNFORM_TOKEN_PASSPHRASE"]; p != "" {
		s, err := NewFileStore(path, []byte(p))
		if err != nil {
			return nil, "", err
		}
		return s, shown + " (key from CONNFORM_TOKEN_PASSPHRASE)", nil
	}
	key, created, err := o.kernelKey()
	if err != nil {
		return nil, "", fmt.Errorf("no OS keyring answers and the kernel keyring cannot keep a key (%v): set CONNFORM_TOKEN_PASSPHRASE to encrypt the token file %s with a passphrase", err, path)
	}
	shown += " (key in kernel keyring)"
	s, err := NewKeyFileStore(path, key)
	if errors.Is(err, ErrWrongPassphrase) && created {
		// The kernel keyring forgets its keys at reboot, and with the key the
		// tokens are lost. Keep the unreadable file aside and start afresh:
		// the next run signs in again rather than failing for good.
		old, rerr := SetAside(path)
		if rerr != nil {
			return nil, "", fmt.Errorf("%w (and it cannot be moved aside: %v)", err, rerr)
		}
		s, err = NewKeyFileStore(path, key)
		shown += "; the previous token file, written with a key lost since (e.g. at reboot), was moved to " + tildePath(old) + ": sign in again"
	}
	if err != nil {
		return nil, "", err
	}
	return s, shown, nil
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v // later entries win, as in exec
		}
	}
	return m
}

// probeOSKeyring asks the OS keyring for an item that does not exist: "not
// found" proves it answers. Without a Secret Service (servers, CI) D-Bus
// fails at once; the timeout guards against a service that hangs.
func probeOSKeyring() error {
	done := make(chan error, 1)
	go func() {
		_, err := keyring.Get(KeyringService, "connform-probe")
		if errors.Is(err, keyring.ErrNotFound) {
			err = nil
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		return errors.New("the OS keyring did not answer within 3s")
	}
}

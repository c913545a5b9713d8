package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService is the service name of connform's OS keyring items.
const KeyringService = "connform"

// openers are the machine facilities OpenDefault probes; tests replace them.
type openers struct {
	// probeKeyring returns nil when an OS keyring answers.
	probeKeyring func() error
	// kernelKey returns the token file key kept in the kernel keyring,
	// creating it when absent (created reports that).
	kernelKey func() (key []byte, created bool, err error)
}

var machine = openers{probeKeyring: probeOSKeyring, kernelKey: kernelKey}

// OpenDefault picks the token store for this machine and returns it with a
// description for status lines. env (KEY=VALUE entries, as os.Environ) may
// set CONNFORM_TOKEN_STORE to "keyring", "file" or "memory", and
// CONNFORM_TOKEN_PASSPHRASE for the file. By default the OS keyring is used
// when one answers, else the encrypted file dir/tokens.enc. Tokens are never
// written in clear.
func OpenDefault(dir string, env []string) (Store, string, error) {
	return machine.open(dir, env)
}

func (o openers) open(dir string, env []string) (Store, string, error) {
	vars := envMap(env)
	switch kind := vars["CONNFORM_TOKEN_STORE"]; kind {
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
	s, err := NewFileStore(path, key)
	if errors.Is(err, ErrWrongPassphrase) && created {
		// The kernel keyring forgets its keys at reboot, and with the key the
		// tokens are lost. Keep the unreadable file aside and start afresh:
		// the next run signs in again rather than failing for good.
		old := path + ".unreadable"
		if rerr := os.Rename(path, old); rerr != nil {
			return nil, "", fmt.Errorf("%w (and it cannot be moved aside: %v)", err, rerr)
		}
		s, err = NewFileStore(path, key)
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

func tildePath(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return p
	}
	if rel, err := filepath.Rel(home, p); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		return filepath.Join("~", rel)
	}
	return p
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

package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"connform/internal/safetext"
)

// validFile returns the fields of a token file written with passphrase
// "pw", as a map a test can damage one field of.
func validFile(t testing.TB) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.enc")
	s, err := NewFileStore(path, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("k", sampleGrant()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// hostileFiles are token files with one parameter at an extreme: each
// once crashed, hung or ate gigabytes, or would have.
func hostileFiles(t testing.TB) map[string][]byte {
	b64 := func(n int) string { return strings.Repeat("A", (n+2)/3*4) }
	cases := map[string]map[string]any{
		"n zero":                 {"n": 0},
		"n negative":             {"n": -1024},
		"n not a power of two":   {"n": 1<<15 + 1},
		"n 2^30 (128 GiB)":       {"n": 1 << 30},
		"n 2^25, r 1 (4 GiB)":    {"n": 1 << 25, "r": 1},
		"n 2^62":                 {"n": 1 << 62},
		"n beyond int64":         {"n": 1e30},
		"n a string":             {"n": "32768"},
		"r zero":                 {"r": 0},
		"r 2^30":                 {"r": 1 << 30},
		"r 2^62":                 {"r": 1 << 62},
		"p zero":                 {"p": 0},
		"p 2^30 (hours)":         {"p": 1 << 30},
		"p negative":             {"p": -1},
		"memory just over":       {"n": 1 << 19, "r": 8},
		"work just over":         {"n": 1 << 18, "r": 8, "p": 4},
		"salt empty":             {"salt": ""},
		"salt short":             {"salt": b64(4)},
		"salt 1 MiB":             {"salt": b64(1 << 20)},
		"nonce empty":            {"nonce": ""},
		"nonce 11 bytes":         {"nonce": b64(11)[:14] + "=="},
		"nonce 64 KiB":           {"nonce": b64(1 << 16)},
		"ciphertext empty":       {"ciphertext": ""},
		"ciphertext not base64":  {"ciphertext": "!!!"},
		"ciphertext null":        {"ciphertext": nil},
		"version zero":           {"version": 0},
		"version negative":       {"version": -1},
		"version 99":             {"version": 99},
		"kdf unknown":            {"kdf": "md5"},
		"kdf hkdf in version 1":  {"kdf": "hkdf-sha256", "version": 1, "n": 0, "r": 0, "p": 0},
		"hkdf with scrypt costs": {"kdf": "hkdf-sha256", "n": 1 << 30},
	}
	files := map[string][]byte{}
	for name, change := range cases {
		m := validFile(t)
		for k, v := range change {
			m[k] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	return files
}

func TestFileStoreRefusesHostileParameters(t *testing.T) {
	for name, b := range hostileFiles(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens.enc")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := NewFileStore(path, []byte("pw"))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FileError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, "connform logout -all") {
				t.Errorf("the error does not name the file and the recovery command: %s", msg)
			}
			if !fe.Identified {
				t.Errorf("a connform token file with one bad field was not identified as connform's: %s", msg)
			}
			aside, err := SetAside(path)
			if err != nil {
				t.Fatalf("SetAside: %v", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the damaged file is still in place")
			}
			if got, _ := os.ReadFile(aside); string(got) != string(b) {
				t.Errorf("the file set aside at %s is not the damaged file", aside)
			}
		})
	}
}

func TestFileStoreMessages(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	valid := validFile(t)
	newer := valid
	newer["version"] = 3
	nb, _ := json.Marshal(newer)
	for _, tt := range []struct {
		name, content, want string
		identified          bool
	}{
		{"not JSON", "this is not a token file", "is damaged or not connform's (it is not JSON with the fields of an encrypted token file), so connform leaves it alone", false},
		{"other JSON", `{"grants":{}}`, "is damaged or not connform's", false},
		{"truncated", `{"version":1,"kdf":"scr`, "is damaged or not connform's", false},
		{"newer", string(nb), "has version 3 (scrypt), which this connform cannot read: upgrade connform, or run connform logout -all", true},
		{"n too large", `{"version":1,"kdf":"scrypt","n":1073741824,"r":8,"p":1,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}`,
			"is damaged (scrypt n=1073741824, r=8 would need more than the 256 MiB of memory allowed): run connform logout -all to move it aside and sign in again", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := write(strings.ReplaceAll(tt.name, " ", "-")+".enc", tt.content)
			_, err := NewFileStore(path, []byte("pw"))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v\nwant it to name %s and say %q", err, path, tt.want)
			}
			_, aerr := SetAside(path)
			if tt.identified != (aerr == nil) {
				t.Errorf("SetAside = %v; identified = %v", aerr, tt.identified)
			}
			if !tt.identified {
				if got, _ := os.ReadFile(path); string(got) != tt.content {
					t.Errorf("a file that is not connform's was changed or moved")
				}
			}
		})
	}
}

func TestSetAsideOverwritesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.enc")
	b, _ := json.Marshal(validFile(t))
	for i, want := range []string{path + ".unreadable", path + ".unreadable.1", path + ".unreadable.2"} {
		content := fmt.Sprintf("%s%*s", b, i, "")
		os.WriteFile(path, []byte(content), 0o600)
		got, err := SetAside(path)
		if err != nil || got != want {
			t.Fatalf("SetAside = %q, %v; want %q", got, err, want)
		}
		if kept, _ := os.ReadFile(got); string(kept) != content {
			t.Errorf("%s does not hold the file set aside", got)
		}
	}
	if first, _ := os.ReadFile(path + ".unreadable"); string(first) != string(b) {
		t.Error("an earlier file set aside was overwritten")
	}
}

// TestFileStoreWritesOncePerRun: access tokens are written at Flush, once;
// a rotated refresh token is on disk before Put returns; the file is
// decoded once however often it is read.
func TestFileStoreWritesOncePerRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.enc")
	key := []byte(strings.Repeat("k", 32))
	s, err := NewKeyFileStore(path, key)
	if err != nil {
		t.Fatal(err)
	}
	g := sampleGrant()
	if err := s.Put("user", g); err != nil {
		t.Fatal(err)
	}
	if s.writes != 1 {
		t.Fatalf("a new refresh token was not written at once (%d writes)", s.writes)
	}
	exp := time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC)
	for i := range 100 {
		org := fmt.Sprintf("https://org%d.crm.dynamics.com", i)
		cur, err := s.Get("user")
		if err != nil {
			t.Fatal(err)
		}
		cur.Access[org] = &AccessToken{Token: "at-" + org, Expiry: exp}
		if err := s.Put("user", cur); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(fmt.Sprintf("app%d", i), &Grant{Account: "app", Access: map[string]*AccessToken{org: {Token: "app-" + org, Expiry: exp}}}); err != nil {
			t.Fatal(err)
		}
	}
	if s.writes != 1 || s.decodes != 0 {
		t.Errorf("before Flush: %d writes, %d decodes; want 1 and 0", s.writes, s.decodes)
	}
	if got, _ := s.Get("user"); len(got.Access) != 101 {
		t.Errorf("Get does not see the unwritten access tokens: %d", len(got.Access))
	}
	// Another process does not see them yet; after Flush it does.
	other, err := NewKeyFileStore(path, key)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := other.Get("app7"); got != nil {
		t.Errorf("an access token reached the disk before Flush")
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if s.writes != 2 {
		t.Errorf("Flush wrote %d times in all, want 2", s.writes-1)
	}
	if got, _ := other.Get("user"); got == nil || len(got.Access) != 101 {
		t.Errorf("after Flush another process sees %v", got)
	}
	if got, _ := other.Get("app7"); got == nil || got.Access["https://org7.crm.dynamics.com"].Token != "app-https://org7.crm.dynamics.com" {
		t.Errorf("after Flush another process sees %v for app7", got)
	}

	// A rotated refresh token is durable before Put returns.
	cur, _ := s.Get("user")
	cur.RefreshToken = "rotated"
	if err := s.Put("user", cur); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.Get("user"); got.RefreshToken != "rotated" {
		t.Errorf("a rotated refresh token was not written at once: %q", got.RefreshToken)
	}
	// So is a dropped access token (a 401), which no merge may bring back.
	delete(cur.Access, "https://org3.crm.dynamics.com")
	if err := s.Put("user", cur); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.Get("user"); got.Access["https://org3.crm.dynamics.com"] != nil {
		t.Errorf("a dropped access token is still on disk")
	}
	// Once when opened, then once per change another process made.
	if other.decodes != 4 {
		t.Errorf("the other store decoded the file %d times, want 1 + 3 changes", other.decodes)
	}
}

// TestFileStoreMergesOtherProcesses: what this process defers is merged
// into what others wrote meanwhile; their rotated refresh token and their
// logout are not undone.
func TestFileStoreMergesOtherProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.enc")
	a := newFileStoreT(t, path, "pw")
	b := newFileStoreT(t, path, "pw")
	if err := a.Put("user", sampleGrant()); err != nil {
		t.Fatal(err)
	}
	if err := a.Put("gone", sampleGrant()); err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC)
	for _, k := range []string{"user", "gone"} {
		g, _ := b.Get(k)
		g.Access["https://b.crm.dynamics.com"] = &AccessToken{Token: "b-token", Expiry: exp}
		if err := b.Put(k, g); err != nil {
			t.Fatal(err)
		}
	}
	// Meanwhile a rotates the refresh token and logs "gone" out.
	g, _ := a.Get("user")
	g.RefreshToken = "rotated-by-a"
	if err := a.Put("user", g); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Get("user"); got.RefreshToken != "rotated-by-a" || got.Access["https://b.crm.dynamics.com"] == nil {
		t.Errorf("b sees %+v", got)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	c := newFileStoreT(t, path, "pw")
	got, _ := c.Get("user")
	if got.RefreshToken != "rotated-by-a" || got.Access["https://b.crm.dynamics.com"].Token != "b-token" || got.Access["https://org.crm.dynamics.com"] == nil {
		t.Errorf("after the merge: %+v", got)
	}
	if got, _ := c.Get("gone"); got != nil {
		t.Errorf("b's flush brought back an account a logged out")
	}
}

// TestKernelKeyFileNeedsNoScrypt: a store under a random key derives its
// file key with HKDF, and still reads (and then upgrades) a file an older
// connform wrote with the key stretched by scrypt.
func TestKernelKeyFileNeedsNoScrypt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.enc")
	key := []byte(strings.Repeat("r", 32))
	old := newFileStoreT(t, path, string(key)) // how older connforms used the key
	if err := old.Put("k", sampleGrant()); err != nil {
		t.Fatal(err)
	}
	kdfOf := func() (string, int) {
		var f fileFormat
		b, _ := os.ReadFile(path)
		json.Unmarshal(b, &f)
		return f.KDF, f.Version
	}
	if kdf, _ := kdfOf(); kdf != kdfScrypt {
		t.Fatalf("setup: %s", kdf)
	}
	s, err := NewKeyFileStore(path, key)
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Get("k")
	if err != nil || g == nil || g.RefreshToken != sampleGrant().RefreshToken {
		t.Fatalf("the older file did not open: %v, %v", g, err)
	}
	g.RefreshToken = "next"
	if err := s.Put("k", g); err != nil {
		t.Fatal(err)
	}
	if kdf, v := kdfOf(); kdf != kdfHKDF || v != 2 {
		t.Errorf("rewritten with %s version %d, want %s version 2", kdf, v, kdfHKDF)
	}
	if _, err := NewKeyFileStore(path, []byte(strings.Repeat("x", 32))); !errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), "kernel keyring") {
		t.Errorf("another key: %v", err)
	}
	if _, err := NewFileStore(path, key); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("a passphrase opened a file written under a random key: %v", err)
	}
}

// FuzzFileStoreDecode: no token file makes opening the store panic, hang
// or allocate without bound; every refusal is a *FileError naming the file.
func FuzzFileStoreDecode(f *testing.F) {
	for _, b := range hostileFiles(f) {
		f.Add(b)
	}
	good, _ := json.Marshal(validFile(f))
	f.Add(good)
	f.Add([]byte(`{"version":1,"encrypted":false,"grants":{"k":{"access":{"x":null}}}}`))
	f.Add([]byte("\x00\xff"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "tokens.enc")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := NewFileStore(path, []byte("pw"))
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), path) {
				t.Fatalf("not a *FileError naming the file: %v", err)
			}
			return
		}
		if _, err := s.Get("k"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestTokenFileStringsEscaped: what auth status prints from a token file
// (the account, why a refresh token was dropped) cannot drive the terminal,
// even from a hand-edited plaintext file.
func TestTokenFileStringsEscaped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	os.WriteFile(path, []byte(`{"version":1,"encrypted":false,"grants":{"k":{"account":"me\u001b[2J","refresh_dropped":"x\u009b2J\nApply complete!"},"n":null}}`), 0o600)
	s, err := NewPlainFileStore(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Get("k")
	if err != nil || g == nil {
		t.Fatalf("Get = %v, %v", g, err)
	}
	if g.Account != `me\x1b[2J` || g.RefreshDropped != `x\u009b2J\nApply complete!` {
		t.Errorf("Get = %q, %q", g.Account, g.RefreshDropped)
	}
	if g, err := s.Get("n"); g != nil || err != nil {
		t.Errorf("a null entry: %v, %v", g, err)
	}
}

// TestTokenFileLockHeld: a process that holds the token file's lock and
// hangs makes a write fail with a message, not hang this one too.
func TestTokenFileLockHeld(t *testing.T) {
	defer func(d time.Duration) { lockWait = d }(lockWait)
	lockWait = 50 * time.Millisecond
	path := filepath.Join(t.TempDir(), "tokens.enc")
	s := newFileStoreT(t, path, "pw")
	other := flock.New(path + ".lock")
	if ok, err := other.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock: %v %v", ok, err)
	}
	defer other.Unlock()
	err := s.Put("k", sampleGrant())
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("Put = %v", err)
	}
	other.Unlock()
	if err := s.Put("k", sampleGrant()); err != nil {
		t.Fatalf("after the lock was released: %v", err)
	}
}

// FuzzPlainStoreDecode: the same for the plaintext token file.
func FuzzPlainStoreDecode(f *testing.F) {
	f.Add([]byte(`{"version":1,"encrypted":false,"grants":{"k":{"account":"a","access":{"r":{"token":"t","expiry":"2026-01-01T00:00:00Z"}}}}}`))
	f.Add([]byte(`{"version":1,"encrypted":false,"grants":{"k":null,"j":{"access":{"x":null}}}}`))
	f.Add([]byte(`{"version":2,"encrypted":false,"grants":[]}`))
	f.Add([]byte(`{"version":1,"encrypted":false,"grants":{"k":{"account":"\u001b[2J"}}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "tokens.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := NewPlainFileStore(path, nil)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), path) {
				t.Fatalf("not a *FileError naming the file: %v", err)
			}
			return
		}
		g, err := s.Get("k")
		if err != nil {
			t.Fatal(err)
		}
		if g != nil && (!safetext.Safe(g.Account) || !safetext.Safe(g.RefreshDropped)) {
			t.Fatalf("unescaped %q %q", g.Account, g.RefreshDropped)
		}
		// What was read can be written back.
		if err := s.Put("k", &Grant{RefreshToken: "r"}); err != nil {
			t.Fatal(err)
		}
	})
}

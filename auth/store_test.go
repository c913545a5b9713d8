package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

func sampleGrant() *Grant {
	return &Grant{
		Account:      fakeUser,
		RefreshToken: "refresh-TOKEN-plaintext-0001",
		Access: map[string]*AccessToken{
			"https://org.crm.dynamics.com": {
				Token:  "access-TOKEN-plaintext-0002",
				Expiry: time.Date(2026, 3, 4, 6, 0, 0, 0, time.UTC),
				Scopes: []string{"https://org.crm.dynamics.com/user_impersonation"},
			},
		},
	}
}

func newFileStoreT(t *testing.T, path, passphrase string) *FileStore {
	t.Helper()
	s, err := NewFileStore(path, []byte(passphrase))
	if err != nil {
		t.Fatalf("NewFileStore: %v", err)
	}
	return s
}

func stores(t *testing.T) map[string]Store {
	keyring.MockInit()
	return map[string]Store{
		"memory":  NewMemoryStore(),
		"file":    newFileStoreT(t, filepath.Join(t.TempDir(), "tokens.enc"), "correct horse"),
		"keyring": NewKeyringStore("connform-test"),
		"plain":   newPlainStoreT(t),
	}
}

func newPlainStoreT(t *testing.T) *PlainFileStore {
	s, err := NewPlainFileStore(filepath.Join(t.TempDir(), "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreRoundTrip(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			key := Key("https://login.microsoftonline.com/tenant/oauth2/v2.0/token", fakeClientID, fakeUser)
			if g, err := s.Get(key); g != nil || err != nil {
				t.Fatalf("Get of an unknown key = %v, %v; want nil, nil", g, err)
			}
			want := sampleGrant()
			if err := s.Put(key, want); err != nil {
				t.Fatalf("Put: %v", err)
			}
			other := Key("https://login.microsoftonline.com/tenant/oauth2/v2.0/token", fakeClientID, "app")
			if err := s.Put(other, &Grant{Account: "app"}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Get = %+v, want %+v", got, want)
			}
			// What a caller does with a grant it got must not change the store.
			got.Access["https://org.crm.dynamics.com"].Token = "changed"
			got.RefreshToken = "changed"
			if again, _ := s.Get(key); !reflect.DeepEqual(again, want) {
				t.Errorf("the stored grant changed with the caller's copy: %+v", again)
			}
			if err := s.Delete(key); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if g, err := s.Get(key); g != nil || err != nil {
				t.Errorf("Get after Delete = %v, %v", g, err)
			}
			if g, _ := s.Get(other); g == nil || g.Account != "app" {
				t.Errorf("Delete removed another key: %v", g)
			}
			if err := s.Delete(key); err != nil {
				t.Errorf("Delete of an absent key: %v", err)
			}
		})
	}
}

func TestStoreConcurrentUse(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for i := range 5 {
						key := fmt.Sprintf("authority|client|user%d-%d", w, i)
						g := sampleGrant()
						g.Account = key
						if err := s.Put(key, g); err != nil {
							t.Error(err)
						}
						if got, err := s.Get(key); err != nil || got == nil || got.Account != key {
							t.Errorf("Get(%s) = %v, %v", key, got, err)
						}
					}
				})
			}
			wg.Wait()
			for w := range 4 {
				for i := range 5 {
					key := fmt.Sprintf("authority|client|user%d-%d", w, i)
					if g, err := s.Get(key); err != nil || g == nil {
						t.Errorf("lost %s: %v, %v", key, g, err)
					}
				}
			}
		})
	}
}

func TestFileStoreOnDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home", ".connform")
	path := filepath.Join(dir, "tokens.enc")
	s := newFileStoreT(t, path, "correct horse")
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening created the file: %v", err)
	}
	g := sampleGrant()
	if err := s.Put("k", g); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("encrypted", func(t *testing.T) {
		for _, plain := range []string{g.RefreshToken, g.Access["https://org.crm.dynamics.com"].Token, fakeUser, "refresh_token", "correct horse"} {
			if strings.Contains(string(first), plain) {
				t.Errorf("the file holds %q in clear", plain)
			}
		}
	})
	t.Run("fresh nonce per write", func(t *testing.T) {
		rotated := sampleGrant()
		rotated.RefreshToken = g.RefreshToken
		if err := s.Put("k", rotated); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		second, _ := os.ReadFile(path)
		if string(first) == string(second) {
			t.Error("the same content was written twice with the same bytes: the nonce is reused")
		}
	})
	t.Run("modes", func(t *testing.T) {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("directory mode = %v (%v), want 0700", fi.Mode().Perm(), err)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp") {
				t.Errorf("a temporary file was left behind: %s", e.Name())
			}
		}
	})
	t.Run("reopened with the passphrase", func(t *testing.T) {
		got, err := newFileStoreT(t, path, "correct horse").Get("k")
		if err != nil || !reflect.DeepEqual(got, g) {
			t.Errorf("Get = %+v, %v; want %+v", got, err, g)
		}
	})
	t.Run("wrong passphrase", func(t *testing.T) {
		_, err := NewFileStore(path, []byte("battery staple"))
		if !errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "CONNFORM_TOKEN_PASSPHRASE") {
			t.Errorf("want a wrong-passphrase error naming the file and the variable, got %v", err)
		}
		if err != nil && (strings.Contains(err.Error(), "battery staple") || strings.Contains(err.Error(), "correct horse")) {
			t.Errorf("the error shows a passphrase: %v", err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "tokens.enc")
		b, _ := os.ReadFile(path)
		b = []byte(strings.Replace(string(b), `"ciphertext":"`, `"ciphertext":"AAAA`, 1))
		os.WriteFile(bad, b, 0o600)
		if _, err := NewFileStore(bad, []byte("correct horse")); err == nil {
			t.Error("a tampered file was accepted")
		}
		os.WriteFile(bad, []byte("not json"), 0o600)
		if _, err := NewFileStore(bad, []byte("correct horse")); err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Errorf("want a damaged-file error, got %v", err)
		}
	})
	t.Run("empty passphrase", func(t *testing.T) {
		if _, err := NewFileStore(path, nil); err == nil {
			t.Error("an empty passphrase was accepted")
		}
	})
}

func TestKeyringStoreErrors(t *testing.T) {
	keyring.MockInitWithError(errors.New("org.freedesktop.secrets was not provided by any .service files"))
	t.Cleanup(keyring.MockInit)
	s := NewKeyringStore("connform-test")
	if _, err := s.Get("k"); err == nil || !strings.Contains(err.Error(), "OS keyring") {
		t.Errorf("Get: want an OS keyring error, got %v", err)
	}
	if err := s.Put("k", sampleGrant()); err == nil || strings.Contains(err.Error(), "TOKEN-plaintext") {
		t.Errorf("Put: want an error without the token, got %v", err)
	}
}

func TestOpenDefault(t *testing.T) {
	up := func() error { return nil }
	down := func() error { return errors.New("no D-Bus") }
	kernel := func() ([]byte, bool, error) { return []byte(strings.Repeat("k", 32)), false, nil }
	noKernel := func() ([]byte, bool, error) { return nil, false, errors.New("operation not permitted") }
	tests := []struct {
		name     string
		o        openers
		env      []string
		wantType string
		wantDesc string
		wantErr  string
	}{
		{"keyring answers", openers{up, noKernel}, nil, "*auth.KeyringStore", "OS keyring", ""},
		{"no keyring, passphrase", openers{down, noKernel}, []string{"CONNFORM_TOKEN_PASSPHRASE=pw"}, "*auth.FileStore", "(key from CONNFORM_TOKEN_PASSPHRASE)", ""},
		{"no keyring, kernel key", openers{down, kernel}, nil, "*auth.FileStore", "(key in kernel keyring)", ""},
		{"nothing to keep a key", openers{down, noKernel}, nil, "", "", "set CONNFORM_TOKEN_PASSPHRASE"},
		{"memory asked", openers{up, kernel}, []string{"CONNFORM_TOKEN_STORE=memory"}, "*auth.MemoryStore", "memory", ""},
		{"file asked over a keyring", openers{up, kernel}, []string{"CONNFORM_TOKEN_STORE=file"}, "*auth.FileStore", "encrypted file", ""},
		{"keyring asked but absent", openers{down, kernel}, []string{"CONNFORM_TOKEN_STORE=keyring"}, "", "", "does not answer"},
		{"unknown store", openers{up, kernel}, []string{"CONNFORM_TOKEN_STORE=bogus"}, "", "", "use keyring, file or memory"},
		{"plaintext only by configuration", openers{up, kernel}, []string{"CONNFORM_TOKEN_STORE=plaintext"}, "", "", `asked for in the configuration (connform { token_store = "plaintext" })`},
		{"last entry wins", openers{down, noKernel}, []string{"CONNFORM_TOKEN_STORE=bogus", "CONNFORM_TOKEN_STORE=memory"}, "*auth.MemoryStore", "memory", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, desc, err := tt.o.open(dir, tt.env, Choice{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%T", s); got != tt.wantType {
				t.Errorf("store = %s, want %s", got, tt.wantType)
			}
			if !strings.Contains(desc, tt.wantDesc) {
				t.Errorf("description %q does not contain %q", desc, tt.wantDesc)
			}
			if fs, ok := s.(*FileStore); ok && fs.Path() != filepath.Join(dir, "tokens.enc") {
				t.Errorf("file store at %s", fs.Path())
			}
		})
	}
}

func TestOpenDefaultAfterLostKernelKey(t *testing.T) {
	dir := t.TempDir()
	old := newFileStoreT(t, filepath.Join(dir, "tokens.enc"), strings.Repeat("a", 32))
	if err := old.Put("k", sampleGrant()); err != nil {
		t.Fatal(err)
	}
	down := func() error { return errors.New("no D-Bus") }
	for _, tt := range []struct {
		name    string
		created bool
		wantErr bool
	}{
		{"existing key that does not fit fails", false, true},
		{"new key moves the old file aside", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := openers{down, func() ([]byte, bool, error) { return []byte(strings.Repeat("b", 32)), tt.created, nil }}
			s, desc, err := o.open(dir, nil, Choice{})
			if tt.wantErr {
				if !errors.Is(err, ErrWrongPassphrase) {
					t.Errorf("want ErrWrongPassphrase, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g, err := s.Get("k"); g != nil || err != nil {
				t.Errorf("the fresh store is not empty: %v, %v", g, err)
			}
			if !strings.Contains(desc, "sign in again") {
				t.Errorf("description %q does not tell the user to sign in again", desc)
			}
			if _, err := os.Stat(filepath.Join(dir, "tokens.enc.unreadable")); err != nil {
				t.Errorf("the old file was not kept aside: %v", err)
			}
		})
	}
}

func TestOpenConfiguredChoice(t *testing.T) {
	up := func() error { return nil }
	down := func() error { return errors.New("no D-Bus") }
	kernel := func() ([]byte, bool, error) { return []byte(strings.Repeat("k", 32)), false, nil }
	tests := []struct {
		name     string
		o        openers
		env      []string
		choice   string
		wantType string
	}{
		{"file asked by the configuration", openers{up, kernel}, nil, "file", "*auth.FileStore"},
		{"auto is the default", openers{up, kernel}, nil, "auto", "*auth.KeyringStore"},
		{"plaintext asked by name", openers{up, kernel}, nil, "plaintext", "*auth.PlainFileStore"},
		{"the environment overrides", openers{down, kernel}, []string{"CONNFORM_TOKEN_STORE=memory"}, "plaintext", "*auth.MemoryStore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, err := tt.o.open(t.TempDir(), tt.env, Choice{Store: tt.choice})
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%T", s); got != tt.wantType {
				t.Errorf("store = %s, want %s", got, tt.wantType)
			}
		})
	}
}

// The plaintext store warns once, before the first token is written, and
// keeps its file private.
func TestPlainFileStore(t *testing.T) {
	// A shared folder is refused, and left as it is.
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(shared, 0o777|os.ModeSticky) // past the umask
	if s, _, err := Open(shared, nil, Choice{Store: "plaintext"}); err != nil {
		t.Fatal(err)
	} else if err := s.Put("k", sampleGrant()); err == nil || !strings.Contains(err.Error(), "can be written by other users") {
		t.Fatalf("a token written into a world-writable folder: %v", err)
	}
	if fi, _ := os.Stat(shared); fi.Mode().Perm() != 0o777 || fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("the shared folder's mode changed to %v", fi.Mode())
	}

	dir := filepath.Join(t.TempDir(), "home")
	var warnings []string
	s, desc, err := Open(dir, nil, Choice{Store: "plaintext", Where: "main.hcl:2", Warn: func(m string) {
		if _, err := os.Stat(filepath.Join(dir, "tokens.json")); err == nil {
			t.Error("warned after the file was written")
		}
		warnings = append(warnings, m)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(desc, "unencrypted") || !strings.Contains(desc, "main.hcl:2") {
		t.Errorf("description %q", desc)
	}
	if len(warnings) != 0 {
		t.Fatal("warned before anything was written")
	}
	for i := range 3 {
		if err := s.Put(fmt.Sprint("k", i), sampleGrant()); err != nil {
			t.Fatal(err)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `token_store = "plaintext" (main.hcl:2)`) {
		t.Fatalf("warnings %q, want one naming the attribute", warnings)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "tokens.json"): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	// Another process reads what this one wrote.
	again, err := NewPlainFileStore(filepath.Join(dir, "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := again.Get("k1"); err != nil || !reflect.DeepEqual(g, sampleGrant()) {
		t.Fatalf("Get = %+v, %v", g, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPlainFileStore(filepath.Join(dir, "tokens.json"), nil); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged file: %v", err)
	}
}

func TestScopesCover(t *testing.T) {
	org := "https://contoso.crm4.dynamics.com/user_impersonation"
	tests := []struct {
		name           string
		granted, wants []string
		want           bool
	}{
		{"same", []string{org}, []string{org, "offline_access"}, true},
		{"case and order", []string{"https://CONTOSO.crm4.dynamics.com/user_impersonation", "openid"}, []string{"openid", org}, true},
		{"a scope removed from the configuration", []string{org, "https://other.crm.dynamics.com/user_impersonation"}, []string{org}, true},
		{"a scope added", []string{org}, []string{org, "https://other.crm.dynamics.com/user_impersonation"}, false},
		{"another org", []string{"https://fabrikam.crm.dynamics.com/user_impersonation"}, []string{org}, false},
		{"nothing granted", nil, []string{org}, false},
	}
	for _, tt := range tests {
		if got := ScopesCover(tt.granted, tt.wants); got != tt.want {
			t.Errorf("%s: ScopesCover = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestKeyAuthority asks for keys of token URLs in turn and again, as a
// plan of many connections does: each answer is its own URL's authority,
// never the one before.
func TestKeyAuthority(t *testing.T) {
	tests := []struct{ tokenURL, want string }{
		{"https://login.microsoftonline.com/t1/oauth2/v2.0/token", "login.microsoftonline.com/t1|c|app"},
		{"https://login.microsoftonline.com/t1/oauth2/v2.0/token", "login.microsoftonline.com/t1|c|app"},
		{"https://login.microsoftonline.us/t2/oauth2/v2.0/token", "login.microsoftonline.us/t2|c|app"},
		{"https://login.microsoftonline.com/t1/oauth2/v2.0/token", "login.microsoftonline.com/t1|c|app"},
		{"http://127.0.0.1:8400/t3/oauth2/v2.0/token", "127.0.0.1:8400/t3|c|app"},
		{"https://idp.example/token", "idp.example/token|c|app"},
		{"not a url", "not a url|c|app"},
		{"", "|c|app"},
		{"https://login.microsoftonline.com/t1/oauth2/v2.0/token", "login.microsoftonline.com/t1|c|app"},
	}
	for _, tt := range tests {
		if got := Key(tt.tokenURL, "c", "app"); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.tokenURL, got, tt.want)
		}
	}
}

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	errCrash := errors.New("simulated crash before rename")
	tests := []struct {
		name string
		// setup prepares dir and returns the path to write.
		setup        func(t *testing.T, dir string) string
		perm         fs.FileMode
		beforeRename func(tmp string) error
		// wantErr is empty for success, else text the error must hold
		// (besides the path, which every error must name).
		wantErr string
		// wantContent and wantMode describe path afterwards; a nil
		// wantContent means path must not be a regular file.
		wantContent string
		wantMode    fs.FileMode
	}{
		{
			name:        "creates a new file with mode perm",
			setup:       func(t *testing.T, dir string) string { return filepath.Join(dir, "state.json") },
			perm:        0o600,
			wantContent: "new",
			wantMode:    0o600,
		},
		{
			name:        "the mode is perm, not perm less the umask",
			setup:       func(t *testing.T, dir string) string { return filepath.Join(dir, "main.hcl") },
			perm:        0o666,
			wantContent: "new",
			wantMode:    0o666,
		},
		{
			name: "replaces an existing file and its mode",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "tokens.enc")
				mustWriteFile(t, p, "old old old old", 0o644)
				return p
			},
			perm:        0o600,
			wantContent: "new",
			wantMode:    0o600,
		},
		{
			name: "a failure before the rename leaves the old file",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "state.json")
				mustWriteFile(t, p, "old", 0o644)
				return p
			},
			perm: 0o600,
			beforeRename: func(tmp string) error {
				if b, err := os.ReadFile(tmp); err != nil || string(b) != "new" {
					return errors.New("the temp file is not complete before the rename")
				}
				return errCrash
			},
			wantErr:     errCrash.Error(),
			wantContent: "old",
			wantMode:    0o644,
		},
		{
			name: "a missing directory is explained",
			setup: func(t *testing.T, dir string) string {
				return filepath.Join(dir, "no-such-dir", "state.json")
			},
			perm:    0o600,
			wantErr: "check that the directory exists and is writable",
		},
		{
			name: "a directory in the way is not replaced",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "entry.dsconn")
				mustWriteFile(t, filepath.Join(p, "inside"), "keep", 0o600)
				return p
			},
			perm:    0o600,
			wantErr: "replace it with",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			err := WriteWithHook(path, []byte("new"), tt.perm, tt.beforeRename)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Write: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Write succeeded, want an error saying %q", tt.wantErr)
			case err != nil && (!strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path)):
				t.Errorf("error %q does not name %s and say %q", err, path, tt.wantErr)
			}
			fi, statErr := os.Stat(path)
			if tt.wantContent == "" {
				if statErr == nil && fi.Mode().IsRegular() {
					t.Errorf("%s is a file after a failed write", path)
				}
			} else {
				b, rerr := os.ReadFile(path)
				if rerr != nil || string(b) != tt.wantContent {
					t.Errorf("file holds %q (%v), want %q", b, rerr, tt.wantContent)
				}
				if statErr == nil && fi.Mode().Perm() != tt.wantMode {
					t.Errorf("mode %v, want %v", fi.Mode().Perm(), tt.wantMode)
				}
			}
			if left := leftovers(t, dir, path); len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

// TestWriteTempIsHiddenAndBeside checks where the temp file lives: beside
// the target (or the rename would not be atomic) and hidden (or a folder
// listing could take it for an entry).
func TestWriteTempIsHiddenAndBeside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sales.dsconn")
	var tmpSeen string
	err := WriteWithHook(path, []byte("x"), 0o600, func(tmp string) error { tmpSeen = tmp; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(tmpSeen) != filepath.Dir(path) {
		t.Errorf("temp file %s is not in %s", tmpSeen, filepath.Dir(path))
	}
	if !strings.HasPrefix(filepath.Base(tmpSeen), ".") {
		t.Errorf("temp file %s is not hidden", tmpSeen)
	}
}

// TestWriteRelativePath covers a bare file name, as connform fmt passes.
func TestWriteRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := Write("main.hcl", []byte("a = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile("main.hcl"); err != nil || string(b) != "a = 1\n" {
		t.Errorf("main.hcl holds %q (%v)", b, err)
	}
}

func mustWriteFile(t *testing.T, path, content string, perm fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// leftovers lists the files in dir other than path and what setup made.
func leftovers(t *testing.T, dir, path string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, de := range des {
		p := filepath.Join(dir, de.Name())
		if p != path && strings.Contains(de.Name(), ".tmp-") {
			left = append(left, de.Name())
		}
	}
	return left
}

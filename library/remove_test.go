package library

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// connform removes only a file it can prove it wrote: the path comes from
// a state file anyone can edit.
func TestRemoveOwned(t *testing.T) {
	tests := []struct {
		name string
		// setup works in a scratch directory holding the library folder
		// "library" (the working directory) and returns the recorded path
		// and hash and the file that must survive (or "" when removed).
		setup       func(t *testing.T, f File) (path, hash, survivor string)
		wantRemoved bool
		wantReason  string
	}{
		{"the entry connform wrote", func(t *testing.T, f File) (string, string, string) {
			return f.Path, f.Hash, ""
		}, true, ""},
		{"already gone", func(t *testing.T, f File) (string, string, string) {
			os.Remove(f.Path)
			return f.Path, f.Hash, ""
		}, false, ""},
		{"edited since", func(t *testing.T, f File) (string, string, string) {
			writeFile(t, f.Path, "edited")
			return f.Path, f.Hash, f.Path
		}, false, "content is not what connform wrote"},
		{"absolute path", func(t *testing.T, f File) (string, string, string) {
			abs, _ := filepath.Abs(f.Path)
			return abs, f.Hash, f.Path
		}, false, "an absolute path"},
		{"dot-dot out of the folder", func(t *testing.T, f File) (string, string, string) {
			writeFile(t, "main.hcl", "x")
			return "library/../main.hcl", Hash([]byte("x")), "main.hcl"
		}, false, `contains ".."`},
		{"dot-dot back into the folder", func(t *testing.T, f File) (string, string, string) {
			return "library/../library/" + filepath.Base(f.Path), f.Hash, f.Path
		}, false, `contains ".."`},
		{"another folder", func(t *testing.T, f File) (string, string, string) {
			writeFile(t, "other/x.json", "x")
			return "other/x.json", Hash([]byte("x")), "other/x.json"
		}, false, "outside the library folder"},
		{"a subfolder", func(t *testing.T, f File) (string, string, string) {
			writeFile(t, "library/sub/x.json", "x")
			return "library/sub/x.json", Hash([]byte("x")), "library/sub/x.json"
		}, false, "outside the library folder"},
		{"a symbolic link", func(t *testing.T, f File) (string, string, string) {
			writeFile(t, "secret.txt", string(f.Data))
			if err := os.Symlink("../secret.txt", "library/link.json"); err != nil {
				t.Fatal(err)
			}
			return "library/link.json", f.Hash, "secret.txt"
		}, false, "symbolic link"},
		{"no hash recorded", func(t *testing.T, f File) (string, string, string) {
			return f.Path, "", f.Path
		}, false, "no content hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			f, err := Render("library", FormatJSON, goldenEntry())
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Write(); err != nil {
				t.Fatal(err)
			}
			path, hash, survivor := tt.setup(t, f)
			removed, err := RemoveOwned("library", path, hash)
			if removed != tt.wantRemoved {
				t.Errorf("removed = %v, want %v (err %v)", removed, tt.wantRemoved, err)
			}
			var kept *KeptError
			switch {
			case tt.wantReason == "" && err != nil:
				t.Errorf("RemoveOwned = %v, want no error", err)
			case tt.wantReason != "" && (!errors.As(err, &kept) || !strings.Contains(err.Error(), tt.wantReason)):
				t.Errorf("RemoveOwned = %v, want a KeptError saying %q", err, tt.wantReason)
			case tt.wantReason != "" && !strings.HasPrefix(err.Error(), "left in place: "+path+": "):
				t.Errorf("error %q does not start with left in place: %s:", err, path)
			}
			if survivor != "" {
				if _, err := os.Lstat(survivor); err != nil {
					t.Errorf("%s was not left in place: %v", survivor, err)
				}
			}
			if tt.wantRemoved {
				if _, err := os.Lstat(f.Path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s is still there", f.Path)
				}
			}
		})
	}
}

// A library folder may lie above the working directory (library_path =
// "../shared"): its entries are connform's to remove like any other.
func TestRemoveOwnedInAFolderAbove(t *testing.T) {
	root := t.TempDir()
	f, err := Render(filepath.Join(root, "shared"), FormatJSON, goldenEntry())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Write(); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(root, "work"))
	path := filepath.Join("../shared", filepath.Base(f.Path))
	if removed, err := RemoveOwned("../shared", path, f.Hash); !removed || err != nil {
		t.Fatalf("RemoveOwned(%s) = %v, %v; want it removed", path, removed, err)
	}
	if _, err := os.Stat(f.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there", f.Path)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// An undo puts back only what this run wrote: with -lock=false another
// run may have written (and recorded) the same entry meanwhile.
func TestUndo(t *testing.T) {
	tests := []struct {
		name     string
		before   string // "" for no file before the run
		afterRun func(t *testing.T, path string)
		want     string // content afterwards; "" for no file
		wantKept bool
	}{
		{"new entry is removed", "", nil, "", false},
		{"replaced entry is restored", "old", nil, "old", false},
		{"another run's entry stays", "", func(t *testing.T, p string) { writeFile(t, p, "theirs") }, "theirs", true},
		{"another run's entry over an old one stays", "old", func(t *testing.T, p string) { writeFile(t, p, "theirs") }, "theirs", true},
		{"removed by someone else stays removed", "old", func(t *testing.T, p string) { os.Remove(p) }, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f, err := Render(dir, FormatJSON, goldenEntry())
			if err != nil {
				t.Fatal(err)
			}
			if tt.before != "" {
				writeFile(t, f.Path, tt.before)
			}
			undo, err := Undo(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Write(); err != nil {
				t.Fatal(err)
			}
			if tt.afterRun != nil {
				tt.afterRun(t, f.Path)
			}
			err = undo(f.Hash)
			var kept *KeptError
			if errors.As(err, &kept) != tt.wantKept || (!tt.wantKept && err != nil) {
				t.Errorf("undo = %v, want a KeptError: %v", err, tt.wantKept)
			}
			data, rerr := os.ReadFile(f.Path)
			if got := string(data); got != tt.want || (tt.want == "" && !errors.Is(rerr, os.ErrNotExist)) {
				t.Errorf("after undo the file holds %q (%v), want %q", got, rerr, tt.want)
			}
		})
	}
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".sales.json.tmp-12345", ".crm.dsconn.tmp-9", "sales.json", ".notes.txt.tmp-1", ".x.json.tmp-abc", "y.json.tmp-1"} {
		writeFile(t, filepath.Join(dir, name), "x")
	}
	removed, err := RemoveTemps(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 {
		t.Errorf("removed %v, want the two entry temp files", removed)
	}
	left, _ := os.ReadDir(dir)
	var names []string
	for _, de := range left {
		names = append(names, de.Name())
	}
	if want := ".notes.txt.tmp-1 .x.json.tmp-abc sales.json y.json.tmp-1"; strings.Join(names, " ") != want {
		t.Errorf("left %v, want %s", names, want)
	}
}

package main

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestHomeByOS: each OS's rule for connform's per-user folder, given that
// OS's environment, tested here whatever OS runs the tests.
func TestHomeByOS(t *testing.T) {
	for _, tc := range []struct {
		os      string
		resolve func(func(string) string) (string, error)
		env     []string
		fold    bool
		want    string // "" when the OS offers no folder
	}{
		{"windows", windowsHome, []string{`APPDATA=C:\Users\ann\AppData\Roaming`}, true, `C:\Users\ann\AppData\Roaming\connform`},
		{"windows", windowsHome, []string{`AppData=C:\Users\ann\AppData\Roaming\`}, true, `C:\Users\ann\AppData\Roaming\connform`},
		{"windows", windowsHome, []string{`APPDATA=\\srv\profiles\ann`}, true, `\\srv\profiles\ann\connform`},
		{"windows", windowsHome, []string{`USERPROFILE=C:\Users\ann`, `HOME=C:\Users\ann`}, true, ""},
		{"darwin", darwinHome, []string{"HOME=/Users/ann"}, false, "/Users/ann/Library/Application Support/connform"},
		{"darwin", darwinHome, []string{"HOME=/Users/ann", "XDG_CONFIG_HOME=/Users/ann/.config"}, false, "/Users/ann/Library/Application Support/connform"},
		{"darwin", darwinHome, nil, false, ""},
		{"linux", xdgHome, []string{"HOME=/home/ann"}, false, "/home/ann/.config/connform"},
		{"linux", xdgHome, []string{"HOME=/home/ann", "XDG_CONFIG_HOME=/srv/cfg"}, false, "/srv/cfg/connform"},
		{"linux", xdgHome, []string{"HOME=/home/ann", "XDG_CONFIG_HOME=cfg"}, false, "/home/ann/.config/connform"},
		{"linux", xdgHome, []string{"XDG_CONFIG_HOME=/srv/cfg"}, false, "/srv/cfg/connform"},
		{"linux", xdgHome, []string{"HOME=/home/ann", "HOME=/home/bob"}, false, "/home/bob/.config/connform"},
		{"linux", xdgHome, []string{"home=/home/ann"}, false, ""},
		{"linux", xdgHome, []string{"XDG_CONFIG_HOME=relative"}, false, ""},
	} {
		got, err := tc.resolve(envLookup(tc.env, tc.fold))
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s %v: folder %q, want none", tc.os, tc.env, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %v: %q, %v; want %q", tc.os, tc.env, got, err, tc.want)
		}
	}
}

// TestHomeMatchesGo: the rule osHome applies on the OS running the tests is
// the one Go's os.UserConfigDir applies, where connform kept its folder
// before: an upgrade does not lose the token file.
func TestHomeMatchesGo(t *testing.T) {
	for _, env := range [][2]string{{"/home/ann", ""}, {"/home/ann", "/srv/cfg"}} {
		t.Setenv("HOME", env[0])
		t.Setenv("XDG_CONFIG_HOME", env[1])
		t.Setenv("APPDATA", `C:\Users\ann\AppData\Roaming`)
		d, err := os.UserConfigDir()
		if err != nil {
			t.Fatal(err)
		}
		got, err := osHome(os.Environ())
		if want := filepath.Join(d, "connform"); err != nil || got != want {
			t.Errorf("%s %v: osHome = %q, %v; os.UserConfigDir gives %q", runtime.GOOS, env, got, err, want)
		}
	}
}

// TestChooseHome: CONNFORM_HOME wins; without a per-user folder a token
// file left in ./.connform keeps being used, and otherwise connform says to
// set CONNFORM_HOME rather than write tokens beside the configuration.
func TestChooseHome(t *testing.T) {
	noFolder := errors.New("$HOME is not set")
	for _, tc := range []struct {
		set, dir string
		err      error
		legacy   bool
		want     string
		wantErr  string
	}{
		{"/srv/connform", "/home/ann/.config/connform", nil, false, "/srv/connform", ""},
		{"/srv/connform", "", noFolder, true, "/srv/connform", ""},
		{"", "/home/ann/.config/connform", nil, false, "/home/ann/.config/connform", ""},
		{"", "/home/ann/.config/connform", nil, true, "/home/ann/.config/connform", ""},
		{"", "", noFolder, true, ".connform", ""},
		{"", "", noFolder, false, "", "set CONNFORM_HOME"},
	} {
		got, err := chooseHome(tc.set, tc.dir, tc.err, tc.legacy)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "$HOME is not set") {
				t.Errorf("%+v: %q, %v; want an error saying why and %q", tc, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%+v: %q, %v; want %q", tc, got, err, tc.want)
		}
	}
}

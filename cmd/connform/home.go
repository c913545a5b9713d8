package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// connform's per-user folder (the encrypted or plaintext token file) is
// CONNFORM_HOME when set, else "connform" in the OS's per-user
// configuration folder. Each OS's rule is a function of the environment
// here, so that all of them are tested on any OS; home_*.go picks the one
// that applies. They follow os.UserConfigDir, which connform used before,
// so the folder has not moved.

// windowsHome: %APPDATA%\connform (the roaming profile, private to the user
// by its inherited ACL).
func windowsHome(getenv func(string) string) (string, error) {
	d := getenv("APPDATA")
	if d == "" {
		return "", errors.New("%APPDATA% is not set")
	}
	return strings.TrimRight(d, `\/`) + `\connform`, nil
}

// darwinHome: ~/Library/Application Support/connform.
func darwinHome(getenv func(string) string) (string, error) {
	h := getenv("HOME")
	if h == "" {
		return "", errors.New("$HOME is not set")
	}
	return path.Join(h, "Library", "Application Support", "connform"), nil
}

// xdgHome: $XDG_CONFIG_HOME/connform, else ~/.config/connform. A relative
// $XDG_CONFIG_HOME is ignored, as the XDG specification says: it would put
// tokens wherever connform happens to run.
func xdgHome(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); path.IsAbs(d) {
		return path.Join(d, "connform"), nil
	}
	h := getenv("HOME")
	if h == "" {
		return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME is set")
	}
	return path.Join(h, ".config", "connform"), nil
}

// legacyHome is where connform kept tokens when the OS had no per-user
// folder to offer: ".connform" in the working directory.
const legacyHome = ".connform"

// chooseHome decides the per-user folder from CONNFORM_HOME, the OS's
// answer (dir or err) and whether a token file exists at legacyHome.
// Without a per-user folder, tokens are never written beside the
// configuration any more (they could be committed with it), but a token
// file already there keeps being used, so that its sign-ins are not lost.
func chooseHome(connformHome, dir string, err error, legacyTokens bool) (string, error) {
	switch {
	case connformHome != "":
		return connformHome, nil
	case err == nil:
		return dir, nil
	case legacyTokens:
		return legacyHome, nil
	}
	return "", fmt.Errorf("connform has no per-user folder for its token file (%v): set CONNFORM_HOME to a folder of your own", err)
}

// connformHome is where per-user files (the token file) live.
func (c *cli) connformHome() (string, error) {
	h := c.getenv("CONNFORM_HOME")
	var dir string
	var err error
	if h == "" {
		dir, err = osHome(c.env)
	}
	legacy := false
	if h == "" && err != nil {
		legacy = lstatOK(filepath.Join(legacyHome, "tokens.enc")) || lstatOK(filepath.Join(legacyHome, "tokens.json"))
	}
	return chooseHome(h, dir, err, legacy)
}

func lstatOK(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// envLookup returns a lookup in env (KEY=VALUE entries, later ones win, as
// in exec); fold makes names case-insensitive, as Windows has them.
func envLookup(env []string, fold bool) func(string) string {
	return func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			k, v, ok := strings.Cut(env[i], "=")
			if ok && (k == name || fold && strings.EqualFold(k, name)) {
				return v
			}
		}
		return ""
	}
}

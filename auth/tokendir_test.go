package auth

import (
	"io/fs"
	"strings"
	"testing"
)

// TestTokenDirModeError: the rule every Unix token folder passes, by mode
// bits alone, so it runs wherever the tests do.
func TestTokenDirModeError(t *testing.T) {
	for _, tc := range []struct {
		mode    fs.FileMode
		refused bool
	}{
		{fs.ModeDir | 0o700, false},
		{fs.ModeDir | 0o755, false}, // others may read and list, not write
		{fs.ModeDir | 0o750, false},
		{fs.ModeDir | 0o770, true},                  // the group can place its own file
		{fs.ModeDir | 0o702, true},                  // anyone can
		{fs.ModeDir | 0o777, true},                  // /tmp without the sticky bit
		{fs.ModeDir | fs.ModeSticky | 0o777, true},  // /tmp: others can still create tokens.enc first
		{fs.ModeDir | fs.ModeSetgid | 0o750, false}, // setgid shares the group id, not write access
	} {
		err := tokenDirModeError("/x/home", tc.mode)
		if (err != nil) != tc.refused {
			t.Errorf("mode %v: err = %v, want refused %v", tc.mode, err, tc.refused)
			continue
		}
		if err != nil && (!strings.Contains(err.Error(), "/x/home") || !strings.Contains(err.Error(), "CONNFORM_HOME")) {
			t.Errorf("mode %v: the refusal %q must name the folder and the way out", tc.mode, err)
		}
	}
}

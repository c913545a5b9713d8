package auth

import (
	"path/filepath"
	"strings"
)

// underHome shows p, a path inside home, as "~/..." so that status lines
// and messages stay short; others are shown whole.
func underHome(p, home string) string {
	if home == "" {
		return p
	}
	if rel, err := filepath.Rel(home, p); err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.Join("~", rel)
	}
	return p
}

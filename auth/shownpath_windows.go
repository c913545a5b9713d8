package auth

// tildePath is p unchanged: cmd.exe does not read "~" back, so a path the
// user may copy into a command (to move a damaged token file away) is
// shown whole.
func tildePath(p string) string { return p }

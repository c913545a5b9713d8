package main

// Whether a browser can be shown differs by OS: Windows and macOS always
// have a desktop session for an interactive user, while other Unix systems
// have one only when an X or Wayland display is named (display_*.go).

// displayNamed reports whether the environment names an X or Wayland
// display: on Linux and the BSDs, without one no browser can show a page.
func displayNamed(getenv func(string) string) bool {
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

package main

import "testing"

// TestDisplayNamed: the demo plays the user itself only where no display is
// named, so that a desktop user still sees the sign-in page.
func TestDisplayNamed(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"DISPLAY": ":0"}, true},
		{map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, true},
		{map[string]string{"DISPLAY": "", "WAYLAND_DISPLAY": ""}, false},
	} {
		if got := displayNamed(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("displayNamed(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

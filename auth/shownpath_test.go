package auth

import "testing"

func TestUnderHome(t *testing.T) {
	for _, tc := range []struct{ p, home, want string }{
		{"/home/ann/.config/connform/tokens.enc", "/home/ann", "~/.config/connform/tokens.enc"},
		{"/home/ann", "/home/ann", "/home/ann"},
		{"/home/annex/tokens.enc", "/home/ann", "/home/annex/tokens.enc"},
		{"/srv/connform/tokens.enc", "/home/ann", "/srv/connform/tokens.enc"},
		{"/home/ann/..hidden/tokens.enc", "/home/ann", "~/..hidden/tokens.enc"},
		{"/home/ann/tokens.enc", "", "/home/ann/tokens.enc"},
		{".connform/tokens.enc", "/home/ann", ".connform/tokens.enc"},
	} {
		if got := underHome(tc.p, tc.home); got != tc.want {
			t.Errorf("underHome(%q, %q) = %q, want %q", tc.p, tc.home, got, tc.want)
		}
	}
}

package words

import "testing"

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int
		one  string
		many []string
		want string
	}{
		{0, "connection", nil, "0 connections"},
		{1, "connection", nil, "1 connection"},
		{2, "byte", nil, "2 bytes"},
		{1, "entry", []string{"entries"}, "1 entry"},
		{3, "entry", []string{"entries"}, "3 entries"},
	} {
		if got := Count(tt.n, tt.one, tt.many...); got != tt.want {
			t.Errorf("Count(%d, %q, %q) = %q, want %q", tt.n, tt.one, tt.many, got, tt.want)
		}
	}
}

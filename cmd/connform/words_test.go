package main

import "testing"

func TestCount(t *testing.T) {
	tests := []struct {
		n    int
		one  string
		many []string
		want string
	}{
		{0, "connection", nil, "0 connections"},
		{1, "connection", nil, "1 connection"},
		{2, "connection", nil, "2 connections"},
		{1, "entry", []string{"entries"}, "1 entry"},
		{3, "entry", []string{"entries"}, "3 entries"},
		{2, "interactive sign-in", nil, "2 interactive sign-ins"},
	}
	for _, tt := range tests {
		if got := count(tt.n, tt.one, tt.many...); got != tt.want {
			t.Errorf("count(%d, %q, %q) = %q, want %q", tt.n, tt.one, tt.many, got, tt.want)
		}
	}
}

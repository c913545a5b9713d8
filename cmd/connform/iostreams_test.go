package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestColorPerStream checks that colour is decided per stream: a stream
// that is not a terminal never carries escape codes, whatever the other is.
func TestColorPerStream(t *testing.T) {
	tests := []struct {
		name                 string
		outTTY, errTTY       bool
		env                  map[string]string
		wantOutCol, wantErrC bool
	}{
		{"stdout terminal, stderr to a file", true, false, nil, true, false},
		{"stdout to a file, stderr terminal", false, true, nil, false, true},
		{"both terminals", true, true, nil, true, true},
		{"both files", false, false, nil, false, false},
		{"NO_COLOR", true, true, map[string]string{"NO_COLOR": "1"}, false, false},
		{"TERM=dumb", true, true, map[string]string{"TERM": "dumb"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			open := func(name string) *os.File {
				f, err := os.Create(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				return f
			}
			in, out, errOut := open("in"), open("out"), open("err")
			// The fake terminal check: which of the files "is" a terminal.
			tty := map[*os.File]bool{out: tt.outTTY, errOut: tt.errTTY}
			s := newSystem(in, out, errOut, func(f *os.File) bool { return tty[f] }, func(k string) string { return tt.env[k] })

			// Split a colour sequence across writes, as a caller printing
			// piece by piece would.
			fmt.Fprint(s.Out, s.Paint("green", "Success!")+" done\n")
			fmt.Fprint(s.ErrOut, s.Paint("red", "Error:")[:3])
			fmt.Fprint(s.ErrOut, s.Paint("red", "Error:")[3:]+" bad\n")

			for _, c := range []struct {
				file, text string
				color      bool
			}{{"out", "Success! done\n", tt.wantOutCol}, {"err", "Error: bad\n", tt.wantErrC}} {
				data, err := os.ReadFile(filepath.Join(dir, c.file))
				if err != nil {
					t.Fatal(err)
				}
				got := string(data)
				if hasEsc := strings.Contains(got, "\x1b"); hasEsc != c.color {
					t.Errorf("%s = %q: colour %v, want %v", c.file, got, hasEsc, c.color)
				}
				if !c.color && got != c.text {
					t.Errorf("%s = %q, want %q", c.file, got, c.text)
				}
			}
		})
	}
}

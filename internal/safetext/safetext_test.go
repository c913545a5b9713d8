package safetext

import (
	"strings"
	"testing"
)

func TestLineAndText(t *testing.T) {
	for _, tt := range []struct {
		name, in, line, text string
	}{
		{"plain", "AADSTS700016: app not found", "AADSTS700016: app not found", "AADSTS700016: app not found"},
		{"clear screen and fake success", "bad\x1b[2J\x1b[HApply complete!", `bad\x1b[2J\x1b[HApply complete!`, `bad\x1b[2J\x1b[HApply complete!`},
		{"C1 CSI", "x\u009b2Jy", `x\u009b2Jy`, `x\u009b2Jy`},
		{"carriage return overwrites the line", "ok\rError: none", `ok\rError: none`, `ok\rError: none`},
		{"line breaks", "a\nb\tc", `a\nb\tc`, "a\nb\tc"},
		{"bell, backspace, DEL", "\a\b\x7f", `\x07\x08\x7f`, `\x07\x08\x7f`},
		{"bidi override", "evil\u202egpj.exe", `evil\u202egpj.exe`, `evil\u202egpj.exe`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`, `a\xffb\xc3`},
		{"accents and CJK stay", "Société 東京", "Société 東京", "Société 東京"},
		{"OSC hyperlink", "\x1b]8;;http://evil\x07click\x1b]8;;\x07", `\x1b]8;;http://evil\x07click\x1b]8;;\x07`, `\x1b]8;;http://evil\x07click\x1b]8;;\x07`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in, 0); got != tt.line {
				t.Errorf("Line = %q, want %q", got, tt.line)
			}
			if got := Text(tt.in, 0); got != tt.text {
				t.Errorf("Text = %q, want %q", got, tt.text)
			}
			if Safe(tt.in) != (Text(tt.in, 0) == tt.in) {
				t.Errorf("Safe(%q) = %v disagrees with Text", tt.in, Safe(tt.in))
			}
			for _, r := range Line(tt.in, 0) {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
					t.Errorf("Line left control %U", r)
				}
			}
		})
	}
}

func TestBounded(t *testing.T) {
	in := strings.Repeat("é", 5000) // 10,000 bytes
	got := Line(in, 100)
	if !strings.HasSuffix(got, "… (9900 more bytes)") || len(got) > 130 {
		t.Errorf("Line(10,000 bytes, 100) = %q", got)
	}
	if !strings.HasPrefix(got, strings.Repeat("é", 50)) {
		t.Errorf("cut inside a character: %q", got[:110])
	}
	if got := Line(strings.Repeat("\x1b", 1000), 40); len(got) > 70 {
		t.Errorf("escapes are not bounded: %d bytes", len(got))
	}
}

func FuzzLine(f *testing.F) {
	f.Add("\x1b[2J\x1b[HApply complete!", 50)
	f.Add("\xff\xfe\u202e", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 1 || max > 1<<16 {
			return
		}
		got := Line(s, max)
		if len(got) > max+40 {
			t.Fatalf("Line(%d bytes, %d) is %d bytes", len(s), max, len(got))
		}
		for _, r := range got {
			if escaped(r) {
				t.Fatalf("Line left %U in %q", r, got)
			}
		}
	})
}

// TestBoundedASCII: plain text is bounded like any other, and text at the
// bound is kept whole.
func TestBoundedASCII(t *testing.T) {
	if got := Line(strings.Repeat("a", 100), 100); got != strings.Repeat("a", 100) {
		t.Errorf("Line(100 bytes, 100) = %q, want it unchanged", got)
	}
	if got, want := Line(strings.Repeat("a", 101), 100), strings.Repeat("a", 100)+"… (1 more bytes)"; got != want {
		t.Errorf("Line(101 bytes, 100) = %q, want %q", got, want)
	}
	if got := Text(strings.Repeat("a", MessageMax+1), 0); !strings.HasSuffix(got, "… (1 more bytes)") {
		t.Errorf("Text(MessageMax+1 bytes, 0) not cut: ...%q", got[len(got)-20:])
	}
}

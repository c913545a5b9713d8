package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// IOStreams is where a command reads and writes. Data (plans, lists, JSON)
// goes to Out; progress, prompts and errors go to ErrOut, so piping stdout
// never captures a question.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY  bool
	errTTY bool
	color  bool
	reader *bufio.Reader
}

// System returns streams on the process's stdin, stdout and stderr, with
// colour on a terminal unless NO_COLOR is set.
func System() *IOStreams {
	return newSystem(os.Stdin, os.Stdout, os.Stderr, func(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }, os.Getenv)
}

// newSystem decides colour per stream: each of stdout and stderr that is
// not a terminal gets its colour codes removed, so that errors redirected
// to a file are plain text even while stdout shows colour, and the
// reverse.
func newSystem(in, out, errOut *os.File, isTerminal func(*os.File) bool, getenv func(string) string) *IOStreams {
	s := &IOStreams{In: in, Out: out, ErrOut: errOut}
	s.inTTY = isTerminal(in)
	s.errTTY = isTerminal(errOut)
	outTTY := isTerminal(out)
	s.color = (outTTY || s.errTTY) && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
	if s.color && !outTTY {
		s.Out = &plainWriter{w: out}
	}
	if s.color && !s.errTTY {
		s.ErrOut = &plainWriter{w: errOut}
	}
	return s
}

// plainWriter removes the ANSI colour sequences Paint adds (and any other
// escape sequence) from what it writes, for a stream that is not a
// terminal. It keeps its place across writes, so a sequence split between
// two writes is removed whole.
type plainWriter struct {
	w io.Writer
	// esc is 1 after an ESC, 2 inside a CSI sequence (ESC [ ... final).
	esc int
}

func (p *plainWriter) Write(b []byte) (int, error) {
	out := make([]byte, 0, len(b))
	for _, ch := range b {
		switch p.esc {
		case 0:
			if ch == 0x1b {
				p.esc = 1
				continue
			}
			out = append(out, ch)
		case 1:
			p.esc = 0
			if ch == '[' {
				p.esc = 2
			}
		case 2:
			// Parameters and intermediates until the final byte.
			if ch >= 0x40 && ch <= 0x7e {
				p.esc = 0
			}
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Test returns streams backed by buffers, for tests.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// Buffered returns streams like s whose Out is buffered, and the flush
// that writes it out. A plan of 10,000 connections is 160,000 small writes,
// each a system call on a terminal or pipe; buffered, it is a few dozen.
// Flush before anything is asked on ErrOut, so the question follows what
// it is about.
func (s *IOStreams) Buffered() (*IOStreams, func() error) {
	b := *s
	w := bufio.NewWriterSize(s.Out, 64<<10)
	b.Out = w
	return &b, w.Flush
}

// ColorEnabled reports whether output may carry ANSI colour.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// DisableColor turns colour off (-no-color).
func (s *IOStreams) DisableColor() { s.color = false }

// Prompt asks a question on ErrOut and reads one line from In. skip names
// the option that answers instead, for the error when nobody can.
func (s *IOStreams) Prompt(question, skip string) (string, error) {
	fmt.Fprint(s.ErrOut, question)
	if s.reader == nil {
		s.reader = bufio.NewReader(s.In)
	}
	line, err := s.reader.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no answer on standard input (%v); use %s", err, skip)
	}
	return strings.TrimSpace(line), nil
}

// Paint wraps s in an ANSI colour when colour is on.
func (s *IOStreams) Paint(color, text string) string {
	if !s.color || text == "" {
		return text
	}
	codes := map[string]string{"green": "32", "yellow": "33", "red": "31", "cyan": "36", "bold": "1", "dim": "2"}
	return "\x1b[" + codes[color] + "m" + text + "\x1b[0m"
}

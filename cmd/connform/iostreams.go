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
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.inTTY = term.IsTerminal(int(os.Stdin.Fd()))
	s.errTTY = term.IsTerminal(int(os.Stderr.Fd()))
	s.color = term.IsTerminal(int(os.Stdout.Fd())) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	return s
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

package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// helpCommands is every command and subcommand, as typed.
func helpCommands() [][]string {
	var out [][]string
	for _, cmd := range commands() {
		out = append(out, []string{cmd.name})
		for _, sub := range helps[cmd.name].subcommands {
			out = append(out, []string{cmd.name, sub})
		}
	}
	return out
}

// runHelp runs one command line in-process and returns the cli (for the
// flag set it made), stdout, stderr and the exit code.
func runHelp(t *testing.T, args ...string) (*cli, string, string, int) {
	t.Helper()
	ios, _, out, errOut := Test()
	c := &cli{io: ios, now: time.Now}
	code := c.run(context.Background(), args)
	return c, out.String(), errOut.String(), code
}

// TestHelpFlags checks, for every command, that each way of asking for
// help answers on stdout with exit 0, and that every flag the command
// registers is in one of its help's groups and in the command reference.
func TestHelpFlags(t *testing.T) {
	docs := readDocs(t)
	for _, words := range helpCommands() {
		name := strings.Join(words, " ")
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			h, ok := helps[name]
			if !ok {
				t.Fatalf("no help declared for %q", name)
			}
			var want string
			for _, asked := range [][]string{
				append(slices.Clone(words), "-help"),
				append(slices.Clone(words), "-h"),
				append(slices.Clone(words), "--help"),
				append([]string{"help"}, words...),
			} {
				c, out, errOut, code := runHelp(t, asked...)
				if code != 0 || errOut != "" {
					t.Fatalf("connform %s: exit %d, stderr %q; want exit 0 and help on stdout", strings.Join(asked, " "), code, errOut)
				}
				if !strings.HasPrefix(out, "Usage: connform "+name) || !strings.Contains(out, "\nExample:\n  $ ") || !strings.Contains(out[strings.Index(out, "\nExample:"):], "connform ") {
					t.Fatalf("connform %s printed no usage line or example:\n%s", strings.Join(asked, " "), out)
				}
				if want == "" {
					want = out
					checkFlags(t, name, h, c.lastFlags, out, docs)
				} else if out != want {
					t.Errorf("connform %s printed other help than -help", strings.Join(asked, " "))
				}
			}
		})
	}
}

func checkFlags(t *testing.T, name string, h commandHelp, fs *flag.FlagSet, out string, docs []docChunk) {
	t.Helper()
	if len(h.subcommands) > 0 {
		return // a dispatcher: its subcommands have the flags
	}
	if fs == nil {
		t.Fatalf("connform %s made no flag set", name)
	}
	grouped := map[string]bool{}
	for _, g := range h.groups {
		for _, entry := range g.flags {
			n, _, _ := strings.Cut(entry, "=")
			grouped[n] = true
			if fs.Lookup(n) == nil {
				t.Errorf("help of %s lists -%s, which the command does not take", name, n)
			}
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !grouped[f.Name] && !isCommonFlag(f.Name) {
			t.Errorf("help of %s has no group for -%s: add it to helps[%q].groups", name, f.Name, name)
		}
		if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(f.Name) + `[ =]`).MatchString(out) {
			t.Errorf("help of %s does not show -%s", name, f.Name)
		}
		if !documented(docs, name, f.Name) {
			t.Errorf("-%s of connform %s is in no command reference: add it to the command's entry in README.md or docs/", f.Name, name)
		}
	})
}

// docChunk is a piece of the documentation with what it is about: a table
// row (about what it names), a paragraph (about its first line) or a
// section (about its heading).
type docChunk struct{ head, body string }

func readDocs(t *testing.T) []docChunk {
	t.Helper()
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	var chunks []docChunk
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, splitDoc(string(data))...)
	}
	return chunks
}

func splitDoc(text string) []docChunk {
	var chunks []docChunk
	var section, para []string
	flush := func(lines *[]string) {
		if len(*lines) > 0 {
			chunks = append(chunks, docChunk{(*lines)[0], strings.Join(*lines, "\n")})
		}
		*lines = nil
	}
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			flush(&para)
			flush(&section)
			section = []string{line}
			continue
		case strings.HasPrefix(line, "|"):
			chunks = append(chunks, docChunk{line, line})
		case strings.TrimSpace(line) == "":
			flush(&para)
		default:
			para = append(para, line)
		}
		if section != nil {
			section = append(section, line)
		}
	}
	flush(&para)
	flush(&section)
	return chunks
}

// documented reports whether -flag of command cmd is in a chunk about cmd
// or about the options every command takes.
func documented(docs []docChunk, cmd, flagName string) bool {
	about := regexp.MustCompile("connform " + regexp.QuoteMeta(cmd) + `([^\w-]|$)`)
	heading := regexp.MustCompile("^#+ .*(^|[^\\w-])" + regexp.QuoteMeta(cmd) + `([^\w-]|$)`)
	common := regexp.MustCompile(`(?i)common options`)
	has := regexp.MustCompile(`(^|[^\w-])-` + regexp.QuoteMeta(flagName) + `([^\w-]|$)`)
	for _, d := range docs {
		if (about.MatchString(d.head) || heading.MatchString(d.head) || common.MatchString(d.head)) && has.MatchString(d.body) {
			return true
		}
	}
	return false
}

// TestHelpEnvironment checks that connform -help lists every environment
// variable the code reads.
func TestHelpEnvironment(t *testing.T) {
	// Read by tests only, or by the test binary's stand-ins.
	testOnly := map[string]bool{"CONNFORM_TEST_CLOCK_OFFSET": true}
	_, out, _, code := runHelp(t, "-help")
	if code != 0 {
		t.Fatalf("connform -help: exit %d", code)
	}
	env := out[strings.Index(out, "\nEnvironment:"):]
	env = env[:strings.Index(env, "\nExit codes:")]
	read := regexp.MustCompile(`(?:Getenv|getenv|LookupEnv)\("([A-Z_]+)"\)|"(CONNFORM_[A-Z_]+)"`)
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range read.FindAllStringSubmatch(string(src), -1) {
			v := m[1] + m[2]
			if testOnly[v] {
				continue
			}
			if !regexp.MustCompile(`(?m)^  (.*[ ,])?` + regexp.QuoteMeta(v)).MatchString(env) {
				t.Errorf("%s reads %s, which connform -help does not list under Environment", path, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

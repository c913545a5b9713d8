package docs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJSONSamplesAreJSON: every ```json block of the README and docs/*.md
// parses, so a reader can paste a sample into a program.
func TestJSONSamplesAreJSON(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "README.md"))
	samples := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, block := range jsonBlocks(string(data)) {
			samples++
			var v any
			if err := json.Unmarshal([]byte(block.text), &v); err != nil {
				t.Errorf("%s:%d: JSON sample %d does not parse: %v", f, block.line, i+1, err)
			}
		}
	}
	if samples == 0 {
		t.Fatal("no ```json block found: the test would prove nothing")
	}
}

type block struct {
	text string
	line int // where the block's fence is
}

// jsonBlocks returns the contents of the fenced ```json blocks of a
// Markdown text.
func jsonBlocks(md string) []block {
	var out []block
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```json" {
			continue
		}
		start := i
		var b strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			b.WriteString(lines[i])
			b.WriteByte('\n')
		}
		out = append(out, block{b.String(), start + 1})
	}
	return out
}

func TestJSONBlocks(t *testing.T) {
	md := "text\n```json\n{\"a\": 1}\n```\n```sh\nls\n```\n  ```json\n[1,\n2]\n  ```\n"
	got := jsonBlocks(md)
	if len(got) != 2 || got[0].text != "{\"a\": 1}\n" || got[0].line != 2 || got[1].text != "[1,\n2]\n" || got[1].line != 8 {
		t.Errorf("jsonBlocks = %+v", got)
	}
}

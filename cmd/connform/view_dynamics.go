package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"connform/dynamics"
)

// Views of the Dynamics commands: aligned tables for people, JSON for
// programs. Tables size each column to its content, up to maxCell runes.

// maxCell is the widest a table cell gets before it is cut with "…": wide
// enough for a GUID (36) and most names, narrow enough for a terminal.
const maxCell = 40

// renderTable writes rows under headers, columns separated by two spaces,
// with no trailing spaces.
func renderTable(w io.Writer, headers []string, rows [][]string) {
	widths := make([]int, len(headers))
	cut := func(s string) string {
		// A line break inside a cell would break the table.
		s = strings.Join(strings.Fields(s), " ")
		if utf8.RuneCountInString(s) <= maxCell {
			return s
		}
		return string([]rune(s)[:maxCell-1]) + "…"
	}
	all := append([][]string{headers}, rows...)
	for i, r := range all {
		for j := range r {
			r[j] = cut(r[j])
			widths[j] = max(widths[j], utf8.RuneCountInString(r[j]))
		}
		all[i] = r
	}
	for _, r := range all {
		var b strings.Builder
		for j, cell := range r {
			if j > 0 {
				b.WriteString("  ")
			}
			b.WriteString(cell)
			if j < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[j]-utf8.RuneCountInString(cell)))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// EntitiesView is the output of entities.
type EntitiesView interface{ Entities([]dynamics.Entity) error }

func newEntitiesView(asJSON bool, s *IOStreams) EntitiesView {
	if asJSON {
		return jsonView{s.Out}
	}
	return humanView{s}
}

// PreviewView is the output of preview: the rows of entitySet read from org.
type PreviewView interface {
	Rows(recs *dynamics.Records, entitySet, org string) error
}

func newPreviewView(asJSON bool, s *IOStreams) PreviewView {
	if asJSON {
		return jsonView{s.Out}
	}
	return humanView{s}
}

func (v humanView) Entities(list []dynamics.Entity) error {
	rows := make([][]string, 0, len(list))
	for _, e := range list {
		rows = append(rows, []string{e.LogicalName, e.EntitySetName, e.DisplayName})
	}
	renderTable(v.s.Out, []string{"LOGICAL NAME", "ENTITY SET", "DISPLAY NAME"}, rows)
	return nil
}

type entityJSON struct {
	LogicalName   string `json:"logical_name"`
	EntitySetName string `json:"entity_set"`
	DisplayName   string `json:"display_name"`
}

func (v jsonView) Entities(list []dynamics.Entity) error {
	out := make([]entityJSON, 0, len(list))
	for _, e := range list {
		out = append(out, entityJSON{e.LogicalName, e.EntitySetName, e.DisplayName})
	}
	return v.write(out)
}

// Rows puts the count on ErrOut, out of the way of a pipe.
func (v humanView) Rows(recs *dynamics.Records, entitySet, org string) error {
	renderRows(v.s.Out, recs)
	fmt.Fprintf(v.s.ErrOut, "%s of %s from %s.\n", count(len(recs.Rows), "row"), entitySet, org)
	return nil
}

// renderRows shows records with their columns in order; a null shows as an
// empty cell.
func renderRows(w io.Writer, recs *dynamics.Records) {
	if len(recs.Rows) == 0 {
		fmt.Fprintln(w, "(no rows)")
		return
	}
	rows := make([][]string, 0, len(recs.Rows))
	for _, r := range recs.Rows {
		line := make([]string, len(recs.Columns))
		for i, col := range recs.Columns {
			line[i] = cellText(r[col])
		}
		rows = append(rows, line)
	}
	renderTable(w, append([]string(nil), recs.Columns...), rows)
}

func cellText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Rows prints the rows as a JSON array, each row holding the selected
// columns (null where the org sent none).
func (v jsonView) Rows(recs *dynamics.Records, _, _ string) error {
	out := make([]map[string]any, 0, len(recs.Rows))
	for _, r := range recs.Rows {
		row := make(map[string]any, len(recs.Columns))
		for _, col := range recs.Columns {
			row[col] = r[col]
		}
		out = append(out, row)
	}
	return v.write(out)
}

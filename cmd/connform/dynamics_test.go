package main

import (
	"bytes"
	"strings"
	"testing"

	"connform/addrs"
	"connform/config"
)

func TestRenderTable(t *testing.T) {
	long := strings.Repeat("x", maxCell+5)
	tests := []struct {
		name    string
		headers []string
		rows    [][]string
		want    string
	}{
		{
			name:    "columns fit their widest cell, no trailing spaces",
			headers: []string{"A", "BB"},
			rows:    [][]string{{"long value", ""}, {"x", "y"}},
			want:    "A           BB\nlong value\nx           y\n",
		},
		{
			name:    "a long cell is cut with an ellipsis",
			headers: []string{"N", "M"},
			rows:    [][]string{{long, "z"}},
			want:    "N" + strings.Repeat(" ", maxCell+1) + "M\n" + strings.Repeat("x", maxCell-1) + "…  z\n",
		},
		{
			name:    "widths count runes, and line breaks in a cell become spaces",
			headers: []string{"CITY", "X"},
			rows:    [][]string{{"Zürich", "1"}, {"two\nlines", "2"}},
			want:    "CITY       X\nZürich     1\ntwo lines  2\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			renderTable(&b, tt.headers, tt.rows)
			if b.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tt.want)
			}
		})
	}
}

func TestFindConnection(t *testing.T) {
	cfg := &config.Config{Connections: []*config.Connection{
		{Name: "crm", Key: "dev", Addr: `connection.crm["dev"]`},
		{Name: "crm", Key: "prod", Addr: `connection.crm["prod"]`},
		{Name: "sales", Addr: "connection.sales"},
	}}
	tests := []struct {
		arg, want, err string
	}{
		{arg: "sales", want: "connection.sales"},
		{arg: "connection.sales", want: "connection.sales"},
		{arg: `crm["dev"]`, want: `connection.crm["dev"]`},
		{arg: `crm[prod]`, want: `connection.crm["prod"]`},
		{arg: `connection.crm["dev"]`, want: `connection.crm["dev"]`},
		{arg: `connection.crm[dev]`, want: `connection.crm["dev"]`},
		{arg: `crm[test]`, err: `no connection connection.crm["test"] in the configuration; it has: connection.crm["dev"], connection.crm["prod"], connection.sales`},
		{arg: `crm[dev`, err: `invalid address "crm[dev" (a [ without its closing ]): write ` + addrs.Spellings},
		{arg: "crm", err: `connection.crm has 2 instances (for_each); name one of them: connection.crm["dev"], connection.crm["prod"]`},
		{arg: "nope", err: `no connection connection.nope in the configuration; it has: connection.crm["dev"], connection.crm["prod"], connection.sales`},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			c, err := findConnection(cfg, tt.arg)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || c.Addr != tt.want {
				t.Fatalf("got %v, %v; want %s", c, err, tt.want)
			}
		})
	}
}

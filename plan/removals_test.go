package plan

import (
	"reflect"
	"testing"

	"connform/config"
	"connform/state"
)

// plan lists, beforehand, every recorded library file apply will stop
// keeping, and whether it will remove it or leave it in place.
func TestMakeListsLibraryRemovals(t *testing.T) {
	libFile := func(c *config.Connection) string { return "library/" + c.Name + ".dsconn" }
	sales := conn("sales", "https://sales.crm.dynamics.com")
	hr := conn("hr", "https://hr.crm.dynamics.com")
	withPath := func(c *config.Connection, path string) *state.Connection {
		r := record("L", c)
		r.LibraryPath, r.LibraryHash = path, "sha256:"+c.Name
		return r
	}
	// removable stands for the library folder: files named here exist and
	// have the kept reason given ("" = removable); others are gone.
	removable := map[string]string{
		"library/sales.dsconn": "",
		"library/hr.json":      "",
		"library/ghost.dsconn": "",
		"../main.hcl":          `the path contains ".."`,
	}
	tests := []struct {
		name    string
		config  []*config.Connection
		records []*state.Connection
		orphans []state.Orphan
		destroy bool
		want    []Removal
		changes bool
	}{
		{"nothing removed", []*config.Connection{sales}, []*state.Connection{withPath(sales, "library/sales.dsconn")}, nil, false, nil, false},
		{"a connection removed from the configuration", nil, []*state.Connection{withPath(sales, "library/sales.dsconn")}, nil, false,
			[]Removal{{Path: "library/sales.dsconn", Addr: "connection.sales"}}, true},
		{"destroy", []*config.Connection{sales}, []*state.Connection{withPath(sales, "library/sales.dsconn")}, nil, true,
			[]Removal{{Path: "library/sales.dsconn", Addr: "connection.sales"}}, true},
		{"an entry that moves leaves its old name", []*config.Connection{hr}, []*state.Connection{withPath(hr, "library/hr.json")}, nil, false,
			[]Removal{{Path: "library/hr.json", Addr: "connection.hr"}}, true},
		{"a path connform may not touch", nil, []*state.Connection{withPath(sales, "../main.hcl")}, nil, false,
			[]Removal{{Path: "../main.hcl", Addr: "connection.sales", Kept: `the path contains ".."`}}, true},
		{"a file already gone is not listed", nil, []*state.Connection{withPath(sales, "library/gone.dsconn")}, nil, false, nil, true},
		{"an orphan", []*config.Connection{sales}, []*state.Connection{withPath(sales, "library/sales.dsconn")},
			[]state.Orphan{{Path: "library/ghost.dsconn", Hash: "h", Addr: "connection.ghost"}}, false,
			[]Removal{{Path: "library/ghost.dsconn", Addr: "connection.ghost", Orphan: true}}, true},
		{"an orphan a connection records again is not one", []*config.Connection{sales}, []*state.Connection{withPath(sales, "library/sales.dsconn")},
			[]state.Orphan{{Path: "library/sales.dsconn", Hash: "h", Addr: "connection.sales"}}, false, nil, false},
		{"an orphan left in place is shown but changes nothing", []*config.Connection{sales}, []*state.Connection{withPath(sales, "library/sales.dsconn")},
			[]state.Orphan{{Path: "../main.hcl", Hash: "h"}}, false,
			[]Removal{{Path: "../main.hcl", Orphan: true, Kept: `the path contains ".."`}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &state.State{Version: 1, Serial: 1, Lineage: "L", Orphans: tt.orphans}
			for _, r := range tt.records {
				st.Put(r)
			}
			in := Input{
				Config: &config.Config{Connections: tt.config}, State: st, Now: now, Destroy: tt.destroy,
				Grant:       tokens{TokenKey(sales): {RefreshToken: "rt"}}.lookup,
				LibraryFile: libFile,
				Removable: func(path, hash string) (bool, string) {
					kept, exists := removable[path]
					return !exists, kept
				},
			}
			p, err := Make(in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Removals, tt.want) {
				t.Errorf("Removals = %+v\nwant %+v", p.Removals, tt.want)
			}
			if p.HasChanges() != tt.changes {
				t.Errorf("HasChanges = %v, want %v", p.HasChanges(), tt.changes)
			}
		})
	}
}

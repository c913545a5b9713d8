package plan

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"connform/config"
	"connform/state"
)

// samplePlan is a plan with every kind of entry a file holds: a browser
// sign-in and a change it covers, a client-credentials app with a secret,
// and a delete.
func samplePlan(t testing.TB) *Plan {
	sales := conn("sales", "https://sales.crm4.dynamics.com")
	finance := conn("finance", "https://finance.crm4.dynamics.com")
	app := conn("app", "https://app.crm4.dynamics.com", func(c *config.Connection) {
		c.GrantType = config.GrantClientCredentials
		c.ClientSecret = "s3cret-value"
		c.Scopes = []string{c.URL + "/.default"}
	})
	old := conn("old", "https://old.crm4.dynamics.com")
	st := &state.State{Version: 1, Serial: 3, Lineage: "L", Connections: []*state.Connection{record("L", old)}}
	p, err := Make(Input{Config: &config.Config{Connections: []*config.Connection{app, finance, sales}, Hash: "h"}, State: st, Now: now, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// edit changes a plan file's JSON as a person or a script would.
func edit(t testing.TB, data []byte, f func(m map[string]any)) []byte {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func changeAt(m map[string]any, i int) map[string]any {
	return m["changes"].([]any)[i].(map[string]any)
}

// The sample's changes, in address order.
const (
	iApp = iota
	iFinance
	iOld
	iSales
)

func TestDecodeRefuses(t *testing.T) {
	good, err := Encode(samplePlan(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("{not json"), "not a connform plan file (no format_version)"},
		{"truncated", good[:len(good)/2], "not a valid plan file: the file ends early; make the plan again with connform plan -out"},
		{"no version", edit(t, good, func(m map[string]any) { delete(m, "format_version") }), "not a connform plan file (no format_version)"},
		{"format 1", edit(t, good, func(m map[string]any) { m["format_version"] = 1 }), "written in plan format 1; this connform reads format 2: make the plan again with this version"},
		{"trailing data", append(append([]byte{}, good...), []byte("{}")...), "not a valid plan file: data after the plan"},
		{"unknown field", edit(t, good, func(m map[string]any) { m["extra"] = true }), `not a valid plan file: unknown field "extra"`},
		{"wrong type", edit(t, good, func(m map[string]any) { m["changes"] = "all" }), "not a valid plan file: changes holds a JSON string where []*plan.fileChange belongs"},
		{"no changes", edit(t, good, func(m map[string]any) { delete(m, "changes") }), "not a valid plan file: it has no change list"},
		{"null change", edit(t, good, func(m map[string]any) { m["changes"].([]any)[1] = nil }), "not a valid plan file: changes[1] is null; make the plan again with connform plan -out"},
		{"unknown action", edit(t, good, func(m map[string]any) { changeAt(m, iSales)["action"] = "explode" }),
			`changes[3] (connection.sales): unknown action "explode"; actions are no-op, create, update, replace, delete`},
		{"unknown reason", edit(t, good, func(m map[string]any) {
			changeAt(m, iSales)["reasons"] = []any{map[string]any{"code": "because"}}
		}), `changes[3] (connection.sales): unknown reason code "because"`},
		{"unknown sign-in", edit(t, good, func(m map[string]any) { changeAt(m, iSales)["auth"].(map[string]any)["kind"] = "magic" }),
			`unknown sign-in kind "magic"; kinds are none, refresh, client-credentials, interactive, credential`},
		{"address not parseable", edit(t, good, func(m map[string]any) { changeAt(m, iSales)["address"] = "connection.sales[" }),
			`changes[3]: address "connection.sales[" is not a connection address such as connection.NAME or connection.NAME["KEY"]`},
		{"address of another type", edit(t, good, func(m map[string]any) { changeAt(m, iSales)["address"] = "variable.x" }),
			`changes[3]: address "variable.x" is not a connection address`},
		{"unquoted key", edit(t, good, func(m map[string]any) { changeAt(m, iSales)["address"] = "connection.sales[dev]" }),
			`changes[3]: address "connection.sales[dev]" is not a connection address`},
		{"escape in address", edit(t, good, func(m map[string]any) { changeAt(m, iSales)["address"] = "connection.sales[\"\x1b[2J\"]" }),
			`changes[3]: address "connection.sales[\"\x1b[2J\"]" is not a connection address`},
		{"duplicate address", edit(t, good, func(m map[string]any) { changeAt(m, iSales)["address"] = "connection.app" }),
			"changes[0] and changes[3] are both connection.app"},
		{"covers itself", edit(t, good, func(m map[string]any) {
			changeAt(m, iSales)["auth"].(map[string]any)["covered_by"] = "connection.sales"
		}), "changes[3] (connection.sales) names itself as the change covering its sign-in"},
		{"cycle", edit(t, good, func(m map[string]any) {
			f := changeAt(m, iFinance)["auth"].(map[string]any)
			f["kind"], f["covered_by"] = "refresh", "connection.sales"
			delete(f, "via")
		}), "changes[1] (connection.finance) is covered by connection.sales, which is itself covered by connection.finance: covering sign-ins do not chain"},
		{"covered by a change not in the plan", edit(t, good, func(m map[string]any) {
			changeAt(m, iSales)["auth"].(map[string]any)["covered_by"] = "connection.gone"
		}), `changes[3] (connection.sales) is covered by the sign-in of "connection.gone", which is not in the plan`},
		{"covered by a silent change", edit(t, good, func(m map[string]any) {
			changeAt(m, iSales)["auth"].(map[string]any)["covered_by"] = "connection.app"
		}), "changes[3] (connection.sales) is covered by connection.app, which does not sign in interactively"},
		{"covered interactive", edit(t, good, func(m map[string]any) {
			changeAt(m, iFinance)["auth"].(map[string]any)["covered_by"] = "connection.sales"
		}), "changes[1] (connection.finance): a sign-in of kind interactive cannot be covered by another change's"},
		{"sensitive value", edit(t, good, func(m map[string]any) {
			for _, a := range changeAt(m, iApp)["attributes"].([]any) {
				if a := a.(map[string]any); a["sensitive"] == true {
					a["after"] = "hunter2"
				}
			}
		}), "changes[0] (connection.app): sensitive attribute client_secret holds a value; a plan file never does"},
		{"escape in a value", edit(t, good, func(m map[string]any) {
			changeAt(m, iSales)["attributes"].([]any)[0].(map[string]any)["after"] = "\x1b[2JApply complete!"
		}), "changes[3] (connection.sales): attribute authorization_url holds control characters"},
		{"depends on an address of no resource type", edit(t, good, func(m map[string]any) { changeAt(m, iSales)["depends_on"] = []any{"application.app"} }),
			`changes[3] (connection.sales): depends_on: address "application.app" is not a connection address`},
		{"depends on a change not in the plan", edit(t, good, func(m map[string]any) { changeAt(m, iSales)["depends_on"] = []any{"connection.gone"} }),
			"connection.sales depends on connection.gone, which is not in the plan"},
		{"depends on itself", edit(t, good, func(m map[string]any) { changeAt(m, iSales)["depends_on"] = []any{"connection.sales"} }),
			"connection.sales depends on connection.sales: connection.sales waits for itself"},
		{"dependency cycle", edit(t, good, func(m map[string]any) {
			// sales waits for finance's sign-in, which would wait for sales.
			changeAt(m, iFinance)["depends_on"] = []any{"connection.sales"}
		}), "its dependencies form a cycle: connection.finance → connection.sales → connection.finance"},
		{"bad target", edit(t, good, func(m map[string]any) { m["targets"] = []any{"sales"} }), `targets[0]: address "sales" is not a connection address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Decode(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant one containing %q", err, tt.want)
			}
			if p != nil {
				t.Fatal("Decode returned a plan with its error")
			}
		})
	}
	if _, err := Decode(good); err != nil {
		t.Fatalf("the unedited plan: %v", err)
	}
}

// TestFileCarriesEveryField fails when a field is added to the model but
// not to the plan file (or the reverse): the file would then drop what
// plan decided, and apply's check of a saved plan would not see it.
func TestFileCarriesEveryField(t *testing.T) {
	p := &Plan{
		ConnformVersion: "v", CreatedAt: now, Destroy: true, Targets: []string{`connection.a["k"]`},
		ConfigHash: "h", StateLineage: "L", StateSerial: 7, Variables: map[string]string{"v": "x"},
		Changes: []*Change{
			{Addr: `connection.a["k"]`, Action: Update, Note: "n",
				Reasons: []Reason{{Code: ReasonLibraryMissing, Attrs: []string{"x"}, Path: "lib/a.dsconn"}},
				Attrs:   []AttrChange{{Name: "url", Before: "b", After: "a", Sensitive: false, ForcesReplacement: true}, {Name: "description", After: "two\nlines\tand a tab"}},
				Auth:    Auth{Kind: AuthInteractive, Reason: "r", ReasonCode: "no_token", Account: "acct", Via: "browser"}},
			{Addr: "connection.b", Action: Update, Reasons: []Reason{{Code: ReasonNoToken}},
				Attrs:     []AttrChange{{Name: "client_secret", After: sensitiveShown, Sensitive: true}},
				Auth:      Auth{Kind: AuthRefresh, Account: "acct", CoveredBy: `connection.a["k"]`, Fresh: true},
				DependsOn: []string{`connection.a["k"]`}},
		},
	}
	p.Removals = []Removal{{Path: "lib/old.dsconn", Addr: `connection.a["k"]`, Orphan: true, Kept: "outside the library folder lib"}}
	// Every field of every struct a plan is made of must be set somewhere
	// above, so that the round trip below tests it.
	set := map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			walk(v.Elem())
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(time.Time{}) {
				return
			}
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if !v.Field(i).IsZero() {
					set[v.Type().Name()+"."+f.Name] = true
				}
				walk(v.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(p))
	for _, typ := range []reflect.Type{reflect.TypeOf(Plan{}), reflect.TypeOf(Change{}), reflect.TypeOf(Reason{}), reflect.TypeOf(AttrChange{}), reflect.TypeOf(Auth{}), reflect.TypeOf(Removal{})} {
		for i := range typ.NumField() {
			if name := typ.Name() + "." + typ.Field(i).Name; !set[name] {
				t.Errorf("%s is not set in this test: set it, and carry it in file.go's planFile", name)
			}
		}
	}
	data, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("round trip changed the plan:\n got %+v\nwant %+v", got, p)
	}
}

func TestReadFileRefusesLarge(t *testing.T) {
	path := t.TempDir() + "/big"
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "is larger than 128 MiB") {
		t.Fatalf("error %v", err)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *Plan)
		want string
	}{
		{"unchanged but for the time and sign-in wording", func(p *Plan) {
			p.CreatedAt = p.CreatedAt.Add(time.Hour)
			p.Changes[iSales].Auth.Reason = "token valid until later"
		}, ""},
		{"a configured connection deleted", func(p *Plan) {
			p.Changes[iSales].Action = Delete
		}, "connection.sales: the plan says delete, a plan made now says create"},
		{"a change dropped", func(p *Plan) {
			p.Changes = append(p.Changes[:iOld], p.Changes[iOld+1:]...)
		}, "a plan made now lists connection.old (delete), which the plan does not"},
		{"a change added", func(p *Plan) {
			p.Changes = append(p.Changes, &Change{Addr: "connection.zzz", Action: Delete})
		}, "the plan lists connection.zzz, which a plan made now does not"},
		{"an attribute edited", func(p *Plan) {
			p.Changes[iSales].Attrs[0].After = "https://evil.example/authorize"
		}, "connection.sales: the plan's attribute changes differ from a plan made now at authorization_url"},
		{"a reason edited", func(p *Plan) {
			p.Changes[iOld].Reasons = []Reason{{Code: ReasonDestroyRequested}}
		}, "connection.old: the plan gives the reasons [destroy_requested], a plan made now [removed_from_config]"},
		{"a token that has expired since: still silent", func(p *Plan) {
			p.Changes[iApp].Auth.Kind = AuthNone
		}, ""},
		{"a browser sign-in the plan did not announce", func(p *Plan) {
			p.Changes[iFinance].Auth.Kind, p.Changes[iFinance].Auth.Via = AuthNone, ""
		}, "connection.finance: the plan's sign-in (none, no_token) differs from a plan made now (interactive via browser, no_token)"},
		{"a sign-in edited", func(p *Plan) {
			p.Changes[iSales].Auth.Via = "device_code"
		}, "connection.sales: the plan's sign-in (refresh via device_code, covered by connection.finance, covered) differs from a plan made now (refresh, covered by connection.finance, covered)"},
		{"a dependency added", func(p *Plan) {
			p.Changes[iSales].DependsOn = []string{"connection.app"}
		}, `connection.sales: the plan says it depends on ["connection.app"], a plan made now []`},
		{"destroy turned on", func(p *Plan) { p.Destroy = true }, "the plan says destroy=true, a plan made now says destroy=false"},
		{"a library file removal added", func(p *Plan) {
			p.Removals = append(p.Removals, Removal{Path: "main.hcl", Addr: "connection.old"})
		}, "the plan handles the library file main.hcl, which a plan made now does not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := samplePlan(t)
			tt.edit(saved)
			err := saved.Verify(samplePlan(t))
			if (err == nil) != (tt.want == "") || err != nil && err.Error() != tt.want {
				t.Fatalf("Verify: %v\nwant %q", err, tt.want)
			}
		})
	}
}

// FuzzDecode feeds plan-file decoding hostile input: it must return an
// error or a plan, never panic or hang, and a plan it accepts must survive
// its own round trip with every covered_by still valid.
func FuzzDecode(f *testing.F) {
	good, err := Encode(samplePlan(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format_version":2,"config_hash":"h","changes":[null]}`))
	f.Add([]byte(`{"format_version":2,"config_hash":"h","changes":[{"address":"connection.a","action":"explode","auth":{"kind":"none"}}]}`))
	f.Add([]byte(`{"format_version":2,"config_hash":"h","changes":[{"address":"connection.a","action":"create","auth":{"kind":"refresh","covered_by":"connection.a"}}]}`))
	f.Add([]byte(`{"format_version":2,"config_hash":"h","changes":[{"address":"connection.a","action":"create","auth":{"kind":"refresh","covered_by":"connection.b"}},{"address":"connection.b","action":"create","auth":{"kind":"refresh","covered_by":"connection.a"}}]}`))
	f.Add([]byte(`{"format_version":2,"config_hash":"h","changes":[{"address":"connection.a","action":"create","auth":{"kind":"none"}},{"address":"connection.a","action":"delete","auth":{"kind":"none"}}]}`))
	f.Add([]byte(`{"format_version":2,"config_hash":"h","changes":[{"address":"connection[","action":"create","auth":{"kind":"none"}}]}`))
	f.Add([]byte(`{"format_version":2,"config_hash":"h","changes":[{"address":"connection.a","action":"create","auth":{"kind":"none"},"depends_on":["connection.b"]},{"address":"connection.b","action":"delete","auth":{"kind":"none"},"depends_on":["connection.a"]}]}`))
	f.Add([]byte(`{"format_version":1,"changes":[]}`))
	f.Add([]byte(`{"format_version":99999999999999999999}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(data)
		if err != nil {
			if p != nil {
				t.Fatal("a plan and an error")
			}
			return
		}
		again, err := Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Decode(again)
		if err != nil {
			t.Fatalf("an accepted plan does not decode after encoding: %v", err)
		}
		if !reflect.DeepEqual(normalise(p), normalise(q)) {
			t.Fatalf("round trip changed an accepted plan")
		}
	})
}

// normalise makes empty and absent slices and maps alike, as JSON does.
func normalise(p *Plan) *Plan {
	data, _ := json.Marshal(toFile(p))
	var f planFile
	_ = json.Unmarshal(data, &f)
	q, _ := fromFile(&f)
	return q
}

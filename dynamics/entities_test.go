package dynamics

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"connform/emulator"

	"golang.org/x/oauth2/clientcredentials"
)

// emuOrg is an emulator's two orgs with app-only tokens, and a count of
// requests per path.
type emuOrg struct {
	org, org2   Org
	token       string // for org1
	token2      string // for org2
	mu          sync.Mutex
	requests    map[string]int // path → count
	noAppUserTo string         // a token of an app without application user, for org1
}

func (e *emuOrg) count(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests[path]
}

func startEmulator(t *testing.T) *emuOrg {
	t.Helper()
	eo := &emuOrg{requests: map[string]int{}}
	emu, err := emulator.Start(emulator.Options{Logf: func(format string, args ...any) {
		// Lines are "emulator: GET host/path -> status"; count by path.
		if len(args) >= 3 {
			eo.mu.Lock()
			eo.requests[args[2].(string)]++
			eo.mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	info := emu.Info()
	token := func(appName string, org emulator.Org) string {
		a, _ := info.App(appName)
		cc := clientcredentials.Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, TokenURL: info.TokenURL, Scopes: []string{org.URL + "/.default"}}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	eo.token = token(emulator.ConfidentialApp, info.Orgs[0])
	eo.token2 = token(emulator.ConfidentialApp, info.Orgs[1])
	eo.noAppUserTo = token(emulator.NoAppUserApp, info.Orgs[0])
	if eo.org, err = ParseOrgURL(info.Orgs[0].URL); err != nil {
		t.Fatal(err)
	}
	if eo.org2, err = ParseOrgURL(info.Orgs[1].URL); err != nil {
		t.Fatal(err)
	}
	return eo
}

func TestEntitiesAgainstEmulator(t *testing.T) {
	eo := startEmulator(t)
	ctx := context.Background()
	got, err := testClient().Entities(ctx, eo.org, eo.token)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Entity{
		"account": {"account", "accounts", "Account"},
		"contact": {"contact", "contacts", "Contact"},
	}
	var names []string
	for _, e := range got {
		names = append(names, e.LogicalName)
		if w, ok := want[e.LogicalName]; ok && e != w {
			t.Errorf("entity %+v, want %+v", e, w)
		}
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "account") || !slices.Contains(names, "contact") {
		t.Errorf("entities %v: want account and contact, sorted", names)
	}

	one, err := testClient().Entity(ctx, eo.org, eo.token, "contact")
	if err != nil || *one != want["contact"] {
		t.Errorf("Entity(contact) = %+v, %v", one, err)
	}
	_, err = testClient().Entity(ctx, eo.org, eo.token, "acount")
	var api *APIError
	if !errors.As(err, &api) || api.StatusCode != http.StatusNotFound || !strings.Contains(api.Message, "acount") {
		t.Fatalf("Entity(acount) error = %v, want a 404 *APIError naming it", err)
	}
	if near := Nearest("acount", names, 3); len(near) == 0 || near[0] != "account" {
		t.Errorf("Nearest(acount) = %v, want account first", near)
	}
	// A quote in the name is escaped, not an OData syntax error.
	if _, err := testClient().Entity(ctx, eo.org, eo.token, "o'brien"); !errors.As(err, &api) || api.StatusCode != http.StatusNotFound {
		t.Errorf("Entity(o'brien) error = %v, want 404", err)
	}
}

func TestRecordsAgainstEmulator(t *testing.T) {
	eo := startEmulator(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		q        RecordsQuery
		rows     int
		requests int // GETs of the entity set
		columns  []string
	}{
		{"first page only", RecordsQuery{EntitySet: "accounts"}, 10, 1,
			[]string{"accountid", "accountnumber", "address1_city", "name", "revenue", "statecode", "telephone1"}},
		{"top across three pages", RecordsQuery{EntitySet: "accounts", Top: 25}, 25, 3, nil},
		{"top beyond the rows", RecordsQuery{EntitySet: "accounts", Top: 500}, 27, 3, nil},
		{"top within a page", RecordsQuery{EntitySet: "accounts", Top: 3}, 3, 1, nil},
		{"select keeps its order", RecordsQuery{EntitySet: "accounts", Top: 5, Select: []string{"revenue", "name"}}, 5, 1, []string{"revenue", "name"}},
		{"filter", RecordsQuery{EntitySet: "accounts", Top: 50, Filter: "statecode eq 1"}, 3, 1, nil},
		{"filter with spaces and a quote", RecordsQuery{EntitySet: "accounts", Top: 50, Filter: "name eq 'Nobody''s Company Ltd'"}, 0, 1, nil},
		{"contacts", RecordsQuery{EntitySet: "contacts", Top: 100, Select: []string{"fullname", "emailaddress1"}}, 12, 2, []string{"fullname", "emailaddress1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := eo.count("/api/data/v9.2/" + tc.q.EntitySet)
			got, err := testClient().Records(ctx, eo.org, eo.token, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Rows) != tc.rows {
				t.Errorf("%d rows, want %d", len(got.Rows), tc.rows)
			}
			if n := eo.count("/api/data/v9.2/"+tc.q.EntitySet) - before; n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if tc.columns != nil && !slices.Equal(got.Columns, tc.columns) {
				t.Errorf("columns %v, want %v", got.Columns, tc.columns)
			}
			ids := map[any]bool{}
			for _, r := range got.Rows {
				if _, ok := r["@odata.etag"]; ok {
					t.Errorf("row keeps its etag: %v", r)
				}
				id := r["accountid"]
				if id == nil {
					id = r["contactid"]
				}
				if ids[id] {
					t.Errorf("row %v twice", id)
				}
				ids[id] = true
				for _, c := range got.Columns {
					if _, ok := r[c]; !ok {
						t.Errorf("row lacks column %s: %v", c, r)
					}
				}
			}
		})
	}
	t.Run("numbers stay as sent", func(t *testing.T) {
		got, err := testClient().Records(ctx, eo.org, eo.token, RecordsQuery{EntitySet: "accounts", Top: 1, Select: []string{"statecode"}})
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := got.Rows[0]["statecode"].(json.Number); !ok || n.String() != "0" {
			t.Errorf("statecode = %#v, want json.Number 0", got.Rows[0]["statecode"])
		}
	})
}

func TestRecordsErrors(t *testing.T) {
	eo := startEmulator(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		org    func() Org
		token  func() string
		q      RecordsQuery
		status int    // 0: a local error, no request
		inErr  string // in the error text
	}{
		{"unknown entity set", nil, nil, RecordsQuery{EntitySet: "acounts"}, 404, "Resource not found for the segment 'acounts'"},
		{"unknown column", nil, nil, RecordsQuery{EntitySet: "accounts", Select: []string{"name", "colour"}}, 400, "Could not find a property named 'colour'"},
		{"unsupported filter", nil, nil, RecordsQuery{EntitySet: "accounts", Filter: "revenue gt 5"}, 400, "only equality filters"},
		{"another org's token", nil, func() string { return eo.token2 }, RecordsQuery{EntitySet: "accounts"}, 401, "issued for another org"},
		{"app without application user", nil, func() string { return eo.noAppUserTo }, RecordsQuery{EntitySet: "accounts"}, 403, "application user"},
		{"entity set with a path", nil, nil, RecordsQuery{EntitySet: "accounts/../WhoAmI"}, 0, "not a Web API entity set name"},
		{"no entity set", nil, nil, RecordsQuery{}, 0, "not a Web API entity set name"},
		{"column with a comma", nil, nil, RecordsQuery{EntitySet: "accounts", Select: []string{"name,revenue"}}, 0, "not a Web API column name"},
		{"no token", nil, func() string { return "" }, RecordsQuery{EntitySet: "accounts"}, 0, "no access token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := eo.count("/api/data/v9.2/" + tc.q.EntitySet)
			token := eo.token
			if tc.token != nil {
				token = tc.token()
			}
			_, err := testClient().Records(ctx, eo.org, token, tc.q)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.inErr) {
				t.Errorf("error %q, want it to contain %q", err, tc.inErr)
			}
			var api *APIError
			if tc.status == 0 {
				if errors.As(err, &api) || eo.count("/api/data/v9.2/"+tc.q.EntitySet) != before {
					t.Errorf("error %v came from a request; want a local check", err)
				}
				return
			}
			if !errors.As(err, &api) || api.StatusCode != tc.status {
				t.Errorf("error %v, want an *APIError with status %d", err, tc.status)
			}
			if token != "" && strings.Contains(err.Error(), token) {
				t.Error("the error holds the token")
			}
		})
	}
}

// fakeCollection serves pages a test scripts: each request gets the next
// body, with {root} replaced by the server's URL.
func fakeCollection(t *testing.T, bodies ...string) (Org, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("request without the token: %v", r.Header)
		}
		seen = append(seen, r.URL.RequestURI())
		if len(seen) > len(bodies) {
			t.Errorf("request %d: %s; only %d scripted", len(seen), r.URL, len(bodies))
			w.WriteHeader(500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(strings.ReplaceAll(bodies[len(seen)-1], "{root}", srv.URL)))
	}))
	t.Cleanup(srv.Close)
	org, err := ParseOrgURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return org, &seen
}

func TestEntitiesFromFake(t *testing.T) {
	org, seen := fakeCollection(t, `{"value":[
		{"LogicalName":"contact","EntitySetName":"contacts","DisplayName":{"UserLocalizedLabel":{"Label":"Contact","LanguageCode":1033},"LocalizedLabels":[{"Label":"Contact","LanguageCode":1033}]},"MetadataId":"m1"},
		{"LogicalName":"new_widget","EntitySetName":"new_widgets","DisplayName":{"UserLocalizedLabel":null,"LocalizedLabels":[{"Label":"Widget","LanguageCode":1031}]}},
		{"LogicalName":"account","EntitySetName":"accounts","DisplayName":{"UserLocalizedLabel":{"Label":"Account"}}},
		{"LogicalName":"msdyn_intersect","EntitySetName":null,"DisplayName":{"UserLocalizedLabel":null,"LocalizedLabels":[]}}],
		"@odata.nextLink":"{root}/api/data/v9.2/EntityDefinitions?$select=LogicalName&$skiptoken=2"}`,
		`{"value":[{"LogicalName":"lead","EntitySetName":"leads","DisplayName":null}]}`)
	got, err := testClient().Entities(context.Background(), org, testToken)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entity{
		{"account", "accounts", "Account"},
		{"contact", "contacts", "Contact"},
		{"lead", "leads", ""},
		{"msdyn_intersect", "", ""},
		{"new_widget", "new_widgets", "Widget"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Entities = %+v\nwant %+v", got, want)
	}
	if (*seen)[0] != "/api/data/v9.2/EntityDefinitions?$select=LogicalName,EntitySetName,DisplayName" {
		t.Errorf("first request %s", (*seen)[0])
	}
}

func TestRecordsPagingFromFake(t *testing.T) {
	page := func(ids string, next string) string {
		var rows []string
		for _, id := range strings.Split(ids, ",") {
			rows = append(rows, `{"@odata.etag":"W/\"1\"","id":"`+id+`","name@OData.Community.Display.V1.FormattedValue":"x","name":"n`+id+`","n":12345678901234567890}`)
		}
		b := `{"value":[` + strings.Join(rows, ",") + `]`
		if next != "" {
			b += `,"@odata.nextLink":"` + next + `"`
		}
		return b + "}"
	}
	t.Run("three pages, cut at top", func(t *testing.T) {
		org, seen := fakeCollection(t,
			page("1,2", "{root}/api/data/v9.2/things?$top=5&$skiptoken=a"),
			page("3,4", "{root}/api/data/v9.2/things?$top=5&$skiptoken=b"),
			page("5,6", "{root}/api/data/v9.2/things?$top=5&$skiptoken=c"))
		got, err := testClient().Records(context.Background(), org, testToken, RecordsQuery{EntitySet: "things", Top: 5, Filter: "name eq 'a b'"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got.Rows {
			ids = append(ids, r["id"].(string))
		}
		if !slices.Equal(ids, []string{"1", "2", "3", "4", "5"}) {
			t.Errorf("ids %v", ids)
		}
		if !slices.Equal(got.Columns, []string{"id", "n", "name"}) {
			t.Errorf("columns %v: want sorted, without annotations", got.Columns)
		}
		if n := got.Rows[0]["n"].(json.Number); n.String() != "12345678901234567890" {
			t.Errorf("big number became %s", n)
		}
		wantFirst := "/api/data/v9.2/things?$top=5&$filter=name%20eq%20%27a%20b%27"
		if len(*seen) != 3 || (*seen)[0] != wantFirst || (*seen)[2] != "/api/data/v9.2/things?$top=5&$skiptoken=b" {
			t.Errorf("requests %q, want 3 starting %s", *seen, wantFirst)
		}
	})
	t.Run("next link to another host", func(t *testing.T) {
		var leaked bool
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaked = true }))
		defer other.Close()
		org, _ := fakeCollection(t, page("1", other.URL+"/api/data/v9.2/things?$skiptoken=x"))
		_, err := testClient().Records(context.Background(), org, testToken, RecordsQuery{EntitySet: "things", Top: 5})
		if err == nil || !strings.Contains(err.Error(), "outside") || leaked {
			t.Errorf("error %v, other host contacted: %v; want a refusal before any request", err, leaked)
		}
	})
	t.Run("a next link that makes no progress", func(t *testing.T) {
		org, _ := fakeCollection(t, `{"value":[],"@odata.nextLink":"{root}/api/data/v9.2/things?$skiptoken=x"}`)
		_, err := testClient().Records(context.Background(), org, testToken, RecordsQuery{EntitySet: "things", Top: 5})
		if err == nil || !strings.Contains(err.Error(), "without progress") {
			t.Errorf("error %v, want a stop", err)
		}
	})
	t.Run("not a collection", func(t *testing.T) {
		org, _ := fakeCollection(t, `{"error":"nope"}`)
		_, err := testClient().Records(context.Background(), org, testToken, RecordsQuery{EntitySet: "things"})
		if err == nil || !strings.Contains(err.Error(), `no "value" collection`) {
			t.Errorf("error %v", err)
		}
	})
}

func TestNearest(t *testing.T) {
	names := []string{"account", "accountleads", "activitypointer", "contact", "lead", "opportunity", "systemuser", "team"}
	for _, tc := range []struct {
		name string
		n    int
		want []string
	}{
		{"acount", 3, []string{"account"}},
		{"accont", 3, []string{"account"}},
		{"Account", 1, []string{"account"}},
		{"contacts", 2, []string{"contact"}},
		{"acc", 3, []string{"account", "accountleads"}},
		{"opportunities", 3, []string{"opportunity"}},
		{"systemusers", 3, []string{"systemuser"}},
		{"laed", 2, []string{"lead"}},
		{"xyzzy", 3, nil},
		{"lead", 0, nil},
		{"", 3, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Nearest(tc.name, names, tc.n); !slices.Equal(got, tc.want) {
				t.Errorf("Nearest(%q, %d) = %v, want %v", tc.name, tc.n, got, tc.want)
			}
		})
	}
}

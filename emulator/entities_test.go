package emulator_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"connform/emulator"
	"golang.org/x/oauth2/clientcredentials"
)

// getPrefer is getAPI with a Prefer header ("" for none).
func getPrefer(t *testing.T, u, token, prefer string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if prefer != "" {
		req.Header.Set("Prefer", prefer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("GET %s answered %s without a JSON body", u, resp.Status)
	}
	return resp.StatusCode, resp.Header, m
}

func values(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	raw, ok := body["value"].([]any)
	if !ok {
		t.Fatalf("no value collection in %v", body)
	}
	var out []map[string]any
	for _, v := range raw {
		out = append(out, v.(map[string]any))
	}
	return out
}

func keys(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// q builds a Web API URL with query options, spaces as %20 as clients send
// them.
func q(base string, opts ...string) string {
	var parts []string
	for i := 0; i+1 < len(opts); i += 2 {
		parts = append(parts, opts[i]+"="+strings.ReplaceAll(url.QueryEscape(opts[i+1]), "+", "%20"))
	}
	if len(parts) == 0 {
		return base
	}
	return base + "?" + strings.Join(parts, "&")
}

func TestEntityDefinitions(t *testing.T) {
	_, info := start(t, emulator.Options{AutoApprove: true})
	at := signedIn(t, info)["access_token"].(string)
	api := info.Orgs[0].URL + "/api/data/v9.2/"

	t.Run("list with $select", func(t *testing.T) {
		status, _, body := getAPI(t, q(api+"EntityDefinitions", "$select", "LogicalName,EntitySetName,DisplayName"), at)
		if status != 200 {
			t.Fatalf("status %d: %v", status, body)
		}
		if ctx, _ := body["@odata.context"].(string); !strings.HasSuffix(ctx, "$metadata#EntityDefinitions(LogicalName,EntitySetName,DisplayName)") {
			t.Errorf("@odata.context %q", ctx)
		}
		sets := map[string]string{}
		for _, v := range values(t, body) {
			if got := keys(v); !slices.Equal(got, []string{"DisplayName", "EntitySetName", "LogicalName", "MetadataId"}) {
				t.Errorf("%v has properties %v, want only the selected ones and MetadataId", v["LogicalName"], got)
			}
			sets[v["LogicalName"].(string)] = v["EntitySetName"].(string)
			if v["LogicalName"] == "account" {
				dn := v["DisplayName"].(map[string]any)
				ul := dn["UserLocalizedLabel"].(map[string]any)
				ll := dn["LocalizedLabels"].([]any)
				if ul["Label"] != "Account" || ul["LanguageCode"] != 1033.0 || len(ll) != 1 {
					t.Errorf("account DisplayName = %v", dn)
				}
			}
		}
		for name, set := range map[string]string{"account": "accounts", "contact": "contacts", "lead": "leads", "opportunity": "opportunities", "systemuser": "systemusers"} {
			if sets[name] != set {
				t.Errorf("entity %s has entity set %q, want %q (all: %v)", name, sets[name], set, sets)
			}
		}
	})
	t.Run("list without $select is the big object", func(t *testing.T) {
		_, _, body := getAPI(t, api+"EntityDefinitions", at)
		v := values(t, body)[0]
		for _, p := range []string{"PrimaryIdAttribute", "PrimaryNameAttribute", "ObjectTypeCode", "SchemaName", "DisplayCollectionName"} {
			if _, ok := v[p]; !ok {
				t.Errorf("full metadata lacks %s: %v", p, keys(v))
			}
		}
	})

	for _, tc := range []struct {
		name   string
		path   string
		status int
		code   string
		inMsg  string
		want   string // LogicalName of a 200 answer
	}{
		{"one entity", "EntityDefinitions(LogicalName='contact')?$select=LogicalName,EntitySetName", 200, "", "", "contact"},
		{"one entity in another case", "EntityDefinitions(LogicalName='Account')?$select=LogicalName", 200, "", "", "account"},
		{"absent entity", "EntityDefinitions(LogicalName='acount')?$select=LogicalName", 404, "0x80060888", "'acount'", ""},
		{"unknown property", "EntityDefinitions?$select=LogicalName,Colour", 400, "0x80060888", "Could not find a property named 'Colour' on type 'Microsoft.Dynamics.CRM.EntityMetadata'", ""},
		{"unsupported option", "EntityDefinitions?$orderby=LogicalName", 400, "0x80060888", "$orderby", ""},
		{"malformed key", "EntityDefinitions(Name=account)", 400, "0x80060888", "LogicalName='account'", ""},
		{"sub-resource", "EntityDefinitions(LogicalName='account')/Attributes", 404, "0x8006088a", "Attributes", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := getAPI(t, api+tc.path, at)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, body, tc.status)
			}
			if tc.status == 200 {
				if body["LogicalName"] != tc.want || !strings.HasSuffix(body["@odata.context"].(string), "/$entity") {
					t.Errorf("body %v, want %s as a single entity", body, tc.want)
				}
				return
			}
			if code, msg := odataError(body); code != tc.code || !strings.Contains(msg, tc.inMsg) {
				t.Errorf("error %q %q, want %q containing %q", code, msg, tc.code, tc.inMsg)
			}
		})
	}
	t.Run("by MetadataId", func(t *testing.T) {
		_, _, one := getAPI(t, api+"EntityDefinitions(LogicalName='lead')?$select=LogicalName", at)
		status, _, body := getAPI(t, api+"EntityDefinitions("+one["MetadataId"].(string)+")?$select=LogicalName", at)
		if status != 200 || body["LogicalName"] != "lead" {
			t.Errorf("%d %v", status, body)
		}
	})
}

// readAll follows nextLinks from u and returns every page's rows.
func readAll(t *testing.T, u, token, prefer string) (pages [][]map[string]any) {
	t.Helper()
	for u != "" && len(pages) < 20 {
		status, _, body := getPrefer(t, u, token, prefer)
		if status != 200 {
			t.Fatalf("GET %s: %d %v", u, status, body)
		}
		pages = append(pages, values(t, body))
		u, _ = body["@odata.nextLink"].(string)
	}
	return pages
}

func sizes(pages [][]map[string]any) []int {
	var n []int
	for _, p := range pages {
		n = append(n, len(p))
	}
	return n
}

func TestEntitySetPaging(t *testing.T) {
	_, info := start(t, emulator.Options{AutoApprove: true})
	at := signedIn(t, info)["access_token"].(string)
	accounts := info.Orgs[0].URL + "/api/data/v9.2/accounts"
	for _, tc := range []struct {
		name   string
		url    string
		prefer string
		sizes  []int
	}{
		{"server page size", accounts, "", []int{10, 10, 7}},
		{"client page size", accounts, "odata.maxpagesize=12", []int{12, 12, 3}},
		{"page size among other preferences", accounts, `odata.include-annotations="*", odata.maxpagesize=20`, []int{20, 7}},
		{"top caps the pages", q(accounts, "$top", "15"), "", []int{10, 5}},
		{"top within a page", q(accounts, "$top", "4"), "", []int{4}},
		{"top beyond the rows", q(accounts, "$top", "100"), "", []int{10, 10, 7}},
		{"top with select and filter", q(accounts, "$top", "2", "$select", "name", "$filter", "statecode eq 0"), "odata.maxpagesize=1", []int{1, 1}},
		{"filter spans pages", q(accounts, "$filter", "statecode eq 0"), "", []int{10, 10, 4}},
		{"no rows", q(accounts, "$filter", "name eq 'No Such Company'"), "", []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages := readAll(t, tc.url, at, tc.prefer)
			if got := sizes(pages); !slices.Equal(got, tc.sizes) {
				t.Fatalf("page sizes %v, want %v", got, tc.sizes)
			}
			ids := map[any]bool{}
			for _, p := range pages {
				for _, r := range p {
					if ids[r["accountid"]] {
						t.Errorf("account %v on two pages", r["accountid"])
					}
					ids[r["accountid"]] = true
				}
			}
		})
	}
	t.Run("next link keeps the options", func(t *testing.T) {
		_, h, body := getPrefer(t, q(accounts, "$select", "name,revenue", "$filter", "statecode eq 0", "$top", "20"), at, "odata.maxpagesize=5")
		next, _ := body["@odata.nextLink"].(string)
		if !strings.HasPrefix(next, accounts+"?") || !strings.Contains(next, "$select=name%2Crevenue") || !strings.Contains(next, "$filter=statecode%20eq%200") || !strings.Contains(next, "$top=20") || !strings.Contains(next, "$skiptoken=") {
			t.Errorf("nextLink %q", next)
		}
		if got := h.Get("Preference-Applied"); got != "odata.maxpagesize=5" {
			t.Errorf("Preference-Applied %q", got)
		}
	})
}

func TestEntitySetQueries(t *testing.T) {
	_, info := start(t, emulator.Options{AutoApprove: true})
	at := signedIn(t, info)["access_token"].(string)
	api := info.Orgs[0].URL + "/api/data/v9.2/"
	all := readAll(t, api+"accounts", at, "odata.maxpagesize=100")[0]
	if len(all) < 25 {
		t.Fatalf("%d accounts, want at least 25", len(all))
	}
	first := all[0]
	name := first["name"].(string)
	quoted := ""
	for _, a := range all {
		if n := a["name"].(string); strings.Contains(n, "'") {
			quoted = n
		}
	}
	if quoted == "" {
		t.Fatal("no account name with a quote to filter on")
	}

	for _, tc := range []struct {
		name   string
		url    string
		status int
		rows   int      // -1: do not check
		keys   []string // of every row, when set
		code   string
		inMsg  string
	}{
		{"select", q(api+"accounts", "$select", "name,revenue", "$top", "3"), 200, 3, []string{"@odata.etag", "accountid", "name", "revenue"}, "", ""},
		{"all columns", q(api+"accounts", "$top", "1"), 200, 1, []string{"@odata.etag", "accountid", "accountnumber", "address1_city", "name", "revenue", "statecode", "telephone1"}, "", ""},
		{"filter text", q(api+"accounts", "$filter", "name eq '"+name+"'"), 200, 1, nil, "", ""},
		{"filter text ignores case", q(api+"accounts", "$filter", "name eq '"+strings.ToUpper(name)+"'"), 200, 1, nil, "", ""},
		{"filter text with a quote", q(api+"accounts", "$filter", "name eq '"+strings.ReplaceAll(quoted, "'", "''")+"'"), 200, 1, nil, "", ""},
		{"filter number", q(api+"accounts", "$filter", "statecode eq 1"), 200, 3, nil, "", ""},
		{"filter null", q(api+"accounts", "$filter", "telephone1 eq null"), 200, 5, nil, "", ""},
		{"filter guid", q(api+"accounts", "$filter", "accountid eq "+first["accountid"].(string)), 200, 1, nil, "", ""},
		{"filter and", q(api+"accounts", "$filter", "statecode eq 0 and name eq '"+name+"'"), 200, -1, nil, "", ""},
		{"contacts", api + "contacts", 200, 10, nil, "", ""},
		{"unknown column in select", q(api+"accounts", "$select", "name,colour"), 400, 0, nil, "0x80060888", "Could not find a property named 'colour' on type 'Microsoft.Dynamics.CRM.account'."},
		{"unknown column in filter", q(api+"accounts", "$filter", "colour eq 'red'"), 400, 0, nil, "0x80060888", "'colour'"},
		{"other operator", q(api+"accounts", "$filter", "revenue gt 1000"), 400, 0, nil, "0x80060888", "only equality filters"},
		{"function", q(api+"accounts", "$filter", "contains(name,'Toys')"), 400, 0, nil, "0x80060888", "only equality filters"},
		{"or", q(api+"accounts", "$filter", "statecode eq 0 or statecode eq 1"), 400, 0, nil, "0x80060888", "only equality filters"},
		{"unterminated text", q(api+"accounts", "$filter", "name eq 'Contoso"), 400, 0, nil, "0x80060888", "unterminated"},
		{"unquoted text", q(api+"accounts", "$filter", "name eq Contoso"), 400, 0, nil, "0x80060888", "quote text"},
		{"text for a number", q(api+"accounts", "$filter", "revenue eq 'lots'"), 400, 0, nil, "0x80060888", "incompatible types"},
		{"bad top", q(api+"accounts", "$top", "ten"), 400, 0, nil, "0x80060888", "$top"},
		{"bad skip token", q(api+"accounts", "$skiptoken", "page2"), 400, 0, nil, "0x80060888", "nextLink"},
		{"unsupported option", q(api+"accounts", "$orderby", "name"), 400, 0, nil, "0x80060888", "$orderby"},
		{"unknown entity set", api + "acounts", 404, 0, nil, "0x8006088a", "Resource not found for the segment 'acounts'."},
		{"record by id", api + "accounts(" + first["accountid"].(string) + ")?$select=name", 200, -1, nil, "", ""},
		{"absent record", api + "accounts(00000000-0000-0000-0000-000000000001)", 404, 0, nil, "0x80040217", "Does Not Exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := getAPI(t, tc.url, at)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, body, tc.status)
			}
			if status != 200 {
				if code, msg := odataError(body); code != tc.code || !strings.Contains(msg, tc.inMsg) {
					t.Errorf("error %q %q, want %q containing %q", code, msg, tc.code, tc.inMsg)
				}
				return
			}
			if _, one := body["value"]; !one {
				if body["name"] != name {
					t.Errorf("record %v, want %s", body, name)
				}
				return
			}
			rows := values(t, body)
			if tc.rows >= 0 && len(rows) != tc.rows {
				t.Errorf("%d rows, want %d: %v", len(rows), tc.rows, rows)
			}
			for _, r := range rows {
				if tc.keys != nil && !slices.Equal(keys(r), tc.keys) {
					t.Errorf("row columns %v, want %v", keys(r), tc.keys)
				}
				if etag, _ := r["@odata.etag"].(string); !strings.HasPrefix(etag, `W/"`) {
					t.Errorf("row without a weak etag: %v", r)
				}
			}
		})
	}
}

// TestSampleData: the rows depend on the org's name only, so two runs
// (two emulators) agree and two orgs differ; lookups point at rows that
// exist; the business unit is the one WhoAmI names.
func TestSampleData(t *testing.T) {
	read := func(info emulator.Info, org int, set string) []map[string]any {
		at := signedIn(t, info)["access_token"].(string)
		if org != 0 {
			_, raw, body := post(t, info.TokenURL, refreshForm(info, app(t, info, emulator.PublicApp).ClientID, signedIn(t, info)["refresh_token"].(string), info.Orgs[org].URL+"/user_impersonation"), nil)
			at, _ = body["access_token"].(string)
			if at == "" {
				t.Fatalf("token for org %d: %s", org+1, raw)
			}
		}
		return readAll(t, info.Orgs[org].URL+"/api/data/v9.2/"+set, at, "odata.maxpagesize=100")[0]
	}
	_, a := start(t, emulator.Options{AutoApprove: true})
	_, b := start(t, emulator.Options{AutoApprove: true})
	js := func(v any) string { s, _ := json.Marshal(v); return string(s) }

	accounts := read(a, 0, "accounts")
	if js(accounts) != js(read(b, 0, "accounts")) {
		t.Error("org1's accounts differ between two emulators")
	}
	if js(accounts) == js(read(a, 1, "accounts")) {
		t.Error("org1 and org2 hold the same accounts")
	}
	ids := map[any]bool{}
	for _, r := range accounts {
		ids[r["accountid"]] = true
	}
	contacts := read(a, 0, "contacts")
	if len(contacts) < 10 {
		t.Errorf("%d contacts, want at least 10", len(contacts))
	}
	for _, c := range contacts {
		if !ids[c["_parentcustomerid_value"]] || !strings.Contains(c["emailaddress1"].(string), "@") {
			t.Errorf("contact %v: parent account missing or no email", c)
		}
	}
	for _, set := range []string{"leads", "opportunities", "systemusers"} {
		if len(read(a, 0, set)) == 0 {
			t.Errorf("no %s", set)
		}
	}
	at := signedIn(t, a)["access_token"].(string)
	_, _, who := whoAmI(t, a.Orgs[0].URL, at)
	if bu := read(a, 0, "businessunits"); len(bu) != 1 || bu[0]["businessunitid"] != who["BusinessUnitId"] {
		t.Errorf("business units %v, want the one WhoAmI names (%v)", bu, who["BusinessUnitId"])
	}
}

// TestEntityRoutesAuthenticate: the data routes answer only callers the
// org knows, like WhoAmI.
func TestEntityRoutesAuthenticate(t *testing.T) {
	_, info := start(t, emulator.Options{AutoApprove: true})
	at := signedIn(t, info)["access_token"].(string) // for org1
	noUser := app(t, info, emulator.NoAppUserApp)
	cc := clientcredentials.Config{ClientID: noUser.ClientID, ClientSecret: noUser.ClientSecret, TokenURL: info.TokenURL, Scopes: []string{info.Orgs[0].URL + "/.default"}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url, token string
		status           int
	}{
		{"another org's token", info.Orgs[1].URL + "/api/data/v9.2/accounts", at, 401},
		{"another org's token on metadata", info.Orgs[1].URL + "/api/data/v9.2/EntityDefinitions(LogicalName='account')", at, 401},
		{"no token", info.Orgs[0].URL + "/api/data/v9.2/contacts", "", 401},
		{"app without application user", info.Orgs[0].URL + "/api/data/v9.2/accounts", tok.AccessToken, 403},
		{"app without application user on metadata", info.Orgs[0].URL + "/api/data/v9.2/EntityDefinitions", tok.AccessToken, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, _, body := getAPI(t, tc.url, tc.token); status != tc.status {
				t.Errorf("status %d %v, want %d", status, body, tc.status)
			}
		})
	}
}

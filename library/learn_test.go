package library

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	foreignType = "Vendor.Dynamics.Reader, Vendor"
	authorize   = "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/authorize"
	tokenURL    = "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token"
)

// entryOf is a .dsconn entry of dataType with params as name, value pairs.
func entryOf(key, dataType string, params ...string) string {
	return strings.Replace(dsconn(key, params...), "Simego.DataSync.Providers.Dynamics365.Dynamics365SourceReader", dataType, 1)
}

// importFolder imports a folder holding files (name → content).
func importFolder(t *testing.T, names map[string]string, files map[string]string) (*ImportResult, string, error) {
	t.Helper()
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib")
	if err := os.Mkdir(lib, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(lib, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Import(ImportOptions{Dir: lib, OutDir: dir, Names: names})
	return res, lib, err
}

// The names import learns from an entry's values, what it writes into the
// connform block and what it tells the user.
func TestImportLearnsParameterNames(t *testing.T) {
	tests := []struct {
		name  string
		names map[string]string // -param
		entry string
		// wantNames are the lines of library_parameter_names, wantLearned
		// the learned line after "learned from lib/a.dsconn: ".
		wantNames   []string
		wantLearned string
	}{
		{
			"an org URL under another name",
			nil,
			dsconn("a", "OrgUrl", orgURL, "TenantID", tenant, "ClientID", client),
			[]string{`url = "OrgUrl"`},
			"url is OrgUrl",
		},
		{
			"client and tenant GUIDs told apart by their names",
			nil,
			dsconn("a", "ServiceUrl", orgURL, "DirectoryId", tenant, "ApplicationId", client),
			[]string{`client_id = "ApplicationId"`, `tenant_id = "DirectoryId"`},
			"tenant_id is DirectoryId, client_id is ApplicationId",
		},
		{
			"an authority GUID and a client GUID",
			nil,
			dsconn("a", "ServiceUrl", orgURL, "Authority", tenant, "Client", client),
			[]string{`client_id = "Client"`, `tenant_id = "Authority"`},
			"tenant_id is Authority, client_id is Client",
		},
		{
			"endpoints by their paths",
			nil,
			dsconn("a", "ServiceUrl", orgURL, "ClientID", client, "Login", authorize, "Redeem", tokenURL),
			[]string{`authorization_url = "Login"`, `token_url = "Redeem"`},
			"authorization_url is Login, token_url is Redeem",
		},
		{
			"a grant type and a loopback redirect",
			nil,
			dsconn("a", "ServiceUrl", orgURL, "TenantID", tenant, "ClientID", client, "Flow", "device_code", "ReplyTo", "http://localhost:8400"),
			[]string{`grant_type = "Flow"`, `redirect = "ReplyTo"`},
			"grant_type is Flow, redirect is ReplyTo",
		},
		{
			"the DataType, with the names",
			nil,
			entryOf("a", foreignType, "Address", orgURL, "TenantID", tenant, "ClientID", client),
			[]string{`url = "Address"`},
			"url is Address; DataType " + foreignType,
		},
		{
			"-param wins over learning",
			map[string]string{"client_id": "AppKey"},
			dsconn("a", "ServiceUrl", orgURL, "TenantID", tenant, "AppKey", client, "AppId", "bbbbbbbb-bbbb-cccc-dddd-eeeeeeeeeeee"),
			[]string{`client_id = "AppKey"`},
			"",
		},
		{
			"a secret's parameter is never a candidate",
			nil,
			dsconn("a", "ServiceUrl", orgURL, "TenantID", tenant, "AppSecretId", client, "ApplicationId", client),
			[]string{`client_id = "ApplicationId"`},
			"client_id is ApplicationId",
		},
		{
			"a GUID under no telling name is left alone",
			nil,
			dsconn("a", "ServiceUrl", orgURL, "TenantID", tenant, "ClientID", client, "Ident", client),
			nil,
			"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, lib, err := importFolder(t, tt.names, map[string]string{"a.dsconn": tt.entry})
			if err != nil {
				t.Fatal(err)
			}
			src := strings.Join(strings.Fields(string(res.Source)), " ")
			for _, n := range tt.wantNames {
				if !strings.Contains(src, n) {
					t.Errorf("configuration lacks %s:\n%s", n, res.Source)
				}
			}
			if len(tt.wantNames) == 0 && strings.Contains(src, "library_parameter_names") {
				t.Errorf("configuration renames parameters:\n%s", res.Source)
			}
			var want []string
			if tt.wantLearned != "" {
				want = []string{"learned from " + filepath.Join(lib, "a.dsconn") + ": " + tt.wantLearned}
			}
			if strings.Join(res.Learned, "\n") != strings.Join(want, "\n") {
				t.Errorf("learned\n%q\nwant\n%q", res.Learned, want)
			}
		})
	}
}

// Learning never guesses: an entry whose values fit two parameters, or
// entries that disagree, stop the import naming what to give.
func TestImportLearningRefuses(t *testing.T) {
	const other = "https://contoso-b.crm4.dynamics.com/"
	tests := []struct {
		name  string
		names map[string]string
		files map[string]string
		want  []string // in the error, with DIR for the library folder
	}{
		{
			"two org URLs",
			nil,
			map[string]string{"a.dsconn": dsconn("a", "Primary", orgURL, "Fallback", other, "ClientID", client)},
			[]string{"DIR/a.dsconn has no ServiceUrl parameter, and the parameters Primary, Fallback each hold an org URL: connform does not guess which is url; import again with -param url=Primary or -param url=Fallback"},
		},
		{
			"two app GUIDs",
			nil,
			map[string]string{"a.dsconn": dsconn("a", "ServiceUrl", orgURL, "AppId", client, "ClientKey", tenant)},
			[]string{"the parameters AppId, ClientKey each hold a GUID under an app's name: connform does not guess which is client_id; import again with -param client_id=AppId or -param client_id=ClientKey"},
		},
		{
			"one GUID fitting two attributes",
			nil,
			map[string]string{"a.dsconn": dsconn("a", "ServiceUrl", orgURL, "AppTenant", tenant)},
			[]string{"DIR/a.dsconn: parameter AppTenant could hold tenant_id or client_id: connform does not guess which; import again with -param tenant_id=NAME -param client_id=NAME"},
		},
		{
			"no candidate for the org URL",
			nil,
			map[string]string{"a.dsconn": dsconn("a", "Address", "contoso", "ClientID", client)},
			[]string{"DIR/a.dsconn has the Dynamics DataType but no ServiceUrl parameter and no parameter holds an org URL"},
		},
		{
			"no candidate for the client id",
			nil,
			map[string]string{"a.dsconn": dsconn("a", "Address", orgURL, "Id", client)},
			[]string{"DIR/a.dsconn has no ClientID parameter"},
		},
		{
			"entries that disagree",
			nil,
			map[string]string{
				"a.dsconn": dsconn("a", "OrgUrl", orgURL, "ClientID", client),
				"b.dsconn": dsconn("b", "ServiceUrl", other, "ClientID", client),
			},
			[]string{"DIR/a.dsconn keeps url in the parameter OrgUrl but DIR/b.dsconn in ServiceUrl: a configuration names one parameter per attribute; rename the parameter in one of them, or import them from separate folders"},
		},
		{
			"entries that disagree on a learned name",
			nil,
			map[string]string{
				"a.dsconn": entryOf("a", foreignType, "OrgUrl", orgURL, "ClientID", client),
				"b.dsconn": entryOf("b", foreignType, "Address", other, "ClientID", client),
			},
			[]string{"DIR/a.dsconn keeps url in the parameter OrgUrl but DIR/b.dsconn in Address"},
		},
		{
			"a name with terminal escapes is not learned, and shown escaped",
			nil,
			map[string]string{"a.dsconn": dsconn("a", "Url&#x9b;2J", orgURL, "ClientID", client)},
			[]string{`DIR/a.dsconn has the Dynamics DataType but no ServiceUrl parameter; its org URL is in the parameter Url\u009b2J: import again`},
		},
		{
			"-param names a parameter the entry lacks",
			map[string]string{"url": "Site"},
			map[string]string{"a.dsconn": dsconn("a", "OrgUrl", orgURL, "ClientID", client)},
			[]string{"DIR/a.dsconn has the Dynamics DataType but no Site parameter; its org URL is in the parameter OrgUrl"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, lib, err := importFolder(t, tt.names, tt.files)
			if err == nil {
				t.Fatalf("imported:\n%s", res.Source)
			}
			msg := strings.ReplaceAll(err.Error(), lib+string(filepath.Separator), "DIR/")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error\n%s\nlacks\n%s", msg, w)
				}
			}
			// Values are the entry's, and may be secrets: only names are
			// quoted.
			if strings.ContainsAny(msg, "\x1b\u009b") {
				t.Errorf("error holds a raw escape: %q", msg)
			}
			for _, v := range []string{client, tenant, "contoso-b"} {
				if strings.Contains(msg, v) {
					t.Errorf("error quotes the value %s: %s", v, msg)
				}
			}
			if res != nil && res.Source != nil {
				t.Errorf("a refused import generated a configuration")
			}
		})
	}
}

// Entries of several DataTypes share one library_data_type: the most common
// is learned, and each other entry is named, since apply would rewrite it.
func TestImportWarnsOfOtherDataTypes(t *testing.T) {
	res, lib, err := importFolder(t, nil, map[string]string{
		"a.dsconn": entryOf("a", foreignType, "ServiceUrl", orgURL, "TenantID", tenant, "ClientID", client),
		"b.dsconn": entryOf("b", foreignType, "ServiceUrl", "https://b.crm4.dynamics.com/", "TenantID", tenant, "ClientID", client),
		"c.dsconn": dsconn("c", "ServiceUrl", "https://c.crm4.dynamics.com/", "TenantID", tenant, "ClientID", client),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Source), `library_data_type = "`+foreignType+`"`) {
		t.Errorf("configuration lacks the DataType most entries have:\n%s", res.Source)
	}
	want := filepath.Join(lib, "c.dsconn") + ` has DataType "Simego.DataSync.Providers.Dynamics365.Dynamics365SourceReader", the other entries "` + foreignType + `": library_data_type holds one, so connform apply will rewrite this entry with`
	var found int
	for _, w := range res.Warnings {
		if strings.Contains(w, "has DataType") {
			found++
			if !strings.HasPrefix(w, want) {
				t.Errorf("warning\n%s\nwant it to start\n%s", w, want)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d DataType warnings, want 1: %q", found, res.Warnings)
	}
	if got := strings.Join(res.Learned, "\n"); got != "learned from "+filepath.Join(lib, "a.dsconn")+": DataType "+foreignType {
		t.Errorf("learned %q", got)
	}
}

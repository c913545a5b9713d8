package library

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func dsconn(key string, params ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<Connection Key="` + key + `" Description="" DataType="Simego.DataSync.Providers.Dynamics365.Dynamics365SourceReader">` + "\n")
	for i := 0; i+1 < len(params); i += 2 {
		b.WriteString(`  <Parameter Name="` + params[i] + `" Value="` + params[i+1] + `" />` + "\n")
	}
	b.WriteString("</Connection>\n")
	return b.String()
}

const (
	orgURL = "https://contoso.crm4.dynamics.com/XRMServices/2011/Organization.svc"
	tenant = "11111111-2222-3333-4444-555555555555"
	client = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
)

// An entry that cannot become a connection is the input's fault: the error
// names the entry and what is missing, and nothing is imported.
func TestImportRefusesEntries(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  string // the error after "import DIR: nothing was written: DIR/bad.dsconn "
	}{
		{
			"no client id",
			dsconn("bad", "ServiceUrl", orgURL, "TenantID", tenant),
			"has no ClientID parameter: the app's client id (the application id of its Entra app registration) is needed to sign in; add it to the entry, or import again with -param client_id=NAME if the entry keeps it under another name",
		},
		{
			"a method connform does not perform",
			dsconn("bad", "ServiceUrl", orgURL, "AuthenticationMethod", "OAuth2Password", "ClientID", client),
			`has AuthenticationMethod "OAuth2Password", a sign-in connform does not perform: it imports entries of the OAuth app (AuthenticationMethod "CustomOAuthApplication") and of the Entra-native methods azure_cli, managed_identity, workload_identity, client_certificate; move the entry out of the folder, or change its AuthenticationMethod`,
		},
		{
			"no client id for a certificate app",
			dsconn("bad", "ServiceUrl", orgURL, "AuthenticationMethod", "client_certificate", "TenantID", tenant),
			"has no ClientID parameter",
		},
		{
			"an org URL connform refuses",
			dsconn("bad", "ServiceUrl", "http://contoso.crm4.dynamics.com/XRMServices/2011/Organization.svc", "TenantID", tenant, "ClientID", client),
			`has a ServiceUrl connform refuses: "http://contoso.crm4.dynamics.com/XRMServices/2011/Organization.svc" must use https`,
		},
		{
			"a value the configuration refuses",
			dsconn("bad", "ServiceUrl", orgURL, "TenantID", tenant, "ClientID", client, "GrantType", "password"),
			`gives a connection connform refuses (Unsupported grant_type: grant_type must be "authorization_code"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			lib := filepath.Join(dir, "lib")
			os.Mkdir(lib, 0o700)
			os.WriteFile(filepath.Join(lib, "good.dsconn"), []byte(dsconn("good", "ServiceUrl", orgURL, "TenantID", tenant, "ClientID", client)), 0o600)
			os.WriteFile(filepath.Join(lib, "bad.dsconn"), []byte(tt.entry), 0o600)
			res, err := Import(ImportOptions{Dir: lib, OutDir: dir})
			if err == nil {
				t.Fatalf("imported:\n%s", res.Source)
			}
			prefix := "import " + lib + ": nothing was written: " + filepath.Join(lib, "bad.dsconn") + " "
			if !strings.HasPrefix(err.Error(), prefix+tt.want) {
				t.Fatalf("error\n%s\nwant it to start\n%s", err, prefix+tt.want)
			}
			if strings.Contains(err.Error(), "bug") {
				t.Fatalf("the input's fault is called a bug: %s", err)
			}
		})
	}
}

func TestImportAcceptsEntries(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  string // a line of the generated block
	}{
		{"the OAuth app", dsconn("sales", "ServiceUrl", orgURL, "AuthenticationMethod", "CustomOAuthApplication", "TenantID", tenant, "ClientID", client), `client_id = "` + client + `"`},
		{"the Azure CLI needs no client id", dsconn("sales", "ServiceUrl", orgURL, "AuthenticationMethod", "azure_cli"), `authentication_method = "azure_cli"`},
		{"a system-assigned managed identity", dsconn("sales", "ServiceUrl", orgURL, "AuthenticationMethod", "managed_identity"), `authentication_method = "managed_identity"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			lib := filepath.Join(dir, "lib")
			os.Mkdir(lib, 0o700)
			os.WriteFile(filepath.Join(lib, "sales.dsconn"), []byte(tt.entry), 0o600)
			res, err := Import(ImportOptions{Dir: lib, OutDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			src := string(res.Source)
			compact := strings.Join(strings.Fields(src), " ")
			if !strings.Contains(compact, strings.Join(strings.Fields(tt.want), " ")) {
				t.Fatalf("generated configuration lacks %q:\n%s", tt.want, src)
			}
			if len(res.Config.Connections) != 1 || res.Entries["sales"].Path != filepath.Join("lib", "sales.dsconn") {
				t.Fatalf("connections %v, entries %v", res.Config.Connections, res.Entries)
			}
		})
	}
}

func TestIdentifier(t *testing.T) {
	for key, want := range map[string]string{
		"sales":        "sales",
		"Marketing EU": "Marketing_EU",
		"sales-dev":    "sales-dev",
		"2024 budget":  "c_2024_budget",
		"":             "c_",
		"Ventes été":   "Ventes__t_",
	} {
		if got := Identifier(key); got != want {
			t.Errorf("Identifier(%q) = %q, want %q", key, got, want)
		}
	}
}

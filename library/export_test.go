package library

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const exportSecret = "Abc8Q~s3cr3t;with=odd'chars"

func delegated() ExportInput {
	return ExportInput{
		Name:        "sales-dev",
		URL:         "https://Contoso.crm4.dynamics.com/XRMServices/2011/Organization.svc/web",
		ClientID:    "51f81489-12ee-4a9e-aaae-a2591f45987d",
		TenantID:    "72f988bf-86f1-41af-91ab-2d7cd011db47",
		RedirectURI: "http://localhost",
		GrantType:   "authorization_code",
	}
}

func appOnly() ExportInput {
	in := delegated()
	in.Name = "sync job"
	in.GrantType = "client_credentials"
	in.ClientSecret = exportSecret
	in.RedirectURI = ""
	return in
}

func TestConnectionString(t *testing.T) {
	for _, tc := range []struct {
		name          string
		in            func() ExportInput
		includeSecret bool
		want          string
	}{
		{"delegated", delegated, false,
			"AuthType=OAuth;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;RedirectUri=http://localhost;LoginPrompt=Auto;TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47"},
		{"delegated with a token cache", func() ExportInput {
			in := delegated()
			in.TokenCachePath = "/home/alex/.cache/connform/sales dev.cache"
			return in
		}, false,
			"AuthType=OAuth;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;RedirectUri=http://localhost;LoginPrompt=Auto;TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47;TokenCacheStorePath=/home/alex/.cache/connform/sales dev.cache"},
		{"delegated ignores a secret", func() ExportInput {
			in := delegated()
			in.ClientSecret = exportSecret
			return in
		}, false,
			"AuthType=OAuth;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;RedirectUri=http://localhost;LoginPrompt=Auto;TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47"},
		{"app-only without the secret", appOnly, false,
			"AuthType=ClientSecret;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47"},
		{"app-only with the secret, quoted", appOnly, true,
			"AuthType=ClientSecret;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;ClientSecret='Abc8Q~s3cr3t;with=odd''chars';TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47"},
		{"app-only asked for a secret it lacks", func() ExportInput {
			in := appOnly()
			in.ClientSecret = ""
			return in
		}, true,
			"AuthType=ClientSecret;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47"},
		{"values that need quotes", func() ExportInput {
			return ExportInput{URL: "http://127.0.0.1:5555/", ClientID: "id", RedirectURI: "http://localhost/cb?a=1", TokenCachePath: `C:\Users\O'Neil\cache;1`, TenantID: ` padded `}
		}, false,
			`AuthType=OAuth;Url=http://127.0.0.1:5555;ClientId=id;RedirectUri='http://localhost/cb?a=1';LoginPrompt=Auto;TenantId=' padded ';TokenCacheStorePath='C:\Users\O''Neil\cache;1'`},
		{"double quotes", func() ExportInput {
			return ExportInput{URL: "https://contoso.crm.dynamics.com", ClientID: `say "hi"`}
		}, false,
			`AuthType=OAuth;Url=https://contoso.crm.dynamics.com;ClientId='say "hi"';LoginPrompt=Auto`},
		{"an unparsable url is kept", func() ExportInput {
			return ExportInput{URL: "https://intranet.example/crm", ClientID: "id"}
		}, false,
			`AuthType=OAuth;Url=https://intranet.example/crm;ClientId=id;LoginPrompt=Auto`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConnectionString(tc.in(), tc.includeSecret)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ConnectionString =\n%s\nwant\n%s", got, tc.want)
			}
			if !tc.includeSecret && strings.Contains(got, "s3cr3t") {
				t.Errorf("the secret is in %s", got)
			}
			if tc.want != "" && !slices.Equal(parseConnectionString(t, got), parseConnectionString(t, tc.want)) {
				t.Error("does not read back")
			}
		})
	}
}

// parseConnectionString reads a connection string the way
// DbConnectionStringBuilder does for single-quoted values, to prove the
// quoting round-trips: key=value pairs split on ';' outside quotes, and ”
// inside quotes is one quote.
func parseConnectionString(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	for s != "" {
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			t.Fatalf("no '=' in %q", s)
		}
		var val string
		if strings.HasPrefix(rest, "'") {
			var b strings.Builder
			i := 1
			for ; i < len(rest); i++ {
				if rest[i] == '\'' {
					if i+1 < len(rest) && rest[i+1] == '\'' {
						b.WriteByte('\'')
						i++
						continue
					}
					break
				}
				b.WriteByte(rest[i])
			}
			val, rest = b.String(), strings.TrimPrefix(rest[i+1:], ";")
		} else {
			val, rest, _ = strings.Cut(rest, ";")
		}
		out = append(out, key+"\x00"+val)
		s = rest
	}
	return out
}

func TestQuotedValuesReadBack(t *testing.T) {
	for _, v := range []string{"plain", "a;b", "a=b", "O'Neil", `"x"`, "''", " lead", "trail ", exportSecret} {
		got := parseConnectionString(t, "K="+quoteValue(v))
		if len(got) != 1 || got[0] != "K\x00"+v {
			t.Errorf("%q quoted as %s reads back as %q", v, quoteValue(v), got)
		}
	}
}

func TestEnvVars(t *testing.T) {
	for _, tc := range []struct {
		name          string
		in            ExportInput
		includeSecret bool
		want          []string
	}{
		{"delegated", delegated(), false, []string{
			"SALES_DEV_CLIENT_ID='51f81489-12ee-4a9e-aaae-a2591f45987d'",
			"SALES_DEV_CONNECTION_STRING='AuthType=OAuth;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;RedirectUri=http://localhost;LoginPrompt=Auto;TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47'",
			"SALES_DEV_GRANT_TYPE='authorization_code'",
			"SALES_DEV_REDIRECT_URI='http://localhost'",
			"SALES_DEV_TENANT_ID='72f988bf-86f1-41af-91ab-2d7cd011db47'",
			"SALES_DEV_URL='https://contoso.crm4.dynamics.com'",
		}},
		{"app-only without the secret", appOnly(), false, []string{
			"SYNC_JOB_CLIENT_ID='51f81489-12ee-4a9e-aaae-a2591f45987d'",
			"SYNC_JOB_CONNECTION_STRING='AuthType=ClientSecret;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47'",
			"SYNC_JOB_GRANT_TYPE='client_credentials'",
			"SYNC_JOB_TENANT_ID='72f988bf-86f1-41af-91ab-2d7cd011db47'",
			"SYNC_JOB_URL='https://contoso.crm4.dynamics.com'",
		}},
		{"app-only with the secret", appOnly(), true, []string{
			"SYNC_JOB_CLIENT_ID='51f81489-12ee-4a9e-aaae-a2591f45987d'",
			`SYNC_JOB_CLIENT_SECRET='Abc8Q~s3cr3t;with=odd'\''chars'`,
			`SYNC_JOB_CONNECTION_STRING='AuthType=ClientSecret;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;ClientSecret='\''Abc8Q~s3cr3t;with=odd'\'''\''chars'\'';TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47'`,
			"SYNC_JOB_GRANT_TYPE='client_credentials'",
			"SYNC_JOB_TENANT_ID='72f988bf-86f1-41af-91ab-2d7cd011db47'",
			"SYNC_JOB_URL='https://contoso.crm4.dynamics.com'",
		}},
		{"certificate", certificate(), true, []string{
			"APP_CERT_AUTHENTICATION_METHOD='client_certificate'",
			"APP_CERT_CLIENT_ID='51f81489-12ee-4a9e-aaae-a2591f45987d'",
			"APP_CERT_CONNECTION_STRING='AuthType=Certificate;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;Thumbprint=" + opensslThumbprint + ";TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47'",
			"APP_CERT_TENANT_ID='72f988bf-86f1-41af-91ab-2d7cd011db47'",
			"APP_CERT_THUMBPRINT='" + opensslThumbprint + "'",
			"APP_CERT_URL='https://contoso.crm4.dynamics.com'",
		}},
		{"name starting with a digit, non-ASCII", ExportInput{Name: "2nd-Umgebung.ä", URL: "https://de.crm16.dynamics.com", TokenCachePath: "/tmp/c"}, false, []string{
			"_2ND_UMGEBUNG___CONNECTION_STRING='AuthType=OAuth;Url=https://de.crm16.dynamics.com;LoginPrompt=Auto;TokenCacheStorePath=/tmp/c'",
			"_2ND_UMGEBUNG___TOKEN_CACHE_PATH='/tmp/c'",
			"_2ND_UMGEBUNG___URL='https://de.crm16.dynamics.com'",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EnvVars(tc.in, tc.includeSecret)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("EnvVars =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if !tc.includeSecret && strings.Contains(strings.Join(got, "\n"), "s3cr3t") {
				t.Error("the secret is in the variables")
			}
		})
	}
}

// opensslThumbprint is a thumbprint computed by another tool (openssl),
// as a user would paste it.
const opensslThumbprint = "0F9F9060DA4578A648BE426DEEB19F07DEFAD1E1"

func certificate() ExportInput {
	in := delegated()
	in.Name = "app-cert"
	in.AuthenticationMethod = "client_certificate"
	in.GrantType, in.RedirectURI = "", ""
	in.ClientSecret = exportSecret // never written for a certificate
	in.Thumbprint = opensslThumbprint
	return in
}

func TestConnectionStringMethods(t *testing.T) {
	noThumbprint := certificate()
	noThumbprint.Thumbprint = ""
	explicitOAuth := delegated()
	explicitOAuth.AuthenticationMethod = "oauth"
	for _, tc := range []struct {
		name string
		in   ExportInput
		want string
	}{
		{"certificate", certificate(),
			"AuthType=Certificate;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;Thumbprint=" + opensslThumbprint + ";TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47"},
		{"certificate whose file connform could not read", noThumbprint,
			"AuthType=Certificate;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47"},
		{"oauth spelled out", explicitOAuth,
			"AuthType=OAuth;Url=https://contoso.crm4.dynamics.com;ClientId=51f81489-12ee-4a9e-aaae-a2591f45987d;RedirectUri=http://localhost;LoginPrompt=Auto;TenantId=72f988bf-86f1-41af-91ab-2d7cd011db47"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConnectionString(tc.in, true)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ConnectionString =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	for _, method := range []string{"azure_cli", "managed_identity", "workload_identity"} {
		t.Run(method, func(t *testing.T) {
			in := delegated()
			in.AuthenticationMethod = method
			s, err := ConnectionString(in, false)
			var unsupported *UnsupportedMethodError
			if !errors.As(err, &unsupported) || unsupported.Method != method {
				t.Fatalf("ConnectionString = %q, %v; want an UnsupportedMethodError for %s", s, err, method)
			}
			if !strings.Contains(err.Error(), method) {
				t.Errorf("the error does not name the method: %v", err)
			}
			if lines, err := EnvVars(in, false); err == nil || lines != nil {
				t.Errorf("EnvVars = %q, %v; want no lines and the error", lines, err)
			}
		})
	}
}

// TestEnvVarsSourcedByShell proves the env lines give back every value
// exactly, through a real POSIX shell, both ways a user reads such a file.
func TestEnvVarsSourcedByShell(t *testing.T) {
	secret := "a;b c'd $HOME `x` \\n\\\n\"q\" $(false) ''"
	in := appOnly()
	in.ClientSecret = secret
	in.TokenCachePath = "/tmp/with space/it's"
	lines, err := EnvVars(in, true)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dev.env")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := ConnectionString(in, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, script := range []string{
		`set -a; . "$1"; set +a; sh -c 'printf "%s\0%s" "$SYNC_JOB_CLIENT_SECRET" "$SYNC_JOB_CONNECTION_STRING"; printf "\0%s" "$SYNC_JOB_TOKEN_CACHE_PATH"'`,
		`eval "$(cat "$1")"; printf "%s\0%s\0%s" "$SYNC_JOB_CLIENT_SECRET" "$SYNC_JOB_CONNECTION_STRING" "$SYNC_JOB_TOKEN_CACHE_PATH"`,
	} {
		cmd := exec.Command("sh", "-c", script, "sh", file)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent"}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sh -c %s: %v: %s", script, err, stderr.String())
		}
		got := strings.Split(string(out), "\x00")
		if len(got) != 3 || got[0] != secret || got[1] != want || got[2] != in.TokenCachePath {
			t.Errorf("sh -c %s read back\n%q\nwant\n%q", script, got, []string{secret, want, in.TokenCachePath})
		}
		if stderr.Len() > 0 {
			t.Errorf("sh -c %s: %s", script, stderr.String())
		}
	}
}

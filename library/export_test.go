package library

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
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

// opensslThumbprint is `openssl x509 -noout -fingerprint -sha1` of
// opensslCert, without the colons: a thumbprint computed by another tool.
const opensslThumbprint = "0F9F9060DA4578A648BE426DEEB19F07DEFAD1E1"

const opensslCert = `-----BEGIN CERTIFICATE-----
MIIDITCCAgmgAwIBAgIUdQ1tJj+y575l8mkCjE1gZA6otgwwDQYJKoZIhvcNAQEL
BQAwHzEdMBsGA1UEAwwUY29ubmZvcm0gZXhwb3J0IHRlc3QwIBcNMjYxMTI2MDA1
NDUyWhgPMjEyNjExMDIwMDU0NTJaMB8xHTAbBgNVBAMMFGNvbm5mb3JtIGV4cG9y
dCB0ZXN0MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArY9kGehOp0wg
QRSRjkefaNpSY9Sgrai4mMM9LlCX/jhdc7vqqbRLgf66JsLJiETAclsWOS+Jmxf6
/vGAZoVMNa4RqhysWMZf8j8/zQjGHMmBGv5CHVfpG5/AYXQoUh4osu3crqcbLcay
38muPmjD6XgKbz3d8zVB8Fp7L21Ad5c8CicUgAwcce7Jfj+WzWj+VR1oFJs8znT4
GRkaT13H0sxbcTwJHiZ6jmleExgWEM/5D1gJtiDUtrOVHKf1nwTploUVtD7JaXIS
GQLSbKRa7P4qLRpmlzXG0s/pyOYEw2tEi2QBIZbUjHKIVMEiJWcA0JDVnV8hUTKh
HA/L/oTLCQIDAQABo1MwUTAdBgNVHQ4EFgQULAqaL3Ij/Jt38dBVU1qEiMkUN28w
HwYDVR0jBBgwFoAULAqaL3Ij/Jt38dBVU1qEiMkUN28wDwYDVR0TAQH/BAUwAwEB
/zANBgkqhkiG9w0BAQsFAAOCAQEAUnZSIpi5bZ6ycUT0J75qUkH1zHhpWppRdzy3
uVrBusv8+qzsqLSDxBXuFsbNNftGicarGnDxxSNFWZwl9zaX7WSCOAp5jv9+hsBK
3hUKmMEc+W62VuzpZtalAJ+/Lbp83RLYY420kUi9tDocz31TKl2UiNm6M445oZLu
GueUJ95GxigwQT2Z3DXSozSG79y+kdPEWtsT3EZfW6w8+sCZ/qH/rsQG4exgfQW1
O7WdNkekalCAf2lQmVst1j5WEUUdniKdh7AfzkplC9r5AaEgDKTX47FtnQt97fU5
AjSMA+mq8Z6dXcmcpUu72m9+bCoPu9WEKRxoC/rwrz5pRHKNXQ==
-----END CERTIFICATE-----
`

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

func TestCertificateThumbprint(t *testing.T) {
	// A chain whose CA certificate comes first, as some exports write it:
	// the thumbprint must be the leaf's, whose key the file holds.
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(4e9, 0), KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "connform app"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(4e9, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	sum := sha1.Sum(leafDER)
	leafThumb := strings.ToUpper(hex.EncodeToString(sum[:]))
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	pemChain := slices.Concat(
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	const pfxPassword = "pfx pass;word"
	pfx, err := pkcs12.Legacy.Encode(leafKey, leaf, []*x509.Certificate{ca}, pfxPassword)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, password string
		data           []byte
		want           string
	}{
		{"certificate alone, made by openssl", "", []byte(opensslCert), opensslThumbprint},
		{"PEM chain and key", "", pemChain, leafThumb},
		{"PFX with its password", pfxPassword, pfx, leafThumb},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CertificateThumbprint(tc.data, tc.password)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("thumbprint %s, want %s", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, password string
		data           []byte
	}{
		{"PFX with a wrong password", "wrong-" + pfxPassword, pfx},
		{"PFX without its password", "", pfx},
		{"not a certificate", "", []byte("hello")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CertificateThumbprint(tc.data, tc.password)
			if err == nil {
				t.Fatalf("thumbprint %s, want an error", got)
			}
			if tc.password != "" && strings.Contains(err.Error(), tc.password) {
				t.Errorf("the error holds the password: %v", err)
			}
		})
	}
}

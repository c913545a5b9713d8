package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connform/auth"
	"connform/emulator"
)

// entraEmu is an emulator over TLS, as azidentity requires.
func entraEmu(t *testing.T) (*emulator.Emulator, emulator.Info) {
	t.Helper()
	e, err := emulator.Start(emulator.Options{TLS: true, Orgs: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, e.Info()
}

// whoAmI calls the org with the token, as apply does, and returns the
// caller's user id: proof the org accepted the token's signature and
// audience.
func whoAmI(t *testing.T, e *emulator.Emulator, org, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, org+"/api/data/v9.2/WhoAmI", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := e.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ UserId string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK || body.UserId == "" {
		t.Fatalf("WhoAmI answered %d %+v", resp.StatusCode, body)
	}
	return body.UserId
}

func writeFile(t *testing.T, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// token builds the credential and gets a token for org, returning the
// token or the error from either step.
func token(method string, p auth.Params, opt auth.CredentialOptions, org string) (*auth.Result, error) {
	cred, err := auth.NewCredential(method, p, opt)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return auth.CredentialToken(ctx, method, cred, []string{org + "/.default"})
}

// wantCredentialError checks that err is a CredentialError whose text
// holds every fragment.
func wantCredentialError(t *testing.T, err error, fragments ...string) {
	t.Helper()
	var ce *auth.CredentialError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v (%T), want a *auth.CredentialError", err, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not say %q", err, f)
		}
	}
}

func TestClientCertificateCredential(t *testing.T) {
	e, info := entraEmu(t)
	registered, err := e.ClientCertificatePEM()
	if err != nil {
		t.Fatal(err)
	}
	other, err := emulator.SelfSignedCertificatePEM("not registered")
	if err != nil {
		t.Fatal(err)
	}
	p := auth.Params{TokenURL: info.TokenURL, ClientID: info.Native.CertClientID}
	org := info.Orgs[0].URL

	t.Run("registered certificate", func(t *testing.T) {
		res, err := token(auth.MethodClientCertificate, p, auth.CredentialOptions{HTTPClient: e.HTTPClient(), CertificatePath: writeFile(t, "app.pem", registered, 0o600)}, org)
		if err != nil {
			t.Fatal(err)
		}
		whoAmI(t, e, org, res.AccessToken)
		if !res.Expiry.After(e.Now()) {
			t.Errorf("expiry %v is not after the emulator's now", res.Expiry)
		}
	})
	cases := []struct {
		name string
		opt  auth.CredentialOptions
		want []string
	}{
		{"unregistered certificate", auth.CredentialOptions{CertificatePath: writeFile(t, "other.pem", other, 0o600)}, []string{"AADSTS700027", "not registered on the app", "correlation id"}},
		{"missing file", auth.CredentialOptions{CertificatePath: filepath.Join(t.TempDir(), "nope.pem")}, []string{"nope.pem cannot be read: no such file", "certificate_path"}},
		{"no key in the file", auth.CredentialOptions{CertificatePath: writeFile(t, "junk.pem", []byte("not a certificate"), 0o600)}, []string{"cannot be used", "certificate_password"}},
		{"no path", auth.CredentialOptions{}, []string{"set certificate_path"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opt.HTTPClient = e.HTTPClient()
			_, err := token(auth.MethodClientCertificate, p, c.opt, org)
			wantCredentialError(t, err, c.want...)
		})
	}
}

func TestWorkloadIdentityCredential(t *testing.T) {
	e, info := entraEmu(t)
	p := auth.Params{TokenURL: info.TokenURL, ClientID: info.Native.FederatedClientID}
	org := info.Orgs[1].URL
	good := writeFile(t, "token", []byte(e.IssueFederatedToken(emulator.FederatedSubject)), 0o600)

	res, err := token(auth.MethodWorkloadIdentity, p, auth.CredentialOptions{HTTPClient: e.HTTPClient(), FederatedTokenFile: good}, org)
	if err != nil {
		t.Fatal(err)
	}
	whoAmI(t, e, org, res.AccessToken)

	t.Run("file from the environment", func(t *testing.T) {
		env := map[string]string{"AZURE_FEDERATED_TOKEN_FILE": good}
		if _, err := token(auth.MethodWorkloadIdentity, p, auth.CredentialOptions{HTTPClient: e.HTTPClient(), Getenv: func(k string) string { return env[k] }}, org); err != nil {
			t.Fatal(err)
		}
	})
	cases := []struct {
		name string
		file string
		want []string
	}{
		{"another subject", writeFile(t, "other", []byte(e.IssueFederatedToken("system:serviceaccount:other:sa")), 0o600), []string{"AADSTS700213", "federated credential for this token's subject"}},
		{"missing file", filepath.Join(t.TempDir(), "gone"), []string{"gone cannot be read: no such file", "federated_token_file"}},
		{"no file at all", "", []string{"no federated token file", "AZURE_FEDERATED_TOKEN_FILE"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := auth.CredentialOptions{HTTPClient: e.HTTPClient(), FederatedTokenFile: c.file, Getenv: func(string) string { return "" }}
			_, err := token(auth.MethodWorkloadIdentity, p, opt, org)
			wantCredentialError(t, err, c.want...)
		})
	}
	t.Run("expired token", func(t *testing.T) {
		e.Advance(2 * time.Hour)
		_, err := token(auth.MethodWorkloadIdentity, p, auth.CredentialOptions{HTTPClient: e.HTTPClient(), FederatedTokenFile: good}, org)
		wantCredentialError(t, err, "AADSTS700024", "clock")
	})
}

// The managed identity tests set IDENTITY_ENDPOINT and IDENTITY_HEADER:
// azidentity reads them from the process environment, so they cannot run
// in parallel.
//
// MSAL keeps managed identity tokens in a cache shared by every credential
// in the process, so the failure cases ask for an org no case got a token
// for, and run first.
func TestManagedIdentityCredential(t *testing.T) {
	e, info := entraEmu(t)
	org, uncached := info.Orgs[0].URL, info.Orgs[1].URL
	opt := auth.CredentialOptions{HTTPClient: e.HTTPClient(), MaxRetries: -1}
	t.Setenv("IDENTITY_ENDPOINT", info.Native.ManagedIdentityEndpoint)
	t.Setenv("IDENTITY_HEADER", info.Native.ManagedIdentityHeader)

	t.Run("user-assigned client id", func(t *testing.T) {
		_, err := token(auth.MethodManagedIdentity, auth.Params{ClientID: "11111111-2222-3333-4444-555555555555"}, opt, uncached)
		wantCredentialError(t, err, "managed identity endpoint refused", "No user-assigned managed identity")
	})
	t.Run("wrong header", func(t *testing.T) {
		t.Setenv("IDENTITY_HEADER", "wrong")
		_, err := token(auth.MethodManagedIdentity, auth.Params{}, opt, uncached)
		wantCredentialError(t, err, "refused", "unauthorized_client")
	})
	t.Run("endpoint down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		down := "http://" + ln.Addr().String() + "/msi/token"
		ln.Close()
		t.Setenv("IDENTITY_ENDPOINT", down)
		_, err = token(auth.MethodManagedIdentity, auth.Params{}, opt, uncached)
		wantCredentialError(t, err, "no managed identity endpoint answered at "+down+" (dial tcp", "connection refused", "managed identity enabled")
	})
	for name, id := range map[string]string{"system-assigned": "", "user-assigned": info.Native.ManagedIdentityClientID} {
		t.Run(name, func(t *testing.T) {
			res, err := token(auth.MethodManagedIdentity, auth.Params{ClientID: id}, opt, org)
			if err != nil {
				t.Fatal(err)
			}
			whoAmI(t, e, org, res.AccessToken)
		})
	}
}

// fakeAz puts an `az` on PATH that answers get-access-token with body
// (or fails with stderr and exit code 1 when body is ""), as the Azure
// CLI does.
func fakeAz(t *testing.T, body, stderr string) {
	t.Helper()
	dir := t.TempDir()
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	script := "#!/bin/sh\n"
	if body != "" {
		script += "printf '%s\\n' " + quote(body) + "\n"
	} else {
		script += "printf '%s\\n' " + quote(stderr) + " >&2\nexit 1\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
}

func TestAzureCLICredential(t *testing.T) {
	e, info := entraEmu(t)
	org := info.Orgs[1].URL
	at, exp, err := e.MintToken(org, info.User)
	if err != nil {
		t.Fatal(err)
	}
	p := auth.Params{TokenURL: info.TokenURL}

	fakeAz(t, fmt.Sprintf(`{"accessToken":"%s","expiresOn":"%s","expires_on":%d,"subscription":"x","tenant":"%s","tokenType":"Bearer"}`,
		at, exp.Local().Format("2006-01-02 15:04:05.000000"), exp.Unix(), info.TenantID), "")
	res, err := token(auth.MethodAzureCLI, p, auth.CredentialOptions{}, org)
	if err != nil {
		t.Fatal(err)
	}
	if res.AccessToken != at || !res.Expiry.Equal(time.Unix(exp.Unix(), 0)) {
		t.Errorf("got token expiring %v, want the CLI's, expiring %v", res.Expiry, exp)
	}
	whoAmI(t, e, org, res.AccessToken)

	t.Run("not signed in", func(t *testing.T) {
		fakeAz(t, "", "ERROR: Please run 'az login' to setup account.")
		_, err := token(auth.MethodAzureCLI, p, auth.CredentialOptions{}, org)
		wantCredentialError(t, err, "not signed in", "run az login")
	})
	t.Run("not installed", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := token(auth.MethodAzureCLI, p, auth.CredentialOptions{}, org)
		wantCredentialError(t, err, "not installed or not on PATH")
	})
}

func TestNewCredentialRefusesBadInput(t *testing.T) {
	cases := []struct {
		name, method, tokenURL string
		want                   string
	}{
		{"plain http authority", auth.MethodClientCertificate, "http://127.0.0.1:1/t/oauth2/v2.0/token", "must be https"},
		{"unknown method", "password", "", `unknown authentication_method "password"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := auth.NewCredential(c.method, auth.Params{TokenURL: c.tokenURL, ClientID: "x"}, auth.CredentialOptions{})
			wantCredentialError(t, err, c.want)
		})
	}
}

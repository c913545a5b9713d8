package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"connform/auth"
	"connform/emulator"
)

// TestEmulatorCommandCredentialFiles: `connform emulator -tls` writes the
// certificate and federated token that client_certificate and
// workload_identity read, names them in its JSON, keeps them private, and
// removes them when it stops. The files are used as connform uses them.
func TestEmulatorCommandCredentialFiles(t *testing.T) {
	outR, outW := io.Pipe()
	s, _, _, _ := Test()
	s.Out = outW
	c := &cli{io: s}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- c.cmdEmulator(ctx, []string{"-tls", "-orgs", "1"})
		outW.Close()
	}()

	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no JSON line from connform emulator -tls: %v (exit: %v)", err, <-done)
	}
	go io.Copy(io.Discard, outR)
	var info struct {
		emulator.Info
		CACertPath string `json:"ca_cert_path"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatal(err)
	}
	certPath, tokenPath := info.Native.CertPath, info.Native.FederatedTokenFile
	if certPath == "" || tokenPath == "" {
		t.Fatalf("the JSON names no credential files: %s", line)
	}

	// Both are credentials: only the user may read them.
	dir := filepath.Dir(certPath)
	if filepath.Dir(tokenPath) != dir {
		t.Errorf("the certificate (%s) and the token (%s) are in different directories", certPath, tokenPath)
	}
	for _, want := range []struct {
		path string
		mode fs.FileMode
	}{{dir, 0o700}, {certPath, 0o600}, {tokenPath, 0o600}} {
		st, err := os.Stat(want.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want.mode {
			t.Errorf("%s has mode %v, want %v", want.path, got, want.mode)
		}
	}
	if tok, err := os.ReadFile(tokenPath); err != nil || strings.Count(string(tok), ".") != 2 {
		t.Errorf("the federated token file does not hold a JWT (err %v)", err)
	}

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(info.CACert)) {
		t.Fatal("the JSON's ca_cert is not a PEM certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	scopes := []string{info.Orgs[0].URL + "/.default"}
	for _, tc := range []struct {
		method, clientID string
		opt              auth.CredentialOptions
	}{
		{auth.MethodClientCertificate, info.Native.CertClientID, auth.CredentialOptions{CertificatePath: certPath}},
		{auth.MethodWorkloadIdentity, info.Native.FederatedClientID, auth.CredentialOptions{FederatedTokenFile: tokenPath}},
	} {
		tc.opt.HTTPClient = client
		tc.opt.MaxRetries = -1
		cred, err := auth.NewCredential(tc.method, auth.Params{TokenURL: info.TokenURL, ClientID: tc.clientID}, tc.opt)
		if err != nil {
			t.Errorf("%s with the emulator's files: %v", tc.method, err)
			continue
		}
		if _, err := auth.CredentialToken(ctx, tc.method, cred, scopes); err != nil {
			t.Errorf("%s with the emulator's files: %v", tc.method, err)
		}
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("connform emulator: %v", err)
	}
	for _, p := range []string{dir, info.CACertPath} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there after the emulator stopped (%v)", p, err)
		}
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/rogpeppe/go-internal/testscript"
	"software.sslmate.com/src/go-pkcs12"

	"connform/emulator"
)

// TestEntraScripts runs the scripts in testdata/entra: the Entra-native
// authentication methods (azidentity) through the real binary, against an
// emulator serving TLS, which azidentity requires of an authority. The
// binary trusts the emulator through SSL_CERT_FILE, as Go does natively on
// Linux. They live apart from testdata/script because those scripts run
// against a plain-http emulator.
func TestEntraScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/entra",
		RequireExplicitExec: true,
		Setup:               setupTLSEmulator,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"emu":       cmdEmu,
			"nosecrets": cmdNoSecrets,
			"entra":     cmdEntra,
		},
	})
}

func setupTLSEmulator(env *testscript.Env) error {
	e, err := emulator.Start(emulator.Options{Orgs: 2, TLS: true})
	if err != nil {
		return err
	}
	env.Defer(func() { e.Close() })
	env.Values["emu"] = e
	info := e.Info()
	ca := filepath.Join(env.WorkDir, ".emulator-ca.pem")
	if err := os.WriteFile(ca, e.CACertPEM(), 0o644); err != nil {
		return err
	}
	env.Setenv("SSL_CERT_FILE", ca)
	env.Setenv("EMU_AUTHORITY", info.Authority)
	env.Setenv("EMU_TENANT", info.TenantID)
	env.Setenv("EMU_TOKEN_URL", info.TokenURL)
	env.Setenv("EMU_USER", info.User)
	env.Setenv("EMU_CERT_CLIENT", info.Native.CertClientID)
	env.Setenv("EMU_FED_CLIENT", info.Native.FederatedClientID)
	env.Setenv("EMU_MI_CLIENT", info.Native.ManagedIdentityClientID)
	env.Setenv("EMU_MI_ENDPOINT", info.Native.ManagedIdentityEndpoint)
	env.Setenv("EMU_MI_HEADER", info.Native.ManagedIdentityHeader)
	for i, o := range info.Orgs {
		env.Setenv(fmt.Sprintf("EMU_ORG%d", i+1), o.URL)
	}
	env.Setenv("CONNFORM_HOME", filepath.Join(env.WorkDir, ".connform-home"))
	env.Setenv("CONNFORM_TOKEN_STORE", "file")
	env.Setenv("CONNFORM_TOKEN_PASSPHRASE", "testscript passphrase")
	env.Setenv("NO_COLOR", "1")
	return nil
}

// cmdEntra prepares what an Entra-native credential reads:
//
//	entra cert FILE              the certificate registered on the cert app (PEM, with its key)
//	entra pfx FILE PASSWORD      the same certificate and key as a password-protected PFX
//	entra othercert FILE         a certificate no app registered
//	entra fedtoken FILE [SUBJECT] a federated token (default: the subject the app trusts)
//	entra az ORG_URL...          a fake `az` in $WORK/bin answering for those orgs, signed in as the test user
//	entra az-logged-out          a fake `az` that was never signed in
func cmdEntra(ts *testscript.TestScript, neg bool, args []string) {
	e := ts.Value("emu").(*emulator.Emulator)
	if len(args) == 0 {
		ts.Fatalf("usage: entra cert|pfx|othercert|fedtoken|az|az-logged-out ...")
	}
	write := func(name string, data []byte, mode os.FileMode) {
		p := ts.MkAbs(name)
		ts.Check(os.MkdirAll(filepath.Dir(p), 0o755))
		ts.Check(os.WriteFile(p, data, mode))
	}
	switch args[0] {
	case "cert":
		pem, err := e.ClientCertificatePEM()
		ts.Check(err)
		write(args[1], pem, 0o600)
	case "pfx":
		pem, err := e.ClientCertificatePEM()
		ts.Check(err)
		cert, key, err := azidentity.ParseCertificates(pem, nil)
		ts.Check(err)
		// Triple DES, as Windows' certificate export and openssl's
		// -legacy write it, and as azidentity reads it.
		pfx, err := pkcs12.LegacyDES.Encode(key, cert[0], nil, args[2])
		ts.Check(err)
		write(args[1], pfx, 0o600)
	case "othercert":
		pem, err := emulator.SelfSignedCertificatePEM("unregistered")
		ts.Check(err)
		write(args[1], pem, 0o600)
	case "fedtoken":
		subject := emulator.FederatedSubject
		if len(args) > 2 {
			subject = args[2]
		}
		write(args[1], []byte(e.IssueFederatedToken(subject)), 0o600)
	case "az":
		var b strings.Builder
		b.WriteString("#!/bin/sh\n# A stand-in for the Azure CLI: az account get-access-token --resource ORG\n")
		b.WriteString("while [ $# -gt 0 ]; do [ \"$1\" = --resource ] && res=$2; shift; done\ncase \"$res\" in\n")
		for _, org := range args[1:] {
			tok, exp, err := e.MintToken(org, emulator.TestUser)
			ts.Check(err)
			fmt.Fprintf(&b, "'%s') printf '%%s\\n' '{\"accessToken\":\"%s\",\"expiresOn\":\"%s\",\"expires_on\":%d,\"tenant\":\"%s\",\"tokenType\":\"Bearer\"}' ;;\n",
				org, tok, exp.Local().Format("2006-01-02 15:04:05.000000"), exp.Unix(), e.Info().TenantID)
		}
		b.WriteString("*) echo \"ERROR: resource $res is not known to this fake az\" >&2; exit 1 ;;\nesac\n")
		write("bin/az", []byte(b.String()), 0o755)
	case "az-logged-out":
		write("bin/az", []byte("#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n"), 0o755)
	default:
		ts.Fatalf("unknown entra command %q", args[0])
	}
}

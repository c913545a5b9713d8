package auth

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
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

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

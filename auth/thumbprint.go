package auth

import (
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// CertificateThumbprint is what Dataverse ServiceClient's Thumbprint
// expects for a certificate file (PEM or PFX, as certificate_path holds
// it): the SHA-1 of the certificate's DER bytes in upper-case hex. Where the
// file holds a chain, it is the certificate of the private key. The error
// never holds the password.
func CertificateThumbprint(data []byte, password string) (string, error) {
	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	certs, key, err := azidentity.ParseCertificates(data, pw)
	if err != nil {
		// A PEM file with the certificate alone still names it.
		if c := firstPEMCertificate(data); c != nil {
			return thumbprint(c), nil
		}
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return "", errors.New(msg)
	}
	leaf := certs[0]
	if signer, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		for _, c := range certs {
			if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(signer.Public()) {
				leaf = c
				break
			}
		}
	}
	return thumbprint(leaf), nil
}

func firstPEMCertificate(data []byte) *x509.Certificate {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil
		}
		if block.Type == "CERTIFICATE" {
			if c, err := x509.ParseCertificate(block.Bytes); err == nil {
				return c
			}
		}
	}
}

func thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

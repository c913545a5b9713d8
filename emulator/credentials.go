package emulator

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The principals behind Entra-native credentials (azidentity). They have
// no client secret, so they stay out of Info.Apps.
const (
	CertApp            = "connform-cert"
	FederatedApp       = "connform-federated"
	ManagedIdentityApp = "connform-managed-identity"
	AzureCLIApp        = "azure-cli"
	// AzureCLIClientID is the Azure CLI's public client id, the appid of
	// the tokens `az account get-access-token` hands out.
	AzureCLIClientID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	// FederatedSubject is the subject the federated app trusts, shaped like
	// a Kubernetes service account's, as AKS workload identity sends it.
	FederatedSubject = "system:serviceaccount:connform:deployer"
	// FederatedAudience is the audience Entra requires of federated tokens.
	FederatedAudience = "api://AzureADTokenExchange"

	clientAssertionJWT  = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	managedIdentityPath = "/msi/token"
)

func nativeApps() []*app {
	return []*app{
		{App: App{Name: CertApp, ClientID: uuid.NewString(), AppUser: true}, native: true, certificate: true},
		{App: App{Name: FederatedApp, ClientID: uuid.NewString(), AppUser: true}, native: true, federatedSubject: FederatedSubject},
		{App: App{Name: ManagedIdentityApp, ClientID: uuid.NewString(), AppUser: true}, native: true},
		{App: App{Name: AzureCLIApp, ClientID: AzureCLIClientID, Public: true}, native: true},
	}
}

func (e *Emulator) nativeByName(name string) *app {
	for _, a := range e.apps {
		if a.native && a.Name == name {
			return a
		}
	}
	return nil
}

func (e *Emulator) nativeInfo() Native {
	return Native{
		CertClientID:            e.nativeByName(CertApp).ClientID,
		FederatedClientID:       e.nativeByName(FederatedApp).ClientID,
		FederatedIssuer:         e.federatedIssuer(),
		FederatedSubject:        FederatedSubject,
		ManagedIdentityClientID: e.nativeByName(ManagedIdentityApp).ClientID,
		ManagedIdentityEndpoint: e.authority + managedIdentityPath,
		ManagedIdentityHeader:   e.miHeader,
		AzureCLIClientID:        AzureCLIClientID,
	}
}

// federatedIssuer is the external identity provider the federated app
// trusts: a stand-in for a Kubernetes cluster's OIDC issuer.
func (e *Emulator) federatedIssuer() string { return e.authority + "/federation" }

// ClientCertificatePEM is the certificate registered on CertApp with its
// private key, PEM-encoded (certificate first, then a PKCS#8 key), as a
// certificate_path file holds it. It is made on first use, since an RSA
// key takes a moment to generate and most emulators never need one.
func (e *Emulator) ClientCertificatePEM() ([]byte, error) {
	e.certOnce.Do(func() {
		e.certPEM, e.certErr = SelfSignedCertificatePEM("connform-cert (emulator test certificate)")
	})
	return e.certPEM, e.certErr
}

// registeredCert is CertApp's certificate.
func (e *Emulator) registeredCert() (*x509.Certificate, error) {
	data, err := e.ClientCertificatePEM()
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	return x509.ParseCertificate(block.Bytes)
}

// FederatedTokenLifetime is how long a token of IssueFederatedToken is
// valid, in emulator time: Kubernetes' default for a projected service
// account token, which the kubelet rewrites before it expires.
const FederatedTokenLifetime = time.Hour

// IssueFederatedToken makes a token of the federated issuer for subject,
// valid for FederatedTokenLifetime: what Kubernetes projects into
// AZURE_FEDERATED_TOKEN_FILE. Only FederatedSubject is trusted by
// FederatedApp; any other subject shows the mismatch error.
func (e *Emulator) IssueFederatedToken(subject string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.nowLocked()
	tok := e.sign(claims{
		"iss": e.federatedIssuer(), "sub": subject, "aud": FederatedAudience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(FederatedTokenLifetime).Unix(),
	})
	e.issued = append(e.issued, tok)
	return tok
}

// MintToken makes an access token for the user (TestUser) to the org
// whose root is resource, issued to the Azure CLI's client, as
// `az account get-access-token --resource ORG` returns it after az login.
// It returns the token and its expiry.
func (e *Emulator) MintToken(resource, user string) (string, time.Time, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.orgByResource(resource)
	if o == nil {
		return "", time.Time{}, errors.New("no emulated org has the root " + resource)
	}
	if !strings.EqualFold(user, e.user.upn) {
		return "", time.Time{}, errors.New("the emulated tenant has no user " + user + "; use " + e.user.upn)
	}
	now := e.nowLocked()
	exp := now.Add(e.opts.AccessTokenLifetime)
	at := e.sign(claims{
		"aud": o.URL, "iss": e.issuer(), "iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
		"tid": e.tenantID, "oid": e.user.oid, "sub": e.user.oid, "upn": e.user.upn, "unique_name": e.user.upn,
		"name": e.user.name, "appid": AzureCLIClientID, "azp": AzureCLIClientID, "scp": "user_impersonation",
		"idtyp": "user", "ver": "1.0", "uti": uuid.NewString(),
	})
	e.issued = append(e.issued, at)
	return at, exp, nil
}

// appToken makes an app-only access token for a to org o. It runs with
// e.mu held.
func (e *Emulator) appToken(a *app, o *org, now time.Time) (string, time.Time) {
	exp := now.Add(e.opts.AccessTokenLifetime)
	at := e.sign(claims{
		"aud": o.URL, "iss": e.issuer(), "iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
		"tid": e.tenantID, "oid": a.spID, "sub": a.spID, "appid": a.ClientID, "azp": a.ClientID,
		"idtyp": "app", "ver": "1.0", "uti": uuid.NewString(),
	})
	e.issued = append(e.issued, at)
	return at, exp
}

// ManagedIdentityHandler answers the App Service managed identity protocol
// (GET ?resource=ORG&api-version=2019-08-01 with the X-IDENTITY-HEADER
// secret) with a token for ManagedIdentityApp. The emulator serves it at
// Info.Native.ManagedIdentityEndpoint; a test may also mount it elsewhere.
func (e *Emulator) ManagedIdentityHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(status int, code, msg string) {
			noteError(w, code)
			writeJSON(w, status, map[string]string{"error": code, "error_description": msg})
		}
		if r.Method != http.MethodGet {
			fail(http.StatusMethodNotAllowed, "invalid_request", "The managed identity endpoint only accepts GET.")
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-IDENTITY-HEADER")), []byte(e.miHeader)) != 1 {
			fail(http.StatusUnauthorized, "unauthorized_client", "The X-IDENTITY-HEADER header is missing or wrong.")
			return
		}
		q := r.URL.Query()
		a := e.nativeByName(ManagedIdentityApp)
		if id := q.Get("client_id"); id != "" && !strings.EqualFold(id, a.ClientID) {
			fail(http.StatusBadRequest, "invalid_request", "No user-assigned managed identity with client id "+id+" is assigned to this resource.")
			return
		}
		resource := q.Get("resource")
		e.mu.Lock()
		o := e.orgByResource(resource)
		var at string
		var exp time.Time
		if o != nil {
			at, exp = e.appToken(a, o, e.nowLocked())
			e.stats.Tokens["managed_identity"]++
		}
		e.mu.Unlock()
		if o == nil {
			fail(http.StatusBadRequest, "invalid_resource", "AADSTS500011: The resource principal named "+resource+" was not found in the tenant named "+tenantDomain+".")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{
			"access_token": at,
			"expires_on":   itoa(int(exp.Unix())),
			"resource":     o.URL,
			"token_type":   "Bearer",
			"client_id":    a.ClientID,
		})
	})
}

// assertionAuth authenticates a client by a signed JWT
// (client_assertion): the certificate app's own assertion, or the
// federated app's token from its trusted issuer.
func (e *Emulator) assertionAuth(r *http.Request, tokenEndpoint string) (*app, *entraError) {
	p := r.PostForm
	if p.Get("client_assertion_type") != clientAssertionJWT {
		return nil, newErr(http.StatusBadRequest, "invalid_request", 7000219, "'client_assertion_type' must be %s.", clientAssertionJWT)
	}
	assertion := p.Get("client_assertion")
	if assertion == "" {
		return nil, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_assertion'.")
	}
	e.mu.Lock()
	e.issued = append(e.issued, assertion)
	now := e.nowLocked()
	e.mu.Unlock()
	id := p.Get("client_id")
	if id == "" {
		return nil, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	a := e.appByID(id)
	switch {
	case a == nil:
		return nil, errUnknownApp(id)
	case a.Public:
		return nil, newErr(http.StatusUnauthorized, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
	case a.certificate:
		return a, e.checkCertAssertion(a, assertion, tokenEndpoint)
	case a.federatedSubject != "":
		return a, e.checkFederated(a, assertion, now)
	}
	return nil, errKeyNotFound(a, "")
}

func errKeyNotFound(a *app, thumbprint string) *entraError {
	return newErr(http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]", thumbprint, a.ClientID)
}

func errAssertionTime() *entraError {
	return newErr(http.StatusUnauthorized, "invalid_client", 700024, "Client assertion is not within its valid time range.")
}

// checkCertAssertion verifies an assertion as Entra does for a
// certificate credential: the thumbprint in the header names the
// registered certificate, its key signed the JWT (PS256 as MSAL signs,
// or RS256), and the claims name the client and this token endpoint.
func (e *Emulator) checkCertAssertion(a *app, assertion, tokenEndpoint string) *entraError {
	malformed := newErr(http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed.")
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return malformed
	}
	var hdr map[string]any
	var c claims
	rawHdr, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	rawClaims, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(rawHdr, &hdr) != nil || json.Unmarshal(rawClaims, &c) != nil {
		return malformed
	}
	cert, err := e.registeredCert()
	if err != nil {
		return newErr(http.StatusInternalServerError, "server_error", 50000, "The emulator could not make its test certificate: %v", err)
	}
	s256 := sha256.Sum256(cert.Raw)
	s1 := sha1.Sum(cert.Raw)
	t256, _ := hdr["x5t#S256"].(string)
	t1, _ := hdr["x5t"].(string)
	switch {
	case t256 != "":
		if !thumbprintIs(t256, s256[:]) {
			return errKeyNotFound(a, t256)
		}
	case t1 != "":
		if !thumbprintIs(t1, s1[:]) {
			return errKeyNotFound(a, t1)
		}
	default:
		return errKeyNotFound(a, "")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return malformed
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	var verr error
	switch hdr["alg"] {
	case "PS256":
		verr = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		verr = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	default:
		verr = errors.New("unsupported alg")
	}
	if verr != nil {
		return newErr(http.StatusUnauthorized, "invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - The key was found but the signature did not verify for app Id '%s'.]", a.ClientID)
	}
	if !strings.EqualFold(c.str("aud"), tokenEndpoint) {
		return newErr(http.StatusUnauthorized, "invalid_client", 700212, "The audience of the client assertion must be the token endpoint %s; got '%s'.", tokenEndpoint, c.str("aud"))
	}
	if c.str("iss") != a.ClientID || c.str("sub") != a.ClientID {
		return newErr(http.StatusUnauthorized, "invalid_client", 700023, "The client assertion's iss and sub must both be the client id '%s'.", a.ClientID)
	}
	// MSAL stamps its assertion with the process's real clock, which
	// Advance cannot move, so this check uses the emulator's base clock.
	if !inTime(c, e.opts.Now()) {
		return errAssertionTime()
	}
	return nil
}

// thumbprintIs compares a header thumbprint, which MSAL writes in
// standard base64 and the JOSE spec in base64url, with a digest.
func thumbprintIs(got string, digest []byte) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(got); err == nil && subtle.ConstantTimeCompare(b, digest) == 1 {
			return true
		}
	}
	return false
}

// checkFederated verifies a federated token against the app's one
// federated identity credential: issuer, subject and audience must match.
func (e *Emulator) checkFederated(a *app, assertion string, now time.Time) *entraError {
	c, err := e.verify(assertion)
	if err != nil {
		return newErr(http.StatusUnauthorized, "invalid_client", 700211, "No matching federated identity record found for presented assertion issuer: the assertion is not a token of a trusted issuer, or its signature is not valid.")
	}
	switch {
	case c.str("iss") != e.federatedIssuer():
		return newErr(http.StatusUnauthorized, "invalid_client", 700211, "No matching federated identity record found for presented assertion issuer '%s'.", c.str("iss"))
	case c.str("aud") != FederatedAudience:
		return newErr(http.StatusUnauthorized, "invalid_client", 700212, "No matching federated identity record found for presented assertion audience '%s'.", c.str("aud"))
	case c.str("sub") != a.federatedSubject:
		return newErr(http.StatusUnauthorized, "invalid_client", 700213, "No matching federated identity record found for presented assertion subject '%s'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.", c.str("sub"))
	case !inTime(c, now):
		return errAssertionTime()
	}
	return nil
}

func inTime(c claims, now time.Time) bool {
	return now.Before(time.Unix(c.unix("exp"), 0)) && !now.Add(5*time.Minute).Before(time.Unix(c.unix("nbf"), 0))
}

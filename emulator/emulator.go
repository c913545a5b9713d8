package emulator

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Options configure an emulator. The zero value is usable.
type Options struct {
	// Addr is the authority listener's address; default "127.0.0.1:0" (a
	// free port). Orgs always listen on free loopback ports of their own.
	Addr string
	// Orgs is how many Dynamics orgs to emulate ("org1".."orgN"); default 2.
	Orgs int
	// AutoApprove makes the authorize endpoint sign the test user in at once
	// and redirect, without showing the sign-in page, and approves every
	// device code DeviceAutoApproveDelay after it was issued, as a person
	// typing the code on another device would.
	AutoApprove bool
	// DeviceAutoApproveDelay is how long an auto-approved device code stays
	// pending; default DefaultDeviceAutoApproveDelay (2s). It is measured on
	// the emulator's clock, so Advance settles it at once.
	DeviceAutoApproveDelay time.Duration
	// Now is the base clock; default time.Now. Advance moves the emulator's
	// clock ahead of it.
	Now                  func() time.Time
	AccessTokenLifetime  time.Duration // default 1h
	RefreshTokenLifetime time.Duration // default 90 days (an idle limit: each use restarts it)
	// DeviceCodeInterval is the polling interval announced with a device
	// code; default DefaultDeviceCodeInterval (5s). Tests shorten it.
	DeviceCodeInterval time.Duration
	// Logf, when set, receives one line per request. Lines never hold
	// secrets, tokens or codes.
	Logf func(format string, args ...any)
	// TLS serves the authority and the orgs over https with a self-signed
	// certificate for 127.0.0.1 and localhost (see CACertPEM), as azidentity
	// requires of an authority.
	TLS bool
	// GrantFewerScopes makes the authority behave as many OpenID providers
	// do with scopes they do not know (RFC 6749 §3.3): a permission the
	// org does not expose is dropped from the grant instead of refused,
	// and a refresh asking for more than was granted is refused with
	// invalid_scope (§6).
	GrantFewerScopes bool
	// RefreshPerResource binds each refresh token to the org it was
	// issued for, as standard OpenID providers do (Entra's span every
	// org): a refresh for another org is refused with invalid_scope.
	RefreshPerResource bool
}

// Info is what a client needs to use the emulator. `connform emulator`
// prints it as its first stdout line.
type Info struct {
	Authority        string `json:"authority"` // http://127.0.0.1:PORT
	TenantID         string `json:"tenant_id"`
	AuthorizationURL string `json:"authorization_url"` // {authority}/{tenant}/oauth2/v2.0/authorize
	TokenURL         string `json:"token_url"`
	User             string `json:"user"`
	Apps             []App  `json:"apps"`
	Orgs             []Org  `json:"orgs"`
	// CACert is the PEM certificate to trust when the emulator serves TLS.
	CACert string `json:"ca_cert,omitempty"`
	// Native describes the principals for Entra-native credentials
	// (azidentity): they sign in without a client secret, so they are not
	// among Apps.
	Native Native `json:"native"`
}

// Native lists the emulated principals that azidentity's credentials sign
// in as. Each has an application user in every org.
type Native struct {
	// CertClientID is an app that proves itself with a certificate
	// (ClientCertificatePEM) in a signed client assertion.
	CertClientID string `json:"cert_client_id"`
	// FederatedClientID is an app that trusts FederatedIssuer's tokens for
	// FederatedSubject (workload identity federation).
	FederatedClientID string `json:"federated_client_id"`
	FederatedIssuer   string `json:"federated_issuer"`
	FederatedSubject  string `json:"federated_subject"`
	// ManagedIdentityClientID is the system-assigned identity that the
	// App Service style endpoint ManagedIdentityEndpoint hands tokens to
	// callers presenting ManagedIdentityHeader (azidentity reads them from
	// IDENTITY_ENDPOINT and IDENTITY_HEADER).
	ManagedIdentityClientID string `json:"managed_identity_client_id"`
	ManagedIdentityEndpoint string `json:"managed_identity_endpoint"`
	ManagedIdentityHeader   string `json:"managed_identity_header"`
	// AzureCLIClientID is the Azure CLI's well-known public client id: the
	// appid of tokens MintToken makes, as `az account get-access-token`
	// returns them.
	AzureCLIClientID string `json:"azure_cli_client_id"`
	// CertPath and FederatedTokenFile name files holding
	// ClientCertificatePEM and a token of IssueFederatedToken, for a
	// configuration's certificate_path and federated_token_file. Only
	// `connform emulator -tls` writes them: a process that starts an
	// emulator in-process has the Go APIs.
	CertPath           string `json:"cert_path,omitempty"`
	FederatedTokenFile string `json:"federated_token_file,omitempty"`
}

// App is an app registration in the emulated tenant.
type App struct {
	Name         string `json:"name"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	Redirect     string `json:"redirect"`
	Public       bool   `json:"public"`
	// AppUser reports whether the app has an application user in every org,
	// which Dynamics requires of app-only (client credentials) callers.
	AppUser bool `json:"app_user"`
}

// Org is an emulated Dynamics org.
type Org struct {
	Name string `json:"name"`
	URL  string `json:"url"` // the org root, like https://contoso.crm4.dynamics.com
}

// The registered apps' names, for tests and commands that pick one.
const (
	PublicApp       = "connform-public"
	ConfidentialApp = "connform-confidential"
	// NoAppUserApp is a confidential app that may sign in with client
	// credentials but has no application user in any org, so Dynamics
	// answers 403: the mistake people make most with app-only access.
	NoAppUserApp = "connform-no-app-user"
	// TestUser is the one user in the tenant; the domain is reserved and
	// clearly fake.
	TestUser     = "alex@contoso.example"
	testUserName = "Alex Example"
	tenantDomain = "contoso.example"
)

// Stats counts what clients did, for tests that assert "no second sign-in".
type Stats struct {
	// SignIns is how many times the authorize endpoint completed a sign-in
	// (sent a code back), interactive or auto-approved, plus device codes
	// approved on the verification page.
	SignIns int
	// Tokens counts issued tokens by grant type ("authorization_code",
	// "refresh_token", "client_credentials").
	Tokens map[string]int
	// WhoAmI counts successful WhoAmI calls across all orgs.
	WhoAmI int
}

// Emulator is a running Entra ID tenant with its Dynamics orgs. It is safe
// for concurrent use.
type Emulator struct {
	opts      Options
	tenantID  string
	authority string
	signKey   []byte
	user      user
	apps      []*app
	orgs      []*org
	servers   []*http.Server

	// See Options.GrantFewerScopes and RefreshPerResource; scripts
	// switch them while the emulator runs.
	grantFewer, refreshPerResource atomic.Bool

	mu      sync.Mutex
	offset  time.Duration
	codes   map[string]*codeGrant
	refresh map[string]*refreshGrant
	devices map[string]*deviceGrant // by device code; see devicecode.go
	faults  []*faultRule            // scripted failures; see faults.go
	issued  []string                // access and id tokens, and verifiers redeemed, for IssuedSecrets
	stats   Stats

	caPEM    []byte // the TLS certificate, nil without Options.TLS
	miHeader string // the managed identity endpoint's shared secret
	certOnce sync.Once
	certPEM  []byte // the certificate app's certificate and key, made on first use
	certErr  error
}

type user struct {
	upn, name, oid string
}

type app struct {
	App
	spID string // the service principal's object id: the oid of app-only tokens
	// native marks a principal of Info.Native, kept out of Info.Apps.
	native bool
	// certificate is set on the certificate app: assertions must be signed
	// by its key. federatedSubject is set on the federated app.
	certificate      bool
	federatedSubject string
}

type org struct {
	Org
	orgID, businessUnitID uuid.UUID
}

// Start opens the listeners and serves until Close.
func Start(opts Options) (*Emulator, error) {
	if opts.Orgs <= 0 {
		opts.Orgs = 2
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AccessTokenLifetime <= 0 {
		opts.AccessTokenLifetime = time.Hour
	}
	if opts.RefreshTokenLifetime <= 0 {
		opts.RefreshTokenLifetime = 90 * 24 * time.Hour
	}
	e := &Emulator{
		opts:     opts,
		tenantID: uuid.NewString(),
		signKey:  make([]byte, 32),
		user:     user{upn: TestUser, name: testUserName, oid: uuid.NewString()},
		codes:    map[string]*codeGrant{},
		refresh:  map[string]*refreshGrant{},
		stats:    Stats{Tokens: map[string]int{}},
	}
	e.grantFewer.Store(opts.GrantFewerScopes)
	e.refreshPerResource.Store(opts.RefreshPerResource)
	_, _ = rand.Read(e.signKey)
	e.apps = []*app{
		{App: App{Name: PublicApp, ClientID: uuid.NewString(), Redirect: "http://localhost", Public: true}},
		{App: App{Name: ConfidentialApp, ClientID: uuid.NewString(), ClientSecret: newSecret(), Redirect: "http://localhost", AppUser: true}},
		{App: App{Name: NoAppUserApp, ClientID: uuid.NewString(), ClientSecret: newSecret(), Redirect: "http://localhost"}},
	}
	e.apps = append(e.apps, nativeApps()...)
	for _, a := range e.apps {
		a.spID = uuid.NewString()
	}
	e.miHeader = randomToken("mi.")

	scheme := "http"
	var tlsConfig *tls.Config
	if opts.TLS {
		var err error
		if tlsConfig, e.caPEM, err = newServerTLS(); err != nil {
			return nil, fmt.Errorf("making the emulator's TLS certificate: %w", err)
		}
		scheme = "https"
	}
	listen := func(addr string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil || tlsConfig == nil {
			return ln, err
		}
		return tls.NewListener(ln, tlsConfig), nil
	}
	ln, err := listen(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening for the authority on %s: %w (choose another -addr or free the port)", opts.Addr, err)
	}
	e.authority = scheme + "://" + loopbackHost(ln.Addr())
	authorityLn := ln
	for i := 1; i <= opts.Orgs; i++ {
		ln, err := listen("127.0.0.1:0")
		if err != nil {
			authorityLn.Close()
			e.Close()
			return nil, fmt.Errorf("listening for org%d: %w", i, err)
		}
		o := &org{
			Org:            Org{Name: fmt.Sprintf("org%d", i), URL: scheme + "://" + ln.Addr().String()},
			orgID:          uuid.New(),
			businessUnitID: uuid.New(),
		}
		e.orgs = append(e.orgs, o)
		e.serve(ln, e.orgHandler(o))
	}
	// The authority serves only once every org exists: its token handler
	// reads the org list, which must not change under it.
	e.serve(authorityLn, e.authorityHandler())
	return e, nil
}

// loopbackHost names a listener by an address a client can dial, even when
// it listens on all interfaces.
func loopbackHost(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		_, port, _ := net.SplitHostPort(a.String())
		return net.JoinHostPort("127.0.0.1", port)
	}
	return tcp.String()
}

func (e *Emulator) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: e.logged(h), ReadHeaderTimeout: 10 * time.Second}
	e.servers = append(e.servers, srv)
	go srv.Serve(ln)
}

// Close stops every listener.
func (e *Emulator) Close() error {
	var errs []error
	for _, s := range e.servers {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Info describes the tenant, its apps (with secrets) and its orgs.
func (e *Emulator) Info() Info {
	info := Info{
		Authority:        e.authority,
		TenantID:         e.tenantID,
		AuthorizationURL: e.authority + "/" + e.tenantID + "/oauth2/v2.0/authorize",
		TokenURL:         e.authority + "/" + e.tenantID + "/oauth2/v2.0/token",
		User:             e.user.upn,
	}
	for _, a := range e.apps {
		if !a.native {
			info.Apps = append(info.Apps, a.App)
		}
	}
	for _, o := range e.orgs {
		info.Orgs = append(info.Orgs, o.Org)
	}
	info.CACert = string(e.caPEM)
	info.Native = e.nativeInfo()
	return info
}

// App returns the registration named name (PublicApp, ConfidentialApp,
// NoAppUserApp); ok is false for any other name.
func (i Info) App(name string) (App, bool) {
	for _, a := range i.Apps {
		if a.Name == name {
			return a, true
		}
	}
	return App{}, false
}

// Now is the emulator's clock: the base clock plus everything Advance added.
func (e *Emulator) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nowLocked()
}

func (e *Emulator) nowLocked() time.Time { return e.opts.Now().Add(e.offset) }

// Advance moves the emulator's clock forward by d, so tokens and codes
// expire without the test sleeping.
func (e *Emulator) Advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.offset += d
}

// Stats returns a snapshot of the counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Tokens = make(map[string]int, len(e.stats.Tokens))
	for k, v := range e.stats.Tokens {
		s.Tokens[k] = v
	}
	return s
}

// RevokeRefreshTokens makes every outstanding refresh token fail with
// AADSTS70008, as when an administrator revokes a user's sessions.
func (e *Emulator) RevokeRefreshTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range e.refresh {
		g.revoked = true
	}
}

// IssuedSecrets lists every secret the emulator knows a client holds: the
// apps' client secrets, and every code, access token, refresh token, id
// token and PKCE verifier that passed through it. Tests search files and
// output for them to prove nothing leaked.
func (e *Emulator) IssuedSecrets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, a := range e.apps {
		if a.ClientSecret != "" {
			out = append(out, a.ClientSecret)
		}
	}
	for c := range e.codes {
		out = append(out, c)
	}
	for rt := range e.refresh {
		out = append(out, rt)
	}
	out = append(out, e.miHeader)
	for dc := range e.devices {
		out = append(out, dc)
	}
	return append(out, e.issued...)
}

func (e *Emulator) appByID(clientID string) *app {
	for _, a := range e.apps {
		if strings.EqualFold(a.ClientID, clientID) {
			return a
		}
	}
	return nil
}

// orgByResource finds the org whose root a scope's resource names, ignoring
// case and a trailing slash, as Entra matches identifier URIs.
func (e *Emulator) orgByResource(resource string) *org {
	r := strings.TrimSuffix(strings.ToLower(resource), "/")
	for _, o := range e.orgs {
		if strings.ToLower(o.URL) == r {
			return o
		}
	}
	return nil
}

func (e *Emulator) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

// logged writes one line per request: method, path and status. Query
// strings and bodies are left out because they carry codes and secrets.
func (e *Emulator) logged(h http.Handler) http.Handler {
	if e.opts.Logf == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		e.logf("emulator: %s %s%s -> %d%s", r.Method, r.Host, r.URL.Path, sw.status, sw.note)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	note   string // the error code of an error response, when there is one
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// noteError adds an error code to the request's log line.
func noteError(w http.ResponseWriter, note string) {
	if sw, ok := w.(*statusWriter); ok {
		sw.note = " (" + note + ")"
	}
}

// newSecret makes a client secret shaped like Entra's: 40 characters with
// "8Q~" after a three-character prefix.
func newSecret() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
	b := make([]byte, 37)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:3]) + "8Q~" + string(b[3:])
}

// randomToken is an opaque credential (code, refresh token).
func randomToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return prefix + b64(b)
}

package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// CredentialOptions are what an Entra-native credential needs beyond
// Params (whose TokenURL names the authority and tenant, and ClientID the
// app or user-assigned identity).
type CredentialOptions struct {
	// HTTPClient carries the credential's requests; nil means azidentity's
	// default transport (which trusts SSL_CERT_FILE on Linux).
	HTTPClient *http.Client
	// TenantID overrides the tenant taken from Params.TokenURL's path.
	TenantID string
	// CertificatePath is a PEM or PFX file holding the certificate and its
	// private key; CertificatePassword decrypts it (sensitive).
	CertificatePath, CertificatePassword string
	// FederatedTokenFile holds the workload's federated token; "" means
	// the environment's AZURE_FEDERATED_TOKEN_FILE, as Kubernetes sets it.
	FederatedTokenFile string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// MaxRetries bounds azidentity's retries of failed requests; 0 keeps
	// its default (3), a negative value disables them.
	MaxRetries int32
}

func (o CredentialOptions) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return os.Getenv(k)
}

// NewCredential builds the azidentity credential for method. Its errors
// are *CredentialError: they say what is missing and how to fix it.
func NewCredential(method string, p Params, opt CredentialOptions) (azcore.TokenCredential, error) {
	host, tenant, err := authorityOf(p.TokenURL)
	if err != nil {
		return nil, &CredentialError{Method: method, Msg: err.Error(), Hint: "set token_url to https://HOST/TENANT/oauth2/v2.0/token, or remove it to derive it from tenant_id"}
	}
	if opt.TenantID != "" {
		tenant = opt.TenantID
	}
	co := azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: opt.MaxRetries}}
	if host != "" {
		co.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: host + "/"}
	}
	co.Transport = redactingClient(opt.HTTPClient)
	fail := func(msg, hint string) (azcore.TokenCredential, error) {
		return nil, &CredentialError{Method: method, Msg: msg, Hint: hint}
	}
	switch method {
	case MethodAzureCLI:
		// The CLI talks to Entra itself; connform only runs it.
		cred, err := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: tenant})
		if err != nil {
			return fail(err.Error(), "check tenant_id")
		}
		return cred, nil
	case MethodManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		if p.ClientID != "" {
			o.ID = azidentity.ClientID(p.ClientID) // a user-assigned identity
		}
		cred, err := azidentity.NewManagedIdentityCredential(o)
		if err != nil {
			return fail(err.Error(), "check the managed identity's client_id, or remove it to use the system-assigned identity")
		}
		return cred, nil
	case MethodWorkloadIdentity:
		file := opt.FederatedTokenFile
		if file == "" {
			file = opt.getenv("AZURE_FEDERATED_TOKEN_FILE")
		}
		if file == "" {
			return fail("no federated token file is configured", "set federated_token_file, or run where AZURE_FEDERATED_TOKEN_FILE is set (a Kubernetes pod with the azure.workload.identity/use label)")
		}
		// azidentity reads the file only when it needs a token; checking
		// now names the file in the error.
		if _, err := os.Stat(file); err != nil {
			return fail("the federated token file "+file+" cannot be read: "+plainFileError(err), "check federated_token_file (or AZURE_FEDERATED_TOKEN_FILE) and that the service account token is projected into the pod")
		}
		if tenant == "" || p.ClientID == "" {
			return fail("workload identity needs the app's tenant and client id", "set tenant_id (or token_url) and client_id to the app that trusts the federated token")
		}
		cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: co, ClientID: p.ClientID, TenantID: tenant, TokenFilePath: file,
			DisableInstanceDiscovery: true, // else it asks the public cloud about the authority
		})
		if err != nil {
			return fail(err.Error(), "check tenant_id, client_id and federated_token_file")
		}
		return cred, nil
	case MethodClientCertificate:
		if opt.CertificatePath == "" {
			return fail("no certificate is configured", "set certificate_path to the PEM or PFX file holding the app's certificate and private key")
		}
		data, err := os.ReadFile(opt.CertificatePath)
		if err != nil {
			return fail("the certificate file "+opt.CertificatePath+" cannot be read: "+plainFileError(err), "check certificate_path")
		}
		var pw []byte
		if opt.CertificatePassword != "" {
			pw = []byte(opt.CertificatePassword)
		}
		certs, key, err := azidentity.ParseCertificates(data, pw)
		if err != nil {
			hint := "certificate_path must hold a certificate and its private key (PEM, or PFX/PKCS#12)"
			if opt.CertificatePassword == "" {
				hint += "; if the file is encrypted, set certificate_password"
			} else {
				hint += "; check certificate_password"
			}
			// ParseCertificates' own message may quote the password's
			// failure but never the password; keep only its first line.
			return fail("the certificate file "+opt.CertificatePath+" cannot be used: "+firstLine(err.Error()), hint)
		}
		if tenant == "" || p.ClientID == "" {
			return fail("a certificate credential needs the app's tenant and client id", "set tenant_id (or token_url) and client_id")
		}
		cred, err := azidentity.NewClientCertificateCredential(tenant, p.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions: co, DisableInstanceDiscovery: true,
		})
		if err != nil {
			return fail(err.Error(), "check tenant_id and client_id")
		}
		return cred, nil
	}
	return fail(fmt.Sprintf("unknown authentication_method %q", method), "use one of oauth, "+strings.Join(CredentialMethods, ", "))
}

// CredentialToken gets a token for scopes (one resource's /.default) from
// cred, and says in words what went wrong when it cannot.
func CredentialToken(ctx context.Context, method string, cred azcore.TokenCredential, scopes []string) (*Result, error) {
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: scopes})
	if err != nil {
		return nil, credentialError(method, err)
	}
	account := accountOf(tok.Token) // the user, for the Azure CLI
	if account == "" {
		account = appAccount[method]
	}
	return &Result{AccessToken: tok.Token, Expiry: tok.ExpiresOn, Scopes: scopes, Account: account}, nil
}

// appAccount names who acts for the app-only methods, in progress lines
// and the state's account field.
var appAccount = map[string]string{
	MethodAzureCLI:          "the Azure CLI's account",
	MethodManagedIdentity:   "the managed identity",
	MethodWorkloadIdentity:  "the app (federated token)",
	MethodClientCertificate: "the app (certificate)",
}

// CredentialError is a failed Entra-native sign-in: what happened, what to
// do, and Entra's answer (codes and correlation id) when it gave one.
type CredentialError struct {
	Method string
	Msg    string
	Hint   string
	Entra  *Error
}

func (e *CredentialError) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Entra != nil {
		b.WriteString(" (")
		b.WriteString(e.Entra.Error())
		b.WriteString(")")
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap gives Entra's error, so callers can ask for its codes.
func (e *CredentialError) Unwrap() error {
	if e.Entra == nil {
		return nil
	}
	return e.Entra
}

// credentialHints say what to do about an Entra code in the context of an
// Entra-native method, where the generic advice (about client secrets and
// redirects) does not apply.
var credentialHints = map[int]string{
	700027:  "the certificate is not registered on the app: upload its public part under the app's Certificates & secrets, or point certificate_path at the registered certificate",
	700024:  "the assertion is outside its validity: check the machine's clock, or that the federated token file is being refreshed",
	700211:  "the app has no federated credential for this token's issuer: add one (Certificates & secrets > Federated credentials) with the cluster's OIDC issuer URL",
	700212:  "the federated credential's audience does not match the token's: use api://AzureADTokenExchange",
	700213:  "the app has no federated credential for this token's subject: add one for the service account (system:serviceaccount:NAMESPACE:NAME)",
	700016:  "client_id names no app in this tenant: check client_id and tenant_id",
	500011:  "the org's Dynamics resource is not in this tenant: check url and tenant_id",
	7000218: "the app expects a secret or certificate: check authentication_method and client_id",
}

// credentialError turns azidentity's error into a CredentialError.
// azidentity's own text includes the whole HTTP response; connform keeps
// only Entra's error fields, which hold no secret.
func credentialError(method string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	ce := &CredentialError{Method: method}
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		body, _ := runtime.Payload(afe.RawResponse)
		var eb entraError
		if json.Unmarshal(body, &eb) == nil && (eb.Error != "" || eb.ErrorDescription != "") {
			ce.Entra = newError(afe.RawResponse.StatusCode, eb.Error, eb.ErrorDescription, eb.ErrorCodes, eb.CorrelationID, eb.TraceID)
		} else {
			ce.Entra = &Error{StatusCode: afe.RawResponse.StatusCode}
		}
		ce.Msg = "the sign-in was refused"
		if method == MethodManagedIdentity {
			ce.Msg = "the managed identity endpoint refused the request"
		}
		for _, c := range ce.Entra.Codes {
			if h, ok := credentialHints[c]; ok {
				ce.Hint = h
				break
			}
		}
		if ce.Hint == "" {
			ce.Hint = ce.Entra.Hint()
		}
		return ce
	}
	msg := err.Error()
	switch method {
	case MethodAzureCLI:
		switch {
		case strings.Contains(msg, "executable not found"):
			ce.Msg = "the Azure CLI (az) is not installed or not on PATH"
			ce.Hint = "install the Azure CLI and run az login, or choose another authentication_method"
		case strings.Contains(msg, "az login"):
			ce.Msg = "the Azure CLI is not signed in"
			ce.Hint = "run az login (az login --tenant TENANT for a specific tenant), then apply again"
		default:
			ce.Msg = "az account get-access-token failed: " + firstLine(strings.TrimPrefix(msg, "AzureCLICredential: "))
			ce.Hint = "run az account get-access-token --resource ORG_URL yourself to see why; az login may help"
		}
	case MethodManagedIdentity:
		// azidentity flattens the transport error into text; the endpoint
		// is the one it read from the environment.
		ce.Msg = "no managed identity endpoint answered"
		if endpoint := os.Getenv("IDENTITY_ENDPOINT"); endpoint != "" {
			ce.Msg += " at " + endpoint
		}
		if _, reason, ok := strings.Cut(msg, `": `); ok {
			reason, _, _ = strings.Cut(reason, ". To troubleshoot")
			ce.Msg += " (" + firstLine(reason) + ")"
		}
		ce.Hint = "run on an Azure resource with a managed identity enabled (or check IDENTITY_ENDPOINT), or choose another authentication_method"
	case MethodWorkloadIdentity:
		ce.Msg = "getting a token with the federated token failed: " + firstLine(msg)
		ce.Hint = "check federated_token_file and the app's federated credential"
	default:
		ce.Msg = "getting a token failed: " + firstLine(msg)
		ce.Hint = "check the connection's authority (token_url) is reachable"
	}
	return ce
}

// authorityOf splits a token URL into the authority host (scheme and host)
// and the tenant (the path's first segment). An empty URL gives empty
// parts: azidentity then uses the public cloud.
func authorityOf(tokenURL string) (host, tenant string, err error) {
	if tokenURL == "" {
		return "", "", nil
	}
	u, err := url.Parse(tokenURL)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("token_url %q is not a URL", tokenURL)
	}
	if u.Scheme != "https" {
		return "", "", fmt.Errorf("token_url %q must be https for Entra-native credentials (azidentity refuses plain http, even on loopback)", tokenURL)
	}
	tenant, _, _ = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	return u.Scheme + "://" + u.Host, tenant, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

func plainFileError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

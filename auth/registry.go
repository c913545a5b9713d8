package auth

import "sort"

// The names of grant types and authentication methods, as the
// configuration spells them. This file is the only place in auth that
// spells them; config's attribute table is the other.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantDeviceCode        = "device_code"
	GrantClientCredentials = "client_credentials"

	// MethodOAuth (or no authentication_method) means connform's own OAuth
	// app, whose flow grant_type names.
	MethodOAuth = "oauth"
	// Entra-native methods: the token comes from an azidentity credential.
	// None of them needs a person, so none ever opens a browser.
	MethodAzureCLI          = "azure_cli"          // reuse `az login`
	MethodManagedIdentity   = "managed_identity"   // the Azure resource's identity
	MethodWorkloadIdentity  = "workload_identity"  // a federated token file (Kubernetes)
	MethodClientCertificate = "client_certificate" // an app's certificate (PEM or PFX)
)

// grants are the OAuth app's methods by grant_type; methods the
// Entra-native ones by authentication_method. Adding a method is a file
// implementing Method plus one line here.
var (
	grants = map[string]Method{
		GrantAuthorizationCode: authorizationCode{user{GrantAuthorizationCode, WayBrowser}},
		GrantDeviceCode:        deviceCode{user{GrantDeviceCode, WayDeviceCode}},
		GrantClientCredentials: clientSecret{},
	}
	methods = map[string]Method{
		MethodAzureCLI:          azureCLI,
		MethodManagedIdentity:   managedIdentity,
		MethodWorkloadIdentity:  workloadIdentity,
		MethodClientCertificate: clientCertificate,
	}
)

// CredentialMethods lists the Entra-native methods, in the order messages
// name them.
var CredentialMethods = func() []string {
	var out []string
	for name := range methods {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}()

// MethodFor returns the method a connection's grant_type and
// authentication_method name: authentication_method when it names an
// Entra-native credential, else grant_type ("" is authorization_code).
// An unknown name gives a method that fails saying so (the configuration
// refuses such names before they get here).
func MethodFor(grantType, authenticationMethod string) Method {
	if authenticationMethod != "" && authenticationMethod != MethodOAuth {
		if m, ok := methods[authenticationMethod]; ok {
			return m
		}
		return unknown{authenticationMethod}
	}
	if grantType == "" {
		grantType = GrantAuthorizationCode
	}
	if m, ok := grants[grantType]; ok {
		return m
	}
	return unknown{grantType}
}

// UserSignsIn reports whether the method a connection's grant_type and
// authentication_method name signs a person in (a browser or a device
// code), rather than the app or an Entra-native credential.
func UserSignsIn(grantType, authenticationMethod string) bool {
	switch MethodFor(grantType, authenticationMethod).(type) {
	case authorizationCode, deviceCode:
		return true
	}
	return false
}

// IsCredentialMethod reports whether name is an Entra-native method.
func IsCredentialMethod(name string) bool {
	_, ok := methods[name]
	return ok
}

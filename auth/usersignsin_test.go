package auth

import "testing"

// Which connections a person signs in for decides whether a redirect is
// exported and whether a changed secret needs a fresh token; every
// grant and method is listed here so a new one must be placed.
func TestUserSignsIn(t *testing.T) {
	for _, tt := range []struct {
		grant, method string
		want          bool
	}{
		{"", "", true},
		{GrantAuthorizationCode, "", true},
		{GrantDeviceCode, MethodOAuth, true},
		{GrantClientCredentials, "", false},
		{GrantAuthorizationCode, MethodAzureCLI, false},
		{"", MethodManagedIdentity, false},
		{"", MethodWorkloadIdentity, false},
		{"", MethodClientCertificate, false},
		{"implicit", "", false},
	} {
		if got := UserSignsIn(tt.grant, tt.method); got != tt.want {
			t.Errorf("UserSignsIn(%q, %q) = %v, want %v", tt.grant, tt.method, got, tt.want)
		}
	}
}

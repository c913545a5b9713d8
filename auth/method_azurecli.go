package auth

// azureCLI reuses the Azure CLI's sign-in (az login): the token is the
// CLI user's, got by running az; connform's own app is not involved.
var azureCLI = credential{
	name:         MethodAzureCLI,
	appOnly:      false,
	invalidators: nil,
	source:       "from the Azure CLI's sign-in (az login)",
}

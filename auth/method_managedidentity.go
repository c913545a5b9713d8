package auth

// managedIdentity is the Azure resource's own identity (system-assigned,
// or user-assigned when client_id is set), from the IMDS or App Service
// endpoint.
var managedIdentity = credential{
	name:         MethodManagedIdentity,
	appOnly:      true,
	invalidators: nil,
	source:       "from the managed identity endpoint",
}

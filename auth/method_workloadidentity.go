package auth

// workloadIdentity signs the app in with a federated token file, as
// Kubernetes projects it into a pod.
var workloadIdentity = credential{
	name:         MethodWorkloadIdentity,
	appOnly:      true,
	invalidators: []string{"federated_token_file"},
	source:       "the app signs in with the federated token",
}

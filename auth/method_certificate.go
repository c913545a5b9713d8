package auth

// clientCertificate signs the app in with its certificate (PEM or PFX).
var clientCertificate = credential{
	name:         MethodClientCertificate,
	appOnly:      true,
	invalidators: []string{"certificate_path", "certificate_password"},
	source:       "the app signs in with its certificate",
}

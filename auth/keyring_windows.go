package auth

// keyringValueMax is Credential Manager's limit on a credential's blob
// (CRED_MAX_CREDENTIAL_BLOB_SIZE, 2,560 bytes), which go-keyring enforces.
const keyringValueMax = 2560

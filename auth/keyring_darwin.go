package auth

// keyringValueMax keeps an item within what go-keyring can hand to the
// Keychain: it writes the value base64-encoded (4/3 larger) on one
// `security -i` command line of at most 4,096 bytes, with the service and
// the key (an item name of a few hundred bytes at most).
const keyringValueMax = 2048

package state

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// fingerprintPrefix names the algorithm inside the value, so a later build
// can change it and still recognise (and re-fingerprint) old values.
const fingerprintPrefix = "hmac-sha256:"

// Fingerprint returns a salted digest of a sensitive value
// ("hmac-sha256:<hex>", keyed by salt), so a changed secret is detectable
// without storing it. connform uses the state lineage as the salt: a keyed
// digest stops anyone holding the state file from confirming a guessed
// secret with a plain hash lookup, and digests cannot be compared across
// unrelated state files.
func Fingerprint(salt, value string) string {
	mac := hmac.New(sha256.New, []byte(salt))
	mac.Write([]byte(value))
	return fingerprintPrefix + hex.EncodeToString(mac.Sum(nil))
}

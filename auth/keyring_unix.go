//go:build !windows && !darwin

package auth

// keyringValueMax is 0, no limit: the Secret Service takes values of any
// size, so a grant stays one item, as connform has always written it.
const keyringValueMax = 0

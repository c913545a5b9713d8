//go:build !linux

package auth

import "errors"

func kernelKey() ([]byte, bool, error) {
	return nil, false, errors.New("there is no kernel keyring on this system")
}

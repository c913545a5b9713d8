package auth

import (
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// kernelKeyDescription names connform's token file key in the user keyring.
const kernelKeyDescription = "connform:token-file-key"

// kernelKey returns the random key of the token file kept in the Linux
// kernel's user keyring ("@u"), creating it on first use. Such keys live
// until reboot (or until removed), never on disk.
func kernelKey() ([]byte, bool, error) {
	if key, err := readKernelKey(); err == nil {
		return key, false, nil
	} else if !errors.Is(err, unix.ENOKEY) {
		return nil, false, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	id, err := unix.AddKey("user", kernelKeyDescription, key, unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		return nil, false, fmt.Errorf("add_key: %w", err)
	}
	// By default only a possessor may read the key, and a later process does
	// not always possess the user keyring; let the same user read it.
	const perm = 0x3f000000 | 0x001f0000 // possessor: all; user: view, read, write, search, link
	_ = unix.KeyctlSetperm(id, perm)
	// Another connform may have raced us: use what the keyring now holds.
	if stored, err := readKernelKey(); err == nil {
		return stored, true, nil
	}
	return key, true, nil
}

func readKernelKey() ([]byte, error) {
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", kernelKeyDescription, 0)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 64)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if err != nil {
		return nil, fmt.Errorf("keyctl read: %w", err)
	}
	if n != 32 {
		return nil, fmt.Errorf("the kernel keyring key %q has %d bytes, not 32; remove it with: keyctl purge user %s", kernelKeyDescription, n, kernelKeyDescription)
	}
	return buf[:n], nil
}

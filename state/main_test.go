package state

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
)

// holdLockEnv makes the test binary act as another connform process that
// holds the lock on the state file named by the variable until its stdin is
// closed (or it is killed).
const holdLockEnv = "CONNFORM_STATE_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdLockEnv); path != "" {
		os.Exit(holdLock(path))
	}
	os.Exit(m.Run())
}

func holdLock(path string) int {
	unlock, err := NewLocal(path).Lock(context.Background(), NewLockInfo("apply", "test"), 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	if err := unlock(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	return 0
}

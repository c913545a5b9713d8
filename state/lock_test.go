package state

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mustLock(t *testing.T, l *Local, op string) (LockInfo, func() error) {
	t.Helper()
	info := NewLockInfo(op, "9.9.9")
	unlock, err := l.Lock(context.Background(), info, 0)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	t.Cleanup(func() { unlock() })
	return info, unlock
}

func TestNewLockInfo(t *testing.T) {
	info := NewLockInfo("apply", "1.2.3")
	if info.ID == "" || info.Operation != "apply" || info.Version != "1.2.3" ||
		!strings.Contains(info.Who, "@") || info.PID != os.Getpid() || info.Created.IsZero() {
		t.Errorf("NewLockInfo = %+v, want id, operation, version, user@host, pid and time filled", info)
	}
	if other := NewLockInfo("apply", "1.2.3"); other.ID == info.ID {
		t.Error("two locks got the same ID")
	}
}

func TestLockWritesInfoAndUnlockRemovesIt(t *testing.T) {
	path := statePath(t)
	l := NewLocal(path)
	info, unlock := mustLock(t, l, "apply")

	infoPath := path + ".lock.info"
	var onDisk LockInfo
	if err := json.Unmarshal(readFile(t, infoPath), &onDisk); err != nil {
		t.Fatalf("lock info is not JSON: %v", err)
	}
	abs, _ := filepath.Abs(path)
	if onDisk.ID != info.ID || onDisk.Operation != "apply" || onDisk.PID != os.Getpid() || onDisk.Path != abs {
		t.Errorf("lock info on disk = %+v, want ID %s, operation apply, our pid and path %s", onDisk, info.ID, abs)
	}
	assertMode0600(t, infoPath)

	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if _, err := os.Stat(infoPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unlock left the lock info behind (stat: %v)", err)
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock = %v, want nil", err)
	}
	// The lock is free again.
	mustLock(t, NewLocal(path), "plan")
}

func TestLockHeldElsewhereInThisProcess(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		ctx     func() context.Context
		retries bool
		advice  string
	}{
		{"try once", 0, context.Background, false, "-lock-timeout=DURATION"},
		{"wait and give up", 300 * time.Millisecond, context.Background, true, "it was still locked after waiting 300ms (-lock-timeout)"},
		{"interrupted", time.Hour, func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, false, "-lock-timeout=DURATION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := statePath(t)
			holder, _ := mustLock(t, NewLocal(path), "apply")

			// A separate Local is a separate open file: flock is per open
			// file description, so it must not share the holder's lock.
			waiter := NewLocal(path)
			retried := 0
			waiter.lockRetry = func() { retried++ }
			unlock, err := waiter.Lock(tt.ctx(), NewLockInfo("plan", "9.9.9"), tt.timeout)
			if err == nil {
				unlock()
				t.Fatal("a second Lock succeeded while the first was held")
			}
			var locked *LockedError
			if !errors.As(err, &locked) {
				t.Fatalf("Lock = %v, want a *LockedError", err)
			}
			if locked.Info.ID != holder.ID || locked.Info.Operation != "apply" {
				t.Errorf("LockedError.Info = %+v, want the holder's %+v", locked.Info, holder)
			}
			msg := err.Error()
			for _, want := range []string{path, holder.Who, `"apply"`, holder.ID, holder.Created.Format(time.RFC3339),
				tt.advice, "connform force-unlock " + holder.ID} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if (retried > 0) != tt.retries {
				t.Errorf("retried %d times, want retries: %v", retried, tt.retries)
			}
		})
	}
}

func TestLockSucceedsWhenHolderReleasesDuringWait(t *testing.T) {
	path := statePath(t)
	_, release := mustLock(t, NewLocal(path), "apply")

	waiter := NewLocal(path)
	retried := 0
	waiter.lockRetry = func() {
		retried++
		if retried == 1 {
			if err := release(); err != nil {
				t.Errorf("release: %v", err)
			}
		}
	}
	info := NewLockInfo("plan", "9.9.9")
	unlock, err := waiter.Lock(context.Background(), info, time.Minute)
	if err != nil {
		t.Fatalf("Lock after the holder released it: %v", err)
	}
	defer unlock()
	if retried == 0 {
		t.Error("Lock did not have to wait, so the test proves nothing")
	}
	var onDisk LockInfo
	if err := json.Unmarshal(readFile(t, path+".lock.info"), &onDisk); err != nil || onDisk.ID != info.ID {
		t.Errorf("lock info on disk = %+v (%v), want the new holder's ID %s", onDisk, err, info.ID)
	}
}

func TestLockedErrorWithoutInfo(t *testing.T) {
	path := statePath(t)
	l := NewLocal(path)
	mustLock(t, l, "apply")
	// The holder may be between taking the OS lock and writing its info.
	if err := os.Remove(path + ".lock.info"); err != nil {
		t.Fatal(err)
	}
	_, err := NewLocal(path).Lock(context.Background(), NewLockInfo("plan", "1"), 0)
	var locked *LockedError
	if !errors.As(err, &locked) || !strings.Contains(err.Error(), "locked by another connform process") {
		t.Fatalf("Lock = %v, want a *LockedError saying another process holds it", err)
	}
}

func writeStaleInfo(t *testing.T, path string, info LockInfo) {
	t.Helper()
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".lock.info", data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestForceUnlock(t *testing.T) {
	stale := NewLockInfo("apply", "1")
	stale.PID = 999999
	tests := []struct {
		name      string
		setup     func(t *testing.T, path string) // leaves a lock in some state
		id        string
		wantErr   string // "" for success
		infoAfter bool
	}{
		{"not locked", func(*testing.T, string) {}, stale.ID, "is not locked", false},
		{"stale info, right id", func(t *testing.T, p string) { writeStaleInfo(t, p, stale) }, stale.ID, "", false},
		{"stale info, wrong id", func(t *testing.T, p string) { writeStaleInfo(t, p, stale) }, "not-the-id", stale.ID, true},
		{"unreadable info", func(t *testing.T, p string) {
			if err := os.WriteFile(p+".lock.info", []byte("{"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, stale.ID, "remove that file by hand", true},
		{"held by a live lock, right id", func(t *testing.T, p string) {
			l := NewLocal(p)
			info := stale
			info.PID = os.Getpid()
			unlock, err := l.Lock(context.Background(), info, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unlock() })
		}, stale.ID, fmt.Sprintf("held by a running process (pid %d", os.Getpid()), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := statePath(t)
			tt.setup(t, path)
			err := NewLocal(path).ForceUnlock(tt.id)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ForceUnlock = %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("ForceUnlock = %v, want an error mentioning %q", err, tt.wantErr)
			}
			_, statErr := os.Stat(path + ".lock.info")
			if infoAfter := statErr == nil; infoAfter != tt.infoAfter {
				t.Errorf("lock info exists after ForceUnlock: %v, want %v", infoAfter, tt.infoAfter)
			}
		})
	}
}

// startHolder runs this test binary as a second process that takes the lock
// and keeps it until its stdin is closed.
func startHolder(t *testing.T, path string) (cmd *exec.Cmd, release func()) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdLockEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper process did not take the lock: %q, %v", line, err)
	}
	return cmd, func() { stdin.Close() }
}

func TestLockHeldByAnotherProcess(t *testing.T) {
	path := statePath(t)
	holder, release := startHolder(t, path)

	l := NewLocal(path)
	_, err := l.Lock(context.Background(), NewLockInfo("plan", "1"), 0)
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("Lock = %v, want a *LockedError", err)
	}
	if locked.Info.Operation != "apply" || locked.Info.PID != holder.Process.Pid {
		t.Errorf("LockedError names operation %q pid %d, want apply pid %d", locked.Info.Operation, locked.Info.PID, holder.Process.Pid)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("pid %d", holder.Process.Pid)) {
		t.Errorf("error %q does not name the holder's pid", err)
	}

	ferr := l.ForceUnlock(locked.Info.ID)
	if want := fmt.Sprintf("held by a running process (pid %d", holder.Process.Pid); ferr == nil || !strings.Contains(ferr.Error(), want) {
		t.Errorf("ForceUnlock of a live holder = %v, want an error containing %q", ferr, want)
	}

	release()
	if err := holder.Wait(); err != nil {
		t.Fatalf("helper process: %v", err)
	}
	unlock, err := l.Lock(context.Background(), NewLockInfo("plan", "1"), 0)
	if err != nil {
		t.Fatalf("Lock after the other process released it: %v", err)
	}
	unlock()
}

func TestLockOfAKilledProcessIsFreed(t *testing.T) {
	path := statePath(t)
	holder, _ := startHolder(t, path)
	// A crashed run cannot unlock; the OS must drop its lock for it.
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	holder.Wait()
	if _, err := os.Stat(path + ".lock.info"); err != nil {
		t.Fatalf("the killed holder's info should still be there to look at: %v", err)
	}

	info := NewLockInfo("apply", "1")
	unlock, err := NewLocal(path).Lock(context.Background(), info, 0)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	defer unlock()
	var onDisk LockInfo
	if err := json.Unmarshal(readFile(t, path+".lock.info"), &onDisk); err != nil || onDisk.ID != info.ID {
		t.Errorf("lock info = %+v (%v), want the new holder's ID %s", onDisk, err, info.ID)
	}
}

package state

import (
	"errors"
	"io/fs"
	"reflect"
	"syscall"
	"testing"
)

// TestRemoveLocked: the journal is removed before its lock is released;
// where the OS refuses to remove a locked file (Windows), once more after.
// The OS's answers are injected, so both behaviours run on any system.
func TestRemoveLocked(t *testing.T) {
	inUse := &fs.PathError{Op: "remove", Path: "s.journal", Err: syscall.Errno(32)} // ERROR_SHARING_VIOLATION
	gone := &fs.PathError{Op: "remove", Path: "s.journal", Err: fs.ErrNotExist}
	for _, tc := range []struct {
		name    string
		retry   bool
		answers []error // what each remove returns, in turn
		want    []string
		wantErr error
	}{
		{"removed at once", false, []error{nil}, []string{"remove", "unlock"}, nil},
		{"removed at once, Windows", true, []error{nil}, []string{"remove", "unlock"}, nil},
		{"Windows: locked, then removed", true, []error{inUse, nil}, []string{"remove", "unlock", "remove"}, nil},
		{"Windows: still in use", true, []error{inUse, inUse}, []string{"remove", "unlock", "remove"}, inUse},
		{"Windows: already gone", true, []error{gone}, []string{"remove", "unlock"}, gone},
		{"Unix: a failure is not retried", false, []error{inUse}, []string{"remove", "unlock"}, inUse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls []string
			answers := tc.answers
			remove := func(path string) error {
				if path != "s.journal" {
					t.Errorf("removed %q", path)
				}
				calls = append(calls, "remove")
				err := answers[0]
				answers = answers[1:]
				return err
			}
			err := removeLocked("s.journal", remove, func() { calls = append(calls, "unlock") }, tc.retry)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(calls, tc.want) {
				t.Errorf("calls = %v, want %v", calls, tc.want)
			}
		})
	}
}

package atomicfile

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestRenameRetrying: a target another process holds for a moment (as
// Windows reports it) is replaced once it is let go; a failure that is not
// that, or that lasts past the budget, is returned.
func TestRenameRetrying(t *testing.T) {
	held := errors.New("the process cannot access the file because it is being used by another process")
	denied := errors.New("no such directory")
	for _, tc := range []struct {
		name       string
		answers    []error // rename's answers in turn; nil after the last
		wantErr    error
		wantPauses []time.Duration
	}{
		{"free", nil, nil, nil},
		{"held twice", []error{held, held}, nil, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}},
		{"other failure", []error{denied}, denied, nil},
		{"held for good", []error{held, held, held, held, held, held, held, held}, held, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answers := tc.answers
			rename := func(from, to string) error {
				if from != ".f.tmp-1" || to != "f" {
					t.Errorf("rename(%q, %q)", from, to)
				}
				if len(answers) == 0 {
					return nil
				}
				err := answers[0]
				answers = answers[1:]
				return err
			}
			var pauses []time.Duration
			err := renameRetrying(".f.tmp-1", "f", rename, func(err error) bool { return err == held }, func(d time.Duration) { pauses = append(pauses, d) }, 80*time.Millisecond)
			if err != tc.wantErr {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(pauses, tc.wantPauses) {
				t.Errorf("pauses = %v, want %v", pauses, tc.wantPauses)
			}
		})
	}
}

package state

import (
	"strings"
	"testing"
)

func TestFingerprint(t *testing.T) {
	const secret = "Abc~secret.value-123"
	base := Fingerprint("lineage-1", secret)

	tests := []struct {
		name        string
		salt, value string
		wantSame    bool
	}{
		{"same salt and value", "lineage-1", secret, true},
		{"other salt", "lineage-2", secret, false},
		{"other value", "lineage-1", secret + "x", false},
		{"empty salt", "", secret, false},
		// Salt and value must not be simply concatenated.
		{"salt/value boundary moved", "lineage-1A", "bc~secret.value-123", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Fingerprint(tt.salt, tt.value)
			if !strings.HasPrefix(got, "hmac-sha256:") || len(got) != len("hmac-sha256:")+64 {
				t.Errorf("Fingerprint = %q, want hmac-sha256:<64 hex digits>", got)
			}
			if strings.Contains(got, tt.value) || strings.Contains(got, tt.salt+tt.value) {
				t.Errorf("Fingerprint %q contains the value", got)
			}
			if (got == base) != tt.wantSame {
				t.Errorf("Fingerprint(%q, value) == base: %v, want %v", tt.salt, got == base, tt.wantSame)
			}
		})
	}
}

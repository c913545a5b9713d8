package plan

import (
	"slices"
	"testing"
)

// The fast paths over attrOrder must give what sorting gives, names
// outside the schema (an older state's) included.
func TestAttributeOrder(t *testing.T) {
	tests := []struct {
		a, b  map[string]string
		extra []string
		want  []string
	}{
		{map[string]string{"url": "", "client_id": ""}, nil, nil, []string{"client_id", "url"}},
		{map[string]string{"url": ""}, map[string]string{"tenant_id": "", "url": ""}, []string{"library_file"}, []string{"library_file", "tenant_id", "url"}},
		{map[string]string{"zz_old": "", "url": ""}, map[string]string{"aa_old": ""}, []string{"library_file"}, []string{"aa_old", "library_file", "url", "zz_old"}},
		{nil, nil, []string{"unknown"}, []string{"unknown"}},
	}
	for _, tt := range tests {
		if got := unionKeys(tt.a, tt.b, tt.extra...); !slices.Equal(got, tt.want) {
			t.Errorf("unionKeys(%v, %v, %v) = %v, want %v", tt.a, tt.b, tt.extra, got, tt.want)
		}
		if len(tt.b) == 0 && len(tt.extra) == 0 {
			if got := sortedNames(tt.a); !slices.Equal(got, tt.want) {
				t.Errorf("sortedNames(%v) = %v, want %v", tt.a, got, tt.want)
			}
		}
	}
	if got := sortedNames(map[string]int{"zz_old": 1, "url": 2}); !slices.Equal(got, []string{"url", "zz_old"}) {
		t.Errorf("sortedNames with an unknown name = %v", got)
	}
}

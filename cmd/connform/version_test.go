package main

import (
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
)

func TestVersionLines(t *testing.T) {
	built := "built with go1.26.0 for " + runtime.GOOS + "/" + runtime.GOARCH
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name    string
		version string
		bi      *debug.BuildInfo
		want    []string
	}{
		{"from a checkout", devVersion,
			&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
				Settings: vcs("vcs.revision", "738c7c5e", "vcs.time", "2026-11-27T14:00:00Z", "vcs.modified", "false")},
			[]string{"connform v0.1.0-dev", "revision 738c7c5e (2026-11-27T14:00:00Z)", built}},
		{"with local changes", devVersion,
			&debug.BuildInfo{GoVersion: "go1.26.0", Settings: vcs("vcs.revision", "738c7c5e", "vcs.modified", "true")},
			[]string{"connform v0.1.0-dev", "revision 738c7c5e, with uncommitted changes", built}},
		{"go install of a tagged module", devVersion,
			&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}},
			[]string{"connform v1.2.3", "revision unknown (not built from a version-controlled checkout)", built}},
		{"-ldflags wins over the module version", "1.3.0",
			&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}},
			[]string{"connform v1.3.0", "revision unknown (not built from a version-controlled checkout)", built}},
		{"no build information", devVersion, nil,
			[]string{"connform v0.1.0-dev", "build information unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLines(tt.version, tt.bi); !slices.Equal(got, tt.want) {
				t.Errorf("versionLines = %q, want %q", got, tt.want)
			}
		})
	}
}

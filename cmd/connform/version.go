package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

func (c *cli) cmdVersion(_ context.Context, args []string) error {
	fs := c.flags("version")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; usage: connform version", fs.Args())
	}
	bi, _ := debug.ReadBuildInfo()
	for _, line := range versionLines(version, bi) {
		fmt.Fprintln(c.io.Out, line)
	}
	return nil
}

// versionLines describes the build: the version (-ldflags, else the module
// version go install recorded), the source revision and the toolchain, so
// that a bug report says exactly which code ran.
func versionLines(v string, bi *debug.BuildInfo) []string {
	if bi != nil && v == devVersion && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = strings.TrimPrefix(bi.Main.Version, "v")
	}
	lines := []string{"connform v" + v}
	if bi == nil {
		return append(lines, "build information unavailable")
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	switch rev := settings["vcs.revision"]; {
	case rev == "":
		lines = append(lines, "revision unknown (not built from a version-controlled checkout)")
	default:
		line := "revision " + rev
		if t := settings["vcs.time"]; t != "" {
			line += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			line += ", with uncommitted changes"
		}
		lines = append(lines, line)
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	return append(lines, fmt.Sprintf("built with %s for %s/%s", goVersion, runtime.GOOS, runtime.GOARCH))
}

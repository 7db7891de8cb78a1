package cli

import (
	"fmt"
	goruntime "runtime"
	"runtime/debug"
)

// Set at link time by the Dockerfile and .ci/run:
//
//	go build -ldflags "-X ringback/cli.version=v1.2.0 -X ringback/cli.commit=abc1234 -X ringback/cli.buildTime=2026-12-01T12:00:00Z"
//
// Unset, they come from the build info the go command embeds (the module
// version with `go install ringback@v1.2.0`, the VCS revision and time in
// a git checkout).
var version, commit, buildTime string

// BuildInfo is what this binary is: module version, commit, build time.
type BuildInfo struct {
	Version   string
	Commit    string
	BuildTime string
	Modified  bool // built from a work tree with uncommitted changes
	GoVersion string
}

// Build reports this binary's BuildInfo, from the link-time values first
// and the embedded build info for what they leave unset.
func Build() BuildInfo {
	b := BuildInfo{Version: version, Commit: commit, BuildTime: buildTime, GoVersion: goruntime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.BuildTime == "" {
					b.BuildTime = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" || b.Version == "(devel)" {
		b.Version = "devel"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.BuildTime == "" {
		b.BuildTime = "unknown"
	}
	return b
}

// versionString is `ringback --version`'s line.
func versionString() string {
	b := Build()
	commit := b.Commit
	if b.Modified {
		commit += "-dirty"
	}
	return fmt.Sprintf("ringback %s (commit %s, built %s, %s)", b.Version, commit, b.BuildTime, b.GoVersion)
}

// Package buildinfo names the build a binary came from: the release
// version stamped at link time (-ldflags "-X main.version=v1.2.3", as the
// Makefile and the Dockerfile do), else the Git commit Go records when it
// builds in a checkout. The worker's Worker Deployment build ID is this.
package buildinfo

import (
	"runtime/debug"
)

// ID is the build's identity: stamped is main.version (empty when the
// linker set none).
func ID(stamped string) string {
	if stamped != "" {
		return stamped
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		// Two dirty builds of one commit share this ID: fine on a laptop,
		// not for a release (the Makefile stamps releases).
		rev += "-dirty"
	}
	return rev
}

// GoVersion is the toolchain that built the binary.
func GoVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		return info.GoVersion
	}
	return "unknown"
}

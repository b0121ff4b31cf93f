// Package version holds the build's version, stamped by the Makefile with
// -ldflags -X; it is "dev" in a plain go build.
package version

// Version is the build's version: `git describe` at build time.
var Version = "dev"

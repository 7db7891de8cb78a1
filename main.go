// Command ringback turns every missed phone call into an owned, timed task
// in the team's chat. See README.md.
package main

import (
	_ "embed"
	"os"
	// The time zone database, so business.timezone works on an image
	// without one (distroless/static, scratch).
	_ "time/tzdata"

	"ringback/cli"
)

// The demo's config: built in, so `ringback demo` runs from any folder.
//
//go:embed ringback.example.yaml
var example []byte

func main() {
	cli.ExampleConfig = example
	os.Exit(cli.Run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Command ringback turns every missed phone call into an owned, timed task
// in the team's chat. See README.md.
package main

import (
	"os"

	"ringback/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

//go:build !linux

// Command edgebill-lab runs the whole of edgebill on one Linux machine;
// it needs network namespaces, so elsewhere it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "edgebill-lab: needs Linux (network namespaces, AF_PACKET)")
	os.Exit(1)
}

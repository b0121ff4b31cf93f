// Command billd is edgebill's reconciliation server: see `billd help`
// and package github.com/edgebill/edgebill/server.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgebill/edgebill/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := server.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

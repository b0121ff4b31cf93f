// Package httpserve runs an http.Server as a task: until its context ends,
// then a bounded graceful shutdown. It lives in internal/ because two of
// gatewayd's packages serve HTTP this way and it is no wire contract.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace bounds how long Serve waits for requests in flight once
// ctx has ended; longer ones (event streams) are cut.
const ShutdownGrace = 2 * time.Second

// Serve serves srv on ln until ctx ends, then shuts it down. It returns
// nil after a clean shutdown, or the error that stopped serving.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	srv.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

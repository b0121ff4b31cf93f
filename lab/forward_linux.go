package lab

import (
	"context"
	"io"
	"net"
	"sync"
	"time"
)

// ForwardTCP makes a service inside a namespace reachable from this
// process's own namespace (the host, for the demo's dashboard and live
// page URLs) without touching the host's network: it listens on listen
// (e.g. "127.0.0.1:0") here and carries each connection to target, dialled
// inside ns. It returns the address it listens on; the listener and every
// open connection are closed when t ends.
func ForwardTCP(t T, listen string, ns *Netns, target string) string {
	t.Helper()
	l, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatalf("lab: forward: %v", err)
	}
	f := &forwarder{l: l, ns: ns, target: target, conns: map[net.Conn]struct{}{}}
	ctx, cancel := context.WithCancel(context.Background())
	f.wg.Add(1)
	go f.serve(ctx)
	t.Cleanup(func() {
		cancel()
		l.Close()
		f.mu.Lock()
		for c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return l.Addr().String()
}

// maxForwardConns bounds the connections one forwarder carries at once.
const maxForwardConns = 256

type forwarder struct {
	l      net.Listener
	ns     *Netns
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (f *forwarder) track(c net.Conn, add bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !add {
		delete(f.conns, c)
		return true
	}
	if len(f.conns) >= maxForwardConns {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) serve(ctx context.Context) {
	defer f.wg.Done()
	for {
		c, err := f.l.Accept()
		if err != nil {
			return // closed at cleanup
		}
		if !f.track(c, true) {
			c.Close()
			continue
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.track(c, false)
			defer c.Close()
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			up, err := f.ns.DialContext(dctx, "tcp", f.target)
			cancel()
			if err != nil {
				return
			}
			if !f.track(up, true) {
				up.Close()
				return
			}
			defer f.track(up, false)
			defer up.Close()
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				done <- struct{}{}
			}
			go pipe(up, c)
			go pipe(c, up)
			<-done
			// One side finished; give the other a moment to drain, then
			// close both so the second copy ends too.
			pending := 1
			select {
			case <-done:
				pending = 0
			case <-time.After(10 * time.Second):
			case <-ctx.Done():
			}
			c.Close()
			up.Close()
			if pending == 1 {
				<-done
			}
		}()
	}
}

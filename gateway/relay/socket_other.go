//go:build !linux

package relay

import "errors"

type sock struct{}

type rxBatch struct{}

func (s *sock) newRx([][]byte, []int) *rxBatch { return nil }
func (r *rxBatch) read() (int, error)          { return 0, errors.New("relay: unsupported") }

type txBatch struct{}

func (s *sock) newTx() *txBatch      { return nil }
func (t *txBatch) send([][]byte) int { return 0 }

func openPort(name string, offload bool) (*port, error) {
	return nil, errors.New("relay: AF_PACKET sockets need Linux")
}

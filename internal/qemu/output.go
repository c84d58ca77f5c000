package qemu

import (
	"bytes"
	"net"
	"sync"
)

// Output collects a guest's console while it runs: Config.Stdout writes to
// it from QEMU's copier while the caller reads what has arrived so far
// (waiting for a "listening" line, say).
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for a
// host forward or a socket network between guests.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Command fakenet checks the kernel's socket plumbing with a stand-in
// network service: every socket is an echo peer. It registers with
// kernel.ServeNet, answers connect with EINPROGRESS and completes it through
// SetSockAddr and SetReady, and echoes what is written. Go's net package
// then dials, writes and reads through the kernel exactly as it would with
// the real service: socket() and getpeername() answered by the kernel,
// readiness through epoll.
package main

import (
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/xairrosx/xairrosx/kernel"
)

const (
	epollIn  = 0x1
	epollOut = 0x4
)

type sock struct {
	mu   sync.Mutex
	data []byte
}

var (
	mu    sync.Mutex
	socks = map[int32]*sock{}
)

func get(h int32) *sock {
	for i := 0; i < 1000; i++ {
		mu.Lock()
		s := socks[h]
		mu.Unlock()
		if s != nil {
			return s
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

func serve(r *kernel.Request) (int64, int64) {
	h := int32(r.Args[0])
	switch r.Nr {
	case kernel.NrSocketCreate:
		mu.Lock()
		socks[h] = &sock{}
		mu.Unlock()
		return 0, 0
	case syscall.SYS_CLOSE:
		mu.Lock()
		delete(socks, h)
		mu.Unlock()
		return 0, 0
	}
	s := get(h)
	if s == nil {
		return -int64(syscall.EBADF), 0
	}
	switch r.Nr {
	case syscall.SYS_CONNECT:
		peer := append([]byte(nil), kernel.UserBytes(r.Args[1], r.Args[2])...)
		go func() {
			time.Sleep(5 * time.Millisecond)
			local := append([]byte(nil), peer...)
			local[2], local[3] = 0xC0, 0x01 // port 49153
			kernel.SetSockAddr(h, false, local)
			kernel.SetSockAddr(h, true, peer)
			kernel.SetReady(h, epollOut)
		}()
		return -int64(syscall.EINPROGRESS), 0
	case syscall.SYS_GETSOCKOPT:
		if r.Args[3] != 0 {
			b := kernel.UserBytes(r.Args[3], 4)
			b[0], b[1], b[2], b[3] = 0, 0, 0, 0
		}
		return 0, 0
	case syscall.SYS_SETSOCKOPT:
		return 0, 0
	case syscall.SYS_WRITE:
		s.mu.Lock()
		s.data = append(s.data, kernel.UserBytes(r.Args[1], r.Args[2])...)
		s.mu.Unlock()
		kernel.SetReady(h, epollIn|epollOut)
		return int64(r.Args[2]), 0
	case syscall.SYS_READ:
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.data) == 0 {
			return -int64(syscall.EAGAIN), 0
		}
		n := copy(kernel.UserBytes(r.Args[1], r.Args[2]), s.data)
		s.data = s.data[n:]
		if len(s.data) == 0 {
			kernel.SetReady(h, epollOut)
		}
		return int64(n), 0
	}
	return -int64(syscall.EOPNOTSUPP), 0
}

func main() {
	kernel.ServeNet(serve)
	_, err := net.Dial("tcp", "[::1]:80")
	fmt.Println("MPTCP refused, IPv6 socket made:", err == nil || err != nil)
	c, err := net.Dial("tcp", "10.1.2.3:7")
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	fmt.Println("remote", c.RemoteAddr(), "local", c.LocalAddr())
	for i := 0; i < 3; i++ {
		msg := fmt.Sprintf("ping %d", i)
		c.Write([]byte(msg))
		buf := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		fmt.Printf("echo %q %v\n", buf[:n], err)
	}
	fmt.Println("close:", c.Close())
}

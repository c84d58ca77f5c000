package sockets

import (
	"encoding/binary"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/net/stack"
)

// fakeKernel stands in for the kernel: a user memory arena that addresses
// index, and the readiness and addresses the socket layer reports.
type fakeKernel struct {
	t *testing.T

	mu    sync.Mutex
	cond  *sync.Cond
	mem   []byte
	next  uint64
	ready map[int32]uint32
	addrs map[[2]int32][]byte // {handle, peer}
	// outBeforePeer records handles that reported EPOLLOUT after a connect
	// started while no peer address was set (a contract violation).
	connecting    map[int32]bool
	outBeforePeer []int32
}

const memBase = 0x10000

func newFake(t *testing.T) (*fakeKernel, *Table) {
	k := &fakeKernel{t: t, mem: make([]byte, 1<<25), next: 64,
		ready: map[int32]uint32{}, addrs: map[[2]int32][]byte{}, connecting: map[int32]bool{}}
	k.cond = sync.NewCond(&k.mu)
	st, err := stack.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return k, New(st.Stack, k)
}

// SetReady implements Kernel.SetReady.
func (k *fakeKernel) SetReady(h int32, ev uint32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ev&EPOLLOUT != 0 && k.connecting[h] {
		delete(k.connecting, h)
		if ev&(EPOLLERR|EPOLLHUP) == 0 && k.addrs[[2]int32{h, 1}] == nil {
			k.outBeforePeer = append(k.outBeforePeer, h)
		}
	}
	k.ready[h] = ev
	k.cond.Broadcast()
}

// SetSockAddr implements Kernel.SetSockAddr.
func (k *fakeKernel) SetSockAddr(h int32, peer bool, sa []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := int32(0)
	if peer {
		p = 1
	}
	k.addrs[[2]int32{h, p}] = append([]byte(nil), sa...)
}

// User implements Kernel.User.
func (k *fakeKernel) User(addr, n uint64) ([]byte, bool) {
	if addr < memBase || addr-memBase > uint64(len(k.mem)) || n > uint64(len(k.mem))-(addr-memBase) {
		return nil, false
	}
	o := addr - memBase
	return k.mem[o : o+n : o+n], true
}

// alloc returns the user address of n fresh bytes holding b (if given).
func (k *fakeKernel) alloc(n int, b ...byte) uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	a := k.next
	k.next += uint64(n+15) &^ 15
	if k.next > uint64(len(k.mem)) {
		k.t.Fatal("fake user memory exhausted")
	}
	copy(k.mem[a:a+uint64(n)], b)
	return memBase + a
}

func (k *fakeKernel) bytes(addr uint64, n int) []byte {
	b, ok := k.User(addr, uint64(n))
	if !ok {
		k.t.Fatalf("bad fake address %#x", addr)
	}
	return b
}

func (k *fakeKernel) u32(addr uint64) uint32 { return binary.LittleEndian.Uint32(k.bytes(addr, 4)) }

// waitReady waits until h's readiness has one of the bits in mask.
func (k *fakeKernel) waitReady(h int32, mask uint32) uint32 {
	k.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	go func() { // wake the wait at the deadline
		time.Sleep(time.Until(deadline))
		k.cond.Broadcast()
	}()
	k.mu.Lock()
	defer k.mu.Unlock()
	for k.ready[h]&mask == 0 {
		if time.Now().After(deadline) {
			k.t.Fatalf("handle %#x: readiness %#x never had %#x", h, k.ready[h], mask)
		}
		k.cond.Wait()
	}
	return k.ready[h]
}

func (k *fakeKernel) readiness(h int32) uint32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ready[h]
}

func (k *fakeKernel) sockAddr(h int32, peer bool) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := int32(0)
	if peer {
		p = 1
	}
	return k.addrs[[2]int32{h, p}]
}

// client issues system calls the way Go's net package does.
type client struct {
	k    *fakeKernel
	t    *Table
	next int32
}

func newClient(t *testing.T) *client {
	k, tb := newFake(t)
	return &client{k: k, t: tb, next: 1 << 24}
}

func (c *client) call(nr uint64, a ...uint64) int64 {
	var args [6]uint64
	copy(args[:], a)
	return c.t.Serve(nr, args)
}

// errno turns a negative result into its errno (0 for success).
func errno(r int64) syscall.Errno {
	if r < 0 {
		return syscall.Errno(-r)
	}
	return 0
}

func (c *client) socket(family, typ int) int32 {
	h := c.next
	c.next++
	if r := c.call(NrSocketCreate, uint64(h), uint64(family), uint64(typ), 0); r != 0 {
		c.k.t.Fatalf("create: %v", errno(r))
	}
	return h
}

func (c *client) sockaddr(sa []byte) (uint64, uint64) {
	return c.k.alloc(len(sa), sa...), uint64(len(sa))
}

func (c *client) bind(h int32, sa []byte) syscall.Errno {
	a, n := c.sockaddr(sa)
	return errno(c.call(syscall.SYS_BIND, uint64(h), a, n))
}

func (c *client) connect(h int32, sa []byte) syscall.Errno {
	a, n := c.sockaddr(sa)
	return errno(c.call(syscall.SYS_CONNECT, uint64(h), a, n))
}

func (c *client) setInt(h int32, level, name, v int) syscall.Errno {
	a := c.k.alloc(4)
	binary.LittleEndian.PutUint32(c.k.bytes(a, 4), uint32(v))
	return errno(c.call(syscall.SYS_SETSOCKOPT, uint64(h), uint64(level), uint64(name), a, 4))
}

func (c *client) getInt(h int32, level, name int) (int, syscall.Errno) {
	a, l := c.k.alloc(4), c.k.alloc(4, 4)
	r := c.call(syscall.SYS_GETSOCKOPT, uint64(h), uint64(level), uint64(name), a, l)
	return int(int32(c.k.u32(a))), errno(r)
}

func (c *client) write(h int32, b []byte) (int, syscall.Errno) {
	a := c.k.alloc(len(b), b...)
	r := c.call(syscall.SYS_WRITE, uint64(h), a, uint64(len(b)))
	return int(max(r, 0)), errno(r)
}

func (c *client) read(h int32, n int) ([]byte, syscall.Errno) {
	a := c.k.alloc(n)
	r := c.call(syscall.SYS_READ, uint64(h), a, uint64(n))
	if r < 0 {
		return nil, errno(r)
	}
	return append([]byte(nil), c.k.bytes(a, int(r))...), 0
}

// readAll reads until n bytes arrived, waiting for EPOLLIN like Go's poller.
func (c *client) readAll(h int32, n int) []byte {
	var got []byte
	for len(got) < n {
		b, e := c.read(h, n-len(got))
		switch {
		case e == syscall.EAGAIN:
			c.k.waitReady(h, EPOLLIN|EPOLLHUP|EPOLLERR)
		case e != 0:
			c.k.t.Fatalf("read %#x: %v", h, e)
		case len(b) == 0:
			c.k.t.Fatalf("read %#x: end of stream after %d of %d bytes", h, len(got), n)
		}
		got = append(got, b...)
	}
	return got
}

// accept accepts a connection, waiting for EPOLLIN; it returns the new
// handle and the peer address the call wrote.
func (c *client) accept(h int32) (int32, []byte) {
	for {
		a, l := c.k.alloc(128), c.k.alloc(4, 128)
		r := c.call(syscall.SYS_ACCEPT4, uint64(h), a, l, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if errno(r) == syscall.EAGAIN {
			c.k.waitReady(h, EPOLLIN)
			continue
		}
		if r < 0 {
			c.k.t.Fatalf("accept: %v", errno(r))
		}
		return int32(r), append([]byte(nil), c.k.bytes(a, int(c.k.u32(l)))...)
	}
}

// dial connects a new socket of family to sa as Go does: connect,
// EINPROGRESS, wait for EPOLLOUT, SO_ERROR.
func (c *client) dial(family int, sa []byte) (int32, syscall.Errno) {
	h := c.socket(family, syscall.SOCK_STREAM)
	c.k.mu.Lock()
	c.k.connecting[h] = true
	c.k.mu.Unlock()
	switch e := c.connect(h, sa); e {
	case 0:
	case syscall.EINPROGRESS:
		c.k.waitReady(h, EPOLLOUT|EPOLLERR|EPOLLHUP)
		v, e := c.getInt(h, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if e != 0 {
			c.k.t.Fatalf("SO_ERROR: %v", e)
		}
		if v != 0 {
			return h, syscall.Errno(v)
		}
	default:
		return h, e
	}
	return h, 0
}

func (c *client) close(h int32) syscall.Errno {
	return errno(c.call(syscall.SYS_CLOSE, uint64(h)))
}

func sa4(ip [4]byte, port uint16) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b, syscall.AF_INET)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], ip[:])
	return b
}

func sa6(ip [16]byte, port uint16) []byte {
	b := make([]byte, 28)
	binary.LittleEndian.PutUint16(b, syscall.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[8:], ip[:])
	return b
}

func port(sa []byte) uint16 { return binary.BigEndian.Uint16(sa[2:]) }

var (
	lo4 = [4]byte{127, 0, 0, 1}
	lo6 = [16]byte{15: 1}
)

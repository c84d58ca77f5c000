package sockets

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

// listen4 returns a TCP socket listening on 127.0.0.1 and its port.
func (c *client) listen(family int, sa []byte) (int32, uint16) {
	l := c.socket(family, syscall.SOCK_STREAM)
	if e := c.setInt(l, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); e != 0 {
		c.k.t.Fatalf("SO_REUSEADDR: %v", e)
	}
	if e := c.bind(l, sa); e != 0 {
		c.k.t.Fatalf("bind: %v", e)
	}
	if e := errno(c.call(syscall.SYS_LISTEN, uint64(l), 128)); e != 0 {
		c.k.t.Fatalf("listen: %v", e)
	}
	local := c.k.sockAddr(l, false)
	if local == nil || port(local) == 0 {
		c.k.t.Fatalf("listen published no local address with a port: %x", local)
	}
	return l, port(local)
}

func TestTCPLoopback(t *testing.T) {
	c := newClient(t)
	l, p := c.listen(syscall.AF_INET, sa4(lo4, 0))
	if _, e := c.read(l, 10); e != syscall.ENOTCONN && e != syscall.EINVAL {
		t.Errorf("read on a listener: %v", e)
	}
	a, l4 := c.k.alloc(16), c.k.alloc(4, 16)
	if e := errno(c.call(syscall.SYS_ACCEPT4, uint64(l), a, l4, 0)); e != syscall.EAGAIN {
		t.Errorf("accept with nothing pending: %v, want EAGAIN", e)
	}
	d, e := c.dial(syscall.AF_INET, sa4(lo4, p))
	if e != 0 {
		t.Fatalf("dial: %v", e)
	}
	s, peer := c.accept(l)
	if s < AcceptedBase {
		t.Errorf("accepted handle %#x below %#x", s, AcceptedBase)
	}
	dl := c.k.sockAddr(d, false)
	if !bytes.Equal(peer, dl) || !bytes.Equal(peer[4:8], lo4[:]) {
		t.Errorf("accept's peer %x, dialer's local address %x", peer, dl)
	}
	if got := c.k.sockAddr(s, true); !bytes.Equal(got, dl) {
		t.Errorf("accepted socket's peer address %x, want %x", got, dl)
	}
	if got := c.k.sockAddr(d, true); port(got) != p {
		t.Errorf("dialer's peer address %x, want port %d", got, p)
	}
	if len(c.k.outBeforePeer) != 0 {
		t.Errorf("EPOLLOUT reported before the peer address on %x", c.k.outBeforePeer)
	}
	if _, e := c.read(s, 10); e != syscall.EAGAIN {
		t.Errorf("read with no data: %v, want EAGAIN", e)
	}
	if c.k.readiness(s)&EPOLLIN != 0 {
		t.Errorf("EPOLLIN set with no data: %#x", c.k.readiness(s))
	}
	msg := []byte("hello over gVisor loopback")
	if n, e := c.write(d, msg); n != len(msg) || e != 0 {
		t.Fatalf("write: %d, %v", n, e)
	}
	c.k.waitReady(s, EPOLLIN)
	if got := c.readAll(s, len(msg)); !bytes.Equal(got, msg) {
		t.Errorf("read %q, want %q", got, msg)
	}
	// A bigger transfer the other way, in pieces, as a server's reply.
	big := bytes.Repeat([]byte("0123456789abcdef"), 8192)
	go func() {
		for off := 0; off < len(big); {
			n, e := c.write(s, big[off:])
			if e == syscall.EAGAIN {
				c.k.waitReady(s, EPOLLOUT)
				continue
			}
			if e != 0 {
				t.Errorf("write: %v", e)
				return
			}
			off += n
		}
	}()
	if got := c.readAll(d, len(big)); !bytes.Equal(got, big) {
		t.Errorf("bulk transfer corrupted")
	}
	// Half-close: the peer reads end of stream and sees EPOLLRDHUP.
	if e := errno(c.call(syscall.SYS_SHUTDOWN, uint64(d), syscall.SHUT_WR)); e != 0 {
		t.Fatalf("shutdown: %v", e)
	}
	c.k.waitReady(s, EPOLLRDHUP)
	if b, e := c.read(s, 10); len(b) != 0 || e != 0 {
		t.Errorf("read after the peer's shutdown: %q, %v; want end of stream", b, e)
	}
	if _, e := c.write(d, msg); e != syscall.EPIPE {
		t.Errorf("write after shutdown: %v, want EPIPE", e)
	}
	for _, h := range []int32{d, s, l} {
		if e := c.close(h); e != 0 {
			t.Errorf("close %#x: %v", h, e)
		}
	}
	if n := c.t.Len(); n != 0 {
		t.Errorf("%d sockets left after closing all", n)
	}
}

func TestConnectRefused(t *testing.T) {
	c := newClient(t)
	l, p := c.listen(syscall.AF_INET, sa4(lo4, 0))
	c.close(l)
	if _, e := c.dial(syscall.AF_INET, sa4(lo4, p)); e != syscall.ECONNREFUSED {
		t.Errorf("dial to a closed port: %v, want ECONNREFUSED", e)
	}
}

func TestIPv6AndDualStack(t *testing.T) {
	c := newClient(t)
	// ::1 only.
	l6, p6 := c.listen(syscall.AF_INET6, sa6(lo6, 0))
	d6, e := c.dial(syscall.AF_INET6, sa6(lo6, p6))
	if e != 0 {
		t.Fatalf("dial [::1]: %v", e)
	}
	s6, peer := c.accept(l6)
	if len(peer) != 28 || !bytes.Equal(peer[8:24], lo6[:]) {
		t.Errorf("peer of an IPv6 connection: %x", peer)
	}
	c.write(d6, []byte("six"))
	if got := c.readAll(s6, 3); string(got) != "six" {
		t.Errorf("read %q", got)
	}
	// A dual-stack listener on [::] accepts an IPv4 connection and
	// reports the peer as an IPv4-mapped address, as Linux does.
	l := c.socket(syscall.AF_INET6, syscall.SOCK_STREAM)
	if e := c.setInt(l, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0); e != 0 {
		t.Fatalf("IPV6_V6ONLY: %v", e)
	}
	if v, _ := c.getInt(l, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY); v != 0 {
		t.Errorf("IPV6_V6ONLY reads %d after setting 0", v)
	}
	if e := c.bind(l, sa6([16]byte{}, 0)); e != 0 {
		t.Fatalf("bind [::]: %v", e)
	}
	if e := errno(c.call(syscall.SYS_LISTEN, uint64(l), 16)); e != 0 {
		t.Fatalf("listen: %v", e)
	}
	p := port(c.k.sockAddr(l, false))
	d, e := c.dial(syscall.AF_INET, sa4(lo4, p))
	if e != 0 {
		t.Fatalf("dial 127.0.0.1 to a dual-stack listener: %v", e)
	}
	_, peer = c.accept(l)
	mapped := [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}
	if len(peer) != 28 || !bytes.Equal(peer[8:24], mapped[:]) || port(peer) != port(c.k.sockAddr(d, false)) {
		t.Errorf("peer of an IPv4 connection on a dual-stack listener: %x", peer)
	}
}

func TestUDP(t *testing.T) {
	c := newClient(t)
	a := c.socket(syscall.AF_INET, syscall.SOCK_DGRAM)
	b := c.socket(syscall.AF_INET, syscall.SOCK_DGRAM)
	if e := c.setInt(a, syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1); e != 0 {
		t.Fatalf("SO_BROADCAST: %v", e)
	}
	for _, h := range []int32{a, b} {
		if e := c.bind(h, sa4(lo4, 0)); e != 0 {
			t.Fatalf("bind: %v", e)
		}
	}
	pa, pb := port(c.k.sockAddr(a, false)), port(c.k.sockAddr(b, false))
	if pa == 0 || pb == 0 || pa == pb {
		t.Fatalf("ports %d, %d", pa, pb)
	}
	buf := c.k.alloc(64)
	if e := errno(c.call(syscall.SYS_RECVFROM, uint64(b), buf, 64, 0, 0, 0)); e != syscall.EAGAIN {
		t.Errorf("recvfrom with nothing queued: %v", e)
	}
	to, tolen := c.sockaddr(sa4(lo4, pb))
	msg := []byte("datagram one")
	m := c.k.alloc(len(msg), msg...)
	if r := c.call(syscall.SYS_SENDTO, uint64(a), m, uint64(len(msg)), 0, to, tolen); r != int64(len(msg)) {
		t.Fatalf("sendto: %d (%v)", r, errno(r))
	}
	c.k.waitReady(b, EPOLLIN)
	from, fromlen := c.k.alloc(16), c.k.alloc(4, 16)
	// Peek with a short buffer and MSG_TRUNC: the datagram's full length.
	r := c.call(syscall.SYS_RECVFROM, uint64(b), buf, 4, msgPeek|msgTrunc, from, fromlen)
	if r != int64(len(msg)) || string(c.k.bytes(buf, 4)) != "data" {
		t.Errorf("peek: %d %q", r, c.k.bytes(buf, 4))
	}
	r = c.call(syscall.SYS_RECVFROM, uint64(b), buf, 64, 0, from, fromlen)
	if r != int64(len(msg)) || !bytes.Equal(c.k.bytes(buf, int(r)), msg) {
		t.Errorf("recvfrom: %d (%v)", r, errno(r))
	}
	if c.k.u32(fromlen) != 16 || port(c.k.bytes(from, 16)) != pa {
		t.Errorf("sender address %x (len %d), want port %d", c.k.bytes(from, 16), c.k.u32(fromlen), pa)
	}
	// sendmsg with two iovecs, recvmsg into two iovecs with a name.
	iov := func(parts ...[]byte) (uint64, uint64) {
		v := c.k.alloc(16 * len(parts))
		for i, p := range parts {
			pa := c.k.alloc(len(p), p...)
			binary.LittleEndian.PutUint64(c.k.bytes(v+uint64(16*i), 8), pa)
			binary.LittleEndian.PutUint64(c.k.bytes(v+uint64(16*i)+8, 8), uint64(len(p)))
		}
		return v, uint64(len(parts))
	}
	msghdr := func(name, namelen, iov, iovlen uint64) uint64 {
		h := c.k.alloc(56)
		hb := c.k.bytes(h, 56)
		binary.LittleEndian.PutUint64(hb[0:], name)
		binary.LittleEndian.PutUint32(hb[8:], uint32(namelen))
		binary.LittleEndian.PutUint64(hb[16:], iov)
		binary.LittleEndian.PutUint64(hb[24:], iovlen)
		return h
	}
	v, n := iov([]byte("two "), []byte("parts"))
	if r := c.call(syscall.SYS_SENDMSG, uint64(a), msghdr(to, tolen, v, n), 0); r != 9 {
		t.Fatalf("sendmsg: %d (%v)", r, errno(r))
	}
	c.k.waitReady(b, EPOLLIN)
	v, n = iov(make([]byte, 3), make([]byte, 3))
	name := c.k.alloc(16)
	h := msghdr(name, 16, v, n)
	if r := c.call(syscall.SYS_RECVMSG, uint64(b), h, 0); r != 6 {
		t.Fatalf("recvmsg: %d (%v)", r, errno(r))
	}
	p0 := binary.LittleEndian.Uint64(c.k.bytes(v, 8))
	p1 := binary.LittleEndian.Uint64(c.k.bytes(v+16, 8))
	if got := string(c.k.bytes(p0, 3)) + string(c.k.bytes(p1, 3)); got != "two pa" {
		t.Errorf("recvmsg scattered %q", got)
	}
	if f := c.k.u32(h + 48); f&msgTrunc == 0 {
		t.Errorf("msg_flags %#x lacks MSG_TRUNC", f)
	}
	if port(c.k.bytes(name, 16)) != pa || c.k.u32(h+8) != 16 {
		t.Errorf("recvmsg name %x", c.k.bytes(name, 16))
	}
	// Connected UDP: write/read.
	if e := c.connect(a, sa4(lo4, pb)); e != 0 {
		t.Fatalf("connect UDP: %v", e)
	}
	if port(c.k.sockAddr(a, true)) != pb {
		t.Errorf("connected UDP peer %x", c.k.sockAddr(a, true))
	}
	c.write(a, []byte("connected"))
	c.k.waitReady(b, EPOLLIN)
	if got, e := c.read(b, 64); string(got) != "connected" || e != 0 {
		t.Errorf("read %q %v", got, e)
	}
}

func TestBadInput(t *testing.T) {
	c := newClient(t)
	old := CreateWait
	CreateWait = 50 * time.Millisecond
	t.Cleanup(func() { CreateWait = old })
	if e := errno(c.call(syscall.SYS_LISTEN, 1<<24+999, 1)); e != syscall.EBADF {
		t.Errorf("call on a handle never created: %v, want EBADF", e)
	}
	c.t.mu.Lock()
	waits := len(c.t.pending)
	c.t.mu.Unlock()
	if waits != 0 {
		t.Errorf("%d waits for creation left after the timeout", waits)
	}
	if e := errno(c.call(syscall.SYS_LISTEN, AcceptedBase+999, 1)); e != syscall.EBADF {
		t.Errorf("call on an unknown accepted handle: %v, want EBADF", e)
	}
	raw := c.next
	c.next++
	if r := c.call(NrSocketCreate, uint64(raw), syscall.AF_INET, syscall.SOCK_RAW, 0); errno(r) != syscall.ESOCKTNOSUPPORT {
		t.Errorf("SOCK_RAW: %v", errno(r))
	}
	if e := c.bind(raw, sa4(lo4, 0)); e != syscall.ESOCKTNOSUPPORT {
		t.Errorf("bind on a socket whose creation failed: %v", e)
	}
	sctp := c.next
	if r := c.call(NrSocketCreate, uint64(sctp), syscall.AF_INET, syscall.SOCK_STREAM, 132); errno(r) != syscall.EPROTONOSUPPORT {
		t.Errorf("SOCK_STREAM with IPPROTO_SCTP: %v", errno(r))
	}
	h := c.socket(syscall.AF_INET, syscall.SOCK_STREAM)
	if e := c.bind(h, sa6(lo6, 0)); e != syscall.EINVAL && e != syscall.EAFNOSUPPORT {
		t.Errorf("bind an AF_INET socket to an IPv6 address: %v", e)
	}
	if e := c.bind(h, []byte{2, 0, 1}); e != syscall.EINVAL {
		t.Errorf("bind with a 3-byte address: %v", e)
	}
	if e := errno(c.call(syscall.SYS_BIND, uint64(h), 8, 16)); e != syscall.EFAULT {
		t.Errorf("bind with a bad pointer: %v", e)
	}
	if e := c.setInt(h, syscall.SOL_SOCKET, 9999, 1); e != syscall.ENOPROTOOPT {
		t.Errorf("unknown option: %v", e)
	}
	if e := c.setInt(h, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1); e != syscall.ENOPROTOOPT {
		t.Errorf("IPV6_V6ONLY on AF_INET: %v", e)
	}
	if v, e := c.getInt(h, syscall.SOL_SOCKET, syscall.SO_TYPE); v != syscall.SOCK_STREAM || e != 0 {
		t.Errorf("SO_TYPE: %d %v", v, e)
	}
	c.setInt(h, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	if v, e := c.getInt(h, syscall.IPPROTO_TCP, syscall.TCP_NODELAY); v != 1 || e != 0 {
		t.Errorf("TCP_NODELAY: %d %v", v, e)
	}
	for _, kv := range [][2]int{{syscall.TCP_KEEPIDLE, 15}, {syscall.TCP_KEEPINTVL, 15}, {syscall.TCP_KEEPCNT, 9}} {
		if e := c.setInt(h, syscall.IPPROTO_TCP, kv[0], kv[1]); e != 0 {
			t.Errorf("TCP option %d: %v", kv[0], e)
		}
	}
	if e := c.setInt(h, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 0); e != syscall.EINVAL {
		t.Errorf("TCP_KEEPIDLE 0: %v", e)
	}
	// sendmsg/recvmsg with a bad msghdr or iovec: EFAULT, no crash.
	u := c.socket(syscall.AF_INET, syscall.SOCK_DGRAM)
	if e := errno(c.call(syscall.SYS_SENDMSG, uint64(u), 8, 0)); e != syscall.EFAULT {
		t.Errorf("sendmsg with a bad msghdr: %v", e)
	}
	m := c.k.alloc(56)
	binary.LittleEndian.PutUint64(c.k.bytes(m+16, 8), 8) // iov at a bad address
	binary.LittleEndian.PutUint64(c.k.bytes(m+24, 8), 1)
	if e := errno(c.call(syscall.SYS_RECVMSG, uint64(u), m, 0)); e != syscall.EFAULT {
		t.Errorf("recvmsg with a bad iovec: %v", e)
	}
	binary.LittleEndian.PutUint64(c.k.bytes(m+24, 8), 1<<20)
	if e := errno(c.call(syscall.SYS_SENDMSG, uint64(u), m, 0)); e != syscall.EMSGSIZE {
		t.Errorf("sendmsg with 1<<20 iovecs: %v", e)
	}
	if e := errno(c.call(syscall.SYS_LISTEN, uint64(u), 1)); e != syscall.EOPNOTSUPP {
		t.Errorf("listen on UDP: %v", e)
	}
	if e := errno(c.call(syscall.SYS_SHUTDOWN, uint64(h), 7)); e != syscall.EINVAL {
		t.Errorf("shutdown how=7: %v", e)
	}
	if e := errno(c.call(9999, uint64(h))); e != syscall.ENOSYS {
		t.Errorf("unknown call: %v", e)
	}
}

// TestCreateRace sends calls on a handle before its creation request, as
// happens when the kernel forwards socket() asynchronously.
func TestCreateRace(t *testing.T) {
	c := newClient(t)
	h := c.next
	c.next++
	done := make(chan syscall.Errno)
	go func() { done <- c.bind(h, sa4(lo4, 0)) }()
	time.Sleep(20 * time.Millisecond)
	if r := c.call(NrSocketCreate, uint64(h), syscall.AF_INET, syscall.SOCK_DGRAM, 0); r != 0 {
		t.Fatalf("create: %v", errno(r))
	}
	if e := <-done; e != 0 {
		t.Errorf("bind that waited for the creation: %v", e)
	}
	if port(c.k.sockAddr(h, false)) == 0 {
		t.Errorf("no local address after bind")
	}
}

// TestManyConnections runs a TCP echo with concurrent clients.
func TestManyConnections(t *testing.T) {
	c := newClient(t)
	var mu sync.Mutex // the fake client allocates handles without locking
	l, p := c.listen(syscall.AF_INET, sa4(lo4, 0))
	const conns = 32
	go func() {
		for i := 0; i < conns; i++ {
			s, _ := c.accept(l)
			go func() {
				buf := c.readAll(s, 64)
				c.write(s, buf)
			}()
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			h := c.next
			c.next++
			mu.Unlock()
			c.call(NrSocketCreate, uint64(h), syscall.AF_INET, syscall.SOCK_STREAM, 0)
			switch e := c.connect(h, sa4(lo4, p)); e {
			case 0, syscall.EINPROGRESS:
			default:
				t.Errorf("connect: %v", e)
				return
			}
			c.k.waitReady(h, EPOLLOUT)
			msg := []byte(fmt.Sprintf("%064d", i))
			c.write(h, msg)
			if got := c.readAll(h, 64); !bytes.Equal(got, msg) {
				t.Errorf("connection %d echoed %q", i, got)
			}
			c.close(h)
		}()
	}
	wg.Wait()
}

// TestPing sends an ICMP echo request through a ping socket
// (SOCK_DGRAM, IPPROTO_ICMP) to 127.0.0.1 and reads the reply.
func TestPing(t *testing.T) {
	c := newClient(t)
	h := c.next
	c.next++
	if r := c.call(NrSocketCreate, uint64(h), syscall.AF_INET, syscall.SOCK_DGRAM, syscall.IPPROTO_ICMP); r != 0 {
		t.Fatalf("ping socket: %v", errno(r))
	}
	req := []byte{8, 0, 0, 0, 0, 0, 0, 7, 'p', 'i', 'n', 'g'} // echo request, seq 7
	to, tolen := c.sockaddr(sa4(lo4, 0))
	m := c.k.alloc(len(req), req...)
	if r := c.call(syscall.SYS_SENDTO, uint64(h), m, uint64(len(req)), 0, to, tolen); r != int64(len(req)) {
		t.Fatalf("sendto: %d (%v)", r, errno(r))
	}
	c.k.waitReady(h, EPOLLIN)
	buf := c.k.alloc(64)
	r := c.call(syscall.SYS_RECVFROM, uint64(h), buf, 64, 0, 0, 0)
	if r != int64(len(req)) {
		t.Fatalf("recvfrom: %d (%v)", r, errno(r))
	}
	got := c.k.bytes(buf, int(r))
	if got[0] != 0 || got[7] != 7 || string(got[8:]) != "ping" {
		t.Errorf("reply % x: want an echo reply (type 0) with seq 7 and the payload", got)
	}
}

// Package sockets implements Linux socket semantics over gVisor's netstack
// endpoints for XairrosX: it serves the socket system calls that the kernel
// forwards (bind, listen, accept4, connect, read/write, sendto/recvfrom,
// sendmsg/recvmsg, setsockopt/getsockopt, shutdown, close) on handles,
// with Linux errno values, sockaddr layouts and non-blocking behaviour.
//
// Every operation is non-blocking (Go sets SOCK_NONBLOCK and blocks in its
// own netpoller): an operation that would block returns EAGAIN, connect
// returns EINPROGRESS, and the socket's epoll readiness is reported to the
// kernel (Kernel.SetReady) whenever it changes, so that Go's netpoller
// wakes. Local and peer addresses are published (Kernel.SetSockAddr) before
// bind, listen, connect and accept4 complete, and before an in-progress
// connect reports EPOLLOUT, since the kernel answers getsockname and
// getpeername from them.
//
// The package does not depend on the kernel: it talks to it through the
// Kernel interface, so its tests run on a Linux host with a fake kernel.
//
// Lock order: Table.mu, then socket.mu; neither is held while calling into
// an endpoint's blocking paths.
package sockets

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Kernel is what the socket layer needs from the kernel (package kernel in
// a guest; a fake in tests).
type Kernel interface {
	// SetReady reports the epoll readiness of handle h (EPOLLIN, EPOLLOUT,
	// EPOLLERR, EPOLLHUP, EPOLLRDHUP bits). Level-triggered: the latest
	// call holds.
	SetReady(h int32, events uint32)
	// SetSockAddr records the local (peer=false) or peer address of h in
	// Linux sockaddr layout.
	SetSockAddr(h int32, peer bool, sockaddr []byte)
	// User returns the n bytes of the caller's memory at addr, or ok=false
	// if they are not accessible.
	User(addr, n uint64) (b []byte, ok bool)
}

// NrSocketCreate is the request number (the kernel's private one) that
// creates an endpoint: Args[0]=handle, Args[1]=family, Args[2]=type,
// Args[3]=protocol.
const NrSocketCreate = 2000

// AcceptedBase is the first handle of accepted sockets; the kernel picks the
// handles of created ones below it.
const AcceptedBase = 1 << 28

// CreateWait bounds how long a request on a handle whose (asynchronous)
// creation has not arrived yet waits for it before failing with EBADF.
var CreateWait = 3 * time.Second

// Epoll readiness bits, as Linux and gVisor's waiter both number them.
const (
	EPOLLIN    = 0x1
	EPOLLOUT   = 0x4
	EPOLLERR   = 0x8
	EPOLLHUP   = 0x10
	EPOLLRDHUP = 0x2000
)

const allEvents = waiter.EventIn | waiter.EventOut | waiter.EventErr | waiter.EventHUp | waiter.EventRdHUp

// Table holds the sockets of one stack by handle and serves requests on
// them.
type Table struct {
	st *stack.Stack
	k  Kernel

	mu      sync.Mutex
	socks   map[int32]*socket
	pending map[int32]chan struct{} // closed when the handle is created

	nextAccepted atomic.Int32

	// Sockets whose endpoint signalled an event, for their readiness to
	// be recomputed and reported (see attach). Serve reports them before
	// it returns, so a call's effects on other sockets (a send that makes
	// a loopback peer readable) reach the kernel with the call's result;
	// notifier reports the ones events outside calls queue (packets from
	// the NIC, timers).
	eventMu  sync.Mutex
	events   []*socket
	kick     chan struct{}
	notifier sync.Once
}

// New returns an empty table over st that reports to k.
func New(st *stack.Stack, k Kernel) *Table {
	t := &Table{st: st, k: k, socks: map[int32]*socket{}, pending: map[int32]chan struct{}{}, kick: make(chan struct{}, 1)}
	t.nextAccepted.Store(AcceptedBase)
	return t
}

// socket is one endpoint and what the socket layer tracks about it.
type socket struct {
	t      *Table
	h      int32
	family int
	typ    int
	proto  int
	err    syscall.Errno // creation failed: every call returns it

	ep     tcpip.Endpoint
	wq     *waiter.Queue
	entry  waiter.Entry
	queued atomic.Bool // in t.events
	closed atomic.Bool

	mu         sync.Mutex // orders readiness reports
	connecting bool       // a connect is in progress: publish addresses on completion
	reported   uint32
	first      bool // report the next readiness even if unchanged
	// unconfirmed is set on accepted sockets until the first call on their
	// handle: the kernel may only learn the handle when accept4 completes,
	// so what was reported before may be lost and is reported again.
	unconfirmed atomic.Bool
}

// confirm reports an accepted socket's addresses and readiness again on
// the first call made on its handle.
func (s *socket) confirm() {
	if !s.unconfirmed.Swap(false) {
		return
	}
	s.mu.Lock()
	s.publish(true)
	s.first = true
	s.mu.Unlock()
	s.update()
}

// Len returns the number of open sockets.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.socks)
}

// lookup returns the socket of h, waiting up to CreateWait for its creation
// request when h is not known yet.
func (t *Table) lookup(h int32) (*socket, syscall.Errno) {
	t.mu.Lock()
	s := t.socks[h]
	if s != nil || h < 0 || h >= AcceptedBase {
		t.mu.Unlock()
		if s == nil {
			return nil, syscall.EBADF
		}
		return s, s.err
	}
	ch := t.pending[h]
	if ch == nil {
		ch = make(chan struct{})
		t.pending[h] = ch
	}
	t.mu.Unlock()
	timer := time.NewTimer(CreateWait)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
	}
	t.mu.Lock()
	s = t.socks[h]
	if s == nil && t.pending[h] == ch {
		delete(t.pending, h) // never created: forget the wait
	}
	t.mu.Unlock()
	if s == nil {
		return nil, syscall.EBADF
	}
	return s, s.err
}

// add registers s under its handle and wakes requests waiting for it.
func (t *Table) add(s *socket) {
	t.mu.Lock()
	t.socks[s.h] = s
	if ch := t.pending[s.h]; ch != nil {
		close(ch)
		delete(t.pending, s.h)
	}
	t.mu.Unlock()
}

// Create creates an endpoint under handle h. A failure is remembered: later
// calls on h return it (the caller of socket() did not wait for this).
func (t *Table) Create(h int32, family, typ, proto int) syscall.Errno {
	s := &socket{t: t, h: h, family: family, typ: typ, proto: proto}
	s.err = s.open()
	t.add(s)
	return s.err
}

// open creates the endpoint of a new socket.
func (s *socket) open() syscall.Errno {
	var netProto tcpip.NetworkProtocolNumber
	switch s.family {
	case syscall.AF_INET:
		netProto = ipv4.ProtocolNumber
	case syscall.AF_INET6:
		netProto = ipv6.ProtocolNumber
	default:
		return syscall.EAFNOSUPPORT
	}
	var tp tcpip.TransportProtocolNumber
	switch {
	case s.typ == syscall.SOCK_STREAM && (s.proto == 0 || s.proto == syscall.IPPROTO_TCP):
		tp, s.proto = tcp.ProtocolNumber, syscall.IPPROTO_TCP
	case s.typ == syscall.SOCK_DGRAM && (s.proto == 0 || s.proto == syscall.IPPROTO_UDP):
		tp, s.proto = udp.ProtocolNumber, syscall.IPPROTO_UDP
	case s.typ == syscall.SOCK_DGRAM && s.family == syscall.AF_INET && s.proto == syscall.IPPROTO_ICMP:
		tp = icmp.ProtocolNumber4 // ping socket: echo requests out, replies in
	case s.typ == syscall.SOCK_DGRAM && s.family == syscall.AF_INET6 && s.proto == syscall.IPPROTO_ICMPV6:
		tp = icmp.ProtocolNumber6
	case s.typ == syscall.SOCK_STREAM || s.typ == syscall.SOCK_DGRAM:
		return syscall.EPROTONOSUPPORT
	default:
		return syscall.ESOCKTNOSUPPORT
	}
	wq := new(waiter.Queue)
	ep, err := s.t.st.NewEndpoint(tp, netProto, wq)
	if err != nil {
		return Errno(err)
	}
	s.attach(ep, wq)
	return 0
}

// attach binds s to an endpoint and starts reporting its readiness.
func (s *socket) attach(ep tcpip.Endpoint, wq *waiter.Queue) {
	s.ep, s.wq = ep, wq
	s.first = true
	// The callback may run with endpoint locks held, so it only queues the
	// socket; the readiness is recomputed and reported after the call that
	// caused the event, or by the table's notifier goroutine.
	s.entry = waiter.NewFunctionEntry(allEvents, func(waiter.EventMask) { s.t.queue(s) })
	s.t.notifier.Do(func() { go s.t.notify() })
	wq.EventRegister(&s.entry)
	s.update()
}

// queue records that s had an event, and wakes the notifier.
func (t *Table) queue(s *socket) {
	if s.queued.Swap(true) {
		return
	}
	t.eventMu.Lock()
	t.events = append(t.events, s)
	t.eventMu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// flush reports the readiness of the sockets queued so far.
func (t *Table) flush() {
	for {
		t.eventMu.Lock()
		evs := t.events
		t.events = nil
		t.eventMu.Unlock()
		if len(evs) == 0 {
			return
		}
		for _, s := range evs {
			s.queued.Store(false)
			s.update()
		}
	}
}

// notify reports events that happen outside calls.
func (t *Table) notify() {
	for range t.kick {
		t.flush()
	}
}

// update reports the socket's current readiness if it changed; when an
// in-progress connect has completed it publishes the addresses first.
func (s *socket) update() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return
	}
	ev := uint32(s.ep.Readiness(allEvents))
	if s.connecting && s.established() {
		s.connecting = false
		s.publish(true)
	}
	if ev != s.reported || s.first {
		s.first = false
		s.reported = ev
		s.t.k.SetReady(s.h, ev)
	}
}

// established reports whether the endpoint is connected to a peer.
func (s *socket) established() bool {
	_, err := s.ep.GetRemoteAddress()
	return err == nil
}

// publish reports the local address and, if peer is set, the peer's.
func (s *socket) publish(peer bool) {
	if a, err := s.ep.GetLocalAddress(); err == nil {
		s.t.k.SetSockAddr(s.h, false, EncodeSockaddr(s.family, a))
	}
	if peer {
		if a, err := s.ep.GetRemoteAddress(); err == nil {
			s.t.k.SetSockAddr(s.h, true, EncodeSockaddr(s.family, a))
		}
	}
}

// close releases the endpoint.
func (t *Table) close(h int32) syscall.Errno {
	s, e := t.lookup(h)
	if s == nil {
		return e
	}
	t.mu.Lock()
	delete(t.socks, h)
	t.mu.Unlock()
	if s.ep != nil {
		s.wq.EventUnregister(&s.entry)
		s.mu.Lock()
		s.closed.Store(true)
		s.mu.Unlock()
		s.ep.Close()
	}
	return 0
}

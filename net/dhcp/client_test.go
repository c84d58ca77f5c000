package dhcp_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/xairrosx/xairrosx/net/dhcp"
	"github.com/xairrosx/xairrosx/net/link"
	"github.com/xairrosx/xairrosx/net/stack"
)

// wire is one end of a simulated Ethernet cable: frames it transmits go,
// in order, to the peer's Deliver unless drop says otherwise.
type wire struct {
	mac  net.HardwareAddr
	out  chan []byte
	drop func(frame []byte) bool
}

func (w *wire) MAC() net.HardwareAddr { return w.mac }
func (w *wire) MTU() int              { return 1500 }
func (w *wire) Transmit(frame []byte) error {
	if w.drop == nil || !w.drop(frame) {
		w.out <- append([]byte(nil), frame...)
	}
	return nil
}

// udpDstPort returns the UDP destination port of an Ethernet/IPv4 frame,
// or 0.
func udpDstPort(f []byte) int {
	if len(f) < 14+20+8 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[14+9] != 17 {
		return 0
	}
	ihl := int(f[14]&0xf) * 4
	if len(f) < 14+ihl+4 {
		return 0
	}
	return int(binary.BigEndian.Uint16(f[14+ihl+2:]))
}

var (
	clientMAC  = net.HardwareAddr{2, 0, 0, 0, 0, 0x15}
	serverAddr = netip.MustParseAddr("10.0.0.1")
	leaseAddr  = netip.MustParseAddr("10.0.0.15")
)

// net is a client stack (NIC without an address) and a server stack
// (10.0.0.1/24) joined by a cable.
type testNet struct {
	client, server       *stack.Stack
	clientNIC, serverNIC tcpip.NICID
}

func newNet(t *testing.T, clientDrop func([]byte) bool, serverDrop func([]byte) bool) *testNet {
	t.Helper()
	wc := &wire{mac: clientMAC, out: make(chan []byte, 1024), drop: clientDrop}
	ws := &wire{mac: net.HardwareAddr{2, 0, 0, 0, 0, 1}, out: make(chan []byte, 1024), drop: serverDrop}
	ec, es := link.New(wc), link.New(ws)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	pump := func(w *wire, to *link.Endpoint) {
		for {
			select {
			case f := <-w.out:
				to.Deliver(f)
			case <-done:
				return
			}
		}
	}
	go pump(wc, es)
	go pump(ws, ec)
	n := &testNet{}
	mk := func(ep *link.Endpoint, addr tcpip.AddressWithPrefix) (*stack.Stack, tcpip.NICID) {
		s, err := stack.New()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		id, err := s.AddNIC(stack.NIC{Link: ep, Addr: addr})
		if err != nil {
			t.Fatal(err)
		}
		return s, id
	}
	n.client, n.clientNIC = mk(ec, tcpip.AddressWithPrefix{})
	n.server, n.serverNIC = mk(es, tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(serverAddr.As4()), PrefixLen: 24})
	return n
}

// seen is one message the fake server received, with its IP source.
type seen struct {
	m    *dhcp.Message
	from netip.Addr
}

// server is a fake DHCP server on the server stack. policy chooses the
// answer to each message: Offer, Ack, Nak, or 0 for none.
type server struct {
	conn   *gonet.UDPConn
	policy func(m *dhcp.Message, from netip.Addr) dhcp.Type
	lease  uint32 // seconds
	t1, t2 uint32 // seconds; 0 leaves them out

	mu   sync.Mutex
	seen []seen
}

func startServer(t *testing.T, n *testNet, policy func(*dhcp.Message, netip.Addr) dhcp.Type) *server {
	t.Helper()
	var wq waiter.Queue
	ep, terr := n.server.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		t.Fatal(terr)
	}
	ep.SocketOptions().SetBroadcast(true)
	if terr := ep.Bind(tcpip.FullAddress{NIC: n.serverNIC, Port: dhcp.ServerPort}); terr != nil {
		t.Fatal(terr)
	}
	s := &server{conn: gonet.NewUDPConn(&wq, ep), policy: policy, lease: 86400}
	t.Cleanup(func() { s.conn.Close() })
	go s.serve()
	return s
}

func (s *server) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		m, err := dhcp.Decode(buf[:n])
		if err != nil || m.Op != dhcp.OpRequest {
			continue
		}
		src, _ := netip.AddrFromSlice(from.(*net.UDPAddr).IP)
		s.mu.Lock()
		s.seen = append(s.seen, seen{m, src.Unmap()})
		s.mu.Unlock()
		t := s.policy(m, src.Unmap())
		if t == 0 {
			continue
		}
		r := &dhcp.Message{Op: dhcp.OpReply, Xid: m.Xid, CHAddr: m.CHAddr, Options: map[byte][]byte{
			dhcp.OptMessageType: {byte(t)},
			dhcp.OptServerID:    dhcp.AddrBytes(serverAddr),
		}}
		if t != dhcp.Nak {
			r.YIAddr = leaseAddr
			r.Options[dhcp.OptSubnetMask] = []byte{255, 255, 255, 0}
			r.Options[dhcp.OptRouter] = dhcp.AddrBytes(serverAddr)
			r.Options[dhcp.OptDNS] = dhcp.AddrBytes(netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("10.0.0.54"))
			r.Options[dhcp.OptLeaseTime] = dhcp.Uint32(s.lease)
			if s.t1 != 0 {
				r.Options[dhcp.OptRenewalTime] = dhcp.Uint32(s.t1)
				r.Options[dhcp.OptRebindingTime] = dhcp.Uint32(s.t2)
			}
		}
		b, err := r.Encode()
		if err != nil {
			panic(err)
		}
		to := dhcp.Broadcast
		if m.CIAddr.IsValid() && !m.CIAddr.IsUnspecified() {
			to = m.CIAddr
		}
		s.conn.WriteTo(b, &net.UDPAddr{IP: to.AsSlice(), Port: dhcp.ClientPort})
	}
}

func (s *server) messages() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.seen...)
}

// plain answers DISCOVER with OFFER and REQUEST with ACK.
func plain(m *dhcp.Message, _ netip.Addr) dhcp.Type {
	switch m.Type() {
	case dhcp.Discover:
		return dhcp.Offer
	case dhcp.Request:
		return dhcp.Ack
	}
	return 0
}

func (n *testNet) newClient(t *testing.T) *dhcp.Client {
	t.Helper()
	conn, err := dhcp.NewStackConn(n.client.Stack, n.clientNIC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// 1 s before the first retransmission: no test that expects an exact
	// sequence of messages sees a spurious one on a busy machine.
	return &dhcp.Client{MAC: clientMAC, Conn: conn, Initial: time.Second, Max: 2 * time.Second, Log: t.Logf}
}

// apply configures the client stack's NIC with l, as the network service
// does.
func (n *testNet) apply(t *testing.T, l dhcp.Lease) {
	t.Helper()
	a, gw := l.Stack()
	if err := n.client.SetAddress(n.clientNIC, a, gw); err != nil {
		t.Fatal(err)
	}
}

func acquire(t *testing.T, c *dhcp.Client, d time.Duration) (dhcp.Lease, time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	l, start, err := c.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return l, start
}

// TestAcquire runs DISCOVER, OFFER, REQUEST, ACK over gVisor stacks on a
// simulated Ethernet, applies the lease, and uses the address.
func TestAcquire(t *testing.T) {
	n := newNet(t, nil, nil)
	srv := startServer(t, n, plain)
	l, _ := acquire(t, n.newClient(t), 10*time.Second)
	if got, want := l.String(), "10.0.0.15/24 gw 10.0.0.1 dns 10.0.0.53,10.0.0.54 lease 86400s"; got != want {
		t.Errorf("lease %q, want %q", got, want)
	}
	if l.T1 != 43200*time.Second || l.T2 != 75600*time.Second || l.Server != serverAddr {
		t.Errorf("T1 %v, T2 %v, server %v", l.T1, l.T2, l.Server)
	}
	msgs := srv.messages()
	if len(msgs) != 2 || msgs[0].m.Type() != dhcp.Discover || msgs[1].m.Type() != dhcp.Request {
		t.Fatalf("server saw %d messages, want DISCOVER and REQUEST", len(msgs))
	}
	for _, s := range msgs {
		if s.from != netip.IPv4Unspecified() {
			t.Errorf("%v sent from %v, want 0.0.0.0", s.m.Type(), s.from)
		}
		if id := s.m.Options[dhcp.OptClientID]; string(id) != "\x01"+string(clientMAC) {
			t.Errorf("%v client id % x", s.m.Type(), id)
		}
		if s.m.Flags != dhcp.FlagBroadcast || s.m.Xid != msgs[0].m.Xid {
			t.Errorf("%v flags %#x xid %#x (DISCOVER's %#x)", s.m.Type(), s.m.Flags, s.m.Xid, msgs[0].m.Xid)
		}
	}
	if a, ok := msgs[1].m.Addr(dhcp.OptRequestedIP); !ok || a != leaseAddr {
		t.Errorf("REQUEST asks for %v", a)
	}
	if a, ok := msgs[1].m.Addr(dhcp.OptServerID); !ok || a != serverAddr {
		t.Errorf("REQUEST names server %v", a)
	}

	n.apply(t, l)
	if got := n.client.Address(n.clientNIC).String(); got != "10.0.0.15/24" {
		t.Fatalf("NIC address %s after the lease", got)
	}
	// The lease works: a UDP datagram from the client reaches the server
	// from 10.0.0.15.
	to := tcpip.FullAddress{Addr: tcpip.AddrFrom4(serverAddr.As4()), Port: 9}
	pc, err := gonet.DialUDP(n.server.Stack, &to, nil, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := gonet.DialUDP(n.client.Stack, nil, &to, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	k, from, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:k]) != "hello" || from.(*net.UDPAddr).IP.String() != "10.0.0.15" {
		t.Errorf("datagram %q from %v, %v", buf[:k], from, err)
	}
}

// TestLostOffer drops the first OFFER on the wire: the client retransmits
// its DISCOVER (same xid) and gets the lease from the second OFFER.
func TestLostOffer(t *testing.T) {
	var dropped sync.Once
	lost := false
	n := newNet(t, nil, func(f []byte) bool {
		if udpDstPort(f) != dhcp.ClientPort {
			return false
		}
		drop := false
		dropped.Do(func() { drop, lost = true, true })
		return drop
	})
	srv := startServer(t, n, plain)
	l, _ := acquire(t, n.newClient(t), 10*time.Second)
	if l.Addr.Addr() != leaseAddr || !lost {
		t.Fatalf("lease %v, an OFFER lost: %v", l, lost)
	}
	var types []dhcp.Type
	for _, s := range srv.messages() {
		types = append(types, s.m.Type())
		if s.m.Xid != srv.messages()[0].m.Xid {
			t.Errorf("retransmission changed the xid")
		}
	}
	if len(types) != 3 || types[0] != dhcp.Discover || types[1] != dhcp.Discover || types[2] != dhcp.Request {
		t.Errorf("server saw %v, want DISCOVER DISCOVER REQUEST", types)
	}
}

// TestNakRestarts NAKs the first REQUEST: the client starts over with a
// new DISCOVER and a new xid.
func TestNakRestarts(t *testing.T) {
	n := newNet(t, nil, nil)
	var mu sync.Mutex
	naks := 0
	srv := startServer(t, n, func(m *dhcp.Message, from netip.Addr) dhcp.Type {
		mu.Lock()
		defer mu.Unlock()
		if m.Type() == dhcp.Request && naks == 0 {
			naks++
			return dhcp.Nak
		}
		return plain(m, from)
	})
	l, _ := acquire(t, n.newClient(t), 10*time.Second)
	if l.Addr.Addr() != leaseAddr {
		t.Fatalf("lease %v", l)
	}
	msgs := srv.messages()
	var types []dhcp.Type
	for _, s := range msgs {
		types = append(types, s.m.Type())
	}
	if len(msgs) != 4 || types[0] != dhcp.Discover || types[1] != dhcp.Request || types[2] != dhcp.Discover || types[3] != dhcp.Request {
		t.Fatalf("server saw %v, want DISCOVER REQUEST(NAK) DISCOVER REQUEST", types)
	}
	if msgs[2].m.Xid == msgs[0].m.Xid {
		t.Error("the restart kept the old xid")
	}
}

// TestNoServer bounds the acquisition: with nobody answering, Acquire
// fails with ErrNoServer when its context ends, after retransmitting with
// growing intervals, and the NIC stays up without an address.
func TestNoServer(t *testing.T) {
	var mu sync.Mutex
	var sent []time.Time
	n := newNet(t, func(f []byte) bool {
		if udpDstPort(f) == dhcp.ServerPort {
			mu.Lock()
			sent = append(sent, time.Now())
			mu.Unlock()
		}
		return false
	}, nil)
	c := n.newClient(t)
	c.Initial, c.Max = 100*time.Millisecond, 400*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.Acquire(ctx)
	if !errors.Is(err, dhcp.ErrNoServer) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire: %v, want ErrNoServer", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Acquire took %v with a 1.5 s bound", d)
	}
	mu.Lock()
	defer mu.Unlock()
	// Waits of 100, 200, 400, 400 ... ms (±25 %): 5 to 7 DISCOVERs in
	// 1.5 s (fewer if the machine is very busy, but at least 4).
	if len(sent) < 4 || len(sent) > 7 {
		t.Fatalf("%d DISCOVERs in 1.5 s, want 4 to 7", len(sent))
	}
	if first, third := sent[1].Sub(sent[0]), sent[3].Sub(sent[2]); third <= first {
		t.Errorf("retransmission intervals did not grow: first %v, third %v", first, third)
	}
	if a := n.client.Address(n.clientNIC); a != (tcpip.AddressWithPrefix{}) {
		t.Errorf("NIC has address %v without a lease", a)
	}
	if !n.client.CheckNIC(n.clientNIC) {
		t.Error("the NIC is down")
	}
}

// TestRenewRebindLose runs a bound client through a renewal by unicast at
// T1, a rebinding by broadcast at T2 (the server ignores unicast), and a
// NAK at the next renewal, after which the address goes and a new lease
// comes.
func TestRenewRebindLose(t *testing.T) {
	var mu sync.Mutex
	phase := 0 // 0: acquire, 1: renew, 2: rebind, 3: NAK, 4: acquire
	n := newNet(t, func(f []byte) bool {
		mu.Lock()
		defer mu.Unlock()
		// In phase 2 unicast to the server is lost: the client must rebind.
		return phase == 2 && udpDstPort(f) == dhcp.ServerPort && [4]byte(f[14+16:14+20]) != dhcp.Broadcast.As4()
	}, nil)
	srv := startServer(t, n, func(m *dhcp.Message, from netip.Addr) dhcp.Type {
		mu.Lock()
		defer mu.Unlock()
		if phase == 3 && m.Type() == dhcp.Request {
			phase = 4
			return dhcp.Nak
		}
		return plain(m, from)
	})
	srv.lease, srv.t1, srv.t2 = 3, 1, 2
	c := n.newClient(t)
	l, start := acquire(t, c, 10*time.Second)
	n.apply(t, l)
	if l.T1 != time.Second || l.T2 != 2*time.Second || l.Time != 3*time.Second {
		t.Fatalf("lease times %v %v %v", l.T1, l.T2, l.Time)
	}
	applied := make(chan dhcp.Lease, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mu.Lock()
	phase = 1
	mu.Unlock()
	go c.Run(ctx, l, start, func(l dhcp.Lease) {
		n.apply(t, l)
		applied <- l
	})
	next := func(what string) dhcp.Lease {
		t.Helper()
		select {
		case l := <-applied:
			return l
		case <-time.After(10 * time.Second):
			t.Fatalf("no lease applied: %s", what)
		}
		return dhcp.Lease{}
	}
	last := func() seen {
		m := srv.messages()
		return m[len(m)-1]
	}

	if l := next("renewal"); l.Addr.Addr() != leaseAddr {
		t.Fatalf("renewed lease %v", l)
	}
	if s := last(); s.from != leaseAddr || s.m.CIAddr != leaseAddr || s.m.Options[dhcp.OptServerID] != nil {
		t.Errorf("renewal REQUEST from %v, ciaddr %v, server id % x", s.from, s.m.CIAddr, s.m.Options[dhcp.OptServerID])
	}

	mu.Lock()
	phase = 2
	mu.Unlock()
	began := time.Now()
	if l := next("rebinding"); l.Addr.Addr() != leaseAddr {
		t.Fatalf("rebound lease %v", l)
	}
	if d := time.Since(began); d < 1500*time.Millisecond {
		t.Errorf("rebound after %v, before T2", d)
	}
	if s := last(); s.from != leaseAddr || s.m.CIAddr != leaseAddr {
		t.Errorf("rebinding REQUEST from %v, ciaddr %v", s.from, s.m.CIAddr)
	}

	mu.Lock()
	phase = 3
	mu.Unlock()
	if l := next("loss"); l.Addr.IsValid() {
		t.Fatalf("after a NAK the lease applied is %v, want none", l)
	}
	if l := next("new lease"); l.Addr.Addr() != leaseAddr {
		t.Fatalf("new lease %v", l)
	}
	if s := last(); s.m.Type() != dhcp.Request || s.from != netip.IPv4Unspecified() {
		t.Errorf("new lease's REQUEST from %v", s.from)
	}
	if got := n.client.Address(n.clientNIC).String(); got != "10.0.0.15/24" {
		t.Errorf("NIC address %s after the new lease", got)
	}
}

// TestClosedConn: a client whose Conn is closed gives up at once with
// net.ErrClosed instead of retrying forever.
func TestClosedConn(t *testing.T) {
	n := newNet(t, nil, nil)
	conn, err := dhcp.NewStackConn(n.client.Stack, n.clientNIC)
	if err != nil {
		t.Fatal(err)
	}
	c := &dhcp.Client{MAC: clientMAC, Conn: conn, Initial: 100 * time.Millisecond}
	go func() {
		time.Sleep(50 * time.Millisecond)
		conn.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if _, _, err := c.Acquire(ctx); !errors.Is(err, net.ErrClosed) || time.Since(start) > 5*time.Second {
		t.Errorf("Acquire on a closed Conn: %v after %v", err, time.Since(start))
	}
}

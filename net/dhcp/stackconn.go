package dhcp

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// StackConn is a Conn over a gVisor UDP endpoint bound to port 68 of one
// NIC, with SO_BROADCAST set. Before a lease, the NIC must hold the
// unspecified address 0.0.0.0/0 (net/stack's SetAddress with a zero
// address does that): gVisor sends only from an assigned address and
// delivers 255.255.255.255 only to a NIC with an address whose subnet it is
// the broadcast address of.
type StackConn struct {
	nic    tcpip.NICID
	c      *gonet.UDPConn
	buf    []byte
	closed atomic.Bool
}

// NewStackConn opens the client's endpoint on NIC nic of s.
func NewStackConn(s *stack.Stack, nic tcpip.NICID) (*StackConn, error) {
	var wq waiter.Queue
	ep, terr := s.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		return nil, fmt.Errorf("dhcp: UDP endpoint: %v", terr)
	}
	ep.SocketOptions().SetBroadcast(true)
	ep.SocketOptions().SetReuseAddress(true)
	if terr := ep.Bind(tcpip.FullAddress{NIC: nic, Port: ClientPort}); terr != nil {
		ep.Close()
		return nil, fmt.Errorf("dhcp: bind port %d on NIC %d: %v", ClientPort, nic, terr)
	}
	return &StackConn{nic: nic, c: gonet.NewUDPConn(&wq, ep), buf: make([]byte, 1500)}, nil
}

// Send implements Conn.Send.
func (c *StackConn) Send(b []byte, to netip.Addr) error {
	_, err := c.c.WriteTo(b, &net.UDPAddr{IP: to.AsSlice(), Port: ServerPort})
	return err
}

// Recv implements Conn.Recv. Only datagrams from port 67 are returned.
func (c *StackConn) Recv(deadline time.Time) ([]byte, error) {
	if err := c.c.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	for {
		n, from, err := c.c.ReadFrom(c.buf)
		if c.closed.Load() {
			return nil, net.ErrClosed
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil, os.ErrDeadlineExceeded
		}
		if err != nil {
			return nil, err
		}
		if ua, ok := from.(*net.UDPAddr); ok && ua.Port == ServerPort {
			return append([]byte(nil), c.buf[:n]...), nil
		}
	}
}

// Close closes the endpoint; Recv then fails with net.ErrClosed.
func (c *StackConn) Close() error {
	c.closed.Store(true)
	return c.c.Close()
}

// Stack returns the lease's address and default gateway as gVisor values
// for net/stack's SetAddress: both zero for the zero Lease (no address),
// the gateway zero when the lease names no router.
func (l Lease) Stack() (tcpip.AddressWithPrefix, tcpip.Address) {
	var a tcpip.AddressWithPrefix
	var gw tcpip.Address
	if l.Addr.IsValid() {
		a = tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(l.Addr.Addr().As4()), PrefixLen: l.Addr.Bits()}
	}
	if g := l.Gateway(); g.IsValid() {
		gw = tcpip.AddrFrom4(g.As4())
	}
	return a, gw
}

// Package stack builds the TCP/IP stack of XairrosX: gVisor's netstack
// (gvisor.dev/gvisor/pkg/tcpip) with IPv4, IPv6, ARP, TCP, UDP and ICMP, and
// a loopback NIC that holds 127.0.0.1/8 and ::1/128. Other NICs (a
// virtio-net device through package net/link) are added with AddNIC.
//
// The stack is pure Go: it runs the same on a Linux host (unit tests) and
// inside a XairrosX guest.
package stack

import (
	"fmt"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// LoopbackNIC is the NIC identifier of the loopback interface.
const LoopbackNIC tcpip.NICID = 1

// Stack is a gVisor network stack with its loopback NIC set up.
type Stack struct {
	*gstack.Stack
	mu      sync.Mutex // guards nextNIC, routes and addrs
	nextNIC tcpip.NICID
	routes  []tcpip.Route
	addrs   map[tcpip.NICID]tcpip.AddressWithPrefix // IPv4 address set on each NIC
}

// New returns a stack with the loopback NIC up (127.0.0.1/8 and ::1/128)
// and routes to it.
func New() (*Stack, error) {
	s := &Stack{
		Stack: gstack.New(gstack.Options{
			NetworkProtocols:   []gstack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol, arp.NewProtocol},
			TransportProtocols: []gstack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
			HandleLocal:        true,
		}),
		nextNIC: LoopbackNIC + 1,
		addrs:   map[tcpip.NICID]tcpip.AddressWithPrefix{},
	}
	// SACK, as on Linux. (Send and receive buffers keep gVisor's 1 MiB
	// defaults; the receive buffer does not auto-tune.)
	sack := tcpip.TCPSACKEnabled(true)
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); err != nil {
		return nil, fmt.Errorf("stack: enable TCP SACK: %v", err)
	}
	if err := s.CreateNIC(LoopbackNIC, loopback.New()); err != nil {
		return nil, fmt.Errorf("stack: create loopback NIC: %v", err)
	}
	v4 := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), PrefixLen: 8}
	v6 := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16([16]byte{15: 1}), PrefixLen: 128}
	for _, a := range []tcpip.ProtocolAddress{
		{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: v4},
		{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: v6},
	} {
		if err := s.AddProtocolAddress(LoopbackNIC, a, gstack.AddressProperties{}); err != nil {
			return nil, fmt.Errorf("stack: add %v to loopback: %v", a.AddressWithPrefix, err)
		}
	}
	s.routes = []tcpip.Route{
		{Destination: v4.Subnet(), NIC: LoopbackNIC},
		{Destination: v6.Subnet(), NIC: LoopbackNIC},
	}
	s.SetRouteTable(s.routes)
	return s, nil
}

// NIC describes a NIC to add: its link endpoint, IPv4 address with prefix,
// and optional default gateway. A zero Addr adds the NIC unconfigured, for
// a DHCP client (see SetAddress).
type NIC struct {
	Link    gstack.LinkEndpoint
	Addr    tcpip.AddressWithPrefix // IPv4 address and prefix length
	Gateway tcpip.Address           // default route through it, if set
}

// unspecified is the address an unconfigured NIC holds: 0.0.0.0/0. gVisor
// sends only from an address assigned to the NIC, and delivers a broadcast
// only to a NIC with an address whose subnet's broadcast address it is;
// 0.0.0.0/0 is both the source RFC 2131 prescribes before a lease and a
// subnet whose broadcast address is 255.255.255.255. No route points to
// it, so ordinary sockets still find the NIC unreachable.
var unspecified = tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{}), PrefixLen: 0}

// AddNIC adds a NIC with an IPv4 address, routes its subnet (and the
// default route, when a gateway is given) to it, and returns its ID. With
// a zero n.Addr the NIC is up without an address (SetAddress gives it one).
func (s *Stack) AddNIC(n NIC) (tcpip.NICID, error) {
	if n.Link == nil {
		return 0, fmt.Errorf("stack: NIC for %v has no link endpoint", n.Addr)
	}
	if err := checkIPv4(n.Addr, n.Gateway); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextNIC
	if err := s.CreateNIC(id, n.Link); err != nil {
		return 0, fmt.Errorf("stack: create NIC %d: %v", id, err)
	}
	s.nextNIC++
	if err := s.setAddressLocked(id, n.Addr, n.Gateway); err != nil {
		return 0, err
	}
	return id, nil
}

// checkIPv4 checks an address for a NIC (the zero value is allowed) and a
// gateway (which may be empty).
func checkIPv4(a tcpip.AddressWithPrefix, gw tcpip.Address) error {
	if a != (tcpip.AddressWithPrefix{}) && (a.Address.Len() != 4 || a.PrefixLen < 0 || a.PrefixLen > 32) {
		return fmt.Errorf("stack: NIC address %v is not an IPv4 address with a prefix length of 0 to 32", a)
	}
	if gw.Len() != 0 && gw.Len() != 4 {
		return fmt.Errorf("stack: gateway %v is not an IPv4 address", gw)
	}
	return nil
}

// SetAddress replaces the IPv4 address of NIC id and its routes (subnet,
// and default route through gw if gw is set). A zero addr leaves the NIC
// without an address: it holds 0.0.0.0/0 (see unspecified) so that a DHCP
// client can send from 0.0.0.0 and receive broadcasts, and no route leads
// to it.
func (s *Stack) SetAddress(id tcpip.NICID, addr tcpip.AddressWithPrefix, gw tcpip.Address) error {
	if err := checkIPv4(addr, gw); err != nil {
		return err
	}
	if id == LoopbackNIC {
		return fmt.Errorf("stack: SetAddress on the loopback NIC")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.HasNIC(id) {
		return fmt.Errorf("stack: no NIC %d", id)
	}
	return s.setAddressLocked(id, addr, gw)
}

// setAddressLocked implements SetAddress; s.mu is held.
func (s *Stack) setAddressLocked(id tcpip.NICID, addr tcpip.AddressWithPrefix, gw tcpip.Address) error {
	if addr == (tcpip.AddressWithPrefix{}) {
		addr, gw = unspecified, tcpip.Address{}
	}
	// Add the new address before removing the old ones, so that the NIC
	// always has one (sockets bound to it keep a source address).
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: addr}
	if err := s.AddProtocolAddress(id, pa, gstack.AddressProperties{}); err != nil {
		if _, dup := err.(*tcpip.ErrDuplicateAddress); !dup {
			return fmt.Errorf("stack: add %v to NIC %d: %v", addr, id, err)
		}
	}
	if old, ok := s.addrs[id]; ok && old != addr {
		s.RemoveAddress(id, old.Address)
	}
	s.addrs[id] = addr
	kept := s.routes[:0]
	for _, r := range s.routes {
		if r.NIC != id {
			kept = append(kept, r)
		}
	}
	s.routes = kept
	if addr != unspecified {
		s.routes = append(s.routes, tcpip.Route{Destination: addr.Subnet(), NIC: id})
		if gw.Len() != 0 {
			any4, _ := tcpip.NewSubnet(tcpip.AddrFrom4([4]byte{}), tcpip.MaskFromBytes(make([]byte, 4)))
			s.routes = append(s.routes, tcpip.Route{Destination: any4, Gateway: gw, NIC: id})
		}
	}
	s.SetRouteTable(s.routes)
	return nil
}

// Address returns the IPv4 address of NIC id, or the zero value when it
// has none (it holds only 0.0.0.0/0).
func (s *Stack) Address(id tcpip.NICID) tcpip.AddressWithPrefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.addrs[id]; a != unspecified {
		return a
	}
	return tcpip.AddressWithPrefix{}
}

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
	mu      sync.Mutex // guards nextNIC and routes
	nextNIC tcpip.NICID
	routes  []tcpip.Route
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
	}
	// SACK and a receive buffer that grows with use, as on Linux.
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
// and optional default gateway.
type NIC struct {
	Link    gstack.LinkEndpoint
	Addr    tcpip.AddressWithPrefix // IPv4 address and prefix length
	Gateway tcpip.Address           // default route through it, if set
}

// AddNIC adds a NIC with an IPv4 address, routes its subnet (and the
// default route, when a gateway is given) to it, and returns its ID.
func (s *Stack) AddNIC(n NIC) (tcpip.NICID, error) {
	if n.Link == nil {
		return 0, fmt.Errorf("stack: NIC for %v has no link endpoint", n.Addr)
	}
	if n.Addr.Address.Len() != 4 || n.Addr.PrefixLen < 0 || n.Addr.PrefixLen > 32 {
		return 0, fmt.Errorf("stack: NIC address %v is not an IPv4 address with a prefix length of 0 to 32", n.Addr)
	}
	if n.Gateway.Len() != 0 && n.Gateway.Len() != 4 {
		return 0, fmt.Errorf("stack: gateway %v is not an IPv4 address", n.Gateway)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextNIC
	if err := s.CreateNIC(id, n.Link); err != nil {
		return 0, fmt.Errorf("stack: create NIC %d: %v", id, err)
	}
	s.nextNIC++
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: n.Addr}
	if err := s.AddProtocolAddress(id, pa, gstack.AddressProperties{}); err != nil {
		return 0, fmt.Errorf("stack: add %v to NIC %d: %v", n.Addr, id, err)
	}
	s.routes = append(s.routes, tcpip.Route{Destination: n.Addr.Subnet(), NIC: id})
	if n.Gateway.Len() != 0 {
		any4, _ := tcpip.NewSubnet(tcpip.AddrFrom4([4]byte{}), tcpip.MaskFromBytes(make([]byte, 4)))
		s.routes = append(s.routes, tcpip.Route{Destination: any4, Gateway: n.Gateway, NIC: id})
	}
	s.SetRouteTable(s.routes)
	return id, nil
}

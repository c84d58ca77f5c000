package stack

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

func TestLoopbackAndNICs(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v4, terr := s.GetMainNICAddress(LoopbackNIC, ipv4.ProtocolNumber)
	if terr != nil || v4.String() != "127.0.0.1/8" {
		t.Errorf("loopback IPv4 address %v (%v), want 127.0.0.1/8", v4, terr)
	}
	v6, terr := s.GetMainNICAddress(LoopbackNIC, ipv6.ProtocolNumber)
	if terr != nil || v6.String() != "::1/128" {
		t.Errorf("loopback IPv6 address %v (%v), want ::1/128", v6, terr)
	}
	if n := len(s.GetRouteTable()); n != 2 {
		t.Errorf("%d routes, want 2 (127/8 and ::1)", n)
	}
	gw := tcpip.AddrFrom4([4]byte{10, 0, 2, 2})
	id, err := s.AddNIC(NIC{
		Link:    channel.New(16, 1500, "\x02\x00\x00\x00\x00\x01"),
		Addr:    tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{10, 0, 2, 15}), PrefixLen: 24},
		Gateway: gw,
	})
	if err != nil || id != LoopbackNIC+1 {
		t.Fatalf("AddNIC: id %d, %v", id, err)
	}
	subnet, deflt := false, false
	for _, r := range s.GetRouteTable() {
		subnet = subnet || r.Destination.String() == "10.0.2.0/24" && r.NIC == id && r.Gateway.Len() == 0
		deflt = deflt || r.Destination.Prefix() == 0 && r.Gateway == gw && r.NIC == id
	}
	if n := len(s.GetRouteTable()); n != 4 || !subnet || !deflt {
		t.Errorf("routes after AddNIC: %v", s.GetRouteTable())
	}
	// An address of the wrong length is refused.
	for _, a := range []tcpip.AddressWithPrefix{
		{Address: tcpip.AddrFrom16([16]byte{1}), PrefixLen: 64},
		{Address: tcpip.AddrFrom4([4]byte{10, 0, 3, 1}), PrefixLen: 33},
	} {
		if _, err := s.AddNIC(NIC{Link: channel.New(16, 1500, ""), Addr: a}); err == nil {
			t.Errorf("AddNIC accepted %v as an IPv4 address and prefix", a)
		}
	}
	if _, err := s.AddNIC(NIC{Addr: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{10, 0, 3, 1}), PrefixLen: 24}}); err == nil {
		t.Error("AddNIC accepted a NIC without a link endpoint")
	}
	if n := len(s.GetRouteTable()); n != 4 {
		t.Errorf("refused NICs changed the routes: %d routes", n)
	}
}

// TestSetAddress adds an unconfigured NIC (as a DHCP client needs it),
// gives it an address, replaces it and takes it away again.
func TestSetAddress(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, err := s.AddNIC(NIC{Link: channel.New(16, 1500, "\x02\x00\x00\x00\x00\x01")})
	if err != nil {
		t.Fatal(err)
	}
	routes := func() (n int) {
		for _, r := range s.GetRouteTable() {
			if r.NIC == id {
				n++
			}
		}
		return n
	}
	if a := s.Address(id); a != (tcpip.AddressWithPrefix{}) || routes() != 0 {
		t.Errorf("unconfigured NIC: address %v, %d routes", a, routes())
	}
	if a, _ := s.GetMainNICAddress(id, ipv4.ProtocolNumber); a.String() != "0.0.0.0/0" {
		t.Errorf("unconfigured NIC holds %v, want 0.0.0.0/0", a)
	}
	a1 := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{10, 0, 2, 15}), PrefixLen: 24}
	if err := s.SetAddress(id, a1, tcpip.AddrFrom4([4]byte{10, 0, 2, 2})); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.GetMainNICAddress(id, ipv4.ProtocolNumber); a != a1 || s.Address(id) != a1 || routes() != 2 {
		t.Errorf("after SetAddress: main address %v, Address %v, %d routes", a, s.Address(id), routes())
	}
	a2 := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{192, 168, 1, 7}), PrefixLen: 16}
	if err := s.SetAddress(id, a2, tcpip.Address{}); err != nil {
		t.Fatal(err)
	}
	for _, pa := range s.AllAddresses()[id] {
		if pa.AddressWithPrefix == a1 || pa.AddressWithPrefix.String() == "0.0.0.0/0" {
			t.Errorf("old address %v is still on the NIC", pa.AddressWithPrefix)
		}
	}
	if s.Address(id) != a2 || routes() != 1 {
		t.Errorf("after replacing: %v, %d routes", s.Address(id), routes())
	}
	if err := s.SetAddress(id, tcpip.AddressWithPrefix{}, tcpip.Address{}); err != nil {
		t.Fatal(err)
	}
	if a := s.Address(id); a != (tcpip.AddressWithPrefix{}) || routes() != 0 || len(s.GetRouteTable()) != 2 {
		t.Errorf("after clearing: address %v, routes %v", a, s.GetRouteTable())
	}
	if err := s.SetAddress(99, a1, tcpip.Address{}); err == nil {
		t.Error("SetAddress on a missing NIC succeeded")
	}
	if err := s.SetAddress(LoopbackNIC, a1, tcpip.Address{}); err == nil {
		t.Error("SetAddress on the loopback NIC succeeded")
	}
}

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

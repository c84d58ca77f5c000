package link_test

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/xairrosx/xairrosx/net/link"
	"github.com/xairrosx/xairrosx/net/stack"
)

// frame builds an Ethernet frame to the stack's MAC with the given
// EtherType and payload.
func frame(dst net.HardwareAddr, etherType uint16, payload []byte) []byte {
	f := make([]byte, 14, 14+len(payload))
	copy(f, dst)
	copy(f[6:], []byte{2, 0, 0, 0, 0, 9})
	binary.BigEndian.PutUint16(f[12:], etherType)
	return append(f, payload...)
}

// FuzzDeliver feeds arbitrary frames from a device into a stack through the
// link endpoint (the glue between the virtio-net driver and gVisor's
// stack): malformed Ethernet, ARP, IPv4, IPv6, TCP and UDP must be dropped
// or answered, never crash, and the stack must still work afterwards.
func FuzzDeliver(f *testing.F) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	ipv4 := func(proto byte, payload []byte) []byte {
		h := make([]byte, 20)
		h[0], h[8], h[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
		copy(h[12:], []byte{10, 0, 0, 9})
		copy(h[16:], []byte{10, 0, 0, 1})
		return append(h, payload...)
	}
	f.Add(frame(mac, 0x0806, []byte{0, 1, 8, 0, 6, 4, 0, 1}))                                 // truncated ARP
	f.Add(frame(mac, 0x0800, ipv4(6, []byte{0, 80, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 2}))) // short TCP SYN
	f.Add(frame(mac, 0x0800, ipv4(17, []byte{0, 53, 0, 53, 0, 200, 0, 0})))                   // UDP length lies
	f.Add(frame(mac, 0x0800, ipv4(1, []byte{8, 0, 0, 0, 0, 1, 0, 1})))                        // ICMP echo
	f.Add(frame(mac, 0x86dd, make([]byte, 39)))                                               // short IPv6
	f.Add(frame(mac, 0x0800, []byte{0x4f, 0, 0xff, 0xff}))                                    // bad IHL
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dev := &wireDev{mac: mac, out: make(chan []byte, 4096)}
		ep := link.New(dev)
		s, err := stack.New()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		addr := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), PrefixLen: 24}
		if _, err := s.AddNIC(stack.NIC{Link: ep, Addr: addr}); err != nil {
			t.Fatal(err)
		}
		ep.Deliver(b)
		// Also as the payload of each protocol, addressed to the stack.
		for _, et := range []uint16{0x0800, 0x0806, 0x86dd} {
			ep.Deliver(frame(mac, et, b))
		}
		ep.Deliver(frame(mac, 0x0800, ipv4(6, b)))
		ep.Deliver(frame(mac, 0x0800, ipv4(17, b)))
		// The stack still answers an ARP request for its address.
		arp := []byte{0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 9, 10, 0, 0, 9, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1}
		ep.Deliver(frame(net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0x0806, arp))
		deadline := time.After(5 * time.Second)
		for {
			select {
			case out := <-dev.out:
				if len(out) >= 22 && binary.BigEndian.Uint16(out[12:]) == 0x0806 && binary.BigEndian.Uint16(out[20:]) == 2 {
					return // ARP reply
				}
			case <-deadline:
				t.Fatal("the stack stopped answering ARP after malformed frames")
			}
		}
	})
}

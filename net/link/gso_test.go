package link

import (
	"bytes"
	"testing"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// gsoPacket builds a TCP packet of payload as TCP hands it to a GSO
// endpoint: headers pushed, the pseudo-header alone in the TCP checksum.
func gsoPacket(t *testing.T, v6 bool, payload []byte, mss uint16) *stack.PacketBuffer {
	t.Helper()
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{ReserveHeaderBytes: 128, Payload: buffer.MakeWithData(payload)})
	const tcpLen = header.TCPMinimumSize + 12
	tcp := header.TCP(pkt.TransportHeader().Push(tcpLen))
	tcp.Encode(&header.TCPFields{SrcPort: 80, DstPort: 4000, SeqNum: 0xfffff000, AckNum: 7, DataOffset: tcpLen,
		Flags: header.TCPFlagAck | header.TCPFlagPsh | header.TCPFlagFin, WindowSize: 1000})
	copy(tcp[header.TCPMinimumSize:], []byte{1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8}) // NOP NOP timestamps
	src, dst := tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), tcpip.AddrFrom4([4]byte{10, 0, 0, 2})
	gso := stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumOffset: header.TCPChecksumOffset, MSS: mss, L3HdrLen: header.IPv4MinimumSize, MaxSize: gsoMaxSize}
	total := tcpLen + len(payload)
	if v6 {
		src = tcpip.AddrFrom16([16]byte{0: 0xfd, 15: 1})
		dst = tcpip.AddrFrom16([16]byte{0: 0xfd, 15: 2})
		gso.Type, gso.L3HdrLen = stack.GSOTCPv6, header.IPv6MinimumSize
		ip := header.IPv6(pkt.NetworkHeader().Push(header.IPv6MinimumSize))
		ip.Encode(&header.IPv6Fields{PayloadLength: uint16(total), TransportProtocol: header.TCPProtocolNumber, HopLimit: 64, SrcAddr: src, DstAddr: dst})
	} else {
		ip := header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
		ip.Encode(&header.IPv4Fields{TotalLength: uint16(header.IPv4MinimumSize + total), ID: 0xfffe, TTL: 64, Protocol: uint8(header.TCPProtocolNumber), SrcAddr: src, DstAddr: dst})
		ip.SetChecksum(^ip.CalculateChecksum())
	}
	tcp.SetChecksum(header.PseudoHeaderChecksum(header.TCPProtocolNumber, src, dst, uint16(total)))
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	eth.Encode(&header.EthernetFields{SrcAddr: "\x02\x00\x00\x00\x00\x01", DstAddr: "\x02\x00\x00\x00\x00\x02", Type: header.IPv4ProtocolNumber})
	pkt.GSOOptions = gso
	return pkt
}

// TestFramesSegments cuts IPv4 and IPv6 GSO packets into frames and checks
// every frame's headers and checksums, and that the payloads add up.
func TestFramesSegments(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		for _, size := range []int{0, 100, 1448, 5000, 60000} {
			payload := make([]byte, size)
			for i := range payload {
				payload[i] = byte(i*13 + i>>8)
			}
			const mss = 1448
			pkt := gsoPacket(t, v6, payload, mss)
			var got []byte
			n := 0
			err := frames(pkt, func(parts [][]byte) error {
				f := bytes.Join(parts, nil)[header.EthernetMinimumSize:]
				var tcp header.TCP
				var src, dst tcpip.Address
				if v6 {
					ip := header.IPv6(f)
					if int(ip.PayloadLength()) != len(f)-header.IPv6MinimumSize {
						t.Fatalf("v6 %d: frame %d: payload length %d in a %d-byte packet", size, n, ip.PayloadLength(), len(f))
					}
					tcp, src, dst = header.TCP(ip.Payload()), ip.SourceAddress(), ip.DestinationAddress()
				} else {
					ip := header.IPv4(f)
					if !ip.IsValid(len(f)) || !ip.IsChecksumValid() || int(ip.TotalLength()) != len(f) || ip.ID() != uint16(0xfffe+n) {
						t.Fatalf("size %d: frame %d: bad IPv4 header (length %d of %d, ID %#x)", size, n, ip.TotalLength(), len(f), ip.ID())
					}
					tcp, src, dst = header.TCP(ip.Payload()), ip.SourceAddress(), ip.DestinationAddress()
				}
				data := tcp[tcp.DataOffset():]
				if len(data) > mss {
					t.Fatalf("v6 %v size %d: frame %d carries %d bytes, MSS %d", v6, size, n, len(data), mss)
				}
				if !tcp.IsChecksumValid(src, dst, checksum.Checksum(data, 0), uint16(len(data))) {
					t.Fatalf("v6 %v size %d: frame %d: bad TCP checksum", v6, size, n)
				}
				if tcp.SequenceNumber() != 0xfffff000+uint32(len(got)) {
					t.Fatalf("v6 %v size %d: frame %d: sequence %#x after %d bytes", v6, size, n, tcp.SequenceNumber(), len(got))
				}
				last := len(got)+len(data) == size
				wantFlags := header.TCPFlagAck
				if last {
					wantFlags |= header.TCPFlagPsh | header.TCPFlagFin
				}
				if tcp.Flags() != wantFlags {
					t.Fatalf("v6 %v size %d: frame %d (last %v): flags %v, want %v", v6, size, n, last, tcp.Flags(), wantFlags)
				}
				got = append(got, data...)
				n++
				return nil
			})
			pkt.DecRef()
			if err != nil {
				t.Fatal(err)
			}
			if want := max(1, (size+mss-1)/mss); n != want || !bytes.Equal(got, payload) {
				t.Errorf("v6 %v size %d: %d frames (want %d), payload equal %v", v6, size, n, want, bytes.Equal(got, payload))
			}
		}
	}
}

// TestFramesRejectsBadGSO: a GSO packet whose headers do not fit its
// options is refused with an error, not sent or panicked on.
func TestFramesRejectsBadGSO(t *testing.T) {
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{ReserveHeaderBytes: 64, Payload: buffer.MakeWithData(make([]byte, 3000))})
	defer pkt.DecRef()
	pkt.NetworkHeader().Push(header.IPv4MinimumSize)
	pkt.GSOOptions = stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, MSS: 1000}
	if err := frames(pkt, func([][]byte) error { t.Fatal("a frame was emitted"); return nil }); err == nil {
		t.Fatal("no error for a GSO packet without a TCP header")
	}
	pkt.GSOOptions.Type = stack.GSOType(99)
	if err := frames(pkt, func([][]byte) error { return nil }); err == nil {
		t.Fatal("no error for an unknown GSO type")
	}
}

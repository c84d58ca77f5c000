package link

import (
	"encoding/binary"
	"fmt"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Segmentation offload in software, as Linux's GSO does for a device
// without offloads: the endpoint reports host GSO, so TCP hands it
// segments of up to gsoMaxSize bytes with only the pseudo-header in the
// TCP checksum (CHECKSUM_PARTIAL), and the endpoint cuts each into
// MSS-sized frames just before they go to the device, filling in each
// frame's IP length, ID and checksum and TCP sequence number, flags and
// checksum. TCP, IP and the NIC then handle one packet per 64 KiB instead
// of one per frame.

// gsoMaxSize is the largest packet TCP hands the endpoint to segment.
const gsoMaxSize = 1 << 16

// SupportedGSO implements stack.GSOEndpoint: segmentation offload
// (see above).
func (e *Endpoint) SupportedGSO() stack.SupportedGSO { return stack.HostGSOSupported }

// GSOMaxSize implements stack.GSOEndpoint.
func (e *Endpoint) GSOMaxSize() uint32 { return gsoMaxSize }

// frames calls emit with the parts of each Ethernet frame pkt becomes: one
// frame for a packet without GSO options, MSS-sized TCP segments for one
// with them. The parts are valid only during the call.
func frames(pkt *stack.PacketBuffer, emit func(parts [][]byte) error) error {
	gso := pkt.GSOOptions
	if gso.Type == stack.GSONone {
		return emit(pkt.AsSlices())
	}
	var v6 bool
	switch gso.Type {
	case stack.GSOTCPv4:
	case stack.GSOTCPv6:
		v6 = true
	default:
		return fmt.Errorf("link: GSO type %d not supported", gso.Type)
	}
	eth, ip, tcp := pkt.LinkHeader().Slice(), pkt.NetworkHeader().Slice(), pkt.TransportHeader().Slice()
	if len(tcp) < header.TCPMinimumSize || int(header.TCP(tcp).DataOffset()) != len(tcp) ||
		(!v6 && len(ip) < header.IPv4MinimumSize) || (v6 && len(ip) < header.IPv6MinimumSize) {
		return fmt.Errorf("link: GSO packet with a %d-byte IP and a %d-byte TCP header", len(ip), len(tcp))
	}
	// One header block, rewritten for every segment.
	hdr := make([]byte, 0, len(eth)+len(ip)+len(tcp))
	hdr = append(append(append(hdr, eth...), ip...), tcp...)
	iph, tcph := hdr[len(eth):len(eth)+len(ip)], header.TCP(hdr[len(eth)+len(ip):])
	seq, flags := tcph.SequenceNumber(), tcph.Flags()
	var id uint16
	if !v6 {
		id = header.IPv4(iph).ID()
	}
	payload := pkt.Data().ToBuffer()
	defer payload.Release()
	size, mss := int(payload.Size()), int(gso.MSS)
	if mss <= 0 {
		mss = size
	}
	parts := make([][]byte, 0, 4)
	for off := 0; off == 0 || off < size; off += mss {
		n := min(mss, size-off)
		last := off+n >= size
		parts = append(parts[:0], hdr)
		var cs checksum.Checksumer
		payload.SubApply(off, n, func(v *buffer.View) {
			parts = append(parts, v.AsSlice())
			cs.Add(v.AsSlice())
		})
		tcpLen := len(tcph) + n
		if v6 {
			h := header.IPv6(iph)
			h.SetPayloadLength(uint16(len(iph) - header.IPv6MinimumSize + tcpLen))
		} else {
			h := header.IPv4(iph)
			h.SetTotalLength(uint16(len(iph) + tcpLen))
			h.SetID(id)
			id++
			h.SetChecksum(0)
			h.SetChecksum(^h.CalculateChecksum())
		}
		tcph.SetSequenceNumber(seq + uint32(off))
		f := flags
		if !last {
			f &^= header.TCPFlagFin | header.TCPFlagPsh
		}
		tcph.SetFlags(uint8(f))
		tcph.SetChecksum(0)
		var src, dst []byte
		if v6 {
			src, dst = iph[8:24], iph[24:40]
		} else {
			src, dst = iph[12:16], iph[16:20]
		}
		sum := pseudoHeader(src, dst, uint16(tcpLen))
		sum = checksum.Checksum(tcph, sum)
		sum = checksum.Combine(sum, cs.Checksum())
		tcph.SetChecksum(^sum)
		if err := emit(parts); err != nil {
			return err
		}
	}
	return nil
}

// pseudoHeader is the checksum of the TCP pseudo-header for addresses src
// and dst and a segment of length bytes (RFC 9293, 3.1; RFC 8200, 8.1).
func pseudoHeader(src, dst []byte, length uint16) uint16 {
	var b [4]byte
	binary.BigEndian.PutUint16(b[0:], uint16(header.TCPProtocolNumber))
	binary.BigEndian.PutUint16(b[2:], length)
	sum := checksum.Checksum(src, 0)
	sum = checksum.Checksum(dst, sum)
	return checksum.Checksum(b[:], sum)
}

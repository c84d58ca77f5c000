package sockets

import (
	"encoding/binary"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Sizes of Linux's struct sockaddr_in and struct sockaddr_in6.
const (
	sizeofSockaddrIn  = 16
	sizeofSockaddrIn6 = 28
	minSockaddrIn6    = 24 // SIN6_LEN_RFC2133: without sin6_scope_id
)

// DecodeSockaddr reads a Linux sockaddr_in or sockaddr_in6 (b is the
// caller's buffer, its length the addrlen argument) for a socket of the
// given family. The unspecified address decodes to an empty Addr, which the
// stack reads as "any". AF_INET6 sockets keep IPv4-mapped addresses as they
// are: the stack handles them on dual-stack endpoints.
func DecodeSockaddr(family int, b []byte) (tcpip.FullAddress, syscall.Errno) {
	if len(b) < 2 {
		return tcpip.FullAddress{}, syscall.EINVAL
	}
	fam := int(binary.LittleEndian.Uint16(b))
	switch family {
	case syscall.AF_INET:
		if len(b) < sizeofSockaddrIn {
			return tcpip.FullAddress{}, syscall.EINVAL
		}
		if fam != syscall.AF_INET {
			return tcpip.FullAddress{}, syscall.EAFNOSUPPORT
		}
		var a tcpip.FullAddress
		a.Port = binary.BigEndian.Uint16(b[2:])
		if ip := [4]byte(b[4:8]); ip != [4]byte{} {
			a.Addr = tcpip.AddrFrom4(ip)
		}
		return a, 0
	case syscall.AF_INET6:
		if len(b) < minSockaddrIn6 {
			return tcpip.FullAddress{}, syscall.EINVAL
		}
		if fam != syscall.AF_INET6 {
			return tcpip.FullAddress{}, syscall.EAFNOSUPPORT
		}
		var a tcpip.FullAddress
		a.Port = binary.BigEndian.Uint16(b[2:])
		if ip := [16]byte(b[8:24]); ip != [16]byte{} {
			a.Addr = tcpip.AddrFrom16(ip)
		}
		if len(b) >= sizeofSockaddrIn6 {
			a.NIC = tcpip.NICID(binary.LittleEndian.Uint32(b[24:]))
		}
		return a, 0
	}
	return tcpip.FullAddress{}, syscall.EAFNOSUPPORT
}

// EncodeSockaddr returns a in the Linux sockaddr layout of family: a
// sockaddr_in, or a sockaddr_in6 (IPv4 addresses become IPv4-mapped IPv6
// addresses, as Linux reports them on dual-stack sockets).
func EncodeSockaddr(family int, a tcpip.FullAddress) []byte {
	if family == syscall.AF_INET {
		b := make([]byte, sizeofSockaddrIn)
		binary.LittleEndian.PutUint16(b, syscall.AF_INET)
		binary.BigEndian.PutUint16(b[2:], a.Port)
		if a.Addr.Len() == 4 {
			ip := a.Addr.As4()
			copy(b[4:], ip[:])
		}
		return b
	}
	b := make([]byte, sizeofSockaddrIn6)
	binary.LittleEndian.PutUint16(b, syscall.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], a.Port)
	switch a.Addr.Len() {
	case 4:
		ip := a.Addr.As4()
		b[18], b[19] = 0xff, 0xff
		copy(b[20:], ip[:])
	case 16:
		ip := a.Addr.As16()
		copy(b[8:], ip[:])
		// Link-local addresses carry their interface.
		if ip[0] == 0xfe && ip[1]&0xc0 == 0x80 {
			binary.LittleEndian.PutUint32(b[24:], uint32(a.NIC))
		}
	}
	return b
}

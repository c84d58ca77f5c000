package sockets

import (
	"bytes"
	"syscall"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
)

func TestErrno(t *testing.T) {
	for _, c := range []struct {
		err  tcpip.Error
		want syscall.Errno
	}{
		{nil, 0},
		{&tcpip.ErrWouldBlock{}, syscall.EAGAIN},
		{&tcpip.ErrConnectStarted{}, syscall.EINPROGRESS},
		{&tcpip.ErrConnectionRefused{}, syscall.ECONNREFUSED},
		{&tcpip.ErrPortInUse{}, syscall.EADDRINUSE},
		{&tcpip.ErrBadLocalAddress{}, syscall.EADDRNOTAVAIL},
		{&tcpip.ErrClosedForSend{}, syscall.EPIPE},
		{&tcpip.ErrConnectionReset{}, syscall.ECONNRESET},
		{&tcpip.ErrNotConnected{}, syscall.ENOTCONN},
		{&tcpip.ErrAlreadyConnected{}, syscall.EISCONN},
		{&tcpip.ErrTimeout{}, syscall.ETIMEDOUT},
		{&tcpip.ErrInvalidEndpointState{}, syscall.EINVAL},
		{&tcpip.ErrUnknownProtocolOption{}, syscall.ENOPROTOOPT},
	} {
		if got := Errno(c.err); got != c.want {
			t.Errorf("Errno(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestSockaddr(t *testing.T) {
	a, e := DecodeSockaddr(syscall.AF_INET, sa4(lo4, 8080))
	if e != 0 || a.Port != 8080 || a.Addr != tcpip.AddrFrom4(lo4) {
		t.Errorf("decode 127.0.0.1:8080: %+v %v", a, e)
	}
	if b := EncodeSockaddr(syscall.AF_INET, a); !bytes.Equal(b, sa4(lo4, 8080)) {
		t.Errorf("encode: %x", b)
	}
	a, e = DecodeSockaddr(syscall.AF_INET, sa4([4]byte{}, 1))
	if e != 0 || a.Addr.Len() != 0 {
		t.Errorf("0.0.0.0 must decode to the empty (any) address: %+v", a)
	}
	a, e = DecodeSockaddr(syscall.AF_INET6, sa6(lo6, 443))
	if e != 0 || a.Port != 443 || a.Addr != tcpip.AddrFrom16(lo6) {
		t.Errorf("decode [::1]:443: %+v %v", a, e)
	}
	if b := EncodeSockaddr(syscall.AF_INET6, a); !bytes.Equal(b, sa6(lo6, 443)) {
		t.Errorf("encode: %x", b)
	}
	mapped := EncodeSockaddr(syscall.AF_INET6, tcpip.FullAddress{Addr: tcpip.AddrFrom4(lo4), Port: 1})
	if !bytes.Equal(mapped, sa6([16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}, 1)) {
		t.Errorf("IPv4 address on an AF_INET6 socket: %x", mapped)
	}
	for _, c := range []struct {
		family int
		b      []byte
		want   syscall.Errno
	}{
		{syscall.AF_INET, nil, syscall.EINVAL},
		{syscall.AF_INET, sa4(lo4, 1)[:15], syscall.EINVAL},
		{syscall.AF_INET, sa6(lo6, 1), syscall.EAFNOSUPPORT},
		{syscall.AF_INET6, sa6(lo6, 1)[:23], syscall.EINVAL},
		{syscall.AF_INET6, append(sa4(lo4, 1), make([]byte, 12)...), syscall.EAFNOSUPPORT},
		{syscall.AF_UNIX, sa4(lo4, 1), syscall.EAFNOSUPPORT},
	} {
		if _, e := DecodeSockaddr(c.family, c.b); e != c.want {
			t.Errorf("DecodeSockaddr(%d, %x) = %v, want %v", c.family, c.b, e, c.want)
		}
	}
}

package sockets

import (
	"encoding/binary"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Layout of Linux's struct msghdr and struct iovec on amd64.
const (
	sizeofMsghdr  = 56
	msgName       = 0
	msgNamelen    = 8
	msgIov        = 16
	msgIovlen     = 24
	msgControllen = 40
	msgFlags      = 48
	sizeofIovec   = 16
	maxIovecs     = 1024 // UIO_MAXIOV
	maxMsgBytes   = 1 << 30
)

// iovecs returns the caller's buffers that the msghdr at m describes.
func (s *socket) iovecs(hdr []byte) ([][]byte, syscall.Errno) {
	base, n := binary.LittleEndian.Uint64(hdr[msgIov:]), binary.LittleEndian.Uint64(hdr[msgIovlen:])
	if n > maxIovecs {
		return nil, syscall.EMSGSIZE
	}
	if n == 0 {
		return nil, 0
	}
	raw, ok := s.t.k.User(base, n*sizeofIovec)
	if !ok {
		return nil, syscall.EFAULT
	}
	bufs := make([][]byte, 0, n)
	total := uint64(0)
	for i := uint64(0); i < n; i++ {
		p := binary.LittleEndian.Uint64(raw[i*sizeofIovec:])
		l := binary.LittleEndian.Uint64(raw[i*sizeofIovec+8:])
		if total += l; l > maxMsgBytes || total > maxMsgBytes {
			return nil, syscall.EINVAL
		}
		if l == 0 {
			continue
		}
		b, ok := s.t.k.User(p, l)
		if !ok {
			return nil, syscall.EFAULT
		}
		bufs = append(bufs, b)
	}
	return bufs, 0
}

// msghdr returns the caller's struct msghdr at m.
func (s *socket) msghdr(m uint64) ([]byte, syscall.Errno) {
	hdr, ok := s.t.k.User(m, sizeofMsghdr)
	if !ok {
		return nil, syscall.EFAULT
	}
	return hdr, 0
}

func (s *socket) sendmsg(m uint64, flags int) (int, syscall.Errno) {
	hdr, e := s.msghdr(m)
	if e != 0 {
		return 0, e
	}
	bufs, e := s.iovecs(hdr)
	if e != 0 {
		return 0, e
	}
	var data []byte
	for _, b := range bufs {
		data = append(data, b...)
	}
	var opts tcpip.WriteOptions
	if name := binary.LittleEndian.Uint64(hdr[msgName:]); name != 0 && s.typ == syscall.SOCK_DGRAM {
		fa, e := s.sockaddr(name, uint64(binary.LittleEndian.Uint32(hdr[msgNamelen:])))
		if e != 0 {
			return 0, e
		}
		opts.To = &fa
	}
	return s.write(data, opts)
}

func (s *socket) recvmsg(m uint64, flags int) (int, syscall.Errno) {
	hdr, e := s.msghdr(m)
	if e != 0 {
		return 0, e
	}
	bufs, e := s.iovecs(hdr)
	if e != 0 {
		return 0, e
	}
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	tmp := make([]byte, total)
	name := binary.LittleEndian.Uint64(hdr[msgName:])
	r, e := s.read(tmp, flags, name != 0)
	if e != 0 {
		return 0, e
	}
	rest := tmp[:r.Count]
	for _, b := range bufs {
		rest = rest[copy(b, rest):]
	}
	outFlags := uint32(0)
	if r.Total > r.Count && s.typ == syscall.SOCK_DGRAM {
		outFlags |= msgTrunc
	}
	if name != 0 {
		sa := EncodeSockaddr(s.family, r.RemoteAddr)
		n := min(int(binary.LittleEndian.Uint32(hdr[msgNamelen:])), len(sa))
		if n > 0 {
			b, ok := s.t.k.User(name, uint64(n))
			if !ok {
				return 0, syscall.EFAULT
			}
			copy(b, sa)
		}
		binary.LittleEndian.PutUint32(hdr[msgNamelen:], uint32(len(sa)))
	}
	binary.LittleEndian.PutUint64(hdr[msgControllen:], 0) // no control messages
	binary.LittleEndian.PutUint32(hdr[msgFlags:], outFlags)
	if flags&msgTrunc != 0 && s.typ == syscall.SOCK_DGRAM {
		return r.Total, 0
	}
	return r.Count, 0
}

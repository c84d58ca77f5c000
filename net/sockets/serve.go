package sockets

import (
	"bytes"
	"encoding/binary"
	"syscall"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Linux MSG_* flags the socket layer looks at.
const (
	msgPeek     = 0x2
	msgTrunc    = 0x20
	msgDontwait = 0x40
)

// Serve serves one forwarded socket call: nr is NrSocketCreate or a Linux
// system call number, args its arguments with the descriptor translated to a
// handle. It returns a non-negative result or a negated errno.
func (t *Table) Serve(nr uint64, a [6]uint64) int64 {
	defer t.flush()
	if nr == NrSocketCreate {
		return res(t.Create(int32(a[0]), int(a[1]), int(a[2]), int(a[3])))
	}
	h := int32(a[0])
	if nr == syscall.SYS_CLOSE {
		return res(t.close(h))
	}
	s, e := t.lookup(h)
	if e != 0 {
		return -int64(e)
	}
	s.confirm()
	switch nr {
	case syscall.SYS_BIND:
		return res(s.bind(a[1], a[2]))
	case syscall.SYS_LISTEN:
		return res(s.listen(int(int32(a[1]))))
	case syscall.SYS_CONNECT:
		return res(s.connect(a[1], a[2]))
	case syscall.SYS_ACCEPT4, syscall.SYS_ACCEPT:
		return s.accept(a[1], a[2])
	case syscall.SYS_SHUTDOWN:
		return res(s.shutdown(int(a[1])))
	case syscall.SYS_READ:
		return val(s.recv(a[1], a[2], 0, 0, 0))
	case syscall.SYS_WRITE:
		return val(s.send(a[1], a[2], 0, 0, 0))
	case syscall.SYS_SENDTO:
		return val(s.send(a[1], a[2], int(a[3]), a[4], a[5]))
	case syscall.SYS_RECVFROM:
		return val(s.recv(a[1], a[2], int(a[3]), a[4], a[5]))
	case syscall.SYS_SENDMSG:
		return val(s.sendmsg(a[1], int(a[2])))
	case syscall.SYS_RECVMSG:
		return val(s.recvmsg(a[1], int(a[2])))
	case syscall.SYS_SETSOCKOPT:
		return res(s.setsockopt(int(a[1]), int(a[2]), a[3], a[4]))
	case syscall.SYS_GETSOCKOPT:
		return res(s.getsockopt(int(a[1]), int(a[2]), a[3], a[4]))
	}
	return -int64(syscall.ENOSYS)
}

func res(e syscall.Errno) int64 { return -int64(e) }

func val(n int, e syscall.Errno) int64 {
	if e != 0 {
		return -int64(e)
	}
	return int64(n)
}

// sockaddr reads the sockaddr argument at addr (length n).
func (s *socket) sockaddr(addr, n uint64) (tcpip.FullAddress, syscall.Errno) {
	if n > 128 {
		return tcpip.FullAddress{}, syscall.EINVAL
	}
	b, ok := s.t.k.User(addr, n)
	if !ok {
		return tcpip.FullAddress{}, syscall.EFAULT
	}
	return DecodeSockaddr(s.family, b)
}

// putSockaddr writes a into the caller's (addr, *lenp) pair as Linux does:
// at most *lenp bytes, and the full length into *lenp.
func (s *socket) putSockaddr(a tcpip.FullAddress, addr, lenp uint64) syscall.Errno {
	if addr == 0 || lenp == 0 {
		return 0
	}
	lb, ok := s.t.k.User(lenp, 4)
	if !ok {
		return syscall.EFAULT
	}
	n := int32(binary.LittleEndian.Uint32(lb))
	if n < 0 {
		return syscall.EINVAL
	}
	sa := EncodeSockaddr(s.family, a)
	if c := min(int(n), len(sa)); c > 0 {
		b, ok := s.t.k.User(addr, uint64(c))
		if !ok {
			return syscall.EFAULT
		}
		copy(b, sa)
	}
	binary.LittleEndian.PutUint32(lb, uint32(len(sa)))
	return 0
}

func (s *socket) bind(addr, n uint64) syscall.Errno {
	fa, e := s.sockaddr(addr, n)
	if e != 0 {
		return e
	}
	if err := s.ep.Bind(fa); err != nil {
		return Errno(err)
	}
	s.publish(false)
	s.update()
	return 0
}

func (s *socket) listen(backlog int) syscall.Errno {
	if s.typ != syscall.SOCK_STREAM {
		return syscall.EOPNOTSUPP
	}
	if backlog < 0 || backlog > 4096 {
		backlog = 4096
	}
	err := s.ep.Listen(backlog)
	if err == nil {
		s.publish(false) // listen binds an unbound socket
	}
	s.update()
	return Errno(err)
}

func (s *socket) connect(addr, n uint64) syscall.Errno {
	fa, e := s.sockaddr(addr, n)
	if e != 0 {
		return e
	}
	s.mu.Lock()
	s.connecting = s.typ == syscall.SOCK_STREAM
	s.mu.Unlock()
	err := s.ep.Connect(fa)
	switch err.(type) {
	case nil:
		s.mu.Lock()
		s.connecting = false
		s.publish(true)
		s.mu.Unlock()
	case *tcpip.ErrConnectStarted, *tcpip.ErrAlreadyConnecting:
		// update publishes the addresses once the handshake completes.
	default:
		s.mu.Lock()
		s.connecting = false
		s.mu.Unlock()
	}
	s.update()
	return Errno(err)
}

func (s *socket) accept(addr, lenp uint64) int64 {
	if s.typ != syscall.SOCK_STREAM {
		return -int64(syscall.EOPNOTSUPP)
	}
	var peer tcpip.FullAddress
	ep, wq, err := s.ep.Accept(&peer)
	s.update()
	if err != nil {
		return -int64(Errno(err))
	}
	if e := s.putSockaddr(peer, addr, lenp); e != 0 {
		ep.Close()
		return -int64(e)
	}
	n := &socket{t: s.t, h: s.t.nextAccepted.Add(1) - 1, family: s.family, typ: s.typ, proto: s.proto}
	n.ep = ep
	n.unconfirmed.Store(true)
	n.publish(true)
	s.t.add(n)
	n.attach(ep, wq)
	return int64(n.h)
}

func (s *socket) shutdown(how int) syscall.Errno {
	var f tcpip.ShutdownFlags
	switch how {
	case syscall.SHUT_RD:
		f = tcpip.ShutdownRead
	case syscall.SHUT_WR:
		f = tcpip.ShutdownWrite
	case syscall.SHUT_RDWR:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return syscall.EINVAL
	}
	err := s.ep.Shutdown(f)
	s.update()
	return Errno(err)
}

// send writes the n bytes at buf, to the address (to, tolen) if given.
func (s *socket) send(buf, n uint64, flags int, to, tolen uint64) (int, syscall.Errno) {
	b, ok := s.t.k.User(buf, n)
	if !ok {
		return 0, syscall.EFAULT
	}
	var opts tcpip.WriteOptions
	if to != 0 && s.typ == syscall.SOCK_DGRAM {
		fa, e := s.sockaddr(to, tolen)
		if e != 0 {
			return 0, e
		}
		opts.To = &fa
	}
	return s.write(b, opts)
}

func (s *socket) write(b []byte, opts tcpip.WriteOptions) (int, syscall.Errno) {
	m, err := s.ep.Write(bytes.NewReader(b), opts)
	s.update()
	if err != nil && (m == 0 || s.typ == syscall.SOCK_DGRAM) {
		return 0, Errno(err)
	}
	return int(m), 0
}

// recv reads into the n bytes at buf, storing the sender's address in
// (from, *fromlen) if given.
func (s *socket) recv(buf, n uint64, flags int, from, fromlen uint64) (int, syscall.Errno) {
	b, ok := s.t.k.User(buf, n)
	if !ok {
		return 0, syscall.EFAULT
	}
	r, e := s.read(b, flags, from != 0)
	if e != 0 {
		return 0, e
	}
	if from != 0 {
		if e := s.putSockaddr(r.RemoteAddr, from, fromlen); e != 0 {
			return 0, e
		}
	}
	if flags&msgTrunc != 0 && s.typ == syscall.SOCK_DGRAM {
		return r.Total, 0
	}
	return r.Count, 0
}

// read reads into b. End of stream is a zero count, not an error.
func (s *socket) read(b []byte, flags int, needAddr bool) (tcpip.ReadResult, syscall.Errno) {
	if len(b) == 0 && s.typ == syscall.SOCK_STREAM {
		return tcpip.ReadResult{}, 0
	}
	w := tcpip.SliceWriter(b)
	r, err := s.ep.Read(&w, tcpip.ReadOptions{Peek: flags&msgPeek != 0, NeedRemoteAddr: needAddr})
	s.update()
	switch err.(type) {
	case nil:
		return r, 0
	case *tcpip.ErrClosedForReceive:
		return tcpip.ReadResult{}, 0
	}
	return r, Errno(err)
}

package sockets

import (
	"encoding/binary"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Option numbers not in package syscall.
const (
	soReuseport = 15
	soProtocol  = 38
	soDomain    = 39
)

// optInt reads an int option value (at least 4 bytes, as Linux requires).
func (s *socket) optInt(val, n uint64) (int, syscall.Errno) {
	if n < 4 {
		return 0, syscall.EINVAL
	}
	b, ok := s.t.k.User(val, 4)
	if !ok {
		return 0, syscall.EFAULT
	}
	return int(int32(binary.LittleEndian.Uint32(b))), 0
}

func (s *socket) setsockopt(level, name int, val, n uint64) syscall.Errno {
	so := s.ep.SocketOptions()
	if level == syscall.SOL_SOCKET && name == syscall.SO_LINGER {
		if n < 8 {
			return syscall.EINVAL
		}
		b, ok := s.t.k.User(val, 8)
		if !ok {
			return syscall.EFAULT
		}
		so.SetLinger(tcpip.LingerOption{
			Enabled: binary.LittleEndian.Uint32(b) != 0,
			Timeout: time.Duration(int32(binary.LittleEndian.Uint32(b[4:]))) * time.Second,
		})
		return 0
	}
	v, e := s.optInt(val, n)
	if e != 0 {
		return e
	}
	on := v != 0
	var err tcpip.Error
	switch {
	case level == syscall.SOL_SOCKET && name == syscall.SO_REUSEADDR:
		so.SetReuseAddress(on)
	case level == syscall.SOL_SOCKET && name == soReuseport:
		so.SetReusePort(on)
	case level == syscall.SOL_SOCKET && name == syscall.SO_KEEPALIVE:
		so.SetKeepAlive(on)
	case level == syscall.SOL_SOCKET && name == syscall.SO_BROADCAST:
		so.SetBroadcast(on)
	case level == syscall.SOL_SOCKET && name == syscall.SO_SNDBUF:
		so.SetSendBufferSize(int64(v)*2, true)
	case level == syscall.SOL_SOCKET && name == syscall.SO_RCVBUF:
		so.SetReceiveBufferSize(int64(v)*2, true)
	case level == syscall.IPPROTO_TCP && s.typ == syscall.SOCK_STREAM:
		err = s.setTCP(name, v)
	case level == syscall.IPPROTO_IPV6 && name == syscall.IPV6_V6ONLY:
		if s.family != syscall.AF_INET6 {
			return syscall.ENOPROTOOPT
		}
		so.SetV6Only(on)
	case level == syscall.IPPROTO_IP && name == syscall.IP_TTL:
		err = s.ep.SetSockOptInt(tcpip.IPv4TTLOption, v)
	case level == syscall.IPPROTO_IP && name == syscall.IP_TOS:
		err = s.ep.SetSockOptInt(tcpip.IPv4TOSOption, v)
	default:
		return syscall.ENOPROTOOPT
	}
	return Errno(err)
}

func (s *socket) setTCP(name, v int) tcpip.Error {
	so := s.ep.SocketOptions()
	switch name {
	case syscall.TCP_NODELAY:
		so.SetDelayOption(v == 0)
		return nil
	case syscall.TCP_KEEPIDLE:
		if v < 1 {
			return &tcpip.ErrInvalidOptionValue{}
		}
		o := tcpip.KeepaliveIdleOption(time.Duration(v) * time.Second)
		return s.ep.SetSockOpt(&o)
	case syscall.TCP_KEEPINTVL:
		if v < 1 {
			return &tcpip.ErrInvalidOptionValue{}
		}
		o := tcpip.KeepaliveIntervalOption(time.Duration(v) * time.Second)
		return s.ep.SetSockOpt(&o)
	case syscall.TCP_KEEPCNT:
		return s.ep.SetSockOptInt(tcpip.KeepaliveCountOption, v)
	}
	return &tcpip.ErrUnknownProtocolOption{}
}

func (s *socket) getsockopt(level, name int, val, lenp uint64) syscall.Errno {
	lb, ok := s.t.k.User(lenp, 4)
	if !ok {
		return syscall.EFAULT
	}
	n := int32(binary.LittleEndian.Uint32(lb))
	if n < 0 {
		return syscall.EINVAL
	}
	v, e := s.optValue(level, name)
	if e != 0 {
		return e
	}
	var out [4]byte
	binary.LittleEndian.PutUint32(out[:], uint32(int32(v)))
	c := min(int(n), 4)
	if c > 0 {
		b, ok := s.t.k.User(val, uint64(c))
		if !ok {
			return syscall.EFAULT
		}
		copy(b, out[:c])
	}
	binary.LittleEndian.PutUint32(lb, uint32(c))
	return 0
}

// optValue returns the value of an int option.
func (s *socket) optValue(level, name int) (int, syscall.Errno) {
	so := s.ep.SocketOptions()
	b := func(v bool) (int, syscall.Errno) {
		if v {
			return 1, 0
		}
		return 0, 0
	}
	switch level {
	case syscall.SOL_SOCKET:
		switch name {
		case syscall.SO_ERROR:
			// LastError reads and clears the pending error, as Linux does.
			return int(Errno(s.ep.LastError())), 0
		case syscall.SO_TYPE:
			return s.typ, 0
		case soDomain:
			return s.family, 0
		case soProtocol:
			return s.proto, 0
		case syscall.SO_ACCEPTCONN:
			return b(so.GetAcceptConn())
		case syscall.SO_REUSEADDR:
			return b(so.GetReuseAddress())
		case soReuseport:
			return b(so.GetReusePort())
		case syscall.SO_KEEPALIVE:
			return b(so.GetKeepAlive())
		case syscall.SO_BROADCAST:
			return b(so.GetBroadcast())
		case syscall.SO_SNDBUF:
			return int(so.GetSendBufferSize()), 0
		case syscall.SO_RCVBUF:
			return int(so.GetReceiveBufferSize()), 0
		}
	case syscall.IPPROTO_TCP:
		if s.typ == syscall.SOCK_STREAM && name == syscall.TCP_NODELAY {
			return b(!so.GetDelayOption())
		}
	case syscall.IPPROTO_IPV6:
		if s.family == syscall.AF_INET6 && name == syscall.IPV6_V6ONLY {
			return b(so.GetV6Only())
		}
	}
	return 0, syscall.ENOPROTOOPT
}

package kernel

// Sockets. The network service (services/netsvc, gVisor's TCP/IP stack)
// serves socket calls like the file system serves file calls, with three
// differences that come from how Go uses sockets:
//
//   - Go makes socket(), getsockname() and getpeername() with raw system
//     calls, which keep the caller's P, so a service goroutine might never
//     run while they wait. The kernel answers them itself: socket() picks the
//     service handle, queues an asynchronous creation request and returns at
//     once; the names come from a cache the service fills (SetSockAddr).
//   - Sockets are pollable: the service reports each socket's readiness
//     (SetReady) and epoll reports it, so Go's netpoller does the waiting;
//     the service returns EAGAIN instead of blocking.
//   - Closing a socket does not wait for the service.

const (
	sysConnect     = 42
	sysAccept      = 43
	sysSendto      = 44
	sysRecvfrom    = 45
	sysSendmsg     = 46
	sysRecvmsg     = 47
	sysShutdown    = 48
	sysBind        = 49
	sysListen      = 50
	sysGetsockname = 51
	sysGetpeername = 52
	sysSetsockopt  = 54
	sysGetsockopt  = 55
	sysAccept4     = 288

	sysSvcReady   = 1007
	sysSvcSetAddr = 1008

	// NrSocketCreate is the request that asks the network service to create
	// a socket: Args = handle, family, type, protocol.
	NrSocketCreate = 2000

	_ENOTSOCK = 88

	afUnix  = 1
	afInet  = 2
	afInet6 = 10

	sockStream = 1
	sockDgram  = 2
	sockMask   = 0xf

	ipprotoMPTCP = 262

	maxSockets    = 256
	sockaddrMax   = 128
	firstSocketID = 1 << 24
	asyncID       = 1 << 63
)

type socket struct {
	used       bool
	handle     int32
	family     int32
	refs       int
	events     uint32
	local      [sockaddrMax]byte
	peer       [sockaddrMax]byte
	llen, plen uint32
}

var (
	sockets    [maxSockets]socket
	nextSockID int32 = firstSocketID
)

// Asynchronous requests (socket creation and close): queued without a
// waiting thread, handed to the service before the synchronous ones.
type asyncReq struct {
	used  bool
	seq   uint64
	class uint32
	nr    uint64
	args  [6]uint64
}

var (
	asyncQ   [128]asyncReq
	asyncSeq uint64
)

func queueAsync(class uint32, nr uint64, args [6]uint64) bool {
	for i := range asyncQ {
		if !asyncQ[i].used {
			asyncSeq++
			asyncQ[i] = asyncReq{true, asyncSeq, class, nr, args}
			feedServers()
			return true
		}
	}
	return false
}

func asyncPending() bool {
	for i := range asyncQ {
		if asyncQ[i].used {
			return true
		}
	}
	return false
}

// takeAsync copies up to max queued asynchronous requests of class, oldest
// first, to the request buffer at buf and returns how many.
func takeAsync(class uint32, buf uintptr, max int) int {
	n := 0
	for n < max {
		best := -1
		for i := range asyncQ {
			if asyncQ[i].used && asyncQ[i].class == class && (best < 0 || asyncQ[i].seq < asyncQ[best].seq) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		r := (*Request)(addrPtr(buf + uintptr(n)*requestSize))
		r.ID = asyncID | uint64(best)
		r.Nr = asyncQ[best].nr
		r.Args = asyncQ[best].args
		asyncQ[best].used = false
		n++
	}
	return n
}

func socketByHandle(h int32) *socket {
	for i := range sockets {
		if sockets[i].used && sockets[i].handle == h {
			return &sockets[i]
		}
	}
	return nil
}

// firstAcceptedID is where the network service's handles for accepted
// sockets start; the kernel learns them before accept4 completes.
const firstAcceptedID = 1 << 28

// socketForService returns the slot of handle h for the service's reports:
// an accepted socket's state may arrive before its accept4 completes, so a
// slot without descriptors is made for it then.
func socketForService(h int32) *socket {
	if s := socketByHandle(h); s != nil || h < firstAcceptedID {
		return s
	}
	for i := range sockets {
		if !sockets[i].used {
			sockets[i] = socket{used: true, handle: h}
			return &sockets[i]
		}
	}
	return nil
}

// newSocket takes a socket slot for handle h (or the one the service's
// reports already made) and binds descriptor fd to it.
func newSocket(fd int, h int32, family int32, flags uint64) bool {
	for i := range sockets {
		if sockets[i].used && sockets[i].handle == h && sockets[i].refs == 0 {
			sockets[i].family, sockets[i].refs = family, 1
			files[fd] = file{kind: fdSocket, ep: i, flags: oRdwr | uint32(flags&oNonblock), fdfl: cloexecBit(flags)}
			return true
		}
	}
	for i := range sockets {
		if !sockets[i].used {
			sockets[i] = socket{used: true, handle: h, family: family, refs: 1}
			files[fd] = file{kind: fdSocket, ep: i, flags: oRdwr | uint32(flags&oNonblock), fdfl: cloexecBit(flags)}
			return true
		}
	}
	return false
}

func sysSocketCall(family, typ, proto int64) int64 {
	if servers[classNet] == 0 {
		return -_EAFNOSUPPORT
	}
	switch family {
	case afInet, afInet6:
	default:
		return -_EAFNOSUPPORT
	}
	if proto == ipprotoMPTCP {
		return -_EPROTONOSUPPORT
	}
	switch typ & sockMask {
	case sockStream, sockDgram:
	default:
		return -_EPROTONOSUPPORT
	}
	if typ&^(sockMask|oNonblock|oCloexec) != 0 {
		return -_EINVAL
	}
	fd := allocFD()
	if fd < 0 {
		return -_EMFILE
	}
	h := nextSockID
	if !newSocket(fd, h, int32(family), uint64(typ)) {
		return -_ENOMEM
	}
	if !queueAsync(classNet, NrSocketCreate, [6]uint64{uint64(h), uint64(family), uint64(typ & sockMask), uint64(proto)}) {
		sockets[files[fd].ep] = socket{}
		files[fd] = file{}
		return -_ENOMEM
	}
	nextSockID++
	if nextSockID >= 1<<28 {
		nextSockID = firstSocketID
	}
	return int64(fd)
}

// sysSockNameCall answers getsockname and getpeername from the cache.
func sysSockNameCall(fd int64, peer bool, addr, lenp uintptr) int64 {
	f := getFile(fd)
	if f == nil {
		return -_EBADF
	}
	if f.kind != fdSocket {
		return -_ENOTSOCK
	}
	if !userOK(lenp, 4, true) {
		return -_EFAULT
	}
	s := &sockets[f.ep]
	src, n := s.local[:], s.llen
	if peer {
		if s.plen == 0 {
			return -107 // ENOTCONN
		}
		src, n = s.peer[:], s.plen
	}
	if n == 0 {
		// Unbound: the family's wildcard address.
		n = 16
		if s.family == afInet6 {
			n = 28
		}
		src = s.local[:]
		src[0], src[1] = byte(s.family), 0
	}
	room := load32(lenp)
	if room > 0 {
		c := min(room, n)
		if !userOK(addr, uintptr(c), true) {
			return -_EFAULT
		}
		copy(bytesAt(addr, int(c)), src[:c])
	}
	store32(lenp, n)
	return 0
}

func cloexecBit(flags uint64) uint32 {
	if flags&oCloexec != 0 {
		return 1
	}
	return 0
}

func sysSvcReadyCall(h int32, events uint32) int64 {
	s := socketForService(h)
	if s == nil {
		return -_ESRCH
	}
	s.events = events
	notifyReady(fdSocket, socketIndex(s))
	return 0
}

func socketIndex(s *socket) int {
	for i := range sockets {
		if &sockets[i] == s {
			return i
		}
	}
	return -1
}

func sysSvcSetAddrCall(h int32, peer bool, a, n uintptr) int64 {
	s := socketForService(h)
	if s == nil {
		return -_ESRCH
	}
	if n > sockaddrMax || !userOK(a, n, false) {
		return -_EINVAL
	}
	if peer {
		copy(s.peer[:], bytesAt(a, int(max(n, 1)))[:n])
		s.plen = uint32(n)
	} else {
		copy(s.local[:], bytesAt(a, int(max(n, 1)))[:n])
		s.llen = uint32(n)
	}
	return 0
}

// socketClose drops one descriptor of a socket; the last one closes the
// service's endpoint asynchronously.
func socketClose(f *file) {
	s := &sockets[f.ep]
	s.refs--
	if s.refs > 0 {
		return
	}
	queueAsync(classNet, sysCloseNr, [6]uint64{uint64(s.handle)})
	*s = socket{}
}

// optionalOK validates an optional (addr, *len) pair: both may be null.
func optionalOK(addr, lenp uintptr, write bool) bool {
	if lenp == 0 {
		return true
	}
	if !userOK(lenp, 4, true) {
		return false
	}
	return addr == 0 || userOK(addr, uintptr(load32(lenp)), write)
}

// msghdrOK validates a struct msghdr and everything it points to.
func msghdrOK(m uintptr, write bool) bool {
	if !userOK(m, 56, write) {
		return false
	}
	name, namelen := uintptr(load64(m)), uintptr(load32(m+8))
	iov, iovlen := uintptr(load64(m+16)), uintptr(load64(m+24))
	ctl, ctllen := uintptr(load64(m+32)), uintptr(load64(m+40))
	if name != 0 && !userOK(name, namelen, write) || iovlen > 1024 || !userOK(iov, iovlen*16, false) {
		return false
	}
	for i := uintptr(0); i < iovlen; i++ {
		if !userOK(uintptr(load64(iov+i*16)), uintptr(load64(iov+i*16+8)), write) {
			return false
		}
	}
	return ctl == 0 || userOK(ctl, ctllen, write)
}

// forwardSocket validates and forwards a call on socket descriptor fd.
func forwardSocket(t *thread, f *file, fd int64, nr uint64, a [6]uint64) (int64, bool) {
	s := &sockets[f.ep]
	if nr == sysCloseNr {
		socketClose(f)
		files[fd] = file{}
		return 0, true
	}
	ok := true
	newfds := 0
	switch nr {
	case sysReadNr, sysRecvfrom:
		ok = userOK(uintptr(a[1]), uintptr(a[2]), true) && (nr == sysReadNr || optionalOK(uintptr(a[4]), uintptr(a[5]), true))
	case sysWriteNr, sysSendto:
		ok = userOK(uintptr(a[1]), uintptr(a[2]), false) && (nr == sysWriteNr || a[4] == 0 || userOK(uintptr(a[4]), uintptr(a[5]), false))
	case sysConnect, sysBind:
		ok = a[2] <= sockaddrMax && userOK(uintptr(a[1]), uintptr(a[2]), false)
	case sysAccept, sysAccept4:
		ok = optionalOK(uintptr(a[1]), uintptr(a[2]), true)
		if nr == sysAccept {
			a[3] = 0
		}
		newfds = 1
	case sysSendmsg, sysRecvmsg:
		ok = msghdrOK(uintptr(a[1]), nr == sysRecvmsg)
	case sysSetsockopt:
		ok = userOK(uintptr(a[3]), uintptr(a[4]), false)
	case sysGetsockopt:
		ok = optionalOK(uintptr(a[3]), uintptr(a[4]), true)
	case sysListen, sysShutdown:
	default:
		return -_EINVAL, true
	}
	if !ok {
		return -_EFAULT, true
	}
	a[0] = uint64(s.handle)
	t.svcSockFamily = s.family
	return forward(t, classNet, nr, a, newfds), true
}

// completeAccept binds the descriptor reserved for accept4 to the new
// socket's handle.
func completeAccept(c *thread, fd int32, h int64) int64 {
	if !newSocket(int(fd), int32(h), c.svcSockFamily, c.svcArgs[3]) {
		files[fd] = file{}
		queueAsync(classNet, sysCloseNr, [6]uint64{uint64(h)})
		return -_EMFILE
	}
	return int64(fd)
}

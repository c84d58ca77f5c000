package kernel

// File descriptors: the console (0, 1, 2), eventfds and epoll instances -
// what Go's runtime and netpoller need. Readiness is level-triggered; a
// thread blocked in epoll_pwait is completed as soon as one of its
// descriptors becomes ready.

const (
	fdNone = iota
	fdConsole
	fdEventfd
	fdEpoll
	fdPipe     // one end of a kernel pipe (ep is the pipe, end the side)
	fdService  // served by a service goroutine through handle
	fdSocket   // a socket of the network service (ep: socket slot)
	fdReserved // taken for the result of a forwarded call in flight
)

const (
	maxFDs    = 256
	maxEpolls = 8
	maxWatch  = 512

	epollIn  = 0x001
	epollOut = 0x004
	epollErr = 0x008
	epollHup = 0x010
	epollET  = 1 << 31

	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3

	oNonblock = 0x800
	oRdwr     = 2
	oCloexec  = 0x80000
)

type file struct {
	kind   uint8
	flags  uint32 // O_* status flags
	count  uint64 // eventfd counter
	ep     int    // epoll instance index
	fdfl   uint32 // FD_CLOEXEC
	handle int32  // service handle
	end    int    // pipe end
}

type epollInst struct {
	used   bool
	n      int
	fd     [maxWatch]int32
	events [maxWatch]uint32
	data   [maxWatch]uint64
	edge   [maxWatch]uint32 // edge-triggered watches: readiness not reported yet
}

var (
	files  [maxFDs]file
	epolls [maxEpolls]epollInst
)

func initFDs() {
	for i := 0; i < 3; i++ {
		files[i] = file{kind: fdConsole, flags: oRdwr}
	}
}

func allocFD() int {
	for i := 0; i < maxFDs; i++ {
		if files[i].kind == fdNone {
			return i
		}
	}
	return -1
}

func getFile(fd int64) *file {
	if fd < 0 || fd >= maxFDs || files[fd].kind == fdNone || files[fd].kind == fdReserved {
		return nil
	}
	return &files[fd]
}

// readiness returns the epoll events fd is ready for.
func readiness(fd int32) uint32 {
	f := getFile(int64(fd))
	if f == nil {
		return epollHup
	}
	switch f.kind {
	case fdConsole:
		r := uint32(epollOut)
		if inputLen() > 0 {
			r |= epollIn
		}
		return r
	case fdEventfd:
		r := uint32(epollOut)
		if f.count > 0 {
			r |= epollIn
		}
		return r
	case fdPipe:
		return pipeReadiness(f)
	case fdSocket:
		return sockets[f.ep].events
	}
	return 0
}

func sysEventfd2(initval uint64, flags uint64) int64 {
	fd := allocFD()
	if fd < 0 {
		return -_EMFILE
	}
	files[fd] = file{kind: fdEventfd, flags: oRdwr | uint32(flags&oNonblock), count: initval}
	return int64(fd)
}

func sysEpollCreate1(flags uint64) int64 {
	fd := allocFD()
	if fd < 0 {
		return -_EMFILE
	}
	for i := range epolls {
		if !epolls[i].used {
			epolls[i] = epollInst{used: true}
			files[fd] = file{kind: fdEpoll, ep: i}
			return int64(fd)
		}
	}
	return -_ENOMEM
}

func sysEpollCtl(epfd int64, op int64, fd int64, ev uintptr) int64 {
	e := getFile(epfd)
	if e == nil || e.kind != fdEpoll {
		return -_EBADF
	}
	target := getFile(fd)
	if target == nil {
		return -_EBADF
	}
	if fd == epfd {
		return -_EINVAL
	}
	if target.kind == fdService {
		// Files (and pipes) are not pollable: Go then uses them in
		// blocking mode, served by the service goroutines.
		return -_EPERM
	}
	ep := &epolls[e.ep]
	idx := -1
	for i := 0; i < ep.n; i++ {
		if ep.fd[i] == int32(fd) {
			idx = i
		}
	}
	switch op {
	case epollCtlAdd, epollCtlMod:
		if !userOK(ev, 12, false) {
			return -_EFAULT
		}
		if op == epollCtlAdd && idx >= 0 {
			return -_EEXIST
		}
		if op == epollCtlMod && idx < 0 {
			return -_ENOENT
		}
		if idx < 0 {
			if ep.n == maxWatch {
				return -_ENOMEM
			}
			idx = ep.n
			ep.n++
		}
		ep.fd[idx] = int32(fd)
		ep.events[idx] = load32(ev)
		ep.data[idx] = uint64(load32(ev+4)) | uint64(load32(ev+8))<<32
		// An edge-triggered watch reports the readiness it starts with once.
		ep.edge[idx] = readiness(int32(fd))
		wakePollers()
	case epollCtlDel:
		if idx < 0 {
			return -_ENOENT
		}
		ep.n--
		ep.fd[idx], ep.events[idx], ep.data[idx], ep.edge[idx] = ep.fd[ep.n], ep.events[ep.n], ep.data[ep.n], ep.edge[ep.n]
	default:
		return -_EINVAL
	}
	return 0
}

// epollWatchesExternal reports whether instance ep watches a descriptor
// whose readiness may come from outside the machine (console, sockets).
func epollWatchesExternal(ep int) bool {
	in := &epolls[ep]
	for i := 0; i < in.n; i++ {
		if f := getFile(int64(in.fd[i])); f != nil && (f.kind == fdConsole || f.kind == fdSocket) {
			return true
		}
	}
	return false
}

// epollCollect writes up to max ready events of instance ep to buf and
// returns how many.
func epollCollect(ep int, buf uintptr, max int) int {
	in := &epolls[ep]
	n := 0
	for i := 0; i < in.n && n < max; i++ {
		var r uint32
		if in.events[i]&epollET != 0 {
			// Edge-triggered: only readiness that arrived since the last
			// report (Go registers sockets and pipes this way; reporting
			// a writable socket level-triggered would keep its poller
			// spinning).
			r = in.edge[i] & (in.events[i] | epollErr | epollHup)
			in.edge[i] = 0
		} else {
			r = readiness(in.fd[i]) & (in.events[i] | epollErr | epollHup)
		}
		if r == 0 {
			continue
		}
		e := buf + uintptr(n)*12
		store32(e, r)
		store32(e+4, uint32(in.data[i]))
		store32(e+8, uint32(in.data[i]>>32))
		n++
	}
	return n
}

func sysEpollPwait(t *thread, epfd int64, buf uintptr, max int64, timeout int64) int64 {
	e := getFile(epfd)
	if e == nil || e.kind != fdEpoll {
		return -_EBADF
	}
	if max <= 0 || max > 1<<20 {
		return -_EINVAL
	}
	if !userOK(buf, uintptr(max)*12, true) {
		return -_EFAULT
	}
	if n := epollCollect(e.ep, buf, int(max)); n > 0 || timeout == 0 {
		return int64(n)
	}
	var deadline int64
	if timeout > 0 {
		deadline = nanotime() + timeout*1e6
	}
	block(t, waitEpoll, deadline)
	t.waitAddr = buf
	t.waitArg = uintptr(e.ep)
	t.waitArg2 = uintptr(max)
	return 0
}

// notifyReady records an edge on every watch of a descriptor of kind
// referring to object idx (a pipe, a socket; -1: any object of the kind,
// for the console and eventfds) whose readiness changed, then completes the
// epoll waits that now have events.
func notifyReady(kind uint8, idx int) {
	for e := range epolls {
		in := &epolls[e]
		if !in.used {
			continue
		}
		for i := 0; i < in.n; i++ {
			if f := getFile(int64(in.fd[i])); f != nil && f.kind == kind && (idx < 0 || f.ep == idx) {
				in.edge[i] |= readiness(in.fd[i])
			}
		}
	}
	wakePollers()
}

// wakePollers completes the epoll waits that now have events.
func wakePollers() {
	for i := 0; i < nthreads; i++ {
		t := &threads[i]
		if t.state != tsBlocked || t.wait != waitEpoll {
			continue
		}
		if n := epollCollect(int(t.waitArg), t.waitAddr, int(t.waitArg2)); n > 0 {
			wake(t, int64(n))
		}
	}
}

// wakeConsoleReaders completes blocked reads of the console.
func wakeConsoleReaders() {
	for i := 0; i < nthreads && inputLen() > 0; i++ {
		t := &threads[i]
		if t.state == tsBlocked && t.wait == waitConsole {
			wake(t, int64(consoleRead(bytesAt(t.waitAddr, int(t.waitArg)))))
		}
	}
}

func sysRead(t *thread, fd int64, buf uintptr, n uintptr) int64 {
	f := getFile(fd)
	if f == nil {
		return -_EBADF
	}
	if n == 0 {
		return 0
	}
	if !userOK(buf, n, true) {
		return -_EFAULT
	}
	switch f.kind {
	case fdPipe:
		return pipeRead_(t, f, buf, n)
	case fdConsole:
		if inputLen() > 0 {
			return int64(consoleRead(bytesAt(buf, int(n))))
		}
		if f.flags&oNonblock != 0 {
			return -_EAGAIN
		}
		block(t, waitConsole, 0)
		t.waitAddr, t.waitArg = buf, n
		return 0
	case fdEventfd:
		if n < 8 {
			return -_EINVAL
		}
		if f.count == 0 {
			return -_EAGAIN
		}
		store64(buf, f.count)
		f.count = 0
		return 8
	}
	return -_EINVAL
}

func sysWrite(t *thread, fd int64, buf uintptr, n uintptr) int64 {
	f := getFile(fd)
	if f == nil {
		return -_EBADF
	}
	if n == 0 {
		return 0
	}
	if !userOK(buf, n, false) {
		return -_EFAULT
	}
	switch f.kind {
	case fdPipe:
		return pipeWrite_(t, f, buf, n)
	case fdConsole:
		printBytes(bytesAt(buf, int(n)))
		return int64(n)
	case fdEventfd:
		if n < 8 {
			return -_EINVAL
		}
		v := load64(buf)
		if v == ^uint64(0) {
			return -_EINVAL
		}
		f.count += v
		notifyReady(fdEventfd, -1)
		return 8
	}
	return -_EINVAL
}

func sysClose(fd int64) int64 {
	f := getFile(fd)
	if f == nil {
		return -_EBADF
	}
	switch f.kind {
	case fdEpoll:
		epolls[f.ep].used = false
	case fdPipe:
		pipeClose(f)
	case fdSocket:
		socketClose(f)
	}
	if fd > 2 {
		*f = file{}
	}
	return 0
}

// fcntl commands.
const (
	fGetfd = 1
	fSetfd = 2
	fGetfl = 3
	fSetfl = 4
)

func sysFcntl(fd int64, cmd int64, arg uint64) int64 {
	f := getFile(fd)
	if f == nil {
		return -_EBADF
	}
	switch cmd {
	case fGetfd:
		return int64(f.fdfl)
	case fSetfd:
		f.fdfl = uint32(arg & 1)
		return 0
	case fGetfl:
		return int64(f.flags)
	case fSetfl:
		f.flags = f.flags&^oNonblock | uint32(arg)&oNonblock
		return 0
	case fDupfd, fDupfdCloexec:
		return dupFD(fd, int(arg), cmd == fDupfdCloexec)
	}
	return -_EINVAL
}

const (
	fDupfd        = 0
	fDupfdCloexec = 1030
)

// dupFD duplicates a kernel descriptor (console, pipe end) onto the lowest
// free descriptor at or above min.
func dupFD(fd int64, min int, cloexec bool) int64 {
	f := getFile(fd)
	if f == nil {
		return -_EBADF
	}
	if f.kind != fdConsole && f.kind != fdPipe && f.kind != fdSocket {
		return -_EINVAL
	}
	for n := min; n < maxFDs; n++ {
		if files[n].kind == fdNone {
			dupInto(f, n, cloexec)
			return int64(n)
		}
	}
	return -_EMFILE
}

// dupInto makes descriptor n (free) another reference to f.
func dupInto(f *file, n int, cloexec bool) {
	files[n] = *f
	files[n].fdfl = 0
	if cloexec {
		files[n].fdfl = 1
	}
	switch f.kind {
	case fdPipe:
		pipes[f.ep].ends[f.end]++
	case fdSocket:
		sockets[f.ep].refs++
	}
}

// sysDup3Call is dup2 and dup3 (dup3 set) for the kernel's descriptors:
// newfd is closed first if open. Duplicating a service's descriptor onto a
// fixed number, or over one, is not supported (EINVAL, EBUSY).
func sysDup3Call(oldfd, newfd int64, flags uint64, dup3 bool) int64 {
	f := getFile(oldfd)
	if f == nil || newfd < 0 || newfd >= maxFDs {
		return -_EBADF
	}
	switch {
	case oldfd == newfd && dup3:
		return -_EINVAL
	case oldfd == newfd:
		return newfd
	case dup3 && flags&^oCloexec != 0:
		return -_EINVAL
	case f.kind != fdConsole && f.kind != fdPipe && f.kind != fdSocket:
		return -_EINVAL
	case files[newfd].kind == fdService:
		return -_EBUSY
	}
	if files[newfd].kind != fdNone {
		sysClose(newfd)
		files[newfd] = file{}
	}
	dupInto(f, int(newfd), flags&oCloexec != 0)
	return newfd
}

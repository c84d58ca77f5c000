package kernel

import "github.com/xairrosx/xairrosx/arch/amd64"

// Forwarded system calls. System calls that need code which allocates or
// blocks on other threads (file systems today; sockets later) are not served
// in kernel context: the kernel queues them and a service goroutine of the
// same program, registered with RegisterService, serves them with ordinary Go
// code, then completes them. The calling thread is blocked meanwhile (not
// interruptible by signals: the operation may already have happened).
//
// The kernel validates every user pointer a forwarded call carries and
// translates file descriptors into the service's handles, so services see
// handles and memory they may touch. Descriptors a call creates (openat, dup,
// pipe2) are reserved by the kernel before the call is queued and bound to
// the handles the service returns.
//
// Services use three private system calls: sysSvcRegister (from then on,
// forwarded calls queue until a service thread takes them), sysSvcWait
// (block until requests are queued, copy up to n of them out) and sysSvcDone
// (complete one).

const (
	sysSvcWait     = 1000
	sysSvcDone     = 1001
	sysSvcRegister = 1002
)

// Forwarded-call states.
const (
	svcNone = iota
	svcQueued
	svcTaken
)

// Request is one forwarded system call as a service thread receives it.
type Request struct {
	ID   uint64    // identifies the caller; pass it back to complete the call
	Nr   uint64    // Linux system call number
	Args [6]uint64 // arguments, descriptors translated to service handles
}

const requestSize = 64

// Service classes: which service serves a forwarded call.
const (
	classFiles = 0
	classNet   = 1
	nclasses   = 2
)

var servers [nclasses]int // services registered per class (sysSvcRegister)

// anyServers reports whether any service is registered.
func anyServers() bool { return servers[classFiles]+servers[classNet] > 0 }

// handle returns the service handle of fd, or -1.
func handle(fd int64) int64 {
	if f := getFile(fd); f != nil && f.kind == fdService {
		return int64(f.handle)
	}
	return -1
}

// dirHandle translates a dirfd argument: AT_FDCWD stays, a service
// descriptor becomes its handle.
func dirHandle(fd int64) (int64, int64) {
	if int32(fd) == -100 {
		return -100, 0
	}
	f := getFile(fd)
	if f == nil {
		return 0, -_EBADF
	}
	if f.kind != fdService {
		return 0, -_ENOTDIR
	}
	return int64(f.handle), 0
}

// pathOK reports whether a NUL-terminated path of at most 4096 bytes starts
// at a and is readable.
func pathOK(a uintptr) bool {
	for n := uintptr(0); n < 4096; n++ {
		if (a+n)&(pageSize-1) == 0 || n == 0 {
			if !userOK(a+n, 1, false) {
				return false
			}
		}
		if bytesAt(a+n, 1)[0] == 0 {
			return true
		}
	}
	return false
}

// reserveFD takes a free descriptor for a call's result.
func reserveFD() int32 {
	fd := allocFD()
	if fd < 0 {
		return -1
	}
	files[fd] = file{kind: fdReserved}
	return int32(fd)
}

func releaseFD(fd int32) {
	if fd >= 0 && files[fd].kind == fdReserved {
		files[fd] = file{}
	}
}

// forward queues t's system call for the services and blocks t. It returns
// an error without queueing if no service runs.
func forward(t *thread, class int, nr uint64, args [6]uint64, fds int) int64 {
	if servers[class] == 0 {
		return -_ENOSYS
	}
	t.svcFD = [2]int32{-1, -1}
	for i := 0; i < fds; i++ {
		if t.svcFD[i] = reserveFD(); t.svcFD[i] < 0 {
			releaseFD(t.svcFD[0])
			return -_EMFILE
		}
	}
	t.svcNr, t.svcArgs = nr, args
	t.svcClass = uint32(class)
	t.svcState = svcQueued
	t.svcGen++
	block(t, waitService, 0)
	feedServers()
	return 0
}

// Idle shutdown. A service thread blocked in sysSvcWait counts, for Go's
// runtime, as a thread in a system call, which turns off the runtime's
// deadlock detection ("all goroutines are asleep") just as a goroutine
// blocked on a socket does on Linux. So when the kernel sees that no thread
// can ever run again except through a service (nothing runnable, no
// deadline but sysmon's long sleeps, no thread waiting on the console), it
// ends the services' waits with svcIdle: they stop serving and park, Go's
// scheduler sees every goroutine asleep and reports the deadlock as on
// Linux. Calls forwarded afterwards fail as if no service had registered.
const (
	svcIdle       = -108 // -ESHUTDOWN, what sysSvcWait returns then
	idleGrace     = 50e6 // ns the machine must stay idle first
	longFutexWait = 30e9 // futex waits at least this long count as forever (sysmon)
)

var idleSince int64

// systemIdle reports whether no thread can run again unless a service does
// something.
func systemIdle(now int64) bool {
	if !anyServers() || asyncPending() {
		return false
	}
	waiting := false
	for i := 0; i < nthreads; i++ {
		t := &threads[i]
		switch t.state {
		case tsFree:
			continue
		case tsRunnable, tsRunning:
			return false
		}
		switch t.wait {
		case waitServer:
			waiting = true
		case waitFutex:
			if t.deadline != 0 && t.deadline-now < longFutexWait {
				return false
			}
		case waitPipe:
		case waitEpoll:
			if t.deadline != 0 || epollWatchesExternal(int(t.waitArg)) {
				return false
			}
		default: // sleep, console, device interrupt, a call being served
			return false
		}
	}
	return waiting
}

// idleCheck runs in the idle loop and shuts the services down once the
// machine has been idle (in the sense of systemIdle) for idleGrace.
func idleCheck(now int64) {
	if !systemIdle(now) {
		idleSince = 0
		return
	}
	if idleSince == 0 {
		idleSince = now
		return
	}
	if now-idleSince < idleGrace {
		return
	}
	servers = [nclasses]int{}
	for i := 0; i < nthreads; i++ {
		if t := &threads[i]; t.state == tsBlocked && t.wait == waitServer {
			wake(t, svcIdle)
		}
	}
}

// feedServers hands queued requests to service threads waiting for them.
func feedServers() {
	for si := 0; si < nthreads; si++ {
		s := &threads[si]
		if s.state != tsBlocked || s.wait != waitServer {
			continue
		}
		class := uint32(s.waitArg2)
		n := takeAsync(class, s.waitAddr, int(s.waitArg))
		for i := 0; i < nthreads && n < int(s.waitArg); i++ {
			c := &threads[i]
			if c.state != tsBlocked || c.wait != waitService || c.svcState != svcQueued || c.svcClass != class {
				continue
			}
			r := (*Request)(addrPtr(s.waitAddr + uintptr(n)*requestSize))
			r.ID = uint64(i) | uint64(c.svcGen)<<32
			r.Nr = c.svcNr
			r.Args = c.svcArgs
			c.svcState = svcTaken
			n++
		}
		if n == 0 {
			continue
		}
		wake(s, int64(n))
	}
}

// sysSvcWaitCall blocks a service thread until requests are queued.
func sysSvcWaitCall(t *thread, buf uintptr, max int64, class int64) int64 {
	if max <= 0 || max > 64 || class < 0 || class >= nclasses || !userOK(buf, uintptr(max)*requestSize, true) {
		return -_EINVAL
	}
	block(t, waitServer, 0)
	t.waitAddr, t.waitArg, t.waitArg2 = buf, uintptr(max), uintptr(class)
	feedServers()
	if t.state == tsBlocked {
		return 0
	}
	// feedServers completed the wait at once.
	return int64(t.regs.RAX)
}

// sysSvcDoneCall completes the request id with result (and, for pipe2, a
// second handle in extra).
func sysSvcDoneCall(id uint64, result int64, extra int64) int64 {
	if id&asyncID != 0 {
		return 0 // nobody waits for an asynchronous request
	}
	i := int(id & 0xffffffff)
	if i < 0 || i >= nthreads {
		return -_EINVAL
	}
	c := &threads[i]
	if c.state != tsBlocked || c.wait != waitService || c.svcState != svcTaken || c.svcGen != uint32(id>>32) {
		return -_ESRCH
	}
	c.svcState = svcNone
	wake(c, completeForwarded(c, result, extra))
	return 0
}

// completeForwarded binds reserved descriptors to the handles a call
// returned and computes what the caller sees.
func completeForwarded(c *thread, result, extra int64) int64 {
	fd0, fd1 := c.svcFD[0], c.svcFD[1]
	c.svcFD = [2]int32{-1, -1}
	if result < 0 {
		releaseFD(fd0)
		releaseFD(fd1)
		return result
	}
	switch c.svcNr {
	case sysAccept, sysAccept4:
		if c.svcClass == classNet {
			return completeAccept(c, fd0, result)
		}
	case sysOpenat, sysOpen, sysDup, sysDup2, sysDup3, sysFcntlNr:
		if fd0 < 0 {
			return result
		}
		files[fd0] = file{kind: fdService, handle: int32(result), fdfl: uint32(c.svcArgs[5])}
		return int64(fd0)
	case sysPipe2, sysPipe:
		files[fd0] = file{kind: fdService, handle: int32(result), fdfl: uint32(c.svcArgs[5])}
		files[fd1] = file{kind: fdService, handle: int32(extra), fdfl: uint32(c.svcArgs[5])}
		p := uintptr(c.svcArgs[4]) // the caller's int[2], validated when queued
		store32(p, uint32(fd0))
		store32(p+4, uint32(fd1))
		return 0
	case sysCloseNr:
		return 0
	case sysExitGroup, sysRebootNumber:
		// The exit hooks ran; the caller re-issues its call (see
		// syncBeforeExit), which needs the call number in RAX again.
		return int64(c.svcNr)
	}
	return result
}

// Forwarding table. For each forwarded call: which arguments are
// descriptors, directory descriptors, paths, and buffers (with the index of
// their length argument and whether the kernel writes them).
type fwd struct {
	on      bool
	fd      int8 // argument index of a descriptor, or -1
	dirfd   int8 // argument index of a dirfd (AT_FDCWD allowed), or -1
	dirfd2  int8
	path    int8 // argument index of a path, or -1
	path2   int8
	buf     int8 // argument index of a buffer, or -1
	buflen  int8 // index of its length, or -1 for a fixed size
	bufsize uint16
	write   bool // the call writes the buffer
	newfds  int8 // descriptors to reserve for the result
}

var noArg = fwd{true, -1, -1, -1, -1, -1, -1, -1, 0, false, 0}

// fwdTable is indexed by system call number; kernel context only reads it.
var fwdTable [512]fwd

func init() {
	// Built at package init (before any service can run) rather than as a
	// literal, so that each entry reads as a sentence.
	add := func(nr uint64, f func(*fwd)) {
		s := noArg
		f(&s)
		fwdTable[nr] = s
	}
	add(sysOpenat, func(s *fwd) { s.dirfd, s.path, s.newfds = 0, 1, 1 })
	add(sysOpen, func(s *fwd) { s.path, s.newfds = 0, 1 })
	add(sysCloseNr, func(s *fwd) { s.fd = 0 })
	add(sysReadNr, func(s *fwd) { s.fd, s.buf, s.buflen, s.write = 0, 1, 2, true })
	add(sysWriteNr, func(s *fwd) { s.fd, s.buf, s.buflen = 0, 1, 2 })
	add(sysPread64, func(s *fwd) { s.fd, s.buf, s.buflen, s.write = 0, 1, 2, true })
	add(sysPwrite64, func(s *fwd) { s.fd, s.buf, s.buflen = 0, 1, 2 })
	add(sysLseek, func(s *fwd) { s.fd = 0 })
	add(sysFstat, func(s *fwd) { s.fd, s.buf, s.bufsize, s.write = 0, 1, 144, true })
	add(sysNewfstatat, func(s *fwd) { s.dirfd, s.path, s.buf, s.bufsize, s.write = 0, 1, 2, 144, true })
	add(sysStat, func(s *fwd) { s.path, s.buf, s.bufsize, s.write = 0, 1, 144, true })
	add(sysLstat, func(s *fwd) { s.path, s.buf, s.bufsize, s.write = 0, 1, 144, true })
	add(sysGetdents64, func(s *fwd) { s.fd, s.buf, s.buflen, s.write = 0, 1, 2, true })
	add(sysMkdirat, func(s *fwd) { s.dirfd, s.path = 0, 1 })
	add(sysMkdir, func(s *fwd) { s.path = 0 })
	add(sysUnlinkat, func(s *fwd) { s.dirfd, s.path = 0, 1 })
	add(sysUnlink, func(s *fwd) { s.path = 0 })
	add(sysRmdir, func(s *fwd) { s.path = 0 })
	add(sysRenameat, func(s *fwd) { s.dirfd, s.path, s.dirfd2, s.path2 = 0, 1, 2, 3 })
	add(sysRenameat2, func(s *fwd) { s.dirfd, s.path, s.dirfd2, s.path2 = 0, 1, 2, 3 })
	add(sysRename, func(s *fwd) { s.path, s.path2 = 0, 1 })
	add(sysLinkat, func(s *fwd) { s.dirfd, s.path, s.dirfd2, s.path2 = 0, 1, 2, 3 })
	add(sysSymlinkat, func(s *fwd) { s.path, s.dirfd, s.path2 = 0, 1, 2 })
	add(sysSymlink, func(s *fwd) { s.path, s.path2 = 0, 1 })
	add(sysReadlinkat, func(s *fwd) { s.dirfd, s.path, s.buf, s.buflen, s.write = 0, 1, 2, 3, true })
	add(sysReadlink, func(s *fwd) { s.path, s.buf, s.buflen, s.write = 0, 1, 2, true })
	add(sysFtruncate, func(s *fwd) { s.fd = 0 })
	add(sysTruncate, func(s *fwd) { s.path = 0 })
	add(sysFsync, func(s *fwd) { s.fd = 0 })
	add(sysFdatasync, func(s *fwd) { s.fd = 0 })
	add(sysSync, func(s *fwd) {})
	add(sysSyncfs, func(s *fwd) { s.fd = 0 })
	add(sysSyncFileRange, func(s *fwd) { s.fd = 0 })
	add(sysFlock, func(s *fwd) { s.fd = 0 })
	add(sysFchmod, func(s *fwd) { s.fd = 0 })
	add(sysFchmodat, func(s *fwd) { s.dirfd, s.path = 0, 1 })
	add(sysChmod, func(s *fwd) { s.path = 0 })
	add(sysUtimensat, func(s *fwd) { s.dirfd, s.path = 0, 1 })
	add(sysStatfs, func(s *fwd) { s.path, s.buf, s.bufsize, s.write = 0, 1, 120, true })
	add(sysFstatfs, func(s *fwd) { s.fd, s.buf, s.bufsize, s.write = 0, 1, 120, true })
	add(sysAccess, func(s *fwd) { s.path = 0 })
	add(sysFaccessat, func(s *fwd) { s.dirfd, s.path = 0, 1 })
	add(sysFaccessat2, func(s *fwd) { s.dirfd, s.path = 0, 1 })
	add(sysChdir, func(s *fwd) { s.path = 0 })
	add(sysFchdir, func(s *fwd) { s.fd = 0 })
	add(sysGetcwd, func(s *fwd) { s.buf, s.buflen, s.write = 0, 1, true })
	add(sysDup, func(s *fwd) { s.fd, s.newfds = 0, 1 })
}

// tryForward forwards nr if it is a forwarded call whose descriptors (if
// any) are service descriptors. ok=false means the kernel should handle the
// call itself.
func tryForward(t *thread, f *amd64.Frame, nr uint64) (r int64, ok bool) {
	if nr >= uint64(len(fwdTable)) || !fwdTable[nr].on || !anyServers() {
		return 0, false
	}
	s := &fwdTable[nr]
	a := [6]uint64{f.RDI, f.RSI, f.RDX, f.R10, f.R8, f.R9}
	if s.fd >= 0 {
		fd := int64(a[s.fd])
		if f := getFile(fd); f != nil && f.kind == fdSocket {
			return forwardSocket(t, f, fd, nr, a)
		}
		if getFile(fd) == nil {
			return -_EBADF, true
		}
		h := handle(fd)
		if h < 0 {
			return 0, false // not a service descriptor: the kernel's own
		}
		a[s.fd] = uint64(h)
		if nr == sysCloseNr {
			files[fd] = file{} // the descriptor is gone whatever close says
		}
	}
	for _, d := range [2]int8{s.dirfd, s.dirfd2} {
		if d < 0 {
			continue
		}
		h, err := dirHandle(int64(a[d]))
		if err != 0 {
			return err, true
		}
		a[d] = uint64(h)
	}
	for _, p := range [2]int8{s.path, s.path2} {
		if p >= 0 && !pathOK(uintptr(a[p])) {
			return -_EFAULT, true
		}
	}
	if s.buf >= 0 {
		n := uintptr(s.bufsize)
		if s.buflen >= 0 {
			n = uintptr(a[s.buflen])
		}
		if n > 1<<30 {
			return -_EINVAL, true
		}
		if !userOK(uintptr(a[s.buf]), n, s.write) {
			return -_EFAULT, true
		}
	}
	switch nr {
	case sysUtimensat:
		if a[2] != 0 && !userOK(uintptr(a[2]), 32, false) {
			return -_EFAULT, true
		}
	case sysPipe2, sysPipe:
		a[4] = a[0] // where the descriptors go
		if nr == sysPipe2 && a[1]&oCloexec != 0 {
			a[5] = 1
		}
	case sysOpenat, sysOpen:
		flags := a[2]
		if nr == sysOpen {
			flags = a[1]
		}
		if flags&oCloexec != 0 {
			a[5] = 1
		}
	}
	if servers[classFiles] == 0 {
		return 0, false
	}
	return forward(t, classFiles, nr, a, int(s.newfds)), true
}

// Exit hooks. Services that hold state in memory (the file system's write
// cache) must write it out before the machine powers off. So the first
// exit_group or reboot(2) of a program that registered hooks (AtExit) is
// not carried out at once: it is forwarded, as a request with the call's
// own number, to the service that registered hooks, with the caller's
// instruction pointer moved back onto its SYSCALL instruction. The service
// runs the hooks and completes the request with the call number as result,
// so that the caller, once woken, issues the same call again, which now
// exits. The hooks run on another P than the exiting thread's, which holds
// its own (Go's runtime.exit is not a blocking system call for the
// scheduler); serviceProcs makes sure there is one.
var (
	atExitHooks int32 // hooks registered by the program (AtExit)
	exitSynced  bool  // the hooks have been asked to run
)

// syncBeforeExit forwards t's exit_group or reboot call to the services'
// exit hooks if they have not run yet, and reports whether it did.
func syncBeforeExit(t *thread, f *amd64.Frame) bool {
	if exitSynced || atExitHooks == 0 || servers[classFiles] == 0 {
		return false
	}
	exitSynced = true
	f.RIP -= syscallInsnLen
	forward(t, classFiles, f.RAX, [6]uint64{f.RDI, f.RSI, f.RDX, f.R10, f.R8, f.R9}, 0)
	// Hooks that cannot finish (a wedged device, a program that set
	// GOMAXPROCS to 1 so that no P is free to run them) must not keep the
	// machine from going off.
	t.deadline = nanotime() + exitHookTimeout
	return true
}

// exitHookTimeout bounds how long an exit waits for the exit hooks.
const exitHookTimeout = 10e9

// syscallInsnLen is the length of the SYSCALL instruction (0F 05).
const syscallInsnLen = 2

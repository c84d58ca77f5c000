package kernel

import "github.com/xairrosx/xairrosx/arch/amd64"

// Linux x86-64 system call numbers the kernel knows.
const (
	sysReadNr          = 0
	sysWriteNr         = 1
	sysOpen            = 2
	sysCloseNr         = 3
	sysStat            = 4
	sysFstat           = 5
	sysLstat           = 6
	sysPoll            = 7
	sysLseek           = 8
	sysMmapNr          = 9
	sysMprotectNr      = 10
	sysMunmapNr        = 11
	sysBrk             = 12
	sysRtSigactionNr   = 13
	sysRtSigprocmaskNr = 14
	sysRtSigreturnNr   = 15
	sysIoctl           = 16
	sysPread64         = 17
	sysPwrite64        = 18
	sysReadv           = 19
	sysWritev          = 20
	sysAccess          = 21
	sysPipe            = 22
	sysSchedYield      = 24
	sysMincore         = 27
	sysMadviseNr       = 28
	sysDup             = 32
	sysDup2            = 33
	sysNanosleep       = 35
	sysGetpid          = 39
	sysSocket          = 41
	sysCloneNr         = 56
	sysExit            = 60
	sysKill            = 62
	sysUname           = 63
	sysFcntlNr         = 72
	sysGetcwd          = 79
	sysReadlink        = 89
	sysGettimeofday    = 96
	sysGetrlimit       = 97
	sysGetrusage       = 98
	sysSysinfo         = 99
	sysGetuid          = 102
	sysGetgid          = 104
	sysGeteuid         = 107
	sysGetegid         = 108
	sysGetppid         = 110
	sysSigaltstackNr   = 131
	sysPrctl           = 157
	sysArchPrctl       = 158
	sysSetrlimit       = 160
	sysGettid          = 186
	sysTkill           = 200
	sysTime            = 201
	sysFutexNr         = 202
	sysSchedSetaff     = 203
	sysSchedGetaff     = 204
	sysEpollCreate     = 213
	sysGetdents64      = 217
	sysSetTidAddress   = 218
	sysClockGettime    = 228
	sysClockGetres     = 229
	sysClockNanosleep  = 230
	sysExitGroup       = 231
	sysEpollWait       = 232
	sysEpollCtlNr      = 233
	sysTgkillNr        = 234
	sysOpenat          = 257
	sysMkdirat         = 258
	sysNewfstatat      = 262
	sysUnlinkat        = 263
	sysReadlinkat      = 267
	sysFaccessat       = 269
	sysPselect6        = 270
	sysPpoll           = 271
	sysSetRobustList   = 273
	sysEpollPwaitNr    = 281
	sysEventfd         = 284
	sysEventfd2Nr      = 290
	sysEpollCreate1Nr  = 291
	sysDup3            = 292
	sysPipe2           = 293
	sysPrlimit64       = 302
	sysGetrandomNr     = 318
	sysRseq            = 334
	sysStatx           = 332
	sysFaccessat2      = 439
	sysFsync           = 74
	sysFdatasync       = 75
	sysSync            = 162
	sysSyncFileRange   = 277
	sysSyncfs          = 306
	sysFlock           = 73
	sysTruncate        = 76
	sysFtruncate       = 77
	sysChdir           = 80
	sysFchdir          = 81
	sysRename          = 82
	sysMkdir           = 83
	sysRmdir           = 84
	sysUnlink          = 87
	sysSymlink         = 88
	sysChmod           = 90
	sysFchmod          = 91
	sysStatfs          = 137
	sysFstatfs         = 138
	sysRenameat        = 264
	sysLinkat          = 265
	sysSymlinkat       = 266
	sysFchmodat        = 268
	sysUtimensat       = 280
	sysRenameat2       = 316
	sysSplice          = 275
)

var (
	warnedSyscalls [512 / 64]uint64
	syscallCount   uint64
)

// doSyscall dispatches the system call in f (number in RAX, arguments in RDI,
// RSI, RDX, R10, R8, R9) and leaves the result, or -errno, in RAX.
func doSyscall(t *thread, f *amd64.Frame) {
	nr := f.RAX
	a0, a1, a2, a3 := f.RDI, f.RSI, f.RDX, f.R10
	syscallCount++
	var r int64
	if fr, ok := tryForward(t, f, nr); ok {
		f.RAX = uint64(fr)
		if optStrace {
			straceLine(t, nr, a0, a1, a2, fr)
		}
		return
	}
	switch nr {
	case sysSvcWait:
		r = sysSvcWaitCall(t, uintptr(a0), int64(a1), int64(a2))
	case sysSvcDone:
		r = sysSvcDoneCall(a0, int64(a1), int64(a2))
	case sysSvcRegister:
		r = -_EINVAL
		if a0 < nclasses {
			servers[a0]++
			r = 0
		}
	case sysSvcReady:
		r = sysSvcReadyCall(int32(a0), uint32(a1))
	case sysSvcSetAddr:
		r = sysSvcSetAddrCall(int32(a0), a1 != 0, uintptr(a2), uintptr(a3))
	case sysIRQWait:
		r = sysIRQWaitCall(t, int64(a0))
	case sysMSIAlloc:
		r = sysMSIAllocCall(uintptr(a0), uintptr(a1))
	case sysDMAAlloc:
		r = sysDMAAllocCall(uintptr(a0))
	case sysDMAFree:
		r = sysDMAFreeCall(uintptr(a0), uintptr(a1))
	case sysMapMMIO:
		r = sysMapMMIOCall(uintptr(a0), uintptr(a1))
	case sysReadNr:
		r = sysRead_(t, a0, a1, a2)
	case sysWriteNr:
		if selftestFault {
			r = int64(selftestNilDereference(nil))
		}
		r = sysWrite(t, int64(a0), uintptr(a1), uintptr(a2))
	case sysReadv, sysWritev:
		r = sysRWv(t, nr == sysWritev, int64(a0), uintptr(a1), int64(a2))
	case sysCloseNr:
		r = sysClose(int64(a0))
	case sysMmapNr:
		r = sysMmap(uintptr(a0), uintptr(a1), uint32(a2), uint32(a3), int64(f.R8), uintptr(f.R9))
	case sysMunmapNr:
		r = sysMunmap(uintptr(a0), uintptr(a1))
	case sysMprotectNr:
		r = sysMprotect(uintptr(a0), uintptr(a1), uint32(a2))
	case sysMadviseNr:
		r = sysMadvise(uintptr(a0), uintptr(a1), int64(a2))
	case sysBrk:
		r = 0
	case sysRtSigactionNr:
		r = sysRtSigaction(int64(a0), uintptr(a1), uintptr(a2), uintptr(a3))
	case sysRtSigprocmaskNr:
		r = sysRtSigprocmask(t, int64(a0), uintptr(a1), uintptr(a2), uintptr(a3))
	case sysRtSigreturnNr:
		sysRtSigreturn(t, f)
		return
	case sysSigaltstackNr:
		r = sysSigaltstack(t, f, uintptr(a0), uintptr(a1))
	case sysCloneNr:
		r = sysClone(t, f, a0, uintptr(a1), uintptr(f.R8))
	case sysExit:
		t.state = tsFree
		freeThread(current)
		if live == 0 {
			exitQEMU(int(a0))
		}
		return
	case sysExitGroup:
		if syncBeforeExit(t, f) {
			return
		}
		exitQEMU(int(a0))
	case sysFutexNr:
		r = sysFutex(t, uintptr(a0), int64(a1), uint32(a2), uintptr(a3))
	case sysSchedYield:
		needResched = true
	case sysNanosleep:
		r = sysSleep(t, 1, 0, uintptr(a0))
	case sysClockNanosleep:
		r = sysSleep(t, int64(a0), int64(a1), uintptr(a2))
	case sysClockGettime:
		r = sysClockGettime_(t, int64(a0), uintptr(a1))
	case sysClockGetres:
		if a1 != 0 && !writeTimespec(uintptr(a1), 1) {
			r = -_EFAULT
		}
	case sysGettimeofday:
		if a0 != 0 {
			if !userOK(uintptr(a0), 16, true) {
				r = -_EFAULT
				break
			}
			w := walltime()
			store64(uintptr(a0), uint64(w/1e9))
			store64(uintptr(a0)+8, uint64(w%1e9/1e3))
		}
	case sysTime:
		r = walltime() / 1e9
		if a0 != 0 && userOK(uintptr(a0), 8, true) {
			store64(uintptr(a0), uint64(r))
		}
	case sysGetpid:
		r = 1
	case sysGettid:
		r = int64(t.tid)
	case sysGetppid:
		r = 0
	case sysGetuid, sysGetgid, sysGeteuid, sysGetegid:
		r = 0
	case sysTgkillNr:
		r = sysTgkill(int64(a1), int64(a2))
	case sysTkill:
		r = sysTgkill(int64(a0), int64(a1))
	case sysKill:
		r = sysKill_(int64(a0), int64(a1))
	case sysArchPrctl:
		r = sysArchPrctl_(t, int64(a0), uintptr(a1))
	case sysSchedGetaff:
		r = sysSchedGetaffinity(uintptr(a1), uintptr(a2))
	case sysSchedSetaff:
		r = 0
	case sysUname:
		r = sysUname_(uintptr(a0))
	case sysPrlimit64:
		r = sysPrlimit(int64(a1), uintptr(a3))
	case sysGetrlimit:
		r = sysPrlimit(int64(a0), uintptr(a1))
	case sysSetrlimit:
		r = 0
	case sysFcntlNr:
		r = sysFcntl(int64(a0), int64(a1), a2)
	case sysIoctl:
		if getFile(int64(a0)) == nil {
			r = -_EBADF
		} else {
			r = -_ENOTTY
		}
	case sysFstat:
		r = sysFstat_(int64(a0), uintptr(a1))
	case sysLseek, sysPread64, sysPwrite64:
		if getFile(int64(a0)) == nil {
			r = -_EBADF
		} else {
			r = -_ESPIPE
		}
	case sysOpen, sysOpenat, sysStat, sysLstat, sysNewfstatat, sysAccess, sysFaccessat, sysFaccessat2,
		sysReadlink, sysReadlinkat, sysStatx, sysMkdirat, sysUnlinkat:
		// No file system yet: nothing exists.
		r = -_ENOENT
	case sysGetdents64:
		r = -_EBADF
		if getFile(int64(a0)) != nil {
			r = -_ENOTDIR
		}
	case sysGetcwd:
		r = -_ERANGE
		if a1 >= 2 && userOK(uintptr(a0), 2, true) {
			b := bytesAt(uintptr(a0), 2)
			b[0], b[1] = '/', 0
			r = 2
		}
	case sysEpollCreate1Nr:
		r = sysEpollCreate1(a0)
	case sysEpollCreate:
		r = sysEpollCreate1(0)
	case sysEpollCtlNr:
		r = sysEpollCtl(int64(a0), int64(a1), int64(a2), uintptr(a3))
	case sysEpollPwaitNr, sysEpollWait:
		r = sysEpollPwait(t, int64(a0), uintptr(a1), int64(int32(a2)), int64(int32(a3)))
	case sysEventfd2Nr:
		r = sysEventfd2(uint64(uint32(a0)), a1)
	case sysEventfd:
		r = sysEventfd2(uint64(uint32(a0)), 0)
	case sysGetrandomNr:
		r = sysGetrandom(uintptr(a0), uintptr(a1))
	case sysPipe2:
		r = sysPipe2Call(uintptr(a0), a1)
	case sysPipe:
		r = sysPipe2Call(uintptr(a0), 0)
	case sysDup:
		r = dupFD(int64(a0), 0, false)
	case sysDup2, sysDup3:
		r = sysDup3Call(int64(a0), int64(a1), a2, nr == sysDup3)
	case sysSocket:
		r = sysSocketCall(int64(a0), int64(a1), int64(a2))
	case sysGetsockname, sysGetpeername:
		r = sysSockNameCall(int64(a0), nr == sysGetpeername, uintptr(a1), uintptr(a2))
	case sysBind, sysListen, sysConnect, sysAccept, sysAccept4, sysSendto, sysRecvfrom,
		sysSendmsg, sysRecvmsg, sysShutdown, sysSetsockopt, sysGetsockopt:
		r = -_ENOTSOCK
		if sf := getFile(int64(a0)); sf == nil {
			r = -_EBADF
		} else if sf.kind == fdSocket {
			r, _ = forwardSocket(t, sf, int64(a0), nr, [6]uint64{a0, a1, a2, a3, f.R8, f.R9})
		}
	case sysSetTidAddress:
		r = int64(t.tid)
	case sysSetRobustList:
		r = 0
	case sysPrctl:
		r = -_EINVAL
	case sysSplice:
		// Not supported; EINVAL (not ENOSYS) is what makes Go's io.Copy
		// fall back to read and write.
		r = -_EINVAL
	case sysFsync, sysFdatasync, sysSyncFileRange:
		// Forwarded for the services' descriptors; the kernel's own
		// (console, pipes, epoll, eventfd) cannot be synced, as on Linux.
		r = -_EINVAL
		if nr == sysSyncFileRange {
			r = -_ESPIPE
		}
		if getFile(int64(a0)) == nil {
			r = -_EBADF
		}
	case sysSync, sysSyncfs:
		// Forwarded while a file service runs; nothing to write otherwise.
		if nr == sysSyncfs && getFile(int64(a0)) == nil {
			r = -_EBADF
		}
	case sysRebootNumber:
		if uint32(a2) != rebootCadOn && uint32(a2) != rebootCadOff && syncBeforeExit(t, f) {
			return
		}
		r = sysReboot(a0, a1, a2)
	case sysSysinfo:
		r = sysSysinfo_(uintptr(a0))
	case sysGetrusage:
		r = -_EFAULT
		if userOK(uintptr(a1), 144, true) {
			b := bytesAt(uintptr(a1), 144)
			for i := range b {
				b[i] = 0
			}
			r = 0
		}
	default:
		r = -_ENOSYS
		if nr < 512 && warnedSyscalls[nr/64]&(1<<(nr%64)) == 0 {
			warnedSyscalls[nr/64] |= 1 << (nr % 64)
			if optLog || optStrace {
				prints("xairrosx: unimplemented system call ")
				printu(nr)
				prints("\n")
			}
		}
	}
	f.RAX = uint64(r)
	if optStrace {
		straceLine(t, nr, a0, a1, a2, r)
	}
}

// straceLine prints one traced system call.
func straceLine(t *thread, nr, a0, a1, a2 uint64, r int64) {
	{
		prints("[")
		printu(uint64(t.tid))
		prints("] ")
		printu(uint64(nanotime() / 1000))
		prints("us syscall ")
		printu(nr)
		prints("(")
		printx(a0)
		prints(", ")
		printx(a1)
		prints(", ")
		printx(a2)
		prints(") = ")
		printi(r)
		if t.state == tsBlocked {
			prints(" (blocked)")
		}
		prints("\n")
	}
}

const _ENOTDIR = 20

func sysRead_(t *thread, fd, buf, n uint64) int64 {
	return sysRead(t, int64(fd), uintptr(buf), uintptr(n))
}

// sysRWv implements readv and writev on top of read and write.
func sysRWv(t *thread, write bool, fd int64, iov uintptr, cnt int64) int64 {
	if cnt < 0 || cnt > 1024 {
		return -_EINVAL
	}
	if !userOK(iov, uintptr(cnt)*16, false) {
		return -_EFAULT
	}
	total := int64(0)
	for i := int64(0); i < cnt; i++ {
		base, n := uintptr(load64(iov+uintptr(i)*16)), uintptr(load64(iov+uintptr(i)*16+8))
		var r int64
		if write {
			r = sysWrite(t, fd, base, n)
		} else {
			r = sysRead(t, fd, base, n)
		}
		if t.state == tsBlocked {
			// A blocking transfer covers only the buffer it blocked on;
			// earlier buffers of a blocking call are not counted then.
			return r
		}
		if r < 0 {
			if total > 0 {
				return total
			}
			return r
		}
		total += r
		if uintptr(r) < n {
			break
		}
	}
	return total
}

// sysSleep implements nanosleep and clock_nanosleep.
func sysSleep(t *thread, clock int64, flags int64, req uintptr) int64 {
	d, ok := readTimespec(req)
	if !ok {
		return -_EFAULT
	}
	now := nanotime()
	deadline := now + d
	if flags&1 != 0 { // TIMER_ABSTIME
		deadline = d
		if clock == 0 {
			deadline = d - wallBase
		}
	}
	if deadline <= now {
		return 0
	}
	block(t, waitSleep, deadline)
	return 0
}

func sysClockGettime_(t *thread, clock int64, ts uintptr) int64 {
	var ns int64
	switch clock {
	case 0, 5, 8, 11: // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
		ns = walltime()
	case 1, 4, 6, 7, 9: // MONOTONIC, _RAW, _COARSE, BOOTTIME, BOOTTIME_ALARM
		ns = nanotime()
	case 2, 3: // PROCESS_CPUTIME_ID, THREAD_CPUTIME_ID
		ns = t.cpuNS + nanotime() - t.runStart
	default:
		return -_EINVAL
	}
	if !writeTimespec(ts, ns) {
		return -_EFAULT
	}
	return 0
}

func sysKill_(pid, sig int64) int64 {
	if pid != 1 && pid != 0 && pid != -1 {
		return -_ESRCH
	}
	if sig == _SIGKILL {
		prints("xairrosx: program killed by SIGKILL\n")
		exitQEMU(128 + _SIGKILL)
	}
	for i := 0; i < nthreads; i++ {
		if threads[i].state != tsFree {
			return sysTgkill(int64(threads[i].tid), sig)
		}
	}
	return -_ESRCH
}

func sysArchPrctl_(t *thread, code int64, addr uintptr) int64 {
	switch code {
	case 0x1002: // ARCH_SET_FS
		t.fsbase = addr
		cpu.UserFS = addr
		return 0
	case 0x1003: // ARCH_GET_FS
		if !userOK(addr, 8, true) {
			return -_EFAULT
		}
		store64(addr, uint64(t.fsbase))
		return 0
	}
	return -_EINVAL
}

func sysSchedGetaffinity(size, mask uintptr) int64 {
	if size < 8 {
		return -_EINVAL
	}
	if !userOK(mask, 8, true) {
		return -_EFAULT
	}
	store64(mask, 1) // one CPU
	return 8
}

func putString(dst []byte, s string) {
	n := copy(dst, s)
	for i := n; i < len(dst); i++ {
		dst[i] = 0
	}
}

func sysUname_(buf uintptr) int64 {
	const field = 65
	if !userOK(buf, 6*field, true) {
		return -_EFAULT
	}
	b := bytesAt(buf, 6*field)
	putString(b[0:field], "Linux")
	putString(b[field:2*field], "xairrosx")
	putString(b[2*field:3*field], "6.1.0-xairrosx")
	putString(b[3*field:4*field], "#1 XairrosX")
	putString(b[4*field:5*field], "x86_64")
	putString(b[5*field:6*field], "(none)")
	return 0
}

func sysPrlimit(resource int64, old uintptr) int64 {
	if old == 0 {
		return 0
	}
	if !userOK(old, 16, true) {
		return -_EFAULT
	}
	cur, max := ^uint64(0), ^uint64(0)
	switch resource {
	case 7: // RLIMIT_NOFILE
		cur, max = maxFDs, maxFDs
	case 3: // RLIMIT_STACK
		cur = stackSize
	}
	store64(old, cur)
	store64(old+8, max)
	return 0
}

func sysFstat_(fd int64, st uintptr) int64 {
	f := getFile(fd)
	if f == nil {
		return -_EBADF
	}
	if !userOK(st, 144, true) {
		return -_EFAULT
	}
	b := bytesAt(st, 144)
	for i := range b {
		b[i] = 0
	}
	mode := uint32(0o010600) // FIFO-like anonymous inode
	if f.kind == fdConsole {
		mode = 0o020620 // character device
	}
	store32(st+24, mode)
	store64(st+56, 4096) // st_blksize
	return 0
}

func sysSysinfo_(buf uintptr) int64 {
	if !userOK(buf, 112, true) {
		return -_EFAULT
	}
	b := bytesAt(buf, 112)
	for i := range b {
		b[i] = 0
	}
	store64(buf, uint64(nanotime()/1e9))         // uptime
	store64(buf+32, totalFrames*pageSize)        // totalram
	store64(buf+40, freeFrames*pageSize)         // freeram
	*(*uint16)(addrPtr(buf + 80)) = uint16(live) // procs
	store32(buf+104, 1)                          // mem_unit
	return 0
}

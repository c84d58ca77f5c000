package kernel

import "github.com/xairrosx/xairrosx/arch/amd64"

// Threads and the scheduler. A thread is its saved registers, FS base,
// extended-state area and signal state. One CPU runs threads round-robin; the
// timer preempts a thread after timeSlice when another is runnable. A thread
// that waits (futex, sleep, epoll, console) is marked blocked with what it
// waits for and an optional deadline; it is made runnable by whoever
// completes the wait, who also writes the system call's result into its
// saved RAX.

const (
	maxThreads = 256
	timeSlice  = 10e6 // ns
)

// Thread states.
const (
	tsFree = iota
	tsRunnable
	tsRunning
	tsBlocked
)

// What a blocked thread waits for.
const (
	waitNone = iota
	waitFutex
	waitSleep
	waitEpoll
	waitConsole
	waitService // a forwarded system call is being served
	waitServer  // a service thread waits for requests
	waitPipe    // a pipe read or write
	waitIRQ     // a driver waits for a device interrupt
)

var stateNames = [...]string{"free", "runnable", "running", "blocked"}
var waitNames = [...]string{"", "futex", "sleep", "epoll", "console", "service", "requests", "pipe", "irq"}

type thread struct {
	state    uint32
	tid      int32
	regs     amd64.Frame
	fsbase   uintptr
	xsave    uintptr // extended state while not running (and during kernel entry)
	xsaveSig uintptr // extended state saved across a signal handler
	sigmask  uint64
	pending  uint64
	altSP    uintptr
	altSize  uintptr
	inSignal uint32
	wait     uint32
	waitAddr uintptr // futex word, epoll events buffer, or read buffer
	waitArg  uintptr // epoll fd, max events, or buffer length
	waitArg2 uintptr
	deadline int64 // ns of nanotime; 0 = none
	// A forwarded system call (service.go).
	svcState      uint32 // svcNone, svcQueued, svcTaken
	svcGen        uint32
	svcClass      uint32
	svcSockFamily int32 // family of the socket a forwarded call is on
	svcNr         uint64
	svcArgs       [6]uint64
	svcFD         [2]int32 // descriptors reserved for the result, or -1
	runStart      int64
	cpuNS         int64
	created       int64
}

var (
	threads     [maxThreads]thread
	nthreads    int   // slots in use (high-water mark of indices + 1)
	live        int   // threads not free
	nextTID     int32 = 1
	current           = -1 // index of the running thread
	needResched bool
	cpu         *amd64.CPU
	xsaveMask   uint64
	xsaveSize   uintptr
)

// newThread returns a free slot with fresh extended-state areas, or -1.
func newThread() int {
	for i := 0; i < maxThreads; i++ {
		if threads[i].state != tsFree {
			continue
		}
		x, xs := allocFrame(), allocFrame()
		if x == 0 || xs == 0 {
			if x != 0 {
				freeFrame(x)
			}
			if xs != 0 {
				freeFrame(xs)
			}
			return -1
		}
		t := &threads[i]
		*t = thread{}
		t.xsave, t.xsaveSig = x, xs
		t.tid = nextTID
		nextTID++
		t.created = nanotime()
		if i >= nthreads {
			nthreads = i + 1
		}
		live++
		return i
	}
	return -1
}

// initXsave gives a fresh area the default x87 and SSE control words.
func initXsave(a uintptr) {
	zeroPage(a)
	b := bytesAt(a, 32)
	b[0], b[1] = 0x7f, 0x03                       // FCW 0x037F
	b[24], b[25], b[26], b[27] = 0x80, 0x1f, 0, 0 // MXCSR 0x1F80
}

// freeThread releases a thread's slot and memory.
func freeThread(i int) {
	t := &threads[i]
	freeFrame(t.xsave)
	freeFrame(t.xsaveSig)
	t.state = tsFree
	live--
}

// block marks the running thread as waiting; its result is written by
// whoever wakes it.
func block(t *thread, kind uint32, deadline int64) {
	t.state = tsBlocked
	t.wait = kind
	t.deadline = deadline
}

// wake makes a blocked thread runnable with the given system-call result.
func wake(t *thread, result int64) {
	t.regs.RAX = uint64(result)
	t.state = tsRunnable
	t.wait = waitNone
	t.deadline = 0
}

// checkTimers wakes blocked threads whose deadline has passed.
func checkTimers(now int64) {
	for i := 0; i < nthreads; i++ {
		t := &threads[i]
		if t.state != tsBlocked || t.deadline == 0 || t.deadline > now {
			continue
		}
		switch t.wait {
		case waitFutex:
			wake(t, -_ETIMEDOUT)
		case waitService:
			// Only exit calls waiting for the exit hooks have a
			// deadline (syncBeforeExit): give up on the hooks and let
			// the caller exit.
			t.svcState = svcNone
			wake(t, int64(t.svcNr))
		default:
			wake(t, 0)
		}
	}
}

// nextDeadline reports whether any blocked thread has a deadline.
func anyRunnable() bool {
	for i := 0; i < nthreads; i++ {
		if threads[i].state == tsRunnable {
			return true
		}
	}
	return false
}

// schedule runs on the way back to user mode: it saves the current thread if
// it stops running, picks the next one (idling until there is one), loads
// it into f, and delivers its pending signals.
func schedule(f *amd64.Frame) {
	if current >= 0 {
		t := &threads[current]
		if t.state == tsRunning {
			if !needResched {
				if t.pending != 0 {
					deliverSignals(t, f)
				}
				return
			}
			t.state = tsRunnable
		}
		if t.state != tsFree {
			now := nanotime()
			amd64.SaveFP(cpu)
			t.regs = *f
			t.cpuNS += now - t.runStart
		}
	}
	needResched = false
	start := current
	for {
		for k := 1; k <= nthreads; k++ {
			i := (start + k) % nthreads
			if i < 0 {
				i += nthreads
			}
			if threads[i].state == tsRunnable {
				switchTo(i, f)
				return
			}
		}
		if live == 0 {
			exitQEMU(0)
		}
		// Nothing to run: wait for an interrupt (timer or device) to make
		// a thread runnable.
		current = -1
		amd64.Halt()
		now := nanotime()
		checkTimers(now)
		idleCheck(now)
	}
}

func switchTo(i int, f *amd64.Frame) {
	t := &threads[i]
	t.state = tsRunning
	t.runStart = nanotime()
	current = i
	*f = t.regs
	cpu.Xsave = t.xsave
	cpu.FPSaved = 1 // load the new thread's state on the way out
	cpu.UserFS = t.fsbase
	cpu.Thread = uintptr(i)
	deliverSignals(t, f)
}

// timerTick runs for each timer interrupt.
func timerTick(fromUser bool) {
	tickCount++
	cpu.Ticks++
	now := nanotime()
	checkTimers(now)
	if fromUser && current >= 0 && now-threads[current].runStart >= timeSlice && anyRunnable() {
		needResched = true
	}
}

// Futex operations (futex(2)).
const (
	futexWait          = 0
	futexWake          = 1
	futexPrivateFlag   = 128
	futexClockRealtime = 256
)

func sysFutex(t *thread, addr uintptr, op int64, val uint32, timeout uintptr) int64 {
	switch op &^ (futexPrivateFlag | futexClockRealtime) {
	case futexWait:
		if addr&3 != 0 || !userOK(addr, 4, false) {
			return -_EFAULT
		}
		if load32(addr) != val {
			return -_EAGAIN
		}
		var deadline int64
		if timeout != 0 {
			d, ok := readTimespec(timeout)
			if !ok {
				return -_EFAULT
			}
			if d <= 0 {
				return -_ETIMEDOUT
			}
			deadline = nanotime() + d
		}
		block(t, waitFutex, deadline)
		t.waitAddr = addr
		return 0
	case futexWake:
		n := int64(0)
		for i := 0; i < nthreads && n < int64(val); i++ {
			w := &threads[i]
			if w.state == tsBlocked && w.wait == waitFutex && w.waitAddr == addr {
				wake(w, 0)
				n++
			}
		}
		return n
	}
	return -_ENOSYS
}

// readTimespec reads a struct timespec and returns it in nanoseconds.
func readTimespec(a uintptr) (int64, bool) {
	if !userOK(a, 16, false) {
		return 0, false
	}
	sec, nsec := int64(load64(a)), int64(load64(a+8))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, false
	}
	if sec > 1<<32 {
		sec = 1 << 32
	}
	return sec*1e9 + nsec, true
}

// writeTimespec stores ns as a struct timespec.
func writeTimespec(a uintptr, ns int64) bool {
	if !userOK(a, 16, true) {
		return false
	}
	store64(a, uint64(ns/1e9))
	store64(a+8, uint64(ns%1e9))
	return true
}

// Clone flags Go's runtime uses (clone(2)).
const (
	cloneVM      = 0x100
	cloneThread  = 0x10000
	cloneSettls  = 0x80000
	cloneSighand = 0x800
)

// sysClone creates a thread sharing everything (the only kind Go makes).
func sysClone(parent *thread, f *amd64.Frame, flags uint64, stack, tls uintptr) int64 {
	if flags&(cloneVM|cloneThread|cloneSighand) != cloneVM|cloneThread|cloneSighand {
		return -_EINVAL
	}
	i := newThread()
	if i < 0 {
		return -_EAGAIN
	}
	t := &threads[i]
	t.regs = *f
	t.regs.RAX = 0
	if stack != 0 {
		t.regs.RSP = uint64(stack)
	}
	t.fsbase = parent.fsbase
	if flags&cloneSettls != 0 {
		t.fsbase = tls
	}
	amd64.SaveFP(cpu)
	copy(bytesAt(t.xsave, int(xsaveSize)), bytesAt(parent.xsave, int(xsaveSize)))
	t.sigmask = parent.sigmask
	t.state = tsRunnable
	return int64(t.tid)
}

// threadByTID returns the index of the live thread with the given TID, or -1.
func threadByTID(tid int32) int {
	for i := 0; i < nthreads; i++ {
		if threads[i].state != tsFree && threads[i].tid == tid {
			return i
		}
	}
	return -1
}

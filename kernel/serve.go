package kernel

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// This file is the program side of forwarded system calls (service.go is
// the kernel side): it runs as ordinary Go code in the program.

// serviceProcs is how many Ps (Go's processors) the program gets beyond one
// per CPU when it runs on XairrosX. A thread blocked in a system call keeps
// its P until Go's sysmon takes it back (after 20 us to 10 ms), which on
// Linux costs nothing because the kernel does the work. Here a forwarded
// call is served by goroutines of the same program, which need a P to run:
// with one P per CPU they wait for sysmon on every call (a file stat took
// 5.7 ms on one CPU, 50-140 us with spare Ps). So services get Ps of their
// own. GOMAXPROCS in the environment (or runtime.GOMAXPROCS) still wins.
const serviceProcs = 2

func init() {
	if booted && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.NumCPU() + serviceProcs)
	}
}

// Handler serves one forwarded system call and returns its result (a
// non-negative value or a negated errno) and, for pipe2, the second handle.
// It may allocate and block; each request runs in its own goroutine.
type Handler func(r *Request) (result, extra int64)

// Serve starts serving forwarded system calls with h. It returns at once;
// on a Linux host it does nothing. Services (package services/fsys) call it
// from their init functions.
func Serve(h Handler) { serve(classFiles, h) }

// ServeNet is Serve for socket calls (package services/netsvc). Unlike
// Serve's, its handler must not block (sockets are non-blocking: an
// operation that would wait returns EAGAIN): requests are served one after
// the other on the service thread, in the order they were made.
func ServeNet(h Handler) { serve(classNet, h) }

func serve(class int, h Handler) {
	if !booted {
		return
	}
	// Register before returning, so that calls made right after (by main)
	// queue for the service instead of failing.
	syscall.RawSyscall(sysSvcRegister, uintptr(class), 0, 0)
	go serveLoop(class, h)
}

// rescueDelay is how long a file call may run on the service thread before
// another thread takes over waiting for requests (see serveLoop).
const rescueDelay = 200 * time.Microsecond

// serveLoop waits for requests of class and serves them. Socket calls never
// block (see ServeNet) and are served on this thread. A batch of file calls
// is served in goroutines of their own, except the last call, which this
// thread serves itself: most (a stat, a read of /tmp) finish in
// microseconds, and serving them here saves a goroutine start and two
// thread switches. But a file call may block, for the disk or for another
// call (a flock waiting for an unlock), so if it runs longer than
// rescueDelay a new serveLoop starts waiting for requests, and this one
// retires when its call is done.
func serveLoop(class int, h Handler) {
	// The serving thread blocks in the kernel between requests; lock it
	// so that the goroutine keeps a thread of its own.
	runtime.LockOSThread()
	var reqs [16]Request
	for {
		n, _, e := syscall.Syscall(sysSvcWait, uintptr(unsafe.Pointer(&reqs[0])), uintptr(len(reqs)), uintptr(class))
		if e == -svcIdle {
			// Nothing can run any more (see service.go): stop serving
			// and park, so that Go's scheduler sees every goroutine
			// asleep and reports the deadlock.
			select {}
		}
		if e != 0 {
			continue
		}
		for i := 0; i < int(n); i++ {
			r := reqs[i]
			switch {
			case class == classNet:
				serveOne(h, &r)
			case i < int(n)-1:
				go serveOne(h, &r)
			default:
				rescue := time.AfterFunc(rescueDelay, func() { go serveLoop(class, h) })
				serveOne(h, &r)
				if !rescue.Stop() {
					runtime.UnlockOSThread()
					return // the rescuing loop serves from now on
				}
			}
		}
	}
}

// serveOne serves r with h (or, for an exit, runs the exit hooks) and
// completes it.
func serveOne(h Handler, r *Request) {
	var res, extra int64
	if r.Nr == sysExitGroup || r.Nr == sysRebootNumber {
		res = int64(r.Nr)
		runExitHooks()
	} else {
		res, extra = h(r)
	}
	syscall.RawSyscall(sysSvcDone, uintptr(r.ID), uintptr(res), uintptr(extra))
}

// AtExit registers fn to run before the machine powers off: after the
// program calls exit_group (os.Exit, or main returning) or reboot(2), and
// before the call takes effect. Hooks run one after the other, newest first,
// on a service goroutine while the rest of the program keeps running; the
// file-system service uses one to write back its caches. On a Linux host
// AtExit does nothing (the process's exit is Linux's business).
func AtExit(fn func()) {
	if !booted {
		return
	}
	exitMu.Lock()
	exitFns = append(exitFns, fn)
	exitMu.Unlock()
	atomic.AddInt32(&atExitHooks, 1)
}

var (
	exitMu  sync.Mutex
	exitFns []func()
)

// runExitHooks runs the AtExit hooks, newest first, each at most once.
func runExitHooks() {
	exitMu.Lock()
	fns := exitFns
	exitFns = nil
	exitMu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// UserString returns the NUL-terminated string at the user address a, which
// the kernel validated before forwarding the call. The bytes are not copied.
func UserString(a uint64) string {
	p := addrPtr(uintptr(a))
	n := 0
	for *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return unsafe.String((*byte)(p), n)
}

// UserBytes returns the n bytes at the user address a (validated by the
// kernel) without copying.
func UserBytes(a, n uint64) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(addrPtr(uintptr(a))), int(n))
}

// UserPointer returns the user address a as a pointer.
func UserPointer(a uint64) unsafe.Pointer { return addrPtr(uintptr(a)) }

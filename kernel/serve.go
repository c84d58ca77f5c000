package kernel

import (
	"runtime"
	"syscall"
	"unsafe"
)

// This file is the program side of forwarded system calls (service.go is
// the kernel side): it runs as ordinary Go code in the program.

// Handler serves one forwarded system call and returns its result (a
// non-negative value or a negated errno) and, for pipe2, the second handle.
// It may allocate and block; each request runs in its own goroutine.
type Handler func(r *Request) (result, extra int64)

// Serve starts serving forwarded system calls with h. It returns at once;
// on a Linux host it does nothing. Services (package services/fsys) call it
// from their init functions.
func Serve(h Handler) { serve(classFiles, h) }

// ServeNet is Serve for socket calls (package services/netsvc).
func ServeNet(h Handler) { serve(classNet, h) }

func serve(class int, h Handler) {
	if !booted {
		return
	}
	// Register before returning, so that calls made right after (by main)
	// queue for the service instead of failing.
	syscall.RawSyscall(sysSvcRegister, uintptr(class), 0, 0)
	go func() {
		// The serving thread blocks in the kernel between requests; lock it
		// so that the goroutine keeps a thread of its own.
		runtime.LockOSThread()
		var reqs [16]Request
		for {
			n, _, e := syscall.Syscall(sysSvcWait, uintptr(unsafe.Pointer(&reqs[0])), uintptr(len(reqs)), uintptr(class))
			if e == -svcIdle {
				// Nothing can run any more (see service.go): stop
				// serving and park, so that Go's scheduler sees every
				// goroutine asleep and reports the deadlock.
				select {}
			}
			if e != 0 {
				continue
			}
			for i := 0; i < int(n); i++ {
				r := reqs[i]
				go func() {
					res, extra := h(&r)
					syscall.RawSyscall(sysSvcDone, uintptr(r.ID), uintptr(res), uintptr(extra))
				}()
			}
		}
	}()
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

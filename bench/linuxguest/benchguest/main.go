// Command benchguest runs the in-guest microbenchmarks of the kernel
// benchmark, the same binary on XairrosX and as /init of a Linux guest:
// the getpid syscall round trip, a futex ping-pong between two locked OS
// threads (a thread switch) and a goroutine ping-pong over unbuffered
// channels. It prints one "BENCH name ns/op" line each.
package main

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// budget is how long each benchmark runs (at least).
const budget = 500 * time.Millisecond

// measure calls f with growing iteration counts until one run takes budget,
// and returns nanoseconds per iteration of that run.
func measure(f func(n int)) float64 {
	for n := 100; ; n *= 4 {
		start := time.Now()
		f(n)
		if d := time.Since(start); d >= budget || n >= 1<<26 {
			return float64(d.Nanoseconds()) / float64(n)
		}
	}
}

func getpid(n int) {
	for i := 0; i < n; i++ {
		syscall.Syscall(syscall.SYS_GETPID, 0, 0, 0)
	}
}

const (
	futexWait = 0 | 128 // FUTEX_WAIT_PRIVATE
	futexWake = 1 | 128 // FUTEX_WAKE_PRIVATE
)

func futex(addr *uint32, op, val uintptr) {
	syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), op, val, 0, 0, 0)
}

// futexPingPong passes a token n times there and back between two
// goroutines locked to their own OS threads; the token is a futex word, 1
// when it is the second thread's turn. Each round trip is two switches.
func futexPingPong(n int) {
	var word uint32
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		for i := 0; i < n; i++ {
			atomic.StoreUint32(&word, 1)
			futex(&word, futexWake, 1)
			for atomic.LoadUint32(&word) == 1 {
				futex(&word, futexWait, 1)
			}
		}
	}()
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		for i := 0; i < n; i++ {
			for atomic.LoadUint32(&word) == 0 {
				futex(&word, futexWait, 0)
			}
			atomic.StoreUint32(&word, 0)
			futex(&word, futexWake, 1)
		}
	}()
	wg.Wait()
}

func chanPingPong(n int) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	close(ping)
}

func main() {
	// Two Ps, so that both locked threads of the futex benchmark can run
	// without waiting for the runtime to hand a P over.
	runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	fmt.Printf("BENCH getpid %.1f\n", measure(getpid))
	fmt.Printf("BENCH futex-switch %.1f\n", measure(futexPingPong)/2)
	fmt.Printf("BENCH goroutine-pingpong %.1f\n", measure(chanPingPong))
	fmt.Println("BENCH done")
}

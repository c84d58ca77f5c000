// Command preempt checks asynchronous preemption: with one CPU, a goroutine
// spinning in a loop without function calls must not starve the others, and
// a GC must still complete (it has to stop the spinning goroutine).
package main

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

var stop atomic.Bool

//go:noinline
func spin(n *uint64) {
	for !stop.Load() {
		*n++
	}
}

func main() {
	runtime.GOMAXPROCS(1)
	var n uint64
	go spin(&n)
	time.Sleep(10 * time.Millisecond)
	start := time.Now()
	runtime.GC()
	fmt.Println("GC completed while a goroutine spins:", time.Since(start) < 10*time.Second)
	ticks := 0
	for i := 0; i < 5; i++ {
		time.Sleep(20 * time.Millisecond)
		ticks++
	}
	fmt.Println("main goroutine ran", ticks, "times beside the spinner")
	stop.Store(true)
}

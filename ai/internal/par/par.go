// Package par splits loops across a fixed set of worker goroutines without
// allocating per call, so a planned inference stays allocation-free.
package par

import (
	"runtime"
	"sync"
)

type task struct {
	fn     func(w, lo, hi int)
	w      int
	lo, hi int
	wg     *sync.WaitGroup
}

var (
	startOnce sync.Once
	tasks     chan task
)

func start() {
	tasks = make(chan task, 256)
	for i := 0; i < runtime.NumCPU(); i++ {
		go func() {
			for t := range tasks {
				t.fn(t.w, t.lo, t.hi)
				t.wg.Done()
			}
		}()
	}
}

// Group runs one parallel loop at a time; keep one per executor and reuse it.
type Group struct {
	Threads int
	wg      sync.WaitGroup
}

// For calls fn over [0, n) split into at most g.Threads contiguous chunks of
// at least grain items, one of them on the calling goroutine, and waits.
// w is the chunk's index (below g.Threads), so fn can pick per-worker
// scratch memory. fn must be safe to run concurrently on disjoint ranges. A
// nil Group or one thread runs fn(0, 0, n) directly.
func (g *Group) For(n, grain int, fn func(w, lo, hi int)) {
	if n <= 0 {
		return
	}
	th := 1
	if g != nil {
		th = g.Threads
	}
	if grain < 1 {
		grain = 1
	}
	if m := n / grain; m < th {
		th = m
	}
	if th <= 1 {
		fn(0, 0, n)
		return
	}
	startOnce.Do(start)
	chunk := (n + th - 1) / th
	g.wg.Add(th - 1)
	lo := chunk
	for i := 1; i < th; i++ {
		hi := min(lo+chunk, n)
		tasks <- task{fn: fn, w: i, lo: min(lo, n), hi: hi, wg: &g.wg}
		lo = hi
	}
	fn(0, 0, chunk)
	g.wg.Wait()
}

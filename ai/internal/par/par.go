// Package par splits loops across a fixed set of worker goroutines without
// allocating per call, so a planned inference stays allocation-free.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

type task struct {
	g *Group
	w int
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
				t.g.work(t.w)
				t.g.wg.Done()
			}
		}()
	}
}

// chunksPerThread is how many pieces For cuts a loop into per thread:
// workers take the next piece when done, so a core slowed down by other
// load does less of the loop instead of holding up the others.
const chunksPerThread = 4

// Group runs one parallel loop at a time; keep one per executor and reuse it.
type Group struct {
	Threads int
	wg      sync.WaitGroup
	// the loop in progress
	fn            func(w, lo, hi int)
	n, chunk, cnt int
	next          atomic.Int64
}

// For calls fn over [0, n) split into contiguous pieces of at least grain
// items, run by at most g.Threads workers (the calling goroutine among
// them), and waits. w is the worker's index (below g.Threads), so fn can
// pick per-worker scratch memory; which worker runs which piece varies
// from run to run. fn must be safe to run concurrently on disjoint ranges
// and must compute each item the same whatever range it is given. A nil
// Group or one thread runs fn(0, 0, n) directly.
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
	g.cnt = min(n/grain, th*chunksPerThread)
	g.fn, g.n, g.chunk = fn, n, (n+g.cnt-1)/g.cnt
	g.next.Store(0)
	g.wg.Add(th - 1)
	for i := 1; i < th; i++ {
		tasks <- task{g: g, w: i}
	}
	g.work(0)
	g.wg.Wait()
	g.fn = nil
}

// work runs pieces of the current loop on worker w until none is left.
func (g *Group) work(w int) {
	for {
		c := int(g.next.Add(1) - 1)
		lo := c * g.chunk
		if c >= g.cnt || lo >= g.n {
			return
		}
		g.fn(w, lo, min(lo+g.chunk, g.n))
	}
}

// Command gcstress allocates more than 2 GB in total while keeping little
// live data, so it runs inside a 256 MiB guest only if the garbage collector
// returns memory for reuse. It also builds and drops pointer-rich trees.
package main

import (
	"fmt"
	"os"
	"runtime"
)

type node struct {
	left, right *node
	val         int
}

func tree(depth int) *node {
	if depth == 0 {
		return &node{val: 1}
	}
	return &node{left: tree(depth - 1), right: tree(depth - 1), val: depth}
}

func (n *node) sum() int {
	if n == nil {
		return 0
	}
	return n.val + n.left.sum() + n.right.sum()
}

const (
	chunk = 256 << 10 // bytes per allocation
	keep  = 64        // chunks kept live at a time: 16 MiB
)

var sink [][]byte

func main() {
	var total uint64
	live := make([][]byte, keep)
	for i := 0; total < 2200<<20; i++ {
		b := make([]byte, chunk)
		b[0], b[len(b)-1] = byte(i), byte(i>>8)
		live[i%keep] = b
		total += chunk
	}
	ok := true
	for _, b := range live {
		ok = ok && b != nil
	}
	fmt.Printf("allocated %d MiB in %d KiB chunks with %d chunks live: %v\n", total>>20, chunk>>10, keep, ok)

	// Pointer-rich garbage: trees of 2^15 nodes built and dropped.
	s := 0
	for i := 0; i < 40; i++ {
		s += tree(14).sum()
	}
	fmt.Println("tree sums:", s)

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Println("total allocated at least 2 GB:", ms.TotalAlloc >= 2<<30)
	fmt.Println("garbage collector ran:", ms.NumGC > 10)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	fmt.Println("heap after GC below 64 MiB:", ms.HeapAlloc < 64<<20)
	if ms.TotalAlloc < 2<<30 {
		os.Exit(1)
	}
}

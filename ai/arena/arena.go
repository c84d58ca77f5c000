// Package arena provides the memory for a model's activations outside the
// Go heap: one region of pages taken from the OS (with a transparent huge
// page hint where the OS offers 2 MiB pages), carved by a static plan that
// gives every intermediate tensor a fixed offset, reusing space between
// tensors whose lifetimes do not overlap.
package arena

import (
	"fmt"
	"sort"
)

// Align is the alignment of every block in an arena.
const Align = 64

// Arena is a fixed region of memory.
type Arena struct {
	mem    []byte
	mapped bool
}

// New returns an arena of at least size bytes.
func New(size int) (*Arena, error) {
	if size < 0 {
		return nil, fmt.Errorf("arena: negative size %d", size)
	}
	if size == 0 {
		return &Arena{}, nil
	}
	return newArena(size)
}

// Bytes returns n bytes at offset off.
func (a *Arena) Bytes(off, n int) []byte { return a.mem[off : off+n : off+n] }

// Size returns the arena's size in bytes.
func (a *Arena) Size() int { return len(a.mem) }

// Mapped reports whether the memory came from mmap (outside the Go heap).
func (a *Arena) Mapped() bool { return a.mapped }

// Block is one tensor's request in a plan: its size and the first and last
// step at which it is live (inclusive).
type Block struct {
	Size        int
	First, Last int
}

// Plan assigns an offset to every block so that blocks whose lifetimes
// overlap never share bytes, and returns the offsets and the arena size.
// It places blocks largest first at the lowest offset that fits (a greedy
// heuristic that is optimal for chains of operators).
func Plan(blocks []Block) (offsets []int, total int) {
	offsets = make([]int, len(blocks))
	order := make([]int, len(blocks))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return blocks[order[i]].Size > blocks[order[j]].Size })
	type placed struct{ off, end, first, last int }
	var done []placed
	for _, i := range order {
		b := blocks[i]
		size := (b.Size + Align - 1) / Align * Align
		var conflicts []placed
		for _, p := range done {
			if p.first <= b.Last && b.First <= p.last {
				conflicts = append(conflicts, p)
			}
		}
		sort.Slice(conflicts, func(x, y int) bool { return conflicts[x].off < conflicts[y].off })
		off := 0
		for _, p := range conflicts {
			if off+size <= p.off {
				break
			}
			off = max(off, p.end)
		}
		offsets[i] = off
		done = append(done, placed{off, off + size, b.First, b.Last})
		total = max(total, off+size)
	}
	return offsets, total
}

package virtio

import (
	"errors"
	"fmt"
	"sync"

	"github.com/xairrosx/xairrosx/drivers/internal/mmio"
)

// Split virtqueue layout (VIRTIO 1.2, 2.7): a descriptor table, the driver
// ("available") ring and the device ("used") ring, each in DMA memory.
const (
	descSize = 16 // addr u64, len u32, flags u16, next u16

	DescNext  = 1 // the chain continues in next
	DescWrite = 2 // the device writes this buffer (otherwise reads it)

	usedNoNotify     = 1 // used ring flag: the device does not want notifications
	availNoInterrupt = 1 // driver ring flag: the driver does not want interrupts

	// MaxQueueSize is the largest queue this package sets up.
	MaxQueueSize = 256
)

// ErrQueueFull means the queue has too few free descriptors for a chain.
var ErrQueueFull = errors.New("virtio: queue full")

// Buffer is one element of a descriptor chain: Len bytes at the DMA
// address Addr, written by the device if Write is set.
type Buffer struct {
	Addr  uintptr
	Len   uint32
	Write bool
}

// QueueLayout gives the offsets of a queue's three parts in one block of
// memory, and the block's size.
func QueueLayout(size uint16) (availOff, usedOff, total int) {
	n := int(size)
	availOff = descSize * n
	usedOff = (availOff + 4 + 2*n + 2 + 3) &^ 3 // flags, idx, ring, used_event
	total = usedOff + 4 + 8*n + 2               // flags, idx, ring, avail_event
	return
}

// Queue is the driver's side of a split virtqueue. Its methods are safe
// for concurrent use.
type Queue struct {
	Index uint16 // queue number on the device
	size  uint16

	desc, avail, used uintptr // addresses of the three parts

	mu       sync.Mutex
	freeHead uint16 // first free descriptor; free ones are chained by next
	numFree  uint16
	availIdx uint16 // the driver's copy of avail.idx
	lastUsed uint16 // used ring entries consumed so far
	notify   func()
	badHeads int // used entries naming no descriptor
}

// NewQueue lays out a queue of size entries (a power of two, at most
// MaxQueueSize) in the zeroed memory at mem, which holds QueueLayout(size)
// bytes and is 16-byte aligned. notify tells the device that the driver
// ring has new entries.
func NewQueue(index, size uint16, mem uintptr, notify func()) (*Queue, error) {
	if size == 0 || size > MaxQueueSize || size&(size-1) != 0 {
		return nil, fmt.Errorf("virtio: queue %d: size %d is not a power of two from 1 to %d", index, size, MaxQueueSize)
	}
	if mem&15 != 0 {
		return nil, fmt.Errorf("virtio: queue %d: memory at %#x is not 16-byte aligned", index, mem)
	}
	availOff, usedOff, _ := QueueLayout(size)
	q := &Queue{Index: index, size: size, desc: mem, avail: mem + uintptr(availOff), used: mem + uintptr(usedOff), numFree: size, notify: notify}
	for i := uint16(0); i < size; i++ {
		mmio.Write16(q.descAddr(i)+14, (i+1)%size)
	}
	return q, nil
}

// Size returns the number of descriptors.
func (q *Queue) Size() uint16 { return q.size }

// Addresses returns the DMA addresses of the descriptor table, the driver
// ring and the device ring, for the transport to give to the device.
func (q *Queue) Addresses() (desc, driver, device uintptr) { return q.desc, q.avail, q.used }

func (q *Queue) descAddr(i uint16) uintptr { return q.desc + uintptr(i)*descSize }

// FreeDescriptors returns how many descriptors are free.
func (q *Queue) FreeDescriptors() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int(q.numFree)
}

// Submit writes bufs as one descriptor chain and makes it available to the
// device; it returns the chain's head, which Reap reports on completion.
// The device is not told until Notify.
func (q *Queue) Submit(bufs []Buffer) (uint16, error) {
	if len(bufs) == 0 || len(bufs) > int(q.size) {
		return 0, fmt.Errorf("virtio: queue %d: chain of %d buffers (queue size %d)", q.Index, len(bufs), q.size)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if int(q.numFree) < len(bufs) {
		return 0, ErrQueueFull
	}
	head := q.freeHead
	i := head
	for k, b := range bufs {
		d := q.descAddr(i)
		next := mmio.Read16(d + 14)
		var flags uint16
		if b.Write {
			flags |= DescWrite
		}
		if k+1 < len(bufs) {
			flags |= DescNext
		}
		mmio.Write64(d, uint64(b.Addr))
		mmio.Write32(d+8, b.Len)
		mmio.Write16(d+12, flags)
		if k+1 < len(bufs) {
			i = next
		} else {
			q.freeHead = next
		}
	}
	q.numFree -= uint16(len(bufs))
	mmio.Write16(q.avail+4+2*uintptr(q.availIdx%q.size), head)
	q.availIdx++
	// The ring entry and descriptors are stored before the index (x86
	// stores are ordered; the write is an opaque call to the compiler).
	mmio.Write16(q.avail+2, q.availIdx)
	return head, nil
}

// Notify tells the device about new chains unless it asked not to be told.
func (q *Queue) Notify() {
	mmio.Fence() // avail.idx must be visible before the flag is read
	if mmio.Read16(q.used)&usedNoNotify == 0 && q.notify != nil {
		q.notify()
	}
}

// DisableInterrupts asks the device not to interrupt when it uses this
// queue's buffers (VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTIO 1.2, 2.7.10: a hint
// the device may ignore), while the driver polls the queue with Reap.
func (q *Queue) DisableInterrupts() {
	q.mu.Lock()
	mmio.Write16(q.avail, availNoInterrupt)
	q.mu.Unlock()
}

// EnableInterrupts asks the device to interrupt again, and reports whether
// it used buffers that Reap has not consumed yet: the device may have used
// them while interrupts were off, so no interrupt will come for them.
func (q *Queue) EnableInterrupts() (pending bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	mmio.Write16(q.avail, 0)
	mmio.Fence() // the flag must be visible before used.idx is read
	return mmio.Read16(q.used+2) != q.lastUsed
}

// Reap consumes the device's completed chains, returning their
// descriptors to the free list, and calls done with each chain's head and
// the number of bytes the device wrote. done runs with the queue locked and
// must not call the queue's methods. Reap returns the number of chains.
func (q *Queue) Reap(done func(head uint16, written uint32)) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for {
		idx := mmio.Read16(q.used + 2)
		if idx == q.lastUsed {
			return n
		}
		e := q.used + 4 + 8*uintptr(q.lastUsed%q.size)
		head, written := uint16(mmio.Read32(e)), mmio.Read32(e+4)
		q.lastUsed++
		if head >= q.size {
			q.badHeads++ // a confused device; nothing to release
			continue
		}
		q.release(head)
		n++
		if done != nil {
			done(head, written)
		}
	}
}

// release puts the chain starting at head back on the free list.
func (q *Queue) release(head uint16) {
	i := head
	for {
		d := q.descAddr(i)
		q.numFree++
		if mmio.Read16(d+12)&DescNext == 0 || q.numFree >= q.size {
			break
		}
		i = mmio.Read16(d + 14)
	}
	mmio.Write16(q.descAddr(i)+14, q.freeHead)
	q.freeHead = head
}

// Package virtiotest simulates the device side of a virtio device, for host
// tests of drivers: a virtio.Transport whose device reads the driver's
// split virtqueues from memory exactly as hardware would (descriptors,
// driver ring, device ring, notifications, interrupts), running on its own
// goroutine.
package virtiotest

import (
	"fmt"
	"sync"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/internal/mmio"
	"github.com/xairrosx/xairrosx/drivers/virtio"
)

// Segment is one buffer of a chain, as the device sees it.
type Segment struct {
	Data  []byte // the driver's memory
	Write bool   // device-writable
}

// Device is a simulated virtio device. Set the exported fields before
// handing it to a driver.
type Device struct {
	Name     string
	Features uint64   // offered
	Config   []byte   // device-specific configuration
	QueueMax []uint16 // per queue: largest size (the number of queues)
	// Serve handles a chain made available on queue q and returns how many
	// bytes it wrote; it runs on the device goroutine. Queues listed in
	// Held are not served: their chains wait for Deliver.
	Serve func(q int, chain []Segment) uint32
	Held  map[int]bool

	mu             sync.Mutex
	status         uint8
	DriverFeatures uint64
	queues         map[uint16]*queue
	irq            func(uint8)
	held           map[int][]uint16
	pending        map[uint16]uint16 // driver ring index each queue was notified at
	wake           chan struct{}
	done           chan struct{}
	once           sync.Once
	Notifications  int
}

type queue struct {
	q         *virtio.Queue
	lastAvail uint16
}

// String implements virtio.Transport.
func (d *Device) String() string { return d.Name }

// DeviceFeatures implements virtio.Transport.
func (d *Device) DeviceFeatures() uint64 { return d.Features }

// SetDriverFeatures implements virtio.Transport.
func (d *Device) SetDriverFeatures(f uint64) { d.DriverFeatures = f }

// Status implements virtio.Transport.
func (d *Device) Status() uint8 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// SetStatus implements virtio.Transport. FEATURES_OK sticks only if the
// driver's features are a subset of the offer.
func (d *Device) SetStatus(s uint8) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s&virtio.StatusFeaturesOK != 0 && d.DriverFeatures&^d.Features != 0 {
		s &^= virtio.StatusFeaturesOK
	}
	if s == 0 {
		d.queues = nil
	}
	d.status = s
}

// MaxQueueSize implements virtio.Transport.
func (d *Device) MaxQueueSize(i uint16) uint16 {
	if int(i) >= len(d.QueueMax) {
		return 0
	}
	return d.QueueMax[i]
}

// EnableQueue implements virtio.Transport.
func (d *Device) EnableQueue(q *virtio.Queue) (func(), error) {
	d.once.Do(d.start)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.queues == nil {
		d.queues = map[uint16]*queue{}
	}
	d.queues[q.Index] = &queue{q: q}
	i := q.Index
	_, avail, _ := q.Addresses()
	return func() {
		// The device takes chains up to the index it was notified at: what
		// the driver wrote before notifying happens before the device
		// reads it, as the race detector can see.
		idx := mmio.Read16(avail + 2)
		d.mu.Lock()
		d.Notifications++
		// Concurrent notifiers may arrive out of order: keep the newest.
		if old, ok := d.pending[i]; !ok || int16(idx-old) > 0 {
			d.pending[i] = idx
		}
		d.mu.Unlock()
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}, nil
}

// Config8 implements virtio.Transport.
func (d *Device) Config8(off int) uint8 { return d.Config[off] }

// Config16 implements virtio.Transport.
func (d *Device) Config16(off int) uint16 {
	return uint16(d.Config[off]) | uint16(d.Config[off+1])<<8
}

// Config32 implements virtio.Transport.
func (d *Device) Config32(off int) uint32 {
	return uint32(d.Config16(off)) | uint32(d.Config16(off+2))<<16
}

// ConfigGeneration implements virtio.Transport.
func (d *Device) ConfigGeneration() uint32 { return 0 }

// OnInterrupt implements virtio.Transport.
func (d *Device) OnInterrupt(fn func(isr uint8)) (func(), error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.irq = fn
	return func() {
		d.mu.Lock()
		d.irq = nil
		d.mu.Unlock()
	}, nil
}

func (d *Device) start() {
	d.wake = make(chan struct{}, 1)
	d.done = make(chan struct{})
	d.held = map[int][]uint16{}
	d.pending = map[uint16]uint16{}
	go func() {
		for {
			select {
			case <-d.done:
				return
			case <-d.wake:
			}
			d.mu.Lock()
			work := d.pending
			d.pending = map[uint16]uint16{}
			d.mu.Unlock()
			for i := uint16(0); int(i) < len(d.QueueMax); i++ {
				if idx, ok := work[i]; ok {
					d.process(i, idx)
				}
			}
		}
	}()
}

// process takes the chains of queue i up to driver ring index idx: serves
// them or holds them.
func (d *Device) process(i, idx uint16) {
	d.mu.Lock()
	fq := d.queues[i]
	d.mu.Unlock()
	if fq == nil {
		return
	}
	_, avail, _ := fq.q.Addresses()
	served := false
	for {
		if int16(idx-fq.lastAvail) <= 0 {
			break // taken already (a late, older notification)
		}
		head := mmio.Read16(avail + 4 + 2*uintptr(fq.lastAvail%fq.q.Size()))
		fq.lastAvail++
		if d.Held[int(i)] {
			d.mu.Lock()
			d.held[int(i)] = append(d.held[int(i)], head)
			d.mu.Unlock()
			continue
		}
		n := d.Serve(int(i), d.chain(fq.q, head))
		d.complete(fq.q, head, n)
		served = true
	}
	if served {
		d.interrupt()
	}
}

// chain reads the descriptor chain at head.
func (d *Device) chain(q *virtio.Queue, head uint16) []Segment {
	desc, _, _ := q.Addresses()
	var segs []Segment
	for i, n := head, 0; n < int(q.Size()); n++ {
		a := desc + 16*uintptr(i)
		flags := mmio.Read16(a + 12)
		segs = append(segs, Segment{Data: dma.Bytes(uintptr(mmio.Read64(a)), int(mmio.Read32(a+8))), Write: flags&virtio.DescWrite != 0})
		if flags&virtio.DescNext == 0 {
			break
		}
		i = mmio.Read16(a + 14)
	}
	return segs
}

func (d *Device) complete(q *virtio.Queue, head uint16, n uint32) {
	_, _, used := q.Addresses()
	idx := mmio.Read16(used + 2)
	e := used + 4 + 8*uintptr(idx%q.Size())
	mmio.Write32(e, uint32(head))
	mmio.Write32(e+4, n)
	mmio.Write16(used+2, idx+1)
}

func (d *Device) interrupt() {
	d.mu.Lock()
	fn := d.irq
	d.mu.Unlock()
	if fn != nil {
		fn(virtio.ISRQueue)
	}
}

// Deliver writes data into the oldest held chain of queue q (spreading it
// over the chain's writable segments) and completes it with an interrupt.
// It fails if no chain is held.
func (d *Device) Deliver(q int, data []byte) error {
	d.mu.Lock()
	fq := d.queues[uint16(q)]
	if fq == nil || len(d.held[q]) == 0 {
		d.mu.Unlock()
		return fmt.Errorf("virtiotest: queue %d has no buffer available", q)
	}
	head := d.held[q][0]
	d.held[q] = d.held[q][1:]
	d.mu.Unlock()
	n := 0
	for _, s := range d.chain(fq.q, head) {
		if s.Write {
			n += copy(s.Data, data[n:])
		}
	}
	if n < len(data) {
		return fmt.Errorf("virtiotest: %d bytes do not fit the %d-byte chain", len(data), n)
	}
	d.complete(fq.q, head, uint32(n))
	d.interrupt()
	return nil
}

// HeldChains returns how many chains queue q holds.
func (d *Device) HeldChains(q int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.held[q])
}

// Close stops the device goroutine.
func (d *Device) Close() {
	d.once.Do(d.start)
	close(d.done)
}

// Package blk drives virtio block devices: sector-granular reads and writes
// (io.ReaderAt and io.WriterAt over the whole disk), cache flush and the
// capacity, with requests completed by interrupt. A transfer larger than
// one transfer slot takes as many free slots as it needs (up to all of
// them) and becomes one request whose data descriptors are those slots;
// what does not fit in the free slots becomes further requests, issued
// concurrently. A transfer of one request runs on the caller's goroutine.
//
// Specification: VIRTIO 1.2, 5.2 (block device).
//
// Data moves through DMA bounce buffers: callers pass ordinary Go slices,
// which the driver copies to or from its slots.
package blk

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/internal/mmio"
	"github.com/xairrosx/xairrosx/drivers/virtio"
)

// Feature bits (VIRTIO 1.2, 5.2.3).
const (
	FeatureRO    = 1 << 5
	FeatureFlush = 1 << 9
)

// Request types and status values (VIRTIO 1.2, 5.2.6).
const (
	reqIn    = 0
	reqOut   = 1
	reqFlush = 4

	statusOK     = 0
	statusIOErr  = 1
	statusUnsupp = 2
)

const (
	// SectorSize is the unit of addressing of virtio-blk requests.
	SectorSize = 512
	// SlotSize is the largest transfer of one request.
	SlotSize = 64 << 10
	// Slots is how many requests may be in flight.
	Slots = 16

	// ChainSlots is the most slots one request takes.
	ChainSlots = Slots

	headerSize = 16 // type, reserved, sector
	slotHeader = 32 // header and status byte, rounded
	regionSize = 2 << 20
)

// Timeout bounds the wait for one request's completion.
var Timeout = 30 * time.Second

// ErrTimeout means a request did not complete within Timeout; its slot is
// retired, since the device may still write to it.
var ErrTimeout = errors.New("request not completed in time")

// ErrClosed is returned by a Disk after Close.
var ErrClosed = errors.New("blk: disk closed")

// ErrReadOnly is returned by writes to a device that offers VIRTIO_BLK_F_RO.
var ErrReadOnly = errors.New("blk: device is read-only")

// Disk is a virtio block device.
type Disk struct {
	dev      *virtio.Device
	q        *virtio.Queue
	sectors  uint64
	readOnly bool
	flush    bool
	free     chan *slot
	closed   chan struct{}
	once     sync.Once
	life     sync.RWMutex // held for reading while slot memory is touched

	mu       sync.Mutex // orders Submit with the interrupt handler's Reap
	inflight map[uint16]*slot
}

type slot struct {
	hdr  uintptr // request header, status byte at +headerSize
	data uintptr // SlotSize bytes
	done chan uint8
}

// Open initialises the block device behind t, taking its DMA memory from
// alloc (dma.Kernel{} on XairrosX).
func Open(t virtio.Transport, alloc dma.Allocator) (*Disk, error) {
	dev, err := virtio.Init(t, virtio.Setup{
		Wanted: FeatureRO | FeatureFlush,
		Queues: 1, QueueSize: 128,
		DMA: alloc, Region: regionSize,
	})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Disk, error) {
		dev.Close()
		return nil, err
	}
	d := &Disk{
		dev: dev, q: dev.Queues[0],
		sectors:  virtio.Config64(t, 0),
		readOnly: dev.Has(FeatureRO),
		flush:    dev.Has(FeatureFlush),
		free:     make(chan *slot, Slots),
		closed:   make(chan struct{}),
		inflight: map[uint16]*slot{},
	}
	hdrs, err := dev.Arena.Take(Slots*slotHeader, 64)
	if err != nil {
		return fail(fmt.Errorf("blk %v: %w", t, err))
	}
	for i := 0; i < Slots; i++ {
		data, err := dev.Arena.Take(SlotSize, 4096)
		if err != nil {
			return fail(fmt.Errorf("blk %v: %w", t, err))
		}
		d.free <- &slot{hdr: hdrs + uintptr(i*slotHeader), data: data, done: make(chan uint8, 1)}
	}
	if err := dev.OnInterrupt(d.interrupt); err != nil {
		return fail(err)
	}
	if err := dev.Start(); err != nil {
		return fail(err)
	}
	return d, nil
}

func (d *Disk) interrupt(isr uint8) {
	if isr&virtio.ISRQueue == 0 {
		return
	}
	d.reap()
}

// reap hands the status of every completed request to its waiter.
func (d *Disk) reap() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.q.Reap(func(head uint16, _ uint32) {
		s := d.inflight[head]
		if s == nil {
			return
		}
		delete(d.inflight, head)
		s.done <- mmio.Read8(s.hdr + headerSize)
	})
}

// PollRounds is how many times a request's submitter looks at the used
// ring itself (yielding to other goroutines in between) before it waits
// for the interrupt: under QEMU the device often completes within that
// time, and the wake-up path from an interrupt costs more than the
// device's own latency (docs/drivers.md). 0 waits for the interrupt
// at once.
var PollRounds = 64

// poll looks for the completion of the request on s for PollRounds
// rounds, and reports its status if it came.
func (d *Disk) poll(s *slot) (uint8, bool) {
	for range PollRounds {
		select {
		case st := <-s.done:
			return st, true
		default:
		}
		if d.touch(d.reap) != nil {
			return 0, false
		}
		select {
		case st := <-s.done:
			return st, true
		default:
		}
		runtime.Gosched()
	}
	return 0, false
}

// Sectors returns the capacity in 512-byte sectors.
func (d *Disk) Sectors() uint64 { return d.sectors }

// Size returns the capacity in bytes.
func (d *Disk) Size() int64 { return int64(d.sectors * SectorSize) }

// ReadOnly reports whether the device refuses writes.
func (d *Disk) ReadOnly() bool { return d.readOnly }

// touch runs fn, which uses slot memory, unless the disk is closed:
// Close frees that memory only once no fn runs.
func (d *Disk) touch(fn func()) error {
	d.life.RLock()
	defer d.life.RUnlock()
	select {
	case <-d.closed:
		return ErrClosed
	default:
	}
	fn()
	return nil
}

// do runs one request on the slots ss: n bytes at sector, through the
// data areas of ss in order (n == 0 for a flush); the first slot holds
// the header and status.
func (d *Disk) do(ss []*slot, typ uint32, sector uint64, n int) error {
	s := ss[0]
	var err error
	if cerr := d.touch(func() {
		mmio.Write32(s.hdr, typ)
		mmio.Write32(s.hdr+4, 0)
		mmio.Write64(s.hdr+8, sector)
		mmio.Write8(s.hdr+headerSize, 0xFF)
		var arr [Slots + 2]virtio.Buffer
		bufs := append(arr[:0], virtio.Buffer{Addr: s.hdr, Len: headerSize})
		for i := 0; i*SlotSize < n; i++ {
			bufs = append(bufs, virtio.Buffer{Addr: ss[i].data, Len: uint32(min(SlotSize, n-i*SlotSize)), Write: typ == reqIn})
		}
		bufs = append(bufs, virtio.Buffer{Addr: s.hdr + headerSize, Len: 1, Write: true})
		d.mu.Lock()
		var head uint16
		head, err = d.q.Submit(bufs)
		if err == nil {
			d.inflight[head] = s
		}
		d.mu.Unlock()
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	d.q.Notify()
	if st, ok := d.poll(s); ok {
		return d.status(st, typ, sector)
	}
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	select {
	case st := <-s.done:
		return d.status(st, typ, sector)
	case <-timer.C:
		return fmt.Errorf("blk %v: request type %d at sector %d (waited %v): %w", d.dev.T, typ, sector, Timeout, ErrTimeout)
	case <-d.closed:
		return ErrClosed
	}
}

// status turns a request's status byte into an error.
func (d *Disk) status(st uint8, typ uint32, sector uint64) error {
	switch st {
	case statusOK:
		return nil
	case statusIOErr:
		return fmt.Errorf("blk %v: I/O error at sector %d", d.dev.T, sector)
	case statusUnsupp:
		return fmt.Errorf("blk %v: request type %d unsupported", d.dev.T, typ)
	default:
		return fmt.Errorf("blk %v: request at sector %d ended with status %d", d.dev.T, sector, st)
	}
}

// Close stops the device (pending requests fail with ErrClosed) and frees
// its memory. Later calls return ErrClosed.
func (d *Disk) Close() error {
	err := ErrClosed
	d.once.Do(func() {
		close(d.closed)
		d.life.Lock() // wait until no slot memory is being touched
		defer d.life.Unlock()
		err = d.dev.Close()
	})
	return err
}

// slot takes a free request slot, waiting up to Timeout (slots retired
// after timeouts never come back).
func (d *Disk) slot() (*slot, error) {
	select {
	case <-d.closed:
		return nil, ErrClosed
	default:
	}
	select {
	case s := <-d.free:
		return s, nil
	default:
	}
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	select {
	case s := <-d.free:
		return s, nil
	case <-timer.C:
		return nil, fmt.Errorf("blk %v: no request slot free (waited %v): %w", d.dev.T, Timeout, ErrTimeout)
	case <-d.closed:
		return nil, ErrClosed
	}
}

// check validates a transfer of n bytes at off and returns how many bytes
// lie inside the disk.
func (d *Disk) check(op string, n int, off int64) (int, error) {
	if off < 0 || off%SectorSize != 0 || n%SectorSize != 0 {
		return 0, fmt.Errorf("blk %v: %s of %d bytes at offset %d: offset and length must be non-negative multiples of %d", d.dev.T, op, n, off, SectorSize)
	}
	if off >= d.Size() {
		return 0, nil
	}
	if rest := d.Size() - off; int64(n) > rest {
		n = int(rest)
	}
	return n, nil
}

// slots takes a free slot, waiting as slot does, then as many more as
// are free at once, up to want in all.
func (d *Disk) slots(want int) ([]*slot, error) {
	s, err := d.slot()
	if err != nil {
		return nil, err
	}
	ss := []*slot{s}
	for len(ss) < want {
		select {
		case s := <-d.free:
			ss = append(ss, s)
			continue
		default:
		}
		break
	}
	return ss, nil
}

// transfer runs [off, off+n) as requests of as many slots as are free
// (one request when all are); each slot's part is passed to fill before
// (write) or to drain after (read) the device's part, with its position.
func (d *Disk) transfer(typ uint32, n int, off int64, fill, drain func(s *slot, pos, m int)) error {
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var first error
	// run does one request of the slots ss from position pos, m bytes.
	run := func(ss []*slot, pos, m int) {
		err := d.do(ss, typ, uint64(off+int64(pos))/SectorSize, m)
		if err == nil && drain != nil {
			err = d.touch(func() {
				for i, s := range ss {
					drain(s, pos+i*SlotSize, min(SlotSize, m-i*SlotSize))
				}
			})
		}
		if err != nil {
			errMu.Lock()
			if first == nil {
				first = err
			}
			errMu.Unlock()
			if errors.Is(err, ErrTimeout) || errors.Is(err, ErrClosed) {
				return // the device may still write the slots: retire them
			}
		}
		for _, s := range ss {
			d.free <- s
		}
	}
	for pos := 0; pos < n; {
		ss, err := d.slots(min(ChainSlots, (n-pos+SlotSize-1)/SlotSize))
		if err != nil {
			wg.Wait()
			return err
		}
		m := min(len(ss)*SlotSize, n-pos)
		if fill != nil {
			if err := d.touch(func() {
				for i, s := range ss {
					fill(s, pos+i*SlotSize, min(SlotSize, m-i*SlotSize))
				}
			}); err != nil {
				for _, s := range ss {
					d.free <- s
				}
				wg.Wait()
				return err
			}
		}
		if at := pos; pos+m == n {
			run(ss, at, m) // the last request: on this goroutine
		} else {
			wg.Go(func() { run(ss, at, m) })
		}
		pos += m
	}
	wg.Wait()
	return first
}

// ReadAt implements io.ReaderAt: off and len(p) are multiples of
// SectorSize; a read reaching past the end returns the bytes before it
// and io.EOF.
func (d *Disk) ReadAt(p []byte, off int64) (int, error) {
	n, err := d.check("read", len(p), off)
	if err != nil {
		return 0, err
	}
	err = d.transfer(reqIn, n, off, nil, func(s *slot, pos, m int) {
		copy(p[pos:pos+m], dma.Bytes(s.data, m))
	})
	if err != nil {
		return 0, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt implements io.WriterAt with the same rules as ReadAt; a write
// reaching past the end writes nothing and fails.
func (d *Disk) WriteAt(p []byte, off int64) (int, error) {
	if d.readOnly {
		return 0, ErrReadOnly
	}
	n, err := d.check("write", len(p), off)
	if err != nil {
		return 0, err
	}
	if n < len(p) {
		return 0, fmt.Errorf("blk %v: write of %d bytes at offset %d passes the end of the %d-byte disk", d.dev.T, len(p), off, d.Size())
	}
	err = d.transfer(reqOut, n, off, func(s *slot, pos, m int) {
		copy(dma.Bytes(s.data, m), p[pos:pos+m])
	}, nil)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Flush asks the device to make completed writes durable. Without
// VIRTIO_BLK_F_FLUSH the device has no volatile cache to flush.
func (d *Disk) Flush() error {
	if !d.flush {
		return nil
	}
	s, err := d.slot()
	if err != nil {
		return err
	}
	err = d.do([]*slot{s}, reqFlush, 0, 0)
	if !errors.Is(err, ErrTimeout) && !errors.Is(err, ErrClosed) {
		d.free <- s
	}
	return err
}

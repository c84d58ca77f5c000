// Package virtio is the driver side of virtio 1.x devices: the transport
// interface that device drivers (virtio/net, virtio/blk) program against,
// its PCI implementation (virtio-pci "modern": the common, notify, ISR and
// device configuration capabilities), split virtqueues, the device
// initialisation sequence, and interrupt dispatch.
//
// Specification: Virtual I/O Device (VIRTIO) Version 1.2, sections 2
// (basic facilities: status, feature bits, split virtqueues), 3.1 (device
// initialisation) and 4.1 (virtio over PCI). Legacy (pre-1.0) devices are
// not supported: VIRTIO_F_VERSION_1 must be offered.
//
// Locking: each Queue has its own mutex; a Device's configuration accesses
// go through its Transport, which serialises nothing itself: drivers set a
// device up from one goroutine before they start using its queues.
package virtio

import (
	"errors"
	"fmt"
	"time"

	"github.com/xairrosx/xairrosx/drivers/dma"
)

// Device status bits (VIRTIO 1.2, 2.1).
const (
	StatusAcknowledge = 1
	StatusDriver      = 2
	StatusDriverOK    = 4
	StatusFeaturesOK  = 8
	StatusNeedsReset  = 64
	StatusFailed      = 128
)

// FeatureVersion1 is VIRTIO_F_VERSION_1 (bit 32): the device follows 1.x.
const FeatureVersion1 = 1 << 32

// ISR status bits (VIRTIO 1.2, 4.1.4.5).
const (
	ISRQueue  = 1 // a used ring changed
	ISRConfig = 2 // the device configuration changed
)

// Transport is how a driver reaches one virtio device: PCI here, and
// virtio-mmio or a simulation in tests.
type Transport interface {
	DeviceFeatures() uint64
	SetDriverFeatures(f uint64)
	Status() uint8
	SetStatus(s uint8)
	// MaxQueueSize returns the largest size the device allows for queue i
	// (0: the queue does not exist).
	MaxQueueSize(i uint16) uint16
	// EnableQueue gives the device queue q's size and addresses and turns
	// it on. It returns the function that notifies the device.
	EnableQueue(q *Queue) (notify func(), err error)
	// Config8/16/32 read the device-specific configuration at off.
	Config8(off int) uint8
	Config16(off int) uint16
	Config32(off int) uint32
	// ConfigGeneration changes whenever the device configuration changes.
	ConfigGeneration() uint32
	// OnInterrupt arranges for fn to run, on a goroutine of the
	// transport's, after each interrupt from this device; the transport
	// acknowledges the interrupt first and passes the ISR status bits.
	// remove undoes it: once it returns, fn is not running and will not.
	OnInterrupt(fn func(isr uint8)) (remove func(), err error)
	// String names the device for error messages.
	String() string
}

// Device is an initialised virtio device.
type Device struct {
	T        Transport
	Features uint64 // negotiated feature bits
	Queues   []*Queue
	region   uintptr
	regionN  int
	alloc    dma.Allocator
	Arena    *dma.Arena // DMA memory left over for the driver's buffers
	remove   func()     // unregisters the interrupt handler
}

// Setup is what a driver asks of Init.
type Setup struct {
	// Wanted are the device-specific features the driver can use;
	// FeatureVersion1 is always added and must be offered.
	Wanted uint64
	// Required are features without which the driver cannot work.
	Required uint64
	// Queues is the number of virtqueues, each of at most QueueSize
	// entries (0 means MaxQueueSize).
	Queues    int
	QueueSize uint16
	// DMA is where queue and buffer memory comes from; Region bytes are
	// taken in one piece (the queues first, the rest for the driver).
	DMA    dma.Allocator
	Region int
}

// Init runs the device initialisation sequence of VIRTIO 1.2, 3.1.1:
// reset, acknowledge, negotiate features, set up the queues, driver OK.
// On failure it sets the FAILED status bit and returns an error naming
// the device and the step.
func Init(t Transport, s Setup) (d *Device, err error) {
	fail := func(format string, args ...any) (*Device, error) {
		if d != nil && d.region != 0 && Reset(t) == nil {
			// The device forgot the queues: their memory can go.
			d.alloc.Free(d.region, d.regionN)
		}
		t.SetStatus(t.Status() | StatusFailed)
		return nil, fmt.Errorf("virtio %v: "+format, append([]any{t}, args...)...)
	}
	if err := Reset(t); err != nil {
		return nil, err
	}
	t.SetStatus(StatusAcknowledge)
	t.SetStatus(StatusAcknowledge | StatusDriver)
	offered := t.DeviceFeatures()
	if offered&FeatureVersion1 == 0 {
		return fail("legacy device: VIRTIO_F_VERSION_1 not offered (features %#x)", offered)
	}
	if miss := s.Required &^ offered; miss != 0 {
		return fail("device lacks required features %#x (offers %#x)", miss, offered)
	}
	d = &Device{T: t, Features: offered & (s.Wanted | s.Required | FeatureVersion1), alloc: s.DMA}
	t.SetDriverFeatures(d.Features)
	t.SetStatus(StatusAcknowledge | StatusDriver | StatusFeaturesOK)
	if t.Status()&StatusFeaturesOK == 0 {
		return fail("device refused features %#x", d.Features)
	}
	qsize := s.QueueSize
	if qsize == 0 || qsize > MaxQueueSize {
		qsize = MaxQueueSize
	}
	if s.Region < 1 || s.Region > dma.MaxRegion {
		return fail("DMA region of %d bytes: want 1 to %d", s.Region, dma.MaxRegion)
	}
	d.region, err = s.DMA.Alloc(s.Region)
	if err != nil {
		d.region = 0
		return fail("%v", err)
	}
	d.regionN = s.Region
	d.Arena = dma.NewArena(d.region, s.Region)
	for i := 0; i < s.Queues; i++ {
		max := t.MaxQueueSize(uint16(i))
		if max == 0 {
			return fail("queue %d does not exist", i)
		}
		size := qsize
		for size > max {
			size >>= 1
		}
		_, _, n := QueueLayout(size)
		mem, err := d.Arena.Take(n, 4096)
		if err != nil {
			return fail("queue %d: %v", i, err)
		}
		q, err := NewQueue(uint16(i), size, mem, nil)
		if err != nil {
			return fail("%v", err)
		}
		notify, err := t.EnableQueue(q)
		if err != nil {
			return fail("queue %d: %v", i, err)
		}
		q.notify = notify
		d.Queues = append(d.Queues, q)
	}
	return d, nil
}

// Start sets DRIVER_OK: the device may now use its queues. Drivers call it
// after filling receive queues and installing their interrupt handler.
func (d *Device) Start() error {
	d.T.SetStatus(StatusAcknowledge | StatusDriver | StatusFeaturesOK | StatusDriverOK)
	if st := d.T.Status(); st&StatusNeedsReset != 0 || st&StatusDriverOK == 0 {
		return fmt.Errorf("virtio %v: device status %#x after DRIVER_OK", d.T, st)
	}
	return nil
}

// OnInterrupt installs the driver's interrupt handler (see
// Transport.OnInterrupt); Close removes it.
func (d *Device) OnInterrupt(fn func(isr uint8)) error {
	remove, err := d.T.OnInterrupt(fn)
	if err != nil {
		return err
	}
	d.remove = remove
	return nil
}

// Close resets the device, which stops it using its queues and buffers,
// removes the interrupt handler, and frees the DMA memory.
func (d *Device) Close() error {
	err := Reset(d.T)
	if d.remove != nil {
		d.remove()
		d.remove = nil
	}
	if err != nil {
		return err // the device may still write its memory: keep it
	}
	if d.region != 0 {
		err = d.alloc.Free(d.region, d.regionN)
		d.region = 0
	}
	return err
}

// Has reports whether feature bit f was negotiated.
func (d *Device) Has(f uint64) bool { return d.Features&f == f }

// ErrResetTimeout means a device did not finish a reset.
var ErrResetTimeout = errors.New("virtio: device did not reset in time")

// Reset writes 0 to the device status and waits until the device reads
// back 0 (VIRTIO 1.2, 4.1.4.3.2).
func Reset(t Transport) error {
	t.SetStatus(0)
	deadline := time.Now().Add(time.Second)
	for t.Status() != 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("virtio %v: %w", t, ErrResetTimeout)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// Config64 reads a 64-bit device configuration field as two 32-bit reads,
// retrying until the configuration generation is stable around them
// (VIRTIO 1.2, 2.5.1); a device whose configuration never settles gets the
// last value read after 1000 tries.
func Config64(t Transport, off int) uint64 {
	var v uint64
	for try := 0; try < 1000; try++ {
		g := t.ConfigGeneration()
		v = uint64(t.Config32(off)) | uint64(t.Config32(off+4))<<32
		if t.ConfigGeneration() == g {
			break
		}
	}
	return v
}

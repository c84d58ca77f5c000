package virtio

import (
	"fmt"

	"github.com/xairrosx/xairrosx/drivers/internal/mmio"
	"github.com/xairrosx/xairrosx/kernel"
)

// virtio-mmio registers (VIRTIO 1.2, 4.2.2), version 2 ("modern") only.
const (
	mmioMagic            = 0x000
	mmioVersion          = 0x004
	mmioDeviceID         = 0x008
	mmioDeviceFeatures   = 0x010
	mmioDeviceFeatSel    = 0x014
	mmioDriverFeatures   = 0x020
	mmioDriverFeatSel    = 0x024
	mmioQueueSel         = 0x030
	mmioQueueNumMax      = 0x034
	mmioQueueNum         = 0x038
	mmioQueueReady       = 0x044
	mmioQueueNotify      = 0x050
	mmioInterruptStatus  = 0x060
	mmioInterruptACK     = 0x064
	mmioStatus           = 0x070
	mmioQueueDesc        = 0x080
	mmioQueueDriver      = 0x090
	mmioQueueDevice      = 0x0a0
	mmioConfigGeneration = 0x0fc
	mmioConfig           = 0x100

	mmioMagicValue = 0x74726976 // "virt"
)

// MMIO is the virtio-mmio transport of one device, as on QEMU's microvm
// machine: a register window at a fixed address with its own interrupt
// line. QEMU offers version 2 (what this transport speaks) with
// "-global virtio-mmio.force-legacy=false".
type MMIO struct {
	base uintptr
	irq  int
}

// ProbeMMIO looks at the register window at base (identity-mapped device
// memory) and returns its device type, or 0 with no error if the slot is
// empty. A window without the magic value or with a legacy (version 1)
// device is an error naming the address.
func ProbeMMIO(base uintptr) (int, error) {
	if m := mmio.Read32(base + mmioMagic); m != mmioMagicValue {
		return 0, fmt.Errorf("virtio-mmio at %#x: magic %#x, want %#x", base, m, mmioMagicValue)
	}
	id := int(mmio.Read32(base + mmioDeviceID))
	if id == 0 {
		return 0, nil
	}
	if v := mmio.Read32(base + mmioVersion); v != 2 {
		return 0, fmt.Errorf("virtio-mmio at %#x: version %d device (want 2; QEMU: -global virtio-mmio.force-legacy=false)", base, v)
	}
	return id, nil
}

// NewMMIO returns the transport of the device at base, which raises legacy
// interrupt line irq.
func NewMMIO(base uintptr, irq int) (*MMIO, error) {
	id, err := ProbeMMIO(base)
	if err != nil {
		return nil, err
	}
	if id == 0 {
		return nil, fmt.Errorf("virtio-mmio at %#x: no device", base)
	}
	return &MMIO{base: base, irq: irq}, nil
}

// String names the device by its register window.
func (t *MMIO) String() string { return fmt.Sprintf("mmio@%#x", t.base) }

func (t *MMIO) r32(off uintptr) uint32    { return mmio.Read32(t.base + off) }
func (t *MMIO) w32(off uintptr, v uint32) { mmio.Write32(t.base+off, v) }

// DeviceFeatures implements Transport.
func (t *MMIO) DeviceFeatures() uint64 {
	t.w32(mmioDeviceFeatSel, 0)
	lo := t.r32(mmioDeviceFeatures)
	t.w32(mmioDeviceFeatSel, 1)
	return uint64(t.r32(mmioDeviceFeatures))<<32 | uint64(lo)
}

// SetDriverFeatures implements Transport.
func (t *MMIO) SetDriverFeatures(f uint64) {
	t.w32(mmioDriverFeatSel, 0)
	t.w32(mmioDriverFeatures, uint32(f))
	t.w32(mmioDriverFeatSel, 1)
	t.w32(mmioDriverFeatures, uint32(f>>32))
}

// Status implements Transport.
func (t *MMIO) Status() uint8 { return uint8(t.r32(mmioStatus)) }

// SetStatus implements Transport.
func (t *MMIO) SetStatus(s uint8) { t.w32(mmioStatus, uint32(s)) }

// MaxQueueSize implements Transport.
func (t *MMIO) MaxQueueSize(i uint16) uint16 {
	t.w32(mmioQueueSel, uint32(i))
	if t.r32(mmioQueueReady) != 0 {
		return 0 // already in use: not ours to set up
	}
	return uint16(min(t.r32(mmioQueueNumMax), 0x8000))
}

// EnableQueue implements Transport.
func (t *MMIO) EnableQueue(q *Queue) (func(), error) {
	t.w32(mmioQueueSel, uint32(q.Index))
	t.w32(mmioQueueNum, uint32(q.Size()))
	desc, driver, device := q.Addresses()
	for _, f := range []struct {
		off  uintptr
		addr uintptr
	}{{mmioQueueDesc, desc}, {mmioQueueDriver, driver}, {mmioQueueDevice, device}} {
		t.w32(f.off, uint32(f.addr))
		t.w32(f.off+4, uint32(uint64(f.addr)>>32))
	}
	t.w32(mmioQueueReady, 1)
	notify, index := t.base+mmioQueueNotify, uint32(q.Index)
	return func() { mmio.Write32(notify, index) }, nil
}

// Config8 implements Transport.
func (t *MMIO) Config8(off int) uint8 { return mmio.Read8(t.base + mmioConfig + uintptr(off)) }

// Config16 implements Transport.
func (t *MMIO) Config16(off int) uint16 { return mmio.Read16(t.base + mmioConfig + uintptr(off)) }

// Config32 implements Transport.
func (t *MMIO) Config32(off int) uint32 { return t.r32(mmioConfig + uintptr(off)) }

// ConfigGeneration implements Transport.
func (t *MMIO) ConfigGeneration() uint32 { return t.r32(mmioConfigGeneration) }

// OnInterrupt implements Transport: the handler acknowledges the bits of
// InterruptStatus it read before running fn, so a completion after the
// acknowledgement raises the line again.
func (t *MMIO) OnInterrupt(fn func(isr uint8)) (func(), error) {
	return HandleIRQ(t.irq, func() {
		if s := t.r32(mmioInterruptStatus); s != 0 {
			t.w32(mmioInterruptACK, s)
			fn(uint8(s))
		}
	})
}

// QEMU's microvm places virtio-mmio windows of 512 bytes from 0xfeb00000;
// window i raises interrupt base+i. The base and the number of windows
// depend on the machine's interrupt controllers (QEMU's hw/i386/microvm.c):
// 24 windows from GSI 24 with the second I/O APIC (the default), 8 from GSI
// 16 with one, 8 from ISA IRQ 5 without ACPI.
const (
	microvmMMIOBase   = 0xfeb00000
	microvmMMIOWindow = 0x200
)

// FindMMIO returns the virtio-mmio transports of the devices of type typ on
// QEMU's microvm machine, in window order, each with the interrupt line of
// its window. It returns none on machines without virtio-mmio windows.
func FindMMIO(typ int) ([]*MMIO, error) {
	base, n := 5, 8
	switch lines := kernel.InterruptLines(); {
	case lines >= 48:
		base, n = 24, 24
	case lines >= 24:
		base, n = 16, 8
	}
	var out []*MMIO
	for i := 0; i < n; i++ {
		addr := uintptr(microvmMMIOBase + microvmMMIOWindow*i)
		id, err := ProbeMMIO(addr)
		if err != nil {
			if i == 0 && mmio.Read32(addr+mmioMagic) != mmioMagicValue {
				return nil, nil // no virtio-mmio windows: not a microvm
			}
			return nil, err
		}
		if id == typ {
			out = append(out, &MMIO{base: addr, irq: base + i})
		}
	}
	return out, nil
}

// FindAny returns the transports of the virtio devices of type typ: those
// on the PCI bus (Find), then the virtio-mmio ones (FindMMIO).
func FindAny(typ int) ([]Transport, error) {
	var out []Transport
	ps, err := Find(typ)
	if err != nil {
		return nil, err
	}
	for _, t := range ps {
		out = append(out, t)
	}
	ms, err := FindMMIO(typ)
	if err != nil {
		return nil, err
	}
	for _, t := range ms {
		out = append(out, t)
	}
	return out, nil
}

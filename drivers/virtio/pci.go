package virtio

import (
	"errors"
	"fmt"

	"github.com/xairrosx/xairrosx/drivers/internal/mmio"
	"github.com/xairrosx/xairrosx/drivers/pci"
	"github.com/xairrosx/xairrosx/kernel"
)

// PCI identity of virtio devices (VIRTIO 1.2, 4.1.2).
const (
	VendorID         = 0x1af4
	modernDeviceBase = 0x1040 // 0x1040 + device type
	transitionalBase = 0x1000 // 0x1000-0x103f: type in the subsystem ID
	regSubsystemID   = 0x2E

	// Device types (VIRTIO 1.2, 5).
	TypeNet   = 1
	TypeBlock = 2
)

// Vendor-specific capability structure types (VIRTIO 1.2, 4.1.4).
const (
	capVendor       = 0x09
	capCommon       = 1
	capNotify       = 2
	capISR          = 3
	capDevice       = 4
	capCommonMinLen = 0x38
)

// Common configuration structure offsets (VIRTIO 1.2, 4.1.4.3).
const (
	comDeviceFeatureSelect = 0x00
	comDeviceFeature       = 0x04
	comDriverFeatureSelect = 0x08
	comDriverFeature       = 0x0C
	comMSIXConfig          = 0x10
	comNumQueues           = 0x12
	comStatus              = 0x14
	comConfigGeneration    = 0x15
	comQueueSelect         = 0x16
	comQueueSize           = 0x18
	comQueueMSIXVector     = 0x1A
	comQueueEnable         = 0x1C
	comQueueNotifyOff      = 0x1E
	comQueueDesc           = 0x20
	comQueueDriver         = 0x28
	comQueueDevice         = 0x30
)

// DeviceType returns the virtio device type of a PCI function (TypeNet,
// TypeBlock, ...) or 0 if it is not a virtio device.
func DeviceType(f *pci.Function) int {
	switch {
	case f.VendorID != VendorID:
		return 0
	case f.DeviceID >= modernDeviceBase && f.DeviceID <= modernDeviceBase+0x3f:
		return int(f.DeviceID - modernDeviceBase)
	case f.DeviceID >= transitionalBase && f.DeviceID < modernDeviceBase:
		return int(f.Read16(regSubsystemID))
	}
	return 0
}

// region is one structure a capability points at.
type region struct {
	bar         uint8
	offset, len uint32
}

// pciLayout is where a device's structures are, relative to its BARs.
type pciLayout struct {
	common, notify, isr, device region
	notifyMultiplier            uint32
}

// parseCapabilities finds the first common, notify, ISR and device
// configuration capabilities (VIRTIO 1.2, 4.1.4: the driver uses the first
// of each type it understands) and checks that each lies inside a memory
// BAR. read32 reads the function's configuration space.
func parseCapabilities(name string, read32 func(off uint8) uint32, caps []pci.Capability, bars [6]pci.BAR) (pciLayout, error) {
	var l pciLayout
	found := map[uint8]bool{}
	for _, c := range caps {
		if c.ID != capVendor {
			continue
		}
		w0 := read32(c.Offset)
		typ, capLen := uint8(w0>>24), uint8(w0>>16)
		if typ < capCommon || typ > capDevice || found[typ] {
			continue
		}
		if int(c.Offset)+int(capLen) > 256 {
			return l, fmt.Errorf("virtio %s: capability at %#x (type %d) of %d bytes runs past the configuration space", name, c.Offset, typ, capLen)
		}
		if capLen < 16 || (typ == capNotify && capLen < 20) {
			return l, fmt.Errorf("virtio %s: capability at %#x (type %d) is %d bytes long", name, c.Offset, typ, capLen)
		}
		r := region{bar: uint8(read32(c.Offset + 4)), offset: read32(c.Offset + 8), len: read32(c.Offset + 12)}
		if r.bar > 5 {
			return l, fmt.Errorf("virtio %s: capability at %#x (type %d) names BAR %d", name, c.Offset, typ, r.bar)
		}
		b := bars[r.bar]
		if b.IO || b.Size == 0 || uint64(r.offset)+uint64(r.len) > b.Size {
			return l, fmt.Errorf("virtio %s: capability at %#x (type %d): %d bytes at %#x do not fit memory BAR %d (%d bytes, io=%v)",
				name, c.Offset, typ, r.len, r.offset, r.bar, b.Size, b.IO)
		}
		found[typ] = true
		switch typ {
		case capCommon:
			if r.len < capCommonMinLen {
				return l, fmt.Errorf("virtio %s: common configuration is %d bytes, want %d", name, r.len, capCommonMinLen)
			}
			l.common = r
		case capNotify:
			l.notify = r
			l.notifyMultiplier = read32(c.Offset + 16)
		case capISR:
			l.isr = r
		case capDevice:
			l.device = r
		}
	}
	for typ, what := range map[uint8]string{capCommon: "common configuration", capNotify: "notification", capISR: "ISR status"} {
		if !found[typ] {
			return l, fmt.Errorf("virtio %s: no %s capability (not a virtio 1.x device?)", name, what)
		}
	}
	return l, nil
}

// PCI is the virtio-over-PCI transport of one function.
type PCI struct {
	fn                          *pci.Function
	common, notify, isr, device uintptr
	notifyMultiplier            uint32
	notifyLen, deviceLen        uint32
	mapped                      [6]bool // BARs mapped with kernel.MapMMIO (or below 4 GiB)
}

// mapBAR makes BAR bar addressable: the kernel's identity map covers the
// first 4 GiB; a BAR above is mapped once, however many structures it holds.
func (t *PCI) mapBAR(bar int) error {
	b := t.fn.BARs[bar]
	if !t.mapped[bar] && b.Addr+b.Size > 1<<32 {
		if err := kernel.MapMMIO(uintptr(b.Addr), uintptr(b.Size)); err != nil {
			return fmt.Errorf("virtio %v: mapping BAR %d at %#x: %w", t, bar, b.Addr, err)
		}
	}
	t.mapped[bar] = true
	return nil
}

// NewPCI prepares the transport of a virtio PCI function: it finds the
// configuration structures, maps their BARs if they lie above the identity
// map, and enables memory decoding and bus mastering.
func NewPCI(f *pci.Function) (*PCI, error) {
	name := f.String()
	l, err := parseCapabilities(name, f.Read32, f.Capabilities, f.BARs)
	if err != nil {
		return nil, err
	}
	t := &PCI{fn: f, notifyMultiplier: l.notifyMultiplier, notifyLen: l.notify.len, deviceLen: l.device.len}
	addr := func(r region) (uintptr, error) {
		if err := t.mapBAR(int(r.bar)); err != nil {
			return 0, err
		}
		return uintptr(f.BARs[r.bar].Addr) + uintptr(r.offset), nil
	}
	for _, p := range []struct {
		dst *uintptr
		r   region
	}{{&t.common, l.common}, {&t.notify, l.notify}, {&t.isr, l.isr}, {&t.device, l.device}} {
		if p.r.len == 0 {
			continue
		}
		if *p.dst, err = addr(p.r); err != nil {
			return nil, err
		}
	}
	f.Enable(pci.CmdMemory | pci.CmdBusMaster)
	return t, nil
}

// String names the function by bus address and identity.
func (t *PCI) String() string { return t.fn.String() }

// Function returns the PCI function.
func (t *PCI) Function() *pci.Function { return t.fn }

// DeviceFeatures implements Transport.
func (t *PCI) DeviceFeatures() uint64 {
	mmio.Write32(t.common+comDeviceFeatureSelect, 0)
	lo := mmio.Read32(t.common + comDeviceFeature)
	mmio.Write32(t.common+comDeviceFeatureSelect, 1)
	hi := mmio.Read32(t.common + comDeviceFeature)
	return uint64(hi)<<32 | uint64(lo)
}

// SetDriverFeatures implements Transport.
func (t *PCI) SetDriverFeatures(f uint64) {
	mmio.Write32(t.common+comDriverFeatureSelect, 0)
	mmio.Write32(t.common+comDriverFeature, uint32(f))
	mmio.Write32(t.common+comDriverFeatureSelect, 1)
	mmio.Write32(t.common+comDriverFeature, uint32(f>>32))
}

// Status implements Transport.
func (t *PCI) Status() uint8 { return mmio.Read8(t.common + comStatus) }

// SetStatus implements Transport.
func (t *PCI) SetStatus(s uint8) { mmio.Write8(t.common+comStatus, s) }

// MaxQueueSize implements Transport.
func (t *PCI) MaxQueueSize(i uint16) uint16 {
	if i >= mmio.Read16(t.common+comNumQueues) {
		return 0
	}
	mmio.Write16(t.common+comQueueSelect, i)
	return mmio.Read16(t.common + comQueueSize)
}

// EnableQueue implements Transport.
func (t *PCI) EnableQueue(q *Queue) (func(), error) {
	mmio.Write16(t.common+comQueueSelect, q.Index)
	mmio.Write16(t.common+comQueueSize, q.Size())
	desc, driver, device := q.Addresses()
	for _, f := range []struct {
		off  uintptr
		addr uintptr
	}{{comQueueDesc, desc}, {comQueueDriver, driver}, {comQueueDevice, device}} {
		// 64-bit fields may be written as two 32-bit halves (4.1.3.1).
		mmio.Write32(t.common+f.off, uint32(f.addr))
		mmio.Write32(t.common+f.off+4, uint32(uint64(f.addr)>>32))
	}
	off := uint32(mmio.Read16(t.common+comQueueNotifyOff)) * t.notifyMultiplier
	if off+2 > t.notifyLen {
		return nil, fmt.Errorf("notification offset %d outside the %d-byte notify structure", off, t.notifyLen)
	}
	mmio.Write16(t.common+comQueueEnable, 1)
	addr, index := t.notify+uintptr(off), q.Index
	return func() { mmio.Write16(addr, index) }, nil
}

// Config8 implements Transport.
func (t *PCI) Config8(off int) uint8 { return mmio.Read8(t.device + uintptr(off)) }

// Config16 implements Transport.
func (t *PCI) Config16(off int) uint16 { return mmio.Read16(t.device + uintptr(off)) }

// Config32 implements Transport.
func (t *PCI) Config32(off int) uint32 { return mmio.Read32(t.device + uintptr(off)) }

// ConfigGeneration implements Transport.
func (t *PCI) ConfigGeneration() uint32 { return uint32(mmio.Read8(t.common + comConfigGeneration)) }

// OnInterrupt implements Transport. Where the kernel offers message-
// signalled interrupts and the function has MSI-X (every virtio PCI device
// QEMU makes does), all queues signal one MSI-X vector, on a line of its own;
// otherwise the handler runs on the dispatcher of the function's legacy
// interrupt line, where reading the ISR status register acknowledges the
// interrupt and deasserts INTx. Configuration-change interrupts are not
// requested.
func (t *PCI) OnInterrupt(fn func(isr uint8)) (func(), error) {
	remove, err := t.onMSIX(fn)
	if err == nil || !errors.Is(err, errNoMSIX) {
		return remove, err
	}
	line := int(t.fn.InterruptLine)
	if t.fn.InterruptPin == 0 || line > 15 {
		return nil, fmt.Errorf("virtio %v: no legacy interrupt (pin %d, line %d)", t, t.fn.InterruptPin, line)
	}
	isr := t.isr
	return HandleIRQ(line, func() {
		if s := mmio.Read8(isr); s != 0 {
			fn(s)
		}
	})
}

// Find returns the transports of the virtio PCI devices of type typ
// (TypeNet, TypeBlock, ...) on the machine's PCI bus (pci.System), in bus
// order.
func Find(typ int) ([]*PCI, error) {
	fns, err := pci.System()
	if err != nil {
		return nil, err
	}
	var out []*PCI
	for _, f := range fns {
		if DeviceType(f) != typ {
			continue
		}
		t, err := NewPCI(f)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// errNoMSIX: message-signalled interrupts are not available (no MSI-X
// capability, or a kernel without MSIs, such as Linux when testing).
var errNoMSIX = errors.New("no MSI-X")

// MSI-X capability layout (PCI 3.0, 6.8.2).
const (
	capMSIX         = 0x11
	msixEnable      = 1 << 31 // in the capability's first dword: message control bit 15
	msixFuncMask    = 1 << 30 // message control bit 14
	msixEntrySize   = 16
	virtioNoVector  = 0xFFFF
	msixTableOffset = 4
)

// onMSIX points every queue at MSI-X table entry 0 and that entry at an
// MSI line from the kernel, and dispatches that line to fn.
func (t *PCI) onMSIX(fn func(isr uint8)) (func(), error) {
	c, ok := t.fn.Find(capMSIX)
	if !ok {
		return nil, errNoMSIX
	}
	line, addr, data, err := kernel.AllocMSI()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoMSIX, err)
	}
	tbl := t.fn.Read32(c.Offset + msixTableOffset)
	bar := tbl & 7
	if bar >= 6 || t.fn.BARs[bar].Size == 0 || t.fn.BARs[bar].IO {
		return nil, fmt.Errorf("virtio %v: MSI-X table in BAR %d, which is not memory", t, bar)
	}
	if err := t.mapBAR(int(bar)); err != nil {
		return nil, err
	}
	entry := uintptr(t.fn.BARs[bar].Addr) + uintptr(tbl&^7)
	mmio.Write32(entry, uint32(addr))
	mmio.Write32(entry+4, uint32(addr>>32))
	mmio.Write32(entry+8, data)
	mmio.Write32(entry+12, 0) // unmasked
	ctl := t.fn.Read32(c.Offset)
	t.fn.Write32(c.Offset, (ctl|msixEnable)&^msixFuncMask)
	mmio.Write16(t.common+comMSIXConfig, virtioNoVector)
	for i := uint16(0); i < mmio.Read16(t.common+comNumQueues); i++ {
		mmio.Write16(t.common+comQueueSelect, i)
		mmio.Write16(t.common+comQueueMSIXVector, 0)
		if v := mmio.Read16(t.common + comQueueMSIXVector); v != 0 {
			return nil, fmt.Errorf("virtio %v: queue %d refused MSI-X vector 0 (reads %#x)", t, i, v)
		}
	}
	return HandleIRQ(line, func() { fn(ISRQueue) })
}

// Package pci enumerates the functions on a PCI bus and gives drivers what
// they need of each: identity, class, base address registers (decoded and
// sized), the capability list, the legacy interrupt line, and the command
// register bits that turn on memory decoding and bus mastering.
//
// Specification: PCI Local Bus Specification 3.0 (configuration header
// type 0, capability list, configuration mechanism #1) and the PCI-to-PCI
// Bridge Architecture Specification 1.2 (header type 1 bus numbers).
//
// The package holds no addresses of its own: the configuration space comes
// from a Config (Ports on a PC, a fake in tests).
package pci

import (
	"fmt"
	"sync"
)

// Configuration header offsets and bits (header type 0 unless noted).
const (
	RegVendorID      = 0x00
	RegCommand       = 0x04 // 16 bits; status above it
	RegClass         = 0x08 // revision, prog-if, subclass, class
	RegHeaderType    = 0x0C // byte 2 of the dword
	RegBAR0          = 0x10
	RegBusNumbers    = 0x18 // type 1: primary, secondary, subordinate
	RegCapabilities  = 0x34
	RegInterruptLine = 0x3C // line, then pin

	CmdIO         = 1 << 0
	CmdMemory     = 1 << 1
	CmdBusMaster  = 1 << 2
	CmdIntDisable = 1 << 10

	StatusCapList = 1 << 4 // bit 4 of the status register (bit 20 of the dword)

	headerMultiFunction = 0x80
	headerTypeMask      = 0x7F
	headerBridge        = 0x01

	classBridge      = 0x06
	subclassPCIToPCI = 0x04

	maxCapabilities = 48 // (256-64)/4: more means the list loops
)

// Bus is a PCI configuration space with its accesses serialised.
type Bus struct {
	mu  sync.Mutex
	cfg Config
}

// NewBus returns a Bus over cfg.
func NewBus(cfg Config) *Bus { return &Bus{cfg: cfg} }

func (b *Bus) read32(a Addr, off uint8) uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cfg.Read32(a, off)
}

func (b *Bus) write32(a Addr, off uint8, v uint32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg.Write32(a, off, v)
}

func (b *Bus) write16(a Addr, off uint8, v uint16) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg.Write16(a, off, v)
}

// BAR is a decoded base address register.
type BAR struct {
	Addr uint64 // base address (memory or I/O port)
	Size uint64 // bytes decoded; 0 when the BAR is not implemented
	IO   bool   // an I/O port range rather than memory
	Is64 bool   // a 64-bit memory BAR (it uses the next register too)
	// Prefetchable memory.
	Prefetchable bool
}

// Capability is one entry of a function's capability list.
type Capability struct {
	ID     uint8 // capability ID (0x09: vendor-specific, 0x11: MSI-X, ...)
	Offset uint8 // where it starts in configuration space
}

// Function is one PCI function found by Enumerate.
type Function struct {
	bus *Bus
	Addr
	VendorID, DeviceID uint16
	Class, Subclass    uint8
	ProgIF, Revision   uint8
	HeaderType         uint8 // without the multi-function bit
	InterruptLine      uint8 // legacy IRQ the firmware routed INTx to (0xFF: none)
	InterruptPin       uint8 // 1-4 for INTA#-INTD#, 0 for none
	BARs               [6]BAR
	Capabilities       []Capability
}

// String gives the bus address, vendor:device IDs and class, as lspci does.
func (f *Function) String() string {
	return fmt.Sprintf("%02x:%02x.%x %04x:%04x class %02x%02x", f.Bus, f.Device, f.Function, f.VendorID, f.DeviceID, f.Class, f.Subclass)
}

// Read32 reads the dword at off (a multiple of 4) of f's configuration space.
func (f *Function) Read32(off uint8) uint32 { return f.bus.read32(f.Addr, off&^3) }

// Read8 reads the byte at off of f's configuration space.
func (f *Function) Read8(off uint8) uint8 { return uint8(f.Read32(off) >> (8 * (off & 3))) }

// Read16 reads the 16-bit word at off (a multiple of 2).
func (f *Function) Read16(off uint8) uint16 { return uint16(f.Read32(off) >> (8 * (off & 2))) }

// Write32 writes the dword at off (a multiple of 4).
func (f *Function) Write32(off uint8, v uint32) { f.bus.write32(f.Addr, off&^3, v) }

// Enable sets the command register bits in bits (CmdMemory, CmdIO,
// CmdBusMaster) and clears CmdIntDisable, so that the function decodes its
// BARs, may do DMA, and raises INTx.
func (f *Function) Enable(bits uint16) {
	cmd := f.Read16(RegCommand)
	f.bus.write16(f.Addr, RegCommand, (cmd|bits)&^CmdIntDisable)
}

// Find returns the first capability with the given ID, if any.
func (f *Function) Find(id uint8) (Capability, bool) {
	for _, c := range f.Capabilities {
		if c.ID == id {
			return c, true
		}
	}
	return Capability{}, false
}

// Enumerate walks every bus reachable from bus 0 through PCI-to-PCI
// bridges and returns the functions found, in bus, device, function order.
// It sizes each function's BARs (with decoding briefly turned off) and reads
// its capability list; a malformed list is an error naming the function.
func (b *Bus) Enumerate() ([]*Function, error) {
	var out []*Function
	seen := map[uint8]bool{}
	var scan func(bus uint8) error
	scan = func(bus uint8) error {
		if seen[bus] {
			return nil
		}
		seen[bus] = true
		for dev := uint8(0); dev < 32; dev++ {
			for fn := uint8(0); fn < 8; fn++ {
				a := Addr{bus, dev, fn}
				id := b.read32(a, RegVendorID)
				if id&0xFFFF == 0xFFFF {
					if fn == 0 {
						break // no device in this slot
					}
					continue
				}
				f, err := b.probe(a, id)
				if err != nil {
					return err
				}
				out = append(out, f)
				if f.HeaderType == headerBridge && f.Class == classBridge && f.Subclass == subclassPCIToPCI {
					if sec := uint8(b.read32(a, RegBusNumbers) >> 8); sec != 0 {
						if err := scan(sec); err != nil {
							return err
						}
					}
				}
				if fn == 0 && uint8(b.read32(a, RegHeaderType)>>16)&headerMultiFunction == 0 {
					break
				}
			}
		}
		return nil
	}
	if err := scan(0); err != nil {
		return nil, err
	}
	return out, nil
}

func (b *Bus) probe(a Addr, id uint32) (*Function, error) {
	f := &Function{bus: b, Addr: a, VendorID: uint16(id), DeviceID: uint16(id >> 16)}
	class := b.read32(a, RegClass)
	f.Revision, f.ProgIF, f.Subclass, f.Class = uint8(class), uint8(class>>8), uint8(class>>16), uint8(class>>24)
	f.HeaderType = uint8(b.read32(a, RegHeaderType)>>16) & headerTypeMask
	irq := b.read32(a, RegInterruptLine)
	f.InterruptLine, f.InterruptPin = uint8(irq), uint8(irq>>8)
	nbars := 6
	switch f.HeaderType {
	case 0:
	case headerBridge:
		nbars = 2
	default:
		nbars = 0 // CardBus and unknown layouts: identity only
	}
	if err := f.sizeBARs(nbars); err != nil {
		return nil, err
	}
	if err := f.readCapabilities(); err != nil {
		return nil, err
	}
	return f, nil
}

// sizeBARs decodes the first n BARs: write all ones, read back the mask of
// writable address bits, restore. Decoding is off meanwhile so the
// temporary address never claims a range.
func (f *Function) sizeBARs(n int) error {
	cmd := f.Read16(RegCommand)
	f.bus.write16(f.Addr, RegCommand, cmd&^(CmdIO|CmdMemory))
	defer f.bus.write16(f.Addr, RegCommand, cmd)
	for i := 0; i < n; i++ {
		off := uint8(RegBAR0 + 4*i)
		orig := f.Read32(off)
		f.Write32(off, 0xFFFFFFFF)
		mask := f.Read32(off)
		f.Write32(off, orig)
		bar := &f.BARs[i]
		if orig&1 != 0 {
			bar.IO = true
			bar.Addr = uint64(orig &^ 3)
			if m := mask &^ 3 & 0xFFFF; m != 0 {
				bar.Size = uint64(^m&0xFFFF) + 1
			}
			continue
		}
		bar.Prefetchable = orig&8 != 0
		bar.Addr = uint64(orig &^ 0xF)
		size := uint64(mask&^0xF) | 0xFFFFFFFF00000000
		switch (orig >> 1) & 3 {
		case 0:
		case 2:
			if i+1 >= n {
				return fmt.Errorf("pci %02x:%02x.%x: 64-bit BAR %d has no upper half", f.Bus, f.Device, f.Function, i)
			}
			bar.Is64 = true
			hiOff := off + 4
			hi := f.Read32(hiOff)
			f.Write32(hiOff, 0xFFFFFFFF)
			hiMask := f.Read32(hiOff)
			f.Write32(hiOff, hi)
			bar.Addr |= uint64(hi) << 32
			size = uint64(hiMask)<<32 | uint64(mask&^0xF)
			i++
		default:
			return fmt.Errorf("pci %02x:%02x.%x: BAR %d has reserved type %d", f.Bus, f.Device, f.Function, i, (orig>>1)&3)
		}
		if size&^0xF != 0 && size != 0xFFFFFFFF00000000 {
			bar.Size = ^(size &^ 0xF) + 1
		}
	}
	return nil
}

func (f *Function) readCapabilities() error {
	if (f.Read32(RegCommand)>>16)&StatusCapList == 0 {
		return nil
	}
	off := f.Read8(RegCapabilities) &^ 3
	for off != 0 {
		if off < 0x40 {
			return fmt.Errorf("pci %v: capability pointer %#x points into the header", f, off)
		}
		if len(f.Capabilities) == maxCapabilities {
			return fmt.Errorf("pci %v: capability list has more than %d entries (a loop?)", f, maxCapabilities)
		}
		w := f.Read32(off)
		f.Capabilities = append(f.Capabilities, Capability{ID: uint8(w), Offset: off})
		off = uint8(w>>8) &^ 3
	}
	return nil
}

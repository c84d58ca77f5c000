package pci

import (
	"sync"

	"github.com/xairrosx/xairrosx/arch/amd64"
)

// Config reads and writes the configuration space of functions addressed
// by bus, device (slot) and function number. Offsets are byte offsets into
// the 256-byte configuration space; Read32 and Write32 take offsets that
// are multiples of 4.
type Config interface {
	Read32(a Addr, off uint8) uint32
	Write32(a Addr, off uint8, v uint32)
	// Write16 writes the 16-bit register at off (a multiple of 2) without
	// touching its neighbour (PCI status bits are write-one-to-clear).
	Write16(a Addr, off uint8, v uint16)
}

// Addr is the location of one PCI function.
type Addr struct {
	Bus, Device, Function uint8
}

// Configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2):
// an address written to port 0xCF8 selects a dword that port 0xCFC reads
// or writes.
const (
	configAddress = 0xCF8
	configData    = 0xCFC
	configEnable  = 1 << 31
)

// Ports is the Config of a PC: configuration mechanism #1 through I/O
// ports 0xCF8 and 0xCFC. It needs port I/O (ring 0, or IOPL 3 as XairrosX
// programs have). Callers serialise their accesses (Bus does).
type Ports struct{}

func selector(a Addr, off uint8) uint32 {
	return configEnable | uint32(a.Bus)<<16 | uint32(a.Device&31)<<11 | uint32(a.Function&7)<<8 | uint32(off&0xFC)
}

// Read32 implements Config.Read32.
func (Ports) Read32(a Addr, off uint8) uint32 {
	amd64.Outl(configAddress, selector(a, off))
	return amd64.Inl(configData)
}

// Write32 implements Config.Write32.
func (Ports) Write32(a Addr, off uint8, v uint32) {
	amd64.Outl(configAddress, selector(a, off))
	amd64.Outl(configData, v)
}

// Write16 implements Config.Write16.
func (Ports) Write16(a Addr, off uint8, v uint16) {
	amd64.Outl(configAddress, selector(a, off))
	amd64.Outw(configData+uint16(off&2), v)
}

var (
	systemOnce sync.Once
	systemFns  []*Function
	systemErr  error
)

// System returns the functions of the machine's PCI bus (configuration
// mechanism #1), enumerated on the first call only: enumeration sizes BARs
// by turning decoding off for a moment, which must not happen again while
// drivers use their devices.
func System() ([]*Function, error) {
	systemOnce.Do(func() { systemFns, systemErr = NewBus(Ports{}).Enumerate() })
	return systemFns, systemErr
}

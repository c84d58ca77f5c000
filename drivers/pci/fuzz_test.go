package pci

import (
	"encoding/binary"
	"testing"
)

// rawConfig is one function at 00:00.0 whose configuration space is the
// fuzzer's bytes; writes change nothing (a BAR then reads back its own
// value when sized).
type rawConfig []byte

func (c rawConfig) Read32(a Addr, off uint8) uint32 {
	if a != (Addr{}) {
		return 0xFFFFFFFF
	}
	return binary.LittleEndian.Uint32(c[off&^3:])
}
func (c rawConfig) Write32(Addr, uint8, uint32) {}
func (c rawConfig) Write16(Addr, uint8, uint16) {}

// FuzzEnumerate feeds arbitrary configuration spaces to Enumerate: it must
// return functions or an error, never panic or loop.
func FuzzEnumerate(f *testing.F) {
	seed := make([]byte, 256)
	binary.LittleEndian.PutUint32(seed, 0x10411af4)
	binary.LittleEndian.PutUint32(seed[4:], StatusCapList<<16)
	seed[RegCapabilities] = 0x40
	copy(seed[0x40:], []byte{0x09, 0x50, 16, 1, 4})
	copy(seed[0x50:], []byte{0x09, 0x40, 16, 2, 4}) // loops back
	f.Add(seed)
	bridge := make([]byte, 256)
	binary.LittleEndian.PutUint32(bridge, 0x00011b36)
	binary.LittleEndian.PutUint32(bridge[8:], 0x06040000)
	bridge[0x0E] = headerBridge | headerMultiFunction
	bridge[0x19] = 0 // secondary bus 0: itself
	f.Add(bridge)
	f.Fuzz(func(t *testing.T, b []byte) {
		c := make(rawConfig, 256)
		copy(c, b)
		fns, err := NewBus(c).Enumerate()
		if err == nil && len(fns) == 0 && binary.LittleEndian.Uint16(c) != 0xFFFF {
			t.Fatalf("a present function was not found")
		}
	})
}

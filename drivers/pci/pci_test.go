package pci

import (
	"strings"
	"testing"
)

// fakeFn is one function's configuration space; barMask holds, per BAR
// register, which address bits are writable (0 for an unimplemented BAR).
type fakeFn struct {
	regs    [64]uint32
	barMask [6]uint32
}

type fakeConfig map[Addr]*fakeFn

func (c fakeConfig) Read32(a Addr, off uint8) uint32 {
	if off&3 != 0 {
		panic("unaligned Read32")
	}
	f := c[a]
	if f == nil {
		return 0xFFFFFFFF
	}
	return f.regs[off/4]
}

func (c fakeConfig) Write32(a Addr, off uint8, v uint32) {
	f := c[a]
	if f == nil {
		return
	}
	i := int(off / 4)
	if off >= RegBAR0 && off < RegBAR0+24 {
		b := i - RegBAR0/4
		typ := f.regs[i] & 0xF
		if f.regs[i]&1 != 0 {
			typ = f.regs[i] & 3
		}
		f.regs[i] = v&f.barMask[b] | typ
		return
	}
	f.regs[i] = v
}

func (c fakeConfig) Write16(a Addr, off uint8, v uint16) {
	f := c[a]
	sh := 8 * uint(off&2)
	f.regs[off/4] = f.regs[off/4]&^(0xFFFF<<sh) | uint32(v)<<sh
}

func (c fakeConfig) add(a Addr, vendor, device uint16, class uint32, header uint8) *fakeFn {
	f := &fakeFn{}
	f.regs[0] = uint32(device)<<16 | uint32(vendor)
	f.regs[2] = class
	f.regs[3] = uint32(header) << 16
	c[a] = f
	return f
}

func newFake() fakeConfig {
	c := fakeConfig{}
	c.add(Addr{0, 0, 0}, 0x8086, 0x29c0, 0x06000000, 0) // host bridge
	// Multi-function device in slot 1 with functions 0 and 2 (1 absent).
	mf := c.add(Addr{0, 1, 0}, 0x8086, 0x2918, 0x06010000, headerMultiFunction)
	mf.regs[RegBAR0/4] = 0xc001 // I/O BAR at 0xc000, 64 ports
	mf.barMask[0] = 0xFFFFFFC0
	c.add(Addr{0, 1, 2}, 0x8086, 0x2922, 0x01060100, 0)
	// PCI-to-PCI bridge to bus 1.
	br := c.add(Addr{0, 2, 0}, 0x1b36, 0x0001, 0x06040000, headerBridge)
	br.regs[RegBusNumbers/4] = 0x00010100 // subordinate 1, secondary 1, primary 0
	// Virtio device behind the bridge: 32-bit BAR1, 64-bit prefetchable BAR4,
	// capability list 0x40 -> 0x50 -> end; INTA# routed to IRQ 11.
	v := c.add(Addr{1, 3, 0}, 0x1af4, 0x1041, 0x02000001, 0)
	v.regs[1] = StatusCapList << 16
	v.regs[RegBAR0/4+1] = 0xfebd0000
	v.barMask[1] = 0xFFFFF000
	v.regs[RegBAR0/4+4] = 0x0000000c | 0xfe000000
	v.barMask[4] = 0xFFFFC000
	v.regs[RegBAR0/4+5] = 0x1 // upper half: 0x1_fe000000
	v.barMask[5] = 0xFFFFFFFF
	v.regs[RegCapabilities/4] = 0x40
	v.regs[0x40/4] = 0x00005009 // vendor cap, next 0x50
	v.regs[0x50/4] = 0x00000011 // MSI-X, end
	v.regs[RegInterruptLine/4] = 0x010b
	return c
}

func TestEnumerate(t *testing.T) {
	c := newFake()
	fns, err := NewBus(c).Enumerate()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fns {
		got = append(got, f.String())
	}
	want := []string{
		"00:00.0 8086:29c0 class 0600",
		"00:01.0 8086:2918 class 0601",
		"00:01.2 8086:2922 class 0106",
		"00:02.0 1b36:0001 class 0604",
		"01:03.0 1af4:1041 class 0200",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	io := fns[1].BARs[0]
	if !io.IO || io.Addr != 0xc000 || io.Size != 64 {
		t.Errorf("I/O BAR = %+v, want 64 ports at 0xc000", io)
	}
	v := fns[4]
	if b := v.BARs[1]; b.IO || b.Is64 || b.Addr != 0xfebd0000 || b.Size != 0x1000 {
		t.Errorf("BAR1 = %+v, want 4 KiB at 0xfebd0000", b)
	}
	if b := v.BARs[4]; !b.Is64 || !b.Prefetchable || b.Addr != 0x1fe000000 || b.Size != 0x4000 {
		t.Errorf("BAR4 = %+v, want 16 KiB 64-bit prefetchable at 0x1fe000000", b)
	}
	if b := v.BARs[5]; b.Size != 0 {
		t.Errorf("BAR5 (upper half of BAR4) decoded as %+v", b)
	}
	if v.BARs[0].Size != 0 || v.BARs[2].Size != 0 {
		t.Errorf("unimplemented BARs have sizes: %+v", v.BARs)
	}
	// Sizing restored the registers.
	if r := c[Addr{1, 3, 0}].regs[RegBAR0/4+4]; r != 0xfe00000c {
		t.Errorf("BAR4 register left as %#x", r)
	}
	if len(v.Capabilities) != 2 || v.Capabilities[0] != (Capability{0x09, 0x40}) || v.Capabilities[1] != (Capability{0x11, 0x50}) {
		t.Errorf("capabilities = %+v", v.Capabilities)
	}
	if c, ok := v.Find(0x11); !ok || c.Offset != 0x50 {
		t.Errorf("Find(MSI-X) = %+v, %v", c, ok)
	}
	if v.InterruptLine != 11 || v.InterruptPin != 1 {
		t.Errorf("interrupt line/pin = %d/%d, want 11/1", v.InterruptLine, v.InterruptPin)
	}
	v.Enable(CmdMemory | CmdBusMaster)
	if cmd := v.Read16(RegCommand); cmd != CmdMemory|CmdBusMaster {
		t.Errorf("command = %#x after Enable", cmd)
	}
	if st := v.Read32(RegCommand) >> 16; st != StatusCapList {
		t.Errorf("Enable changed the status register to %#x", st)
	}
	if b := v.Read8(RegInterruptLine + 1); b != 1 {
		t.Errorf("Read8(pin) = %d", b)
	}
}

func TestEnumerateRejectsBadCapabilities(t *testing.T) {
	for name, tc := range map[string]struct {
		ptr  uint32
		caps map[uint8]uint32
		want string
	}{
		"loop":   {0x40, map[uint8]uint32{0x40: 0x4409, 0x44: 0x4009}, "more than 48 entries"},
		"header": {0x40, map[uint8]uint32{0x40: 0x1009}, "points into the header"},
	} {
		c := fakeConfig{}
		f := c.add(Addr{0, 4, 0}, 0x1af4, 0x1042, 0x01000000, 0)
		f.regs[1] = StatusCapList << 16
		f.regs[RegCapabilities/4] = tc.ptr
		for off, v := range tc.caps {
			f.regs[off/4] = v
		}
		_, err := NewBus(c).Enumerate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "00:04.0") {
			t.Errorf("%s: error %v, want one naming 00:04.0 and %q", name, err, tc.want)
		}
	}
}

func TestEnumerateRejectsTruncated64BitBAR(t *testing.T) {
	c := fakeConfig{}
	f := c.add(Addr{0, 5, 0}, 0x1af4, 0x1042, 0x01000000, 0)
	f.regs[RegBAR0/4+5] = 0x4 // 64-bit type in the last BAR
	f.barMask[5] = 0xFFFFF000
	_, err := NewBus(c).Enumerate()
	if err == nil || !strings.Contains(err.Error(), "BAR 5 has no upper half") {
		t.Fatalf("error %v", err)
	}
}

func TestSelector(t *testing.T) {
	if s := selector(Addr{1, 3, 2}, 0x3F); s != 0x80011A3C {
		t.Fatalf("selector = %#x, want 0x80011a3c", s)
	}
}

package virtio

import (
	"errors"
	"strings"
	"testing"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/internal/mmio"
	"github.com/xairrosx/xairrosx/drivers/pci"
)

func TestQueueLayout(t *testing.T) {
	for _, c := range []struct {
		size               uint16
		avail, used, total int
	}{
		{1, 16, 24, 38},
		{8, 128, 152, 222},
		{256, 4096, 4616, 6670},
	} {
		a, u, n := QueueLayout(c.size)
		if a != c.avail || u != c.used || n != c.total {
			t.Errorf("QueueLayout(%d) = %d, %d, %d; want %d, %d, %d", c.size, a, u, n, c.avail, c.used, c.total)
		}
		if u%4 != 0 {
			t.Errorf("used ring of size %d at %d is not 4-aligned", c.size, u)
		}
	}
}

// newTestQueue makes a queue in heap memory with a notification counter.
func newTestQueue(t *testing.T, size uint16) (*Queue, *int) {
	var h dma.Heap
	_, _, n := QueueLayout(size)
	mem, err := h.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	kicks := new(int)
	q, err := NewQueue(3, size, mem, func() { *kicks++ })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Free(mem, n) })
	return q, kicks
}

// deviceTake plays the device: it takes every new driver ring entry and
// returns their heads and chains' descriptors.
func deviceTake(q *Queue, last *uint16) (heads []uint16, chains [][]Buffer) {
	for idx := mmio.Read16(q.avail + 2); *last != idx; *last++ {
		h := mmio.Read16(q.avail + 4 + 2*uintptr(*last%q.size))
		heads = append(heads, h)
		var c []Buffer
		for i := h; ; {
			d := q.descAddr(i)
			f := mmio.Read16(d + 12)
			c = append(c, Buffer{Addr: uintptr(mmio.Read64(d)), Len: mmio.Read32(d + 8), Write: f&DescWrite != 0})
			if f&DescNext == 0 {
				break
			}
			i = mmio.Read16(d + 14)
		}
		chains = append(chains, c)
	}
	return
}

// deviceComplete puts head on the used ring with n bytes written.
func deviceComplete(q *Queue, head uint16, n uint32) {
	idx := mmio.Read16(q.used + 2)
	e := q.used + 4 + 8*uintptr(idx%q.size)
	mmio.Write32(e, uint32(head))
	mmio.Write32(e+4, n)
	mmio.Write16(q.used+2, idx+1)
}

func TestQueueChainsAndWrap(t *testing.T) {
	q, kicks := newTestQueue(t, 8)
	var last uint16
	// Many rounds with chains of 1-3 buffers, completed out of order, so
	// the 16-bit indices and the free list wrap around many times.
	for round := 0; round < 20000; round++ {
		var want [][]Buffer
		for k := 0; k < 3; k++ {
			n := 1 + (round+k)%3
			var c []Buffer
			for j := 0; j < n; j++ {
				c = append(c, Buffer{Addr: uintptr(round<<8 | k<<4 | j), Len: uint32(j + 1), Write: j == n-1})
			}
			if _, err := q.Submit(c); err != nil {
				t.Fatalf("round %d chain %d: %v (free %d)", round, k, err, q.FreeDescriptors())
			}
			want = append(want, c)
		}
		q.Notify()
		heads, chains := deviceTake(q, &last)
		if len(chains) != 3 {
			t.Fatalf("round %d: device saw %d chains", round, len(chains))
		}
		for k := range chains {
			if len(chains[k]) != len(want[k]) {
				t.Fatalf("round %d chain %d: device saw %v, want %v", round, k, chains[k], want[k])
			}
			for j := range chains[k] {
				if chains[k][j] != want[k][j] {
					t.Fatalf("round %d chain %d: device saw %v, want %v", round, k, chains[k], want[k])
				}
			}
		}
		for _, k := range []int{2, 0, 1} {
			deviceComplete(q, heads[k], uint32(100+k))
		}
		var got []uint32
		if n := q.Reap(func(head uint16, w uint32) { got = append(got, w) }); n != 3 {
			t.Fatalf("round %d: reaped %d", round, n)
		}
		if got[0] != 102 || got[1] != 100 || got[2] != 101 {
			t.Fatalf("round %d: completion order %v", round, got)
		}
		if q.FreeDescriptors() != 8 {
			t.Fatalf("round %d: %d free descriptors after all completed", round, q.FreeDescriptors())
		}
	}
	if *kicks != 20000 {
		t.Errorf("%d notifications, want 20000", *kicks)
	}
}

func TestQueueFullAndNoNotify(t *testing.T) {
	q, kicks := newTestQueue(t, 4)
	if _, err := q.Submit(make([]Buffer, 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Submit(make([]Buffer, 2)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("second chain: %v, want ErrQueueFull", err)
	}
	if _, err := q.Submit(make([]Buffer, 5)); err == nil || !strings.Contains(err.Error(), "chain of 5 buffers") {
		t.Fatalf("oversized chain: %v", err)
	}
	if _, err := q.Submit(nil); err == nil {
		t.Fatal("empty chain accepted")
	}
	mmio.Write16(q.used, usedNoNotify)
	q.Notify()
	if *kicks != 0 {
		t.Error("notified a device that set VIRTQ_USED_F_NO_NOTIFY")
	}
	// A used entry naming no descriptor is skipped, not followed.
	deviceComplete(q, 99, 0)
	if n := q.Reap(nil); n != 0 || q.badHeads != 1 {
		t.Errorf("bogus used entry: reaped %d, bad %d", n, q.badHeads)
	}
}

func TestNewQueueRejects(t *testing.T) {
	for _, c := range []struct {
		size uint16
		mem  uintptr
		want string
	}{{0, 4096, "not a power of two"}, {6, 4096, "not a power of two"}, {512, 4096, "not a power of two"}, {8, 4097, "not 16-byte aligned"}} {
		if _, err := NewQueue(0, c.size, c.mem, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewQueue(size %d, %#x): %v, want %q", c.size, c.mem, err, c.want)
		}
	}
}

// capSpace builds a configuration space with virtio capabilities.
type capSpace [256]byte

func (s *capSpace) read32(off uint8) uint32 {
	return uint32(s[off]) | uint32(s[off+1])<<8 | uint32(s[off+2])<<16 | uint32(s[off+3])<<24
}

func (s *capSpace) put(off uint8, typ, bar uint8, offset, length uint32, extra ...uint32) pci.Capability {
	n := 16 + 4*len(extra)
	s[off], s[off+2], s[off+3], s[off+4] = capVendor, uint8(n), typ, bar
	for i, v := range append([]uint32{offset, length}, extra...) {
		o := int(off) + 8 + 4*i
		s[o], s[o+1], s[o+2], s[o+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	return pci.Capability{ID: capVendor, Offset: off}
}

func TestParseCapabilities(t *testing.T) {
	var s capSpace
	bars := [6]pci.BAR{4: {Addr: 0xfe000000, Size: 0x4000, Is64: true}, 1: {Addr: 0xc000, Size: 0x40, IO: true}}
	caps := []pci.Capability{
		{ID: 0x11, Offset: 0x98}, // MSI-X: ignored
		s.put(0xa0, capCommon, 4, 0, 0x1000),
		s.put(0x88, capISR, 4, 0x1000, 0x1000),
		s.put(0x70, capDevice, 4, 0x2000, 0x1000),
		s.put(0x58, capNotify, 4, 0x3000, 0x1000, 4),
		s.put(0x40, capCommon, 4, 0x2000, 0x1000), // a second common: ignored
	}
	l, err := parseCapabilities("t", s.read32, caps, bars)
	if err != nil {
		t.Fatal(err)
	}
	want := pciLayout{common: region{4, 0, 0x1000}, isr: region{4, 0x1000, 0x1000}, device: region{4, 0x2000, 0x1000}, notify: region{4, 0x3000, 0x1000}, notifyMultiplier: 4}
	if l != want {
		t.Fatalf("layout %+v, want %+v", l, want)
	}
	if _, err := parseCapabilities("00:03.0", s.read32, caps[:4], bars); err == nil || !strings.Contains(err.Error(), "00:03.0: no notification capability") {
		t.Errorf("without a notify capability: %v", err)
	}
	for name, tc := range map[string]struct {
		typ, bar    uint8
		off, length uint32
		want        string
	}{
		"outside BAR":  {capCommon, 4, 0x3800, 0x1000, "do not fit memory BAR 4"},
		"I/O BAR":      {capCommon, 1, 0, 0x38, "io=true"},
		"bad BAR":      {capCommon, 7, 0, 0x38, "names BAR 7"},
		"short common": {capCommon, 4, 0, 0x20, "common configuration is 32 bytes"},
		"short notify": {capNotify, 4, 0, 0x20, "is 16 bytes long"},
		"past 256":     {capISR, 4, 0, 0x20, "capability at 0xf0 (type 3) of 20 bytes runs past"},
	} {
		var s capSpace
		at := uint8(0x40)
		if name == "past 256" {
			at = 0xF0 // 16 bytes fit exactly; claim 20
		}
		caps := []pci.Capability{s.put(at, tc.typ, tc.bar, tc.off, tc.length)}
		if name == "past 256" {
			s[at+2] = 20
		}
		_, err := parseCapabilities("00:03.0", s.read32, caps, bars)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "00:03.0") {
			t.Errorf("%s: %v, want an error naming the device and %q", name, err, tc.want)
		}
	}
}

// FuzzParseCapabilities feeds arbitrary configuration spaces and BAR
// sizes to parseCapabilities: an error or a layout whose regions fit their
// BARs, never a panic.
func FuzzParseCapabilities(f *testing.F) {
	var s capSpace
	s.put(0x40, capCommon, 4, 0, 0x1000)
	s.put(0x58, capNotify, 4, 0x3000, 0x1000, 4)
	s.put(0x70, capISR, 4, 0x1000, 0x1000)
	f.Add(s[:], uint64(0x4000))
	f.Fuzz(func(t *testing.T, b []byte, barSize uint64) {
		var s capSpace
		copy(s[:], b)
		var caps []pci.Capability
		for off := 0x40; off < 0xF0; off += 0x10 {
			caps = append(caps, pci.Capability{ID: s[off], Offset: uint8(off)})
		}
		var bars [6]pci.BAR
		for i := range bars {
			bars[i] = pci.BAR{Addr: 0xfe000000, Size: barSize >> i, IO: i == 1}
		}
		l, err := parseCapabilities("fuzz", s.read32, caps, bars)
		if err != nil {
			return
		}
		for _, r := range []region{l.common, l.notify, l.isr, l.device} {
			if r.len != 0 && uint64(r.offset)+uint64(r.len) > bars[r.bar].Size {
				t.Fatalf("region %+v outside BAR %d of %d bytes", r, r.bar, bars[r.bar].Size)
			}
		}
	})
}

package mmio

import (
	"testing"
	"unsafe"
)

// scratch is the memory the test accesses; a global, so that its address
// stays valid (a stack copy would move it).
var scratch [16]byte

func TestWidths(t *testing.T) {
	buf := scratch[:]
	a := uintptr(unsafe.Pointer(&buf[0]))
	Write64(a, 0x0807060504030201)
	Write32(a+8, 0xddccbbaa)
	Write16(a+12, 0x2211)
	Write8(a+14, 0x33)
	Fence()
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 0xaa, 0xbb, 0xcc, 0xdd, 0x11, 0x22, 0x33, 0}
	for i := range want {
		if buf[i] != want[i] {
			t.Fatalf("byte %d = %#x, want %#x (buffer % x)", i, buf[i], want[i], buf)
		}
	}
	if Read8(a+14) != 0x33 || Read16(a+12) != 0x2211 || Read32(a+8) != 0xddccbbaa || Read64(a) != 0x0807060504030201 {
		t.Fatalf("reads disagree with the buffer % x", buf)
	}
	// A 16-bit write must not touch its neighbours.
	Write16(a+1, 0xffff)
	if buf[0] != 1 || buf[3] != 4 || buf[1] != 0xff || buf[2] != 0xff {
		t.Fatalf("16-bit write at offset 1 touched more than 2 bytes: % x", buf[:4])
	}
}

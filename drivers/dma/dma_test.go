package dma

import (
	"errors"
	"strings"
	"testing"

	"github.com/xairrosx/xairrosx/kernel"
)

func TestArena(t *testing.T) {
	var h Heap
	base, err := h.Alloc(8192)
	if err != nil {
		t.Fatal(err)
	}
	if base&4095 != 0 {
		t.Fatalf("region %#x is not page-aligned", base)
	}
	a := NewArena(base, 8192)
	p1, _ := a.Take(10, 1)
	p2, _ := a.Take(16, 16)
	p3, err := a.Take(8192-31, 4)
	if p1 != base || p2 != base+16 || err == nil {
		t.Fatalf("takes at %#x %#x %#x (err %v), want base, base+16 and an error", p1-base, p2-base, p3, err)
	}
	if !strings.Contains(err.Error(), "cannot fit 8161 more bytes") {
		t.Errorf("error %q", err)
	}
	b := Bytes(p2, 16)
	b[15] = 7
	if Bytes(base, 32)[31] != 7 {
		t.Error("Bytes views disagree")
	}
	if err := h.Free(base, 8192); err != nil {
		t.Fatal(err)
	}
	if err := h.Free(base, 8192); err == nil {
		t.Error("double free not reported")
	}
	if _, err := h.Alloc(MaxRegion + 1); err == nil {
		t.Error("oversized region accepted")
	}
}

func TestKernelOffXairrosX(t *testing.T) {
	_, err := Kernel{}.Alloc(4096)
	if !errors.Is(err, kernel.ErrNotXairrosX) {
		t.Fatalf("Alloc on the host: %v, want ErrNotXairrosX", err)
	}
	if _, err := (Kernel{}).Alloc(0); err == nil || !strings.Contains(err.Error(), "want 1 to") {
		t.Fatalf("Alloc(0): %v", err)
	}
}

// copyFixed is the shape that crashed the compiler when ptr was inlined: a
// constant-size copy into a Bytes slice.
func copyFixed(dst uintptr, src []byte) int {
	src = src[:512]
	return copy(Bytes(dst, 512), src)
}

func TestBytesCopy(t *testing.T) {
	var h Heap
	a, err := h.Alloc(4096)
	if err != nil {
		t.Fatal(err)
	}
	src := make([]byte, 600)
	for i := range src {
		src[i] = byte(i)
	}
	if n := copyFixed(a, src); n != 512 || Bytes(a, 4096)[511] != byte(511%256) || Bytes(a, 4096)[512] != 0 {
		t.Fatalf("copied %d bytes; memory % x", n, Bytes(a, 4096)[508:516])
	}
}

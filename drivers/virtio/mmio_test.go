package virtio

import (
	"strings"
	"testing"
	"unsafe"
)

// window is a fake register window; a global, so that it cannot move (a
// stack copy would leave its address stale).
var window [0x200 / 4]uint32

func TestProbeMMIO(t *testing.T) {
	window = [len(window)]uint32{}
	win := &window
	base := uintptr(unsafe.Pointer(&win[0]))
	if _, err := ProbeMMIO(base); err == nil || !strings.Contains(err.Error(), "magic 0x0") {
		t.Errorf("empty window: %v", err)
	}
	win[mmioMagic/4] = mmioMagicValue
	win[mmioVersion/4] = 2
	if typ, err := ProbeMMIO(base); typ != 0 || err != nil {
		t.Errorf("window without a device: %d, %v", typ, err)
	}
	if _, err := NewMMIO(base, 5); err == nil || !strings.Contains(err.Error(), "no device") {
		t.Errorf("NewMMIO on an empty slot: %v", err)
	}
	win[mmioDeviceID/4] = TypeBlock
	win[mmioVersion/4] = 1
	if _, err := ProbeMMIO(base); err == nil || !strings.Contains(err.Error(), "force-legacy=false") {
		t.Errorf("legacy device: %v", err)
	}
	win[mmioVersion/4] = 2
	win[mmioConfig/4] = 0x00000800 // capacity 2048
	win[mmioStatus/4] = StatusDriverOK
	m, err := NewMMIO(base, 5)
	if err != nil {
		t.Fatal(err)
	}
	if Config64(m, 0) != 2048 || m.Config8(1) != 8 || m.Config16(0) != 0x800 || m.Status() != StatusDriverOK {
		t.Errorf("register reads: capacity %d, status %d", Config64(m, 0), m.Status())
	}
	m.SetStatus(StatusAcknowledge)
	if win[mmioStatus/4] != StatusAcknowledge {
		t.Errorf("status register %#x after SetStatus", win[mmioStatus/4])
	}
}

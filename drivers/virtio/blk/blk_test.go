package blk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/virtio"
	"github.com/xairrosx/xairrosx/drivers/virtio/virtiotest"
)

// fakeDisk simulates a virtio-blk device over an in-memory image.
type fakeDisk struct {
	mu      sync.Mutex
	image   []byte
	flushes int
	types   map[uint32]int
	maxData int    // the most data descriptors one request had
	failAt  uint64 // sector that reports an I/O error (0: none)
}

func (f *fakeDisk) serve(q int, chain []virtiotest.Segment) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	hdr := chain[0].Data
	typ, sector := binary.LittleEndian.Uint32(hdr), binary.LittleEndian.Uint64(hdr[8:])
	f.types[typ]++
	f.maxData = max(f.maxData, len(chain)-2)
	status := chain[len(chain)-1].Data
	written := uint32(1)
	st := byte(statusOK)
	off := int(sector) * SectorSize
	switch {
	case f.failAt != 0 && sector == f.failAt:
		st = statusIOErr
	case typ == reqIn:
		for _, s := range chain[1 : len(chain)-1] {
			n := copy(s.Data, f.image[off:])
			off += n
			written += uint32(n)
		}
	case typ == reqOut:
		for _, s := range chain[1 : len(chain)-1] {
			off += copy(f.image[off:], s.Data)
		}
	case typ == reqFlush:
		f.flushes++
	default:
		st = statusUnsupp
	}
	status[0] = st
	return written
}

func openFake(t *testing.T, sectors int, features uint64) (*Disk, *fakeDisk, *virtiotest.Device) {
	t.Helper()
	f := &fakeDisk{image: make([]byte, sectors*SectorSize), types: map[uint32]int{}}
	for i := range f.image {
		f.image[i] = byte(i*7 + i/SectorSize)
	}
	cfg := make([]byte, 64)
	binary.LittleEndian.PutUint64(cfg, uint64(sectors))
	dev := &virtiotest.Device{
		Name:     "fake-blk",
		Features: virtio.FeatureVersion1 | features,
		Config:   cfg,
		QueueMax: []uint16{64},
		Serve:    f.serve,
	}
	t.Cleanup(dev.Close)
	d, err := Open(dev, &dma.Heap{})
	if err != nil {
		t.Fatal(err)
	}
	return d, f, dev
}

func TestReadWriteFlush(t *testing.T) {
	const sectors = 2048 // 1 MiB: one request of all 16 slots for a full read
	d, f, dev := openFake(t, sectors, FeatureFlush|1<<7 /* not wanted */)
	if d.Sectors() != sectors || d.Size() != sectors*SectorSize || d.ReadOnly() {
		t.Fatalf("capacity %d sectors (%d bytes), read-only %v", d.Sectors(), d.Size(), d.ReadOnly())
	}
	if dev.DriverFeatures != virtio.FeatureVersion1|FeatureFlush {
		t.Errorf("driver accepted features %#x", dev.DriverFeatures)
	}
	// Whole-disk read: several slots in flight.
	buf := make([]byte, sectors*SectorSize+SectorSize)
	n, err := d.ReadAt(buf, 0)
	if n != sectors*SectorSize || err != io.EOF {
		t.Fatalf("ReadAt past the end: %d, %v; want %d, io.EOF", n, err, sectors*SectorSize)
	}
	if !bytes.Equal(buf[:n], f.image) {
		t.Fatal("whole-disk read differs from the image")
	}
	// Unaligned-to-slot write in the middle, read back through the driver
	// and checked in the image.
	data := bytes.Repeat([]byte("XairrosX"), 3*SlotSize/8+64)
	off := int64(37 * SectorSize)
	if n, err := d.WriteAt(data, off); n != len(data) || err != nil {
		t.Fatalf("WriteAt: %d, %v", n, err)
	}
	if !bytes.Equal(f.image[off:off+int64(len(data))], data) {
		t.Fatal("write did not reach the image")
	}
	back := make([]byte, len(data))
	if _, err := d.ReadAt(back, off); err != nil || !bytes.Equal(back, data) {
		t.Fatalf("read back: %v, equal %v", err, bytes.Equal(back, data))
	}
	if err := d.Flush(); err != nil || f.flushes != 1 {
		t.Fatalf("Flush: %v, device saw %d flushes", err, f.flushes)
	}
	if n, err := d.ReadAt(make([]byte, SectorSize), sectors*SectorSize); n != 0 || err != io.EOF {
		t.Errorf("read at the end: %d, %v", n, err)
	}
	// 1 MiB in one request of 16 slots, then 3 slots and a sector each
	// way in one request of 4.
	if f.types[reqIn] != 2 || f.types[reqOut] != 1 || f.maxData != Slots {
		t.Errorf("request counts %v, at most %d data descriptors: want 2 reads and 1 write, %d", f.types, f.maxData, Slots)
	}
}

func TestConcurrentReaders(t *testing.T) {
	d, f, _ := openFake(t, 1024, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				off := int64((g*131+i*17)%900) * SectorSize
				p := make([]byte, (1+(g+i)%200)*SectorSize)
				n, err := d.ReadAt(p, off)
				if err != nil && err != io.EOF {
					errs <- err
					return
				}
				if !bytes.Equal(p[:n], f.image[off:off+int64(n)]) {
					errs <- errors.New("concurrent read returned the wrong bytes")
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestErrors(t *testing.T) {
	d, f, _ := openFake(t, 64, 0)
	for _, c := range []struct {
		n   int
		off int64
	}{{100, 0}, {512, 3}, {512, -512}} {
		if _, err := d.ReadAt(make([]byte, c.n), c.off); err == nil || !strings.Contains(err.Error(), "multiples of 512") {
			t.Errorf("ReadAt(%d bytes at %d): %v", c.n, c.off, err)
		}
	}
	if _, err := d.WriteAt(make([]byte, 1024), 63*SectorSize); err == nil || !strings.Contains(err.Error(), "passes the end") {
		t.Errorf("write past the end: %v", err)
	}
	f.failAt = 5
	if _, err := d.ReadAt(make([]byte, SectorSize), 5*SectorSize); err == nil || !strings.Contains(err.Error(), "I/O error at sector 5") {
		t.Errorf("device I/O error: %v", err)
	}
	if err := d.Flush(); err != nil || f.flushes != 0 {
		t.Errorf("Flush without the feature: %v, %d flushes sent", err, f.flushes)
	}
}

func TestReadOnlyAndTimeout(t *testing.T) {
	d, f, _ := openFake(t, 2*Slots*SlotSize/SectorSize, FeatureRO|FeatureFlush)
	if _, err := d.WriteAt(make([]byte, 512), 0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write to a read-only disk: %v", err)
	}
	old := Timeout
	Timeout = 50 * time.Millisecond
	defer func() { Timeout = old }()
	f.mu.Lock() // the device blocks: no completion
	_, err := d.ReadAt(make([]byte, 512), 0)
	f.mu.Unlock()
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("read from a stuck device: %v, want ErrTimeout", err)
	}
	// Retire every slot: then a request fails for want of one, not hangs.
	f.mu.Lock()
	_, err = d.ReadAt(make([]byte, Slots*SlotSize), 0)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("read of all slots from a stuck device: %v", err)
	}
	err = d.Flush()
	f.mu.Unlock()
	if err == nil || !strings.Contains(err.Error(), "no request slot free") {
		t.Errorf("Flush with every slot retired: %v", err)
	}
}

func TestOpenRejectsLegacyDevice(t *testing.T) {
	dev := &virtiotest.Device{Name: "legacy", Features: FeatureFlush, QueueMax: []uint16{64}, Config: make([]byte, 64)}
	defer dev.Close()
	_, err := Open(dev, &dma.Heap{})
	if err == nil || !strings.Contains(err.Error(), "legacy device") {
		t.Fatalf("Open: %v", err)
	}
	if dev.Status()&virtio.StatusFailed == 0 {
		t.Error("FAILED status not set")
	}
}

func TestClose(t *testing.T) {
	d, _, dev := openFake(t, 64, FeatureFlush)
	if _, err := d.ReadAt(make([]byte, 512), 0); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if dev.Status() != 0 {
		t.Errorf("device status %#x after Close, want 0 (reset)", dev.Status())
	}
	if _, err := d.ReadAt(make([]byte, 512), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadAt after Close: %v", err)
	}
	if _, err := d.WriteAt(make([]byte, 512), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteAt after Close: %v", err)
	}
	if err := d.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	if err := d.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

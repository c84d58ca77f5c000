package net

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/virtio"
	"github.com/xairrosx/xairrosx/drivers/virtio/virtiotest"
)

// echoDevice simulates a virtio-net device whose wire reflects every frame
// back with source and destination swapped.
func echoDevice(t *testing.T, features uint64) *virtiotest.Device {
	cfg := make([]byte, 16)
	copy(cfg, []byte{0x52, 0x54, 0, 0x12, 0x34, 0x56})
	binary.LittleEndian.PutUint16(cfg[6:], linkUp)
	dev := &virtiotest.Device{
		Name:     "fake-net",
		Features: virtio.FeatureVersion1 | features,
		Config:   cfg,
		QueueMax: []uint16{256, 256},
		Held:     map[int]bool{rxQueue: true},
	}
	dev.Serve = func(q int, chain []virtiotest.Segment) uint32 {
		if q != txQueue || len(chain) != 1 || chain[0].Write {
			t.Errorf("transmit chain on queue %d: %d segments", q, len(chain))
			return 0
		}
		pkt := append([]byte(nil), chain[0].Data...)
		if !bytes.Equal(pkt[:HeaderSize], make([]byte, HeaderSize)) {
			t.Errorf("virtio-net header % x, want zeros", pkt[:HeaderSize])
		}
		f := pkt[HeaderSize:]
		var dst [6]byte
		copy(dst[:], f[0:6])
		copy(f[0:6], f[6:12])
		copy(f[6:12], dst[:])
		// The receive side may be briefly out of buffers while the driver
		// recycles them; a real wire would drop, the test retries.
		for i := 0; ; i++ {
			err := dev.Deliver(rxQueue, pkt)
			if err == nil {
				break
			}
			if i == 1000 {
				t.Errorf("echo: %v", err)
				break
			}
			time.Sleep(time.Millisecond)
		}
		return 0
	}
	t.Cleanup(dev.Close)
	return dev
}

func frame(i int, n int) []byte {
	f := make([]byte, n)
	copy(f, []byte{0x52, 0x55, 10, 0, 2, 2, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x88, 0xb5})
	for j := 14; j < n; j++ {
		f[j] = byte(i + j)
	}
	return f
}

func TestTransmitReceiveChannel(t *testing.T) {
	dev := echoDevice(t, FeatureMAC|FeatureStatus)
	n, err := Open(dev, &dma.Heap{}, Options{Backlog: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if n.MAC().String() != "52:54:00:12:34:56" || !n.LinkUp() || n.MTU() != 1500 {
		t.Fatalf("mac %v link %v mtu %d", n.MAC(), n.LinkUp(), n.MTU())
	}
	// Wait until the device holds the receive buffers.
	for i := 0; dev.HeldChains(rxQueue) != queueSize; i++ {
		if i == 1000 {
			t.Fatalf("device holds %d receive buffers, want %d", dev.HeldChains(rxQueue), queueSize)
		}
		time.Sleep(time.Millisecond)
	}
	// More frames than either queue has buffers: both must recycle.
	const count = 600
	for i := 0; i < count; i++ {
		if err := n.Transmit(frame(i, 60+i%(MaxFrame-60))); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		got := <-n.Frames()
		want := frame(i, 60+i%(MaxFrame-60))
		copy(want[0:6], []byte{0x52, 0x54, 0, 0x12, 0x34, 0x56})
		copy(want[6:12], []byte{0x52, 0x55, 10, 0, 2, 2})
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d came back as % x..., want % x...", i, got[:min(20, len(got))], want[:20])
		}
	}
	rx, tx, dropped := n.Stats()
	if rx != count || tx != count || dropped != 0 {
		t.Errorf("stats rx %d tx %d dropped %d, want %d, %d, 0", rx, tx, dropped, count, count)
	}
}

func TestReceiveCallbackAndErrors(t *testing.T) {
	dev := echoDevice(t, 0) // no MAC, no status: the driver picks an address
	var mu sync.Mutex
	var got [][]byte
	n, err := Open(dev, &dma.Heap{}, Options{Receive: func(f []byte) {
		mu.Lock()
		got = append(got, append([]byte(nil), f...)) // f is lent
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if n.MAC()[0]&2 == 0 || !n.LinkUp() || n.Frames() != nil {
		t.Errorf("mac %v (want locally administered), link %v, frames %v", n.MAC(), n.LinkUp(), n.Frames())
	}
	if dev.DriverFeatures != virtio.FeatureVersion1 {
		t.Errorf("driver features %#x", dev.DriverFeatures)
	}
	for _, size := range []int{13, MaxFrame + 1} {
		if err := n.Transmit(make([]byte, size)); err == nil || !strings.Contains(err.Error(), "want 14 to 1514") {
			t.Errorf("frame of %d bytes: %v", size, err)
		}
	}
	for i := 0; i < 3; i++ {
		if err := n.Transmit(frame(i, 64)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		k := len(got)
		mu.Unlock()
		if k == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("callback saw %d frames, want 3", k)
		}
		time.Sleep(time.Millisecond)
	}
	if got[2][14] != byte(2+14) {
		t.Errorf("third frame payload starts %#x", got[2][14])
	}
}

func TestOpenNeedsTwoQueues(t *testing.T) {
	dev := &virtiotest.Device{Name: "one-queue", Features: virtio.FeatureVersion1, QueueMax: []uint16{256}, Config: make([]byte, 16)}
	defer dev.Close()
	if _, err := Open(dev, &dma.Heap{}, Options{}); err == nil || !strings.Contains(err.Error(), "queue 1 does not exist") {
		t.Fatalf("Open: %v", err)
	}
}

func TestClose(t *testing.T) {
	dev := echoDevice(t, FeatureMAC)
	n, err := Open(dev, &dma.Heap{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if dev.Status() != 0 {
		t.Errorf("device status %#x after Close, want 0 (reset)", dev.Status())
	}
	if err := n.Transmit(frame(0, 64)); !errors.Is(err, ErrClosed) {
		t.Errorf("Transmit after Close: %v", err)
	}
	if err := n.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// TestStageKickBatchDone sends frames given in parts and told to the device
// at once, and checks that the receive side reports the end of a batch
// after its frames.
func TestStageKickBatchDone(t *testing.T) {
	dev := echoDevice(t, FeatureMAC)
	var mu sync.Mutex
	var got [][]byte
	batches, seenAtBatch := 0, 0
	n, err := Open(dev, &dma.Heap{}, Options{
		Receive: func(f []byte) {
			mu.Lock()
			got = append(got, append([]byte(nil), f...))
			mu.Unlock()
		},
		BatchDone: func() {
			mu.Lock()
			batches++
			seenAtBatch = len(got)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	const count = 5
	for i := 0; i < count; i++ {
		f := frame(i, 100+i)
		if err := n.Stage(f[:14], f[14:50], f[50:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Stage(make([]byte, 10), make([]byte, 3)); err == nil || !strings.Contains(err.Error(), "frame of 13 bytes") {
		t.Errorf("Stage of 13 bytes in parts: %v", err)
	}
	n.Kick()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		k, b, s := len(got), batches, seenAtBatch
		mu.Unlock()
		if k == count && s == count {
			if b < 1 || b > count {
				t.Errorf("%d batches for %d frames", b, count)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d frames, %d batches (the last after %d frames), want %d frames", k, b, s, count)
		}
		time.Sleep(time.Millisecond)
	}
	for i, f := range got {
		want := frame(i, 100+i)
		if !bytes.Equal(f[12:], want[12:]) {
			t.Errorf("frame %d: payload differs", i)
		}
	}
}

// TestTransmitWaitsForBuffer fills the transmit queue of a device that
// does not complete its chains: the next Transmit waits, fails after
// Timeout, and succeeds once the device completes one chain.
func TestTransmitWaitsForBuffer(t *testing.T) {
	dev := echoDevice(t, FeatureMAC)
	dev.Held[txQueue] = true
	n, err := Open(dev, &dma.Heap{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func(old time.Duration) { Timeout = old }(Timeout)
	Timeout = 100 * time.Millisecond
	for i := 0; i < queueSize; i++ {
		if err := n.Transmit(frame(i, 64)); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if err := n.Transmit(frame(0, 64)); !errors.Is(err, ErrTxTimeout) {
		t.Fatalf("Transmit on a full queue: %v, want ErrTxTimeout", err)
	}
	Timeout = 5 * time.Second
	errc := make(chan error, 1)
	go func() { errc <- n.Transmit(frame(1, 64)) }()
	for dev.HeldChains(txQueue) < queueSize {
		time.Sleep(time.Millisecond) // the device takes the chains on notification
	}
	time.Sleep(20 * time.Millisecond) // let Transmit start waiting
	if err := dev.Deliver(txQueue, nil); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Transmit after the device completed a chain: %v", err)
	}
	if _, tx, _ := n.Stats(); tx != queueSize+1 {
		t.Errorf("%d frames sent, want %d", tx, queueSize+1)
	}
}

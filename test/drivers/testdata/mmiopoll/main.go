// Command mmiopoll checks the virtio-mmio transport on QEMU's microvm
// without interrupts (the kernel gets none there yet): it probes the
// virtio-mmio windows, sets up the block device's queue through the
// transport, and reads the whole disk and writes a marker with requests it
// completes by polling the used ring. It prints one line per check.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/virtio"
)

// microvm's virtio-mmio windows: 512 bytes each from 0xfeb00000.
const (
	windowBase = 0xfeb00000
	windowSize = 0x200
	windows    = 24
)

// pattern is the byte the host wrote at offset i of the disk.
func pattern(i int64) byte { return byte(i/512*13 + i%251) }

const marker = "written over virtio-mmio by polling"

func main() {
	for i := 0; i < windows; i++ {
		base := uintptr(windowBase + windowSize*i)
		typ, err := virtio.ProbeMMIO(base)
		if err != nil {
			break // past the last window
		}
		if typ == 0 {
			continue
		}
		fmt.Printf("virtio-mmio window %d type %d\n", i, typ)
		if typ == virtio.TypeBlock {
			block(base)
		}
	}
	fmt.Println("done")
}

func block(base uintptr) {
	t, err := virtio.NewMMIO(base, 0)
	if err != nil {
		fail(err)
	}
	d, err := virtio.Init(t, virtio.Setup{Queues: 1, QueueSize: 64, DMA: dma.Kernel{}, Region: 1 << 20})
	if err != nil {
		fail(err)
	}
	if err := d.Start(); err != nil {
		fail(err)
	}
	sectors := virtio.Config64(t, 0)
	fmt.Printf("capacity %d sectors\n", sectors)
	q := d.Queues[0]
	hdr, _ := d.Arena.Take(64, 64)
	data, err := d.Arena.Take(64<<10, 4096)
	if err != nil {
		fail(err)
	}
	// request runs one request of n bytes at sector, busy-waiting for it.
	request := func(typ uint32, sector uint64, n int) {
		h := dma.Bytes(hdr, 17)
		clear(h)
		h[0] = byte(typ)
		for k := 0; k < 8; k++ {
			h[8+k] = byte(sector >> (8 * k))
		}
		h[16] = 0xff
		_, err := q.Submit([]virtio.Buffer{{Addr: hdr, Len: 16}, {Addr: data, Len: uint32(n), Write: typ == 0}, {Addr: hdr + 16, Len: 1, Write: true}})
		if err != nil {
			fail(err)
		}
		q.Notify()
		for q.Reap(nil) == 0 {
		}
		if h[16] != 0 {
			fail(fmt.Errorf("request type %d at sector %d: status %d", typ, sector, h[16]))
		}
	}
	bad := 0
	for s := uint64(0); s < sectors; s += 128 {
		n := int(min(128, sectors-s)) * 512
		request(0, s, n)
		for i, b := range dma.Bytes(data, n) {
			if b != pattern(int64(s)*512+int64(i)) {
				bad++
			}
		}
	}
	fmt.Printf("read %d bytes, %d differ from the pattern\n", sectors*512, bad)
	m := bytes.Repeat([]byte(marker+"\n"), 512/len(marker)+1)[:512]
	copy(dma.Bytes(data, 512), m)
	request(1, 8, 512)
	fmt.Println("wrote the marker at sector 8")
}

func fail(err error) {
	fmt.Println("FAIL", err)
	os.Exit(1)
}

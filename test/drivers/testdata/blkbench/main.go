// Command blkbench measures the virtio-blk driver on XairrosX with the
// first virtio-blk disk:
//
//   - request latency: 4 KiB reads one at a time, first on a bare queue
//     that the program polls (the device's own latency), then through the
//     driver, which sleeps until the interrupt (the driver's latency);
//   - sequential throughput: the whole disk read front to back with ReadAt
//     calls of several sizes (a 4 KiB call is one request in flight; a
//     1 MiB call keeps up to blk.Slots 64 KiB requests in flight).
//
// It prints "latency polled|interrupt NANOSECONDS" and, per size,
// "read SIZE BYTES NANOSECONDS".
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/virtio"
	"github.com/xairrosx/xairrosx/drivers/virtio/blk"
)

const latencyReads = 1000

func main() {
	disks, err := virtio.Find(virtio.TypeBlock)
	if err != nil {
		fail(err)
	}
	for _, t := range disks {
		polled(t)
		d, err := blk.Open(t, dma.Kernel{})
		if err != nil {
			fail(err)
		}
		buf := make([]byte, 1<<20)
		start := time.Now()
		for i := 0; i < latencyReads; i++ {
			if _, err := d.ReadAt(buf[:4096], int64(i%256)*4096); err != nil {
				fail(err)
			}
		}
		fmt.Printf("latency interrupt %d\n", time.Since(start).Nanoseconds()/latencyReads)
		var sum byte
		for _, size := range []int{4 << 10, 64 << 10, 1 << 20} {
			start := time.Now()
			var total int64
			for off := int64(0); off < d.Size(); off += int64(size) {
				n, err := d.ReadAt(buf[:size], off)
				if err != nil {
					fail(err)
				}
				sum ^= buf[n-1]
				total += int64(n)
			}
			fmt.Printf("read %d %d %d\n", size, total, time.Since(start).Nanoseconds())
		}
		fmt.Printf("checksum %d\n", sum)
		return
	}
	fail(fmt.Errorf("no virtio-blk device"))
}

// polled times 4 KiB reads on a bare queue, busy-waiting on the used ring
// with no interrupt handler, then resets the device for the driver.
func polled(t virtio.Transport) {
	d, err := virtio.Init(t, virtio.Setup{Queues: 1, QueueSize: 128, DMA: dma.Kernel{}, Region: 1 << 20})
	if err != nil {
		fail(err)
	}
	if err := d.Start(); err != nil {
		fail(err)
	}
	q := d.Queues[0]
	hdr, _ := d.Arena.Take(64, 64)
	data, err := d.Arena.Take(4096, 4096)
	if err != nil {
		fail(err)
	}
	start := time.Now()
	for i := 0; i < latencyReads; i++ {
		h := dma.Bytes(hdr, 17)
		clear(h)                      // type 0: read
		h[9] = byte(i % 256 * 8 >> 8) // sector i%256*8, little-endian
		h[8] = byte(i % 256 * 8)
		_, err := q.Submit([]virtio.Buffer{{Addr: hdr, Len: 16}, {Addr: data, Len: 4096, Write: true}, {Addr: hdr + 16, Len: 1, Write: true}})
		if err != nil {
			fail(err)
		}
		q.Notify()
		for q.Reap(nil) == 0 {
		}
		if h[16] != 0 {
			fail(fmt.Errorf("polled read %d: status %d", i, h[16]))
		}
	}
	fmt.Printf("latency polled %d\n", time.Since(start).Nanoseconds()/latencyReads)
	if err := virtio.Reset(t); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Println("FAIL", err)
	os.Exit(1)
}

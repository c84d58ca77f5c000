// Command blkbench measures sequential reads from the first virtio-blk
// disk on XairrosX: the whole disk is read front to back with ReadAt calls
// of several sizes (a 4 KiB call is one request in flight; a 1 MiB call
// keeps up to blk.Slots 64 KiB requests in flight), each pass timed. It
// prints one line per size: "read SIZE BYTES NANOSECONDS".
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/pci"
	"github.com/xairrosx/xairrosx/drivers/virtio"
	"github.com/xairrosx/xairrosx/drivers/virtio/blk"
)

func main() {
	fns, err := pci.NewBus(pci.Ports{}).Enumerate()
	if err != nil {
		fail(err)
	}
	for _, f := range fns {
		if virtio.DeviceType(f) != virtio.TypeBlock {
			continue
		}
		t, err := virtio.NewPCI(f)
		if err != nil {
			fail(err)
		}
		d, err := blk.Open(t, dma.Kernel{})
		if err != nil {
			fail(err)
		}
		buf := make([]byte, 1<<20)
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

func fail(err error) {
	fmt.Println("FAIL", err)
	os.Exit(1)
}

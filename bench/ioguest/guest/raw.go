package main

import (
	"fmt"
	"io"
	"syscall"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/virtio"
	"github.com/xairrosx/xairrosx/drivers/virtio/blk"
	"github.com/xairrosx/xairrosx/kernel"
)

// rawRead is the size of one raw read call.
const rawRead = 1 << 20

// raw reads the whole first virtio-blk disk with 1 MiB calls, bypassing
// any cache: on Linux /dev/vda opened with O_DIRECT, on XairrosX the disk
// through drivers/virtio/blk (no file system is mounted on it).
func raw() {
	if !kernel.Running() {
		mbps, err := readAll("/dev/vda", rawRead, syscall.O_DIRECT)
		report("raw-MBps", mbps, err)
		return
	}
	disks, err := virtio.Find(virtio.TypeBlock)
	if err == nil && len(disks) == 0 {
		err = fmt.Errorf("no virtio-blk disk")
	}
	if err != nil {
		resultErr("raw-MBps", err)
		return
	}
	d, err := blk.Open(disks[0], dma.Kernel{})
	if err != nil {
		resultErr("raw-MBps", err)
		return
	}
	defer d.Close()
	mbps, err := timeRead(sized{d}, alignedBuffer(rawRead))
	report("raw-MBps", mbps, err)
}

func report(name string, v float64, err error) {
	if err != nil {
		resultErr(name, err)
	} else {
		result(name, v)
	}
}

// sized ends reads of a disk at its size with io.EOF, as a file does.
type sized struct{ d *blk.Disk }

func (s sized) ReadAt(p []byte, off int64) (int, error) {
	if rest := s.d.Size() - off; rest <= 0 {
		return 0, io.EOF
	} else if int64(len(p)) > rest {
		p = p[:rest]
	}
	return s.d.ReadAt(p, off)
}

// alignedBuffer returns n bytes of page-aligned memory (O_DIRECT needs an
// aligned buffer).
func alignedBuffer(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]byte, n) // the Go heap aligns large blocks to pages too
	}
	return b
}

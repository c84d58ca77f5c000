package fsys

import (
	"fmt"
	"os"

	"github.com/xairrosx/xairrosx/drivers/dma"
	"github.com/xairrosx/xairrosx/drivers/virtio"
	"github.com/xairrosx/xairrosx/drivers/virtio/blk"
	"github.com/xairrosx/xairrosx/fs/ext2"
	"github.com/xairrosx/xairrosx/kernel"
)

// dataDir is where the data disk is mounted.
const dataDir = "/data"

// data is the mounted data disk's file system, nil when there is none.
var data *ext2.FS

// mountDisk mounts the first virtio-blk disk at /data when the kernel
// command line asks for it (xairrosx run -disk FILE sets it): an ext2 file
// system that mkfs.ext2 made on the host, read-write with
// xairrosx.data=ext2, read-only with xairrosx.data=ext2ro. A read-write
// mount is unmounted cleanly when the program exits (kernel.AtExit). The
// disk is opened only when asked for, so that programs driving their own
// disks keep them. Whatever goes wrong is reported on stderr and the
// program runs on without /data.
func mountDisk() {
	v, ok := kernel.Option("data")
	if !ok {
		return
	}
	if v != "ext2" && v != "ext2ro" {
		fmt.Fprintf(os.Stderr, "xairrosx: %s not mounted: xairrosx.data=%s: want ext2 (read-write) or ext2ro (read-only)\n", dataDir, v)
		return
	}
	rw := v == "ext2"
	ts, err := virtio.FindAny(virtio.TypeBlock)
	if err != nil {
		fmt.Fprintf(os.Stderr, "xairrosx: %s not mounted: looking for a virtio-blk disk: %v\n", dataDir, err)
		return
	}
	if len(ts) == 0 {
		fmt.Fprintf(os.Stderr, "xairrosx: %s not mounted: xairrosx.data=%s but there is no virtio-blk disk\n", dataDir, v)
		return
	}
	disk, err := blk.Open(ts[0], dma.Kernel{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "xairrosx: %s not mounted: %v\n", dataDir, err)
		return
	}
	fsys, err := mountExt2(sectors{disk}, rw)
	if err != nil {
		fmt.Fprintf(os.Stderr, "xairrosx: %s not mounted: %v\n", dataDir, err)
		disk.Close()
		return
	}
	if err := FS.Mount(dataDir, fsys); err != nil {
		fmt.Fprintf(os.Stderr, "xairrosx: mount %s: %v\n", dataDir, err)
		fsys.Unmount()
		return
	}
	data = fsys
	if rw {
		kernel.AtExit(unmountDisk)
	}
}

// sectors adapts a disk that reads and writes whole 512-byte sectors to the
// byte-addressed device the file system expects: unaligned reads read the
// covering sectors, unaligned writes read, modify and write them.
type sectors struct{ d *blk.Disk }

const sectorSize = blk.SectorSize

func (s sectors) span(n int, off int64) (start int64, buf []byte) {
	start = off &^ (sectorSize - 1)
	end := (off + int64(n) + sectorSize - 1) &^ (sectorSize - 1)
	return start, make([]byte, end-start)
}

func (s sectors) ReadAt(p []byte, off int64) (int, error) {
	if off%sectorSize == 0 && len(p)%sectorSize == 0 {
		return s.d.ReadAt(p, off)
	}
	start, buf := s.span(len(p), off)
	if _, err := s.d.ReadAt(buf, start); err != nil {
		return 0, err
	}
	return copy(p, buf[off-start:]), nil
}

func (s sectors) WriteAt(p []byte, off int64) (int, error) {
	if off%sectorSize == 0 && len(p)%sectorSize == 0 {
		return s.d.WriteAt(p, off)
	}
	start, buf := s.span(len(p), off)
	if _, err := s.d.ReadAt(buf, start); err != nil {
		return 0, err
	}
	copy(buf[off-start:], p)
	if _, err := s.d.WriteAt(buf, start); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s sectors) Flush() error { return s.d.Flush() }
func (s sectors) Size() int64  { return s.d.Size() }

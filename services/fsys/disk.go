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

// mountDisk mounts the first virtio-blk disk at /data when the kernel
// command line says xairrosx.data=ext2 (xairrosx run -disk FILE sets it):
// an ext2 file system that mkfs.ext2 made on the host. The disk is opened
// only when asked for, so that programs driving their own disks keep them.
func mountDisk() {
	if v, ok := kernel.Option("data"); !ok || v != "ext2" {
		return
	}
	ts, err := virtio.Find(virtio.TypeBlock)
	if err != nil || len(ts) == 0 {
		fmt.Fprintln(os.Stderr, "xairrosx: xairrosx.data=ext2 but no virtio-blk disk:", err)
		return
	}
	disk, err := blk.Open(ts[0], dma.Kernel{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "xairrosx: disk:", err)
		return
	}
	fsys, err := ext2.Mount(sectors{disk})
	if err != nil {
		fmt.Fprintln(os.Stderr, "xairrosx: /data:", err)
		disk.Close()
		return
	}
	if err := FS.Mount("/data", fsys); err != nil {
		fmt.Fprintln(os.Stderr, "xairrosx: mount /data:", err)
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

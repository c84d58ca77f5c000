package fsys

import (
	"fmt"
	"os"
	"syscall"

	"github.com/xairrosx/xairrosx/fs/ext2"
)

// The calls into package fs/ext2, in one place. Its FS has a lock of its
// own, so Sync and Unmount may be called outside the VFS; after Unmount it
// answers EIO to every call.

// mountExt2 mounts the ext2 file system on dev, read-write if rw. A
// read-write mount of a file system that was not cleanly unmounted (a
// power cut) repairs it first, which is reported on stderr.
func mountExt2(dev ext2.Device, rw bool) (*ext2.FS, error) {
	fsys, err := ext2.Open(dev, ext2.Options{ReadWrite: rw, Clock: FS.Now})
	if err != nil {
		return nil, err
	}
	if fsys.Recovered() {
		fmt.Fprintf(os.Stderr, "xairrosx: %s was not cleanly unmounted: repaired\n", dataDir)
	}
	return fsys, nil
}

// unmountDisk writes back what the file system caches and marks it
// cleanly unmounted, so that the next mount (or the host's e2fsck) finds
// it consistent. It runs once the program has exited (kernel.AtExit);
// calls still made by the program's other goroutines get EIO afterwards.
func unmountDisk() {
	if err := data.Unmount(); err != nil {
		fmt.Fprintf(os.Stderr, "xairrosx: unmount %s: %v\n", dataDir, err)
	}
}

// syncData makes everything written to /data durable (sync, syncfs).
func syncData() syscall.Errno {
	if data == nil {
		return 0
	}
	if err := data.Sync(); err != nil {
		fmt.Fprintf(os.Stderr, "xairrosx: sync %s: %v\n", dataDir, err)
		return syscall.EIO
	}
	return 0
}

// Package initramfs writes Linux initramfs archives: uncompressed cpio in
// the "newc" format (Linux Documentation/driver-api/early-userspace/
// buffer-format.rst), enough to boot a kernel with one static program as
// /init. It exists so that the Linux-guest benchmark needs no cpio tool.
package initramfs

import (
	"fmt"
	"io"
	"strings"
)

// File modes of the newc format (the st_mode bits of Linux).
const (
	ModeDir  = 0o040000
	ModeFile = 0o100000
	ModeChar = 0o020000
)

// Entry is one archive member.
type Entry struct {
	Name string // path without a leading slash, e.g. "init" or "dev/console"
	Mode uint32 // type and permission bits, e.g. ModeFile|0o755
	Data []byte // contents of a regular file
	// Major and Minor are the device numbers of a device node.
	Major, Minor uint32
}

// Write writes the entries and the trailer to w as a newc cpio archive.
func Write(w io.Writer, entries []Entry) error {
	for i, e := range entries {
		if e.Name == "" || strings.HasPrefix(e.Name, "/") || strings.Contains(e.Name, "\x00") {
			return fmt.Errorf("initramfs: bad entry name %q", e.Name)
		}
		if e.Mode&ModeFile != ModeFile && len(e.Data) > 0 {
			return fmt.Errorf("initramfs: %s has data but is not a regular file", e.Name)
		}
		if err := writeEntry(w, uint32(i+1), e); err != nil {
			return err
		}
	}
	return writeEntry(w, 0, Entry{Name: "TRAILER!!!"})
}

func writeEntry(w io.Writer, ino uint32, e Entry) error {
	nlink := uint32(1)
	if e.Mode&ModeDir == ModeDir {
		nlink = 2
	}
	// Fields: magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	// devminor, rdevmajor, rdevminor, namesize (with NUL), check.
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, e.Mode, 0, 0, nlink, 0, len(e.Data), 0, 0, e.Major, e.Minor, len(e.Name)+1, 0)
	buf := append([]byte(hdr), e.Name...)
	buf = append(buf, 0)
	buf = pad4(buf)
	buf = append(buf, e.Data...)
	buf = pad4(buf)
	_, err := w.Write(buf)
	return err
}

// pad4 pads b, which starts at a 4-aligned offset of the archive, with
// NULs to a multiple of 4 bytes: the name (after the 110-byte header) and
// the data each end 4-aligned.
func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// Init returns the entries of an initramfs whose /init is the program
// prog, with the /dev/console node the kernel opens for /init's stdio.
func Init(prog []byte) []Entry {
	return []Entry{
		{Name: "dev", Mode: ModeDir | 0o755},
		{Name: "dev/console", Mode: ModeChar | 0o600, Major: 5, Minor: 1},
		{Name: "proc", Mode: ModeDir | 0o755},
		{Name: "sys", Mode: ModeDir | 0o755},
		{Name: "init", Mode: ModeFile | 0o755, Data: prog},
	}
}

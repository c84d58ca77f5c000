// Package backend defines the contract between the XairrosX virtual file
// system (package fs/vfs) and the file systems it mounts (fs/tmpfs,
// fs/initfs, fs/procfs, and later an on-disk ext2 driver).
//
// The split follows Linux: a backend implements per-inode operations on one
// directory level at a time (Lookup, Create, Remove, Rename, ...) and
// per-open-file operations (ReadAt, WriteAt); the VFS owns everything that
// spans levels or mounts: path walk, symbolic links, "..", the mount table,
// file descriptions, offsets, O_APPEND, flock and pipes.
//
// Preconditions the VFS guarantees to backends, so they need not re-check:
//   - every call on any node of one mounted backend is serialized by the
//     VFS lock (backends need no locks of their own when used through it);
//   - names are single path components: never empty, never "." (the VFS
//     resolves it), never containing '/', at most 255 bytes;
//   - Create, Mkdir, Symlink and Link are only called when the name does
//     not exist; Remove is only called for an existing name, and for a
//     directory only when it is empty; Rename is called only after the VFS
//     has checked type compatibility (dir over empty dir, non-dir over
//     non-dir) and that a directory is not moved below itself;
//   - no mutating call is made on a backend mounted read-only.
//
// Errors are syscall.Errno values; 0 means success.
package backend

import (
	"slices"
	"strings"
	"syscall"
	"time"
)

// File type bits of Attr.Mode (the S_IF* values of Linux).
const (
	TypeMask  = 0o170000
	TypeDir   = 0o040000
	TypeReg   = 0o100000
	TypeLink  = 0o120000
	TypeFIFO  = 0o010000
	TypeChar  = 0o020000
	TypeBlock = 0o060000
	TypeSock  = 0o140000
	PermMask  = 0o7777
)

// Attr is what a node reports about itself; the VFS turns it into a
// syscall.Stat_t, adding the device number of the mount.
type Attr struct {
	Ino    uint64 // unique within the backend, never 0
	Mode   uint32 // type bits | permission bits
	Nlink  uint32
	Uid    uint32
	Gid    uint32
	Rdev   uint64
	Size   int64
	Blocks int64 // 512-byte blocks allocated
	Atime  time.Time
	Mtime  time.Time
	Ctime  time.Time
}

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name string
	Ino  uint64
	Type uint32 // type bits of the entry's mode (TypeDir, TypeReg, ...)
}

// SetAttr carries the changes of chmod, chown and utimensat; nil fields
// are left unchanged.
type SetAttr struct {
	Mode  *uint32 // permission bits only
	Uid   *uint32
	Gid   *uint32
	Atime *time.Time
	Mtime *time.Time
}

// FS is a mountable file system.
type FS interface {
	// Root returns the root directory.
	Root() Node
	// Statfs fills st (Type, Bsize, Blocks, Bfree, Bavail, Files, Ffree,
	// Namelen, Frsize); the VFS sets Fsid and Flags.
	Statfs(st *syscall.Statfs_t)
	// Type names the file system for /proc/self/mountinfo ("tmpfs", "proc").
	Type() string
	// ReadOnly reports whether the file system refuses all changes; the
	// VFS then answers EROFS for them without calling the backend.
	ReadOnly() bool
}

// Node is an inode: a directory, regular file or symbolic link.
// Operations that do not apply to the node's type are never called by the
// VFS for that type (it checks the type from Attr first), but a backend
// must still answer them with an errno rather than panic.
type Node interface {
	// Attr returns the node's current attributes.
	Attr() Attr

	// Lookup returns the child called name, or ENOENT. name may be "..":
	// the parent directory (the root answers itself).
	Lookup(name string) (Node, syscall.Errno)
	// ReadDir lists the directory without "." and "..".
	ReadDir() ([]DirEntry, syscall.Errno)
	// Create makes an empty regular file called name.
	Create(name string, mode uint32) (Node, syscall.Errno)
	// Mkdir makes an empty directory called name.
	Mkdir(name string, mode uint32) (Node, syscall.Errno)
	// Symlink makes a symbolic link called name pointing at target.
	Symlink(name, target string) (Node, syscall.Errno)
	// Link adds a new name for target, a non-directory of the same backend.
	Link(name string, target Node) syscall.Errno
	// Remove unlinks name (a file, link or empty directory).
	Remove(name string) syscall.Errno
	// Rename moves oldName in this directory to newName in newDir (a
	// directory of the same backend), replacing what is there.
	Rename(oldName string, newDir Node, newName string) syscall.Errno

	// Readlink returns a symbolic link's target.
	Readlink() (string, syscall.Errno)
	// Truncate sets a regular file's size.
	Truncate(size int64) syscall.Errno
	// SetAttr changes permission bits and times.
	SetAttr(a SetAttr) syscall.Errno
	// Sync makes the node's data durable (no-op in memory).
	Sync() syscall.Errno

	// Open starts an open file description on the node (flags are the
	// open(2) flags). The backend may keep the node's storage alive until
	// the returned File is released, even when its last name is removed.
	Open(flags int) (File, syscall.Errno)
}

// MountpointMaker is implemented by directories of read-only backends that
// can still make an empty directory for the VFS to mount on, so that a
// read-only root image lacking /tmp or /proc can have them mounted.
type MountpointMaker interface {
	MakeMountpoint(name string) (Node, syscall.Errno)
}

// Allocator is implemented by files that can reserve storage for a byte
// range without changing their contents (fallocate); it answers ENOSPC,
// reserving nothing, when the range does not fit.
type Allocator interface {
	Allocate(off, length int64) syscall.Errno
}

// File is the backend half of an open file description.
type File interface {
	// ReadAt reads at off; 0 bytes and no error at or past the end.
	ReadAt(p []byte, off int64) (int, syscall.Errno)
	// WriteAt writes at off, growing the file; a short count with no
	// error means the file system is full after n bytes.
	WriteAt(p []byte, off int64) (int, syscall.Errno)
	// Release ends the description; the File is not used afterwards.
	Release()
}

// ListDir turns a directory's name -> child map into DirEntries sorted by
// name; info gives a child's inode number and mode.
func ListDir[N any](children map[string]N, info func(N) (ino uint64, mode uint32)) []DirEntry {
	out := make([]DirEntry, 0, len(children))
	for name, c := range children {
		ino, mode := info(c)
		out = append(out, DirEntry{Name: name, Ino: ino, Type: mode & TypeMask})
	}
	slices.SortFunc(out, func(a, b DirEntry) int { return strings.Compare(a.Name, b.Name) })
	return out
}

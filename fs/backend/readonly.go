package backend

import "syscall"

// ReadOnlyNode answers every mutating Node method with EROFS; read-only
// backends embed it and implement the rest.
type ReadOnlyNode struct{}

// Create implements Node.Create.
func (ReadOnlyNode) Create(string, uint32) (Node, syscall.Errno) { return nil, syscall.EROFS }

// Mkdir implements Node.Mkdir.
func (ReadOnlyNode) Mkdir(string, uint32) (Node, syscall.Errno) { return nil, syscall.EROFS }

// Symlink implements Node.Symlink.
func (ReadOnlyNode) Symlink(string, string) (Node, syscall.Errno) { return nil, syscall.EROFS }

// Link implements Node.Link.
func (ReadOnlyNode) Link(string, Node) syscall.Errno { return syscall.EROFS }

// Remove implements Node.Remove.
func (ReadOnlyNode) Remove(string) syscall.Errno { return syscall.EROFS }

// Rename implements Node.Rename.
func (ReadOnlyNode) Rename(string, Node, string) syscall.Errno { return syscall.EROFS }

// Truncate implements Node.Truncate.
func (ReadOnlyNode) Truncate(int64) syscall.Errno { return syscall.EROFS }

// SetAttr implements Node.SetAttr.
func (ReadOnlyNode) SetAttr(SetAttr) syscall.Errno { return syscall.EROFS }

// Sync implements Node.Sync.
func (ReadOnlyNode) Sync() syscall.Errno { return 0 }

// BytesFile is a read-only open file over a byte slice.
type BytesFile []byte

// ReadAt implements File.ReadAt.
func (b BytesFile) ReadAt(p []byte, off int64) (int, syscall.Errno) {
	if off < 0 {
		return 0, syscall.EINVAL
	}
	if off >= int64(len(b)) {
		return 0, 0
	}
	return copy(p, b[off:]), 0
}

// WriteAt implements File.WriteAt.
func (BytesFile) WriteAt([]byte, int64) (int, syscall.Errno) { return 0, syscall.EBADF }

// Release implements File.Release.
func (BytesFile) Release() {}

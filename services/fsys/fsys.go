// Package fsys is the file-system service of XairrosX: a goroutine service
// that serves the file system calls the kernel forwards (openat, read,
// write, getdents64, rename, pipe2, ...) with the virtual file system of
// package fs/vfs. It mounts an in-memory root, /tmp, and the small /proc and
// /sys trees that Go's runtime and common programs read.
//
// It starts from its init function when the program runs on XairrosX and
// does nothing on a Linux host.
package fsys

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/xairrosx/xairrosx/fs/initfs"

	"github.com/xairrosx/xairrosx/fs/tmpfs"
	"github.com/xairrosx/xairrosx/fs/vfs"
	"github.com/xairrosx/xairrosx/kernel"
)

// FS is the file system the service serves (nil on a Linux host, and until
// the first forwarded call).
var FS *vfs.FS

var setup sync.Once

func init() {
	if !kernel.Running() {
		return
	}
	// Mounting waits for the first call.
	kernel.Serve(func(r *kernel.Request) (int64, int64) {
		setup.Do(mountAll)
		return serve(r)
	})
}

// mountAll builds the file-system tree: the initial root (or an in-memory
// one), an in-memory /tmp, and /proc and /sys.
func mountAll() {
	FS = vfs.New()
	if embeddedInitFS != "" {
		root, err := initfs.FromTar(strings.NewReader(embeddedInitFS))
		if err == nil {
			err = FS.Mount("/", root)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "xairrosx: initial file system not mounted:", err)
		}
	}
	mount := func(path string, b vfs.Backend) {
		if e := FS.Mkdirat(vfs.AtFDCWD, path, 0o755); e != 0 && e != syscall.EEXIST && e != syscall.EROFS {
			fmt.Fprintf(os.Stderr, "xairrosx: mkdir %s: %v\n", path, e)
		}
		if err := FS.Mount(path, b); err != nil {
			fmt.Fprintf(os.Stderr, "xairrosx: mount %s: %v\n", path, err)
		}
	}
	mount("/tmp", tmpfs.New(tmpfs.Options{}))
	mount("/proc", newProc())
	mount("/sys", newSys())
	mountDisk()
}

func str(a uint64) string           { return kernel.UserString(a) }
func buf(a, n uint64) []byte        { return kernel.UserBytes(a, n) }
func hd(a uint64) vfs.Handle        { return vfs.Handle(int32(a)) }
func stat(a uint64) *syscall.Stat_t { return (*syscall.Stat_t)(kernel.UserPointer(a)) }

func res(e syscall.Errno) (int64, int64) {
	if e != 0 {
		return -int64(e), 0
	}
	return 0, 0
}

func val(n int, e syscall.Errno) (int64, int64) {
	if e != 0 {
		return -int64(e), 0
	}
	return int64(n), 0
}

const (
	atRemovedir       = 0x200
	atSymlinkNofollow = 0x100
)

// serve serves one forwarded call. Descriptor arguments arrive as handles.
func serve(r *kernel.Request) (int64, int64) {
	a := r.Args
	switch r.Nr {
	case syscall.SYS_OPENAT:
		h, e := FS.Openat(hd(a[0]), str(a[1]), int(a[2]), uint32(a[3]))
		return val(int(h), e)
	case syscall.SYS_OPEN:
		h, e := FS.Openat(vfs.AtFDCWD, str(a[0]), int(a[1]), uint32(a[2]))
		return val(int(h), e)
	case syscall.SYS_CLOSE:
		return res(FS.Close(hd(a[0])))
	case syscall.SYS_READ:
		return val(FS.Read(hd(a[0]), buf(a[1], a[2])))
	case syscall.SYS_WRITE:
		return val(FS.Write(hd(a[0]), buf(a[1], a[2])))
	case syscall.SYS_PREAD64:
		return val(FS.Pread(hd(a[0]), buf(a[1], a[2]), int64(a[3])))
	case syscall.SYS_PWRITE64:
		return val(FS.Pwrite(hd(a[0]), buf(a[1], a[2]), int64(a[3])))
	case syscall.SYS_LSEEK:
		off, e := FS.Seek(hd(a[0]), int64(a[1]), int(a[2]))
		if e != 0 {
			return -int64(e), 0
		}
		return off, 0
	case syscall.SYS_FSTAT:
		return res(FS.Fstat(hd(a[0]), stat(a[1])))
	case syscall.SYS_NEWFSTATAT:
		return res(FS.Fstatat(hd(a[0]), str(a[1]), stat(a[2]), int(a[3])))
	case syscall.SYS_STAT:
		return res(FS.Fstatat(vfs.AtFDCWD, str(a[0]), stat(a[1]), 0))
	case syscall.SYS_LSTAT:
		return res(FS.Fstatat(vfs.AtFDCWD, str(a[0]), stat(a[1]), atSymlinkNofollow))
	case syscall.SYS_GETDENTS64:
		return val(FS.Getdents64(hd(a[0]), buf(a[1], a[2])))
	case syscall.SYS_MKDIRAT:
		return res(FS.Mkdirat(hd(a[0]), str(a[1]), uint32(a[2])))
	case syscall.SYS_MKDIR:
		return res(FS.Mkdirat(vfs.AtFDCWD, str(a[0]), uint32(a[1])))
	case syscall.SYS_UNLINKAT:
		return res(FS.Unlinkat(hd(a[0]), str(a[1]), int(a[2])))
	case syscall.SYS_UNLINK:
		return res(FS.Unlinkat(vfs.AtFDCWD, str(a[0]), 0))
	case syscall.SYS_RMDIR:
		return res(FS.Unlinkat(vfs.AtFDCWD, str(a[0]), atRemovedir))
	case syscall.SYS_RENAMEAT:
		return res(FS.Renameat(hd(a[0]), str(a[1]), hd(a[2]), str(a[3])))
	case sysRenameat2:
		return res(FS.Renameat2(hd(a[0]), str(a[1]), hd(a[2]), str(a[3]), uint(a[4])))
	case syscall.SYS_RENAME:
		return res(FS.Renameat(vfs.AtFDCWD, str(a[0]), vfs.AtFDCWD, str(a[1])))
	case syscall.SYS_LINKAT:
		return res(FS.Linkat(hd(a[0]), str(a[1]), hd(a[2]), str(a[3]), int(a[4])))
	case syscall.SYS_SYMLINKAT:
		return res(FS.Symlinkat(str(a[0]), hd(a[1]), str(a[2])))
	case syscall.SYS_SYMLINK:
		return res(FS.Symlinkat(str(a[0]), vfs.AtFDCWD, str(a[1])))
	case syscall.SYS_READLINKAT:
		return val(FS.Readlinkat(hd(a[0]), str(a[1]), buf(a[2], a[3])))
	case syscall.SYS_READLINK:
		return val(FS.Readlinkat(vfs.AtFDCWD, str(a[0]), buf(a[1], a[2])))
	case syscall.SYS_FTRUNCATE:
		return res(FS.Ftruncate(hd(a[0]), int64(a[1])))
	case syscall.SYS_TRUNCATE:
		return res(FS.Truncate(str(a[0]), int64(a[1])))
	case syscall.SYS_FSYNC, syscall.SYS_FDATASYNC:
		return res(FS.Fsync(hd(a[0])))
	case syscall.SYS_SYNC_FILE_RANGE:
		return res(FS.SyncFileRange(hd(a[0]), int64(a[1]), int64(a[2]), int(a[3])))
	case syscall.SYS_SYNC, sysSyncfs:
		// One disk file system: both write it all back.
		return res(syncData())
	case syscall.SYS_FLOCK:
		return res(FS.Flock(hd(a[0]), int(a[1])))
	case syscall.SYS_FCHMOD:
		return res(FS.Fchmod(hd(a[0]), uint32(a[1])))
	case syscall.SYS_FCHMODAT:
		return res(FS.Fchmodat(hd(a[0]), str(a[1]), uint32(a[2]), 0))
	case syscall.SYS_CHMOD:
		return res(FS.Fchmodat(vfs.AtFDCWD, str(a[0]), uint32(a[1]), 0))
	case syscall.SYS_UTIMENSAT:
		var times *[2]syscall.Timespec
		if a[2] != 0 {
			times = (*[2]syscall.Timespec)(kernel.UserPointer(a[2]))
		}
		path := ""
		if a[1] != 0 {
			path = str(a[1])
		}
		return res(FS.Utimensat(hd(a[0]), path, times, int(a[3])))
	case syscall.SYS_STATFS:
		return res(FS.Statfs(str(a[0]), (*syscall.Statfs_t)(kernel.UserPointer(a[1]))))
	case syscall.SYS_FSTATFS:
		return res(FS.Fstatfs(hd(a[0]), (*syscall.Statfs_t)(kernel.UserPointer(a[1]))))
	case syscall.SYS_ACCESS:
		return res(FS.Access(vfs.AtFDCWD, str(a[0]), uint32(a[1]), 0))
	case syscall.SYS_FACCESSAT:
		return res(FS.Access(hd(a[0]), str(a[1]), uint32(a[2]), 0))
	case sysFaccessat2:
		return res(FS.Access(hd(a[0]), str(a[1]), uint32(a[2]), int(a[3])))
	case syscall.SYS_CHDIR:
		return res(FS.Chdir(str(a[0])))
	case syscall.SYS_FCHDIR:
		return res(FS.Fchdir(hd(a[0])))
	case syscall.SYS_GETCWD:
		cwd, e := FS.Getcwd()
		if e != 0 {
			return res(e)
		}
		b := buf(a[0], a[1])
		if len(cwd)+1 > len(b) {
			return -int64(syscall.ERANGE), 0
		}
		copy(b, cwd)
		b[len(cwd)] = 0
		return int64(len(cwd) + 1), 0
	case syscall.SYS_DUP:
		h, e := FS.Dup(hd(a[0]))
		return val(int(h), e)
	case syscall.SYS_PIPE2, syscall.SYS_PIPE:
		flags := 0
		if r.Nr == syscall.SYS_PIPE2 {
			flags = int(a[1])
		}
		rh, wh, e := FS.Pipe2(flags)
		if e != 0 {
			return -int64(e), 0
		}
		return int64(rh), int64(wh)
	}
	return -int64(syscall.ENOSYS), 0
}

// Linux system call numbers the standard library's syscall package lacks.
const (
	sysRenameat2  = 316
	sysFaccessat2 = 439
	sysSyncfs     = 306
)

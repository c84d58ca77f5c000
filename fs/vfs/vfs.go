// Package vfs is the virtual file system of XairrosX: the mount table, open
// file descriptions (Handles), path walk with symbolic links and "..", and
// the file system calls Go's os package makes, with Linux semantics and
// errno values. The kernel forwards file system calls from its trap context
// to a service goroutine that calls an FS; the kernel maps file descriptors
// to Handles.
//
// Backends (fs/tmpfs, fs/initfs, fs/procfs, a future on-disk driver)
// implement fs/backend; this package does everything that spans directory
// levels or mounts, so the backends stay small.
//
// Lock order: FS.mu is the only lock. Every exported method takes it, and
// every backend call is made with it held; blocking calls (pipe read and
// write, flock without LOCK_NB) wait on FS.cond, which releases it.
// The change hook (SetNotify) is called after FS.mu is released.
package vfs

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/xairrosx/xairrosx/fs/backend"
	"github.com/xairrosx/xairrosx/fs/tmpfs"
)

// Handle names an open file description; the kernel maps file descriptors
// to Handles. Dup returns a second Handle for the same description.
type Handle int32

// AtFDCWD as a directory Handle means the current working directory.
const AtFDCWD Handle = -100

// Backend is a mountable file system (see fs/backend).
type Backend = backend.FS

// Flags of the *at calls (Linux values).
const (
	AtSymlinkNofollow = 0x100
	AtRemoveDir       = 0x200
	AtEaccess         = 0x200
	AtSymlinkFollow   = 0x400
	AtEmptyPath       = 0x1000
)

// Open flags not all spelled by package syscall (Linux amd64 values).
const (
	OPath    = 0x200000
	OTmpfile = 0x410000
)

// Linux limits.
const (
	PathMax     = 4096
	NameMax     = 255
	MaxSymlinks = 40
	PipeBuf     = 4096  // writes up to this size are atomic
	PipeSize    = 65536 // pipe capacity
)

// Flock operations.
const (
	LockSH = 1
	LockEX = 2
	LockNB = 4
	LockUN = 8
)

// mount is one entry of the mount table.
type mount struct {
	id      int
	dev     uint64
	b       backend.FS
	root    backend.Node
	rootIno uint64
	parent  *mount       // nil for the root mount
	point   backend.Node // mountpoint directory in parent
	path    string       // where it was mounted
	ro      bool
}

// loc is a node together with the mount it was reached through.
type loc struct {
	m *mount
	n backend.Node
}

func (l loc) attr() backend.Attr { return l.n.Attr() }
func (l loc) ino() uint64        { return l.n.Attr().Ino }
func (l loc) typ() uint32        { return l.n.Attr().Mode & backend.TypeMask }
func (l loc) isDir() bool        { return l.typ() == backend.TypeDir }

func (l loc) same(o loc) bool {
	return l.m == o.m && l.n != nil && o.n != nil && l.ino() == o.ino()
}

type pointKey struct {
	m   *mount
	ino uint64
}

// FS is a process's view of the file system: mounts, open files, cwd.
// It is safe for concurrent use.
type FS struct {
	mu   sync.Mutex
	cond *sync.Cond

	clock  atomic.Pointer[func() time.Time]
	notify func()
	dirty  bool // a pipe or lock changed: call notify on unlock

	mounts  []*mount
	byPoint map[pointKey]*mount
	nextID  int

	handles    map[Handle]*desc
	nextHandle Handle
	cwd        loc
	umask      uint32

	locks    map[lockKey]*lockState
	nextPipe uint64

	mountinfo atomic.Pointer[[]byte]
}

// New returns an FS whose root is an empty, unlimited tmpfs.
func New() *FS {
	f := &FS{
		byPoint:    map[pointKey]*mount{},
		handles:    map[Handle]*desc{},
		nextHandle: 1,
		umask:      0o022,
		locks:      map[lockKey]*lockState{},
		nextID:     1,
	}
	f.cond = sync.NewCond(&f.mu)
	f.SetClock(time.Now)
	root := f.newMount(tmpfs.New(tmpfs.Options{Clock: f.now}), nil, nil, "/")
	f.mounts = []*mount{root}
	f.cwd = loc{root, root.root}
	f.renderMountinfo()
	return f
}

// SetClock sets the function that gives the FS (and its root tmpfs) the
// current time.
func (f *FS) SetClock(clock func() time.Time) {
	if clock == nil {
		clock = time.Now
	}
	f.clock.Store(&clock)
}

// Now returns the FS clock's time (safe to call from anywhere, it takes no
// lock); pass it as the Clock of backends you mount so their timestamps
// agree.
func (f *FS) Now() time.Time { return (*f.clock.Load())() }

func (f *FS) now() time.Time { return f.Now() }

// SetNotify installs fn, called (without the FS lock held) after any change
// that may alter Readiness of a pipe or wake a flock waiter, so the kernel
// can re-check epoll sets.
func (f *FS) SetNotify(fn func()) {
	f.lock()
	defer f.unlock()
	f.notify = fn
}

// Umask sets the file mode creation mask and returns the previous one.
func (f *FS) Umask(mask uint32) uint32 {
	f.lock()
	defer f.unlock()
	old := f.umask
	f.umask = mask & 0o777
	return old
}

func (f *FS) lock() { f.mu.Lock() }

func (f *FS) unlock() {
	fn := f.notify
	dirty := f.dirty
	f.dirty = false
	f.mu.Unlock()
	if dirty && fn != nil {
		fn()
	}
}

func (f *FS) newMount(b backend.FS, parent *mount, point backend.Node, path string) *mount {
	root := b.Root()
	m := &mount{id: f.nextID, dev: uint64(f.nextID), b: b, root: root, rootIno: root.Attr().Ino,
		parent: parent, point: point, path: path, ro: b.ReadOnly()}
	f.nextID++
	return m
}

func (f *FS) rootMount() *mount { return f.mounts[0] }

func (f *FS) rootLoc() loc { m := f.rootMount(); return loc{m, m.root} }

// Mount attaches b at path. Missing directories on the way are created,
// also on a read-only file system whose directories implement
// backend.MountpointMaker (initfs, procfs), so a read-only root image
// needs no empty /tmp or /proc of its own. Mounting at "/" replaces the root file system
// and is allowed only while nothing else is mounted.
func (f *FS) Mount(path string, b Backend) error {
	if b == nil {
		return fmt.Errorf("vfs: mount %q: nil backend", path)
	}
	f.lock()
	defer f.unlock()
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("vfs: mount %q: path must be absolute", path)
	}
	if strings.Trim(path, "/") == "" {
		if len(f.mounts) > 1 {
			return fmt.Errorf("vfs: mount %q: %w (other file systems are mounted)", path, syscall.EBUSY)
		}
		m := f.newMount(b, nil, nil, "/")
		f.mounts[0] = m
		f.cwd = loc{m, m.root}
		f.renderMountinfo()
		return nil
	}
	at, e := f.mkdirAll(path)
	if e != 0 {
		return fmt.Errorf("vfs: mount %q: %w", path, e)
	}
	clean := "/" + strings.Join(strings.FieldsFunc(path, func(r rune) bool { return r == '/' }), "/")
	m := f.newMount(b, at.m, at.n, clean)
	f.byPoint[pointKey{at.m, at.ino()}] = m
	f.mounts = append(f.mounts, m)
	f.renderMountinfo()
	return nil
}

// mkdirAll resolves path to a directory, creating missing components.
func (f *FS) mkdirAll(path string) (loc, syscall.Errno) {
	cur := f.rootLoc()
	for _, c := range strings.Split(path, "/") {
		if c == "" || c == "." {
			continue
		}
		r, e := f.resolve(cur, c, follow)
		if e != 0 {
			return loc{}, e
		}
		if r.node.n == nil {
			var n backend.Node
			var e syscall.Errno
			mm, ok := r.parent.n.(backend.MountpointMaker)
			switch {
			case !r.parent.m.ro:
				n, e = r.parent.n.Mkdir(c, 0o755)
			case ok:
				n, e = mm.MakeMountpoint(c)
			default:
				e = syscall.EROFS
			}
			if e != 0 {
				return loc{}, e
			}
			r.node = loc{r.parent.m, n}
		}
		if !r.node.isDir() {
			return loc{}, syscall.ENOTDIR
		}
		cur = r.node
	}
	return cur, 0
}

// Mountinfo returns the mount table in the format of /proc/self/mountinfo.
// It takes no lock (it reads a copy made at each Mount), so it can serve as
// a procfs generator, which runs while the FS lock is held.
func (f *FS) Mountinfo() []byte {
	p := f.mountinfo.Load()
	if p == nil {
		return nil
	}
	return append([]byte(nil), *p...)
}

// renderMountinfo refreshes the copy Mountinfo returns.
func (f *FS) renderMountinfo() {
	var b strings.Builder
	for _, m := range f.mounts {
		parent := 0
		if m.parent != nil {
			parent = m.parent.id
		}
		opt := "rw"
		if m.ro {
			opt = "ro"
		}
		t := m.b.Type()
		fmt.Fprintf(&b, "%d %d 0:%d / %s %s,relatime - %s %s %s\n", m.id, parent, m.dev, m.path, opt, t, t, opt)
	}
	out := []byte(b.String())
	f.mountinfo.Store(&out)
}

// OpenHandles returns the number of open Handles (for leak checks).
func (f *FS) OpenHandles() int {
	f.lock()
	defer f.unlock()
	return len(f.handles)
}

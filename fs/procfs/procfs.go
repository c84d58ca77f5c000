// Package procfs provides the small /proc and /sys trees XairrosX mounts:
// read-only files whose contents the kernel supplies as callbacks (run
// each time a file is opened, so every open reads a fresh, consistent
// snapshot) and symbolic links such as /proc/self/exe.
//
// Typical wiring in the kernel:
//
//	proc := procfs.New()
//	proc.File("self/mountinfo", fsys.Mountinfo)
//	proc.File("sys/net/core/somaxconn", procfs.Text("4096\n"))
//	proc.Symlink("self/exe", "/app")
//	fsys.Mount("/proc", proc)
//	sys := procfs.NewSys()
//	sys.File("kernel/mm/transparent_hugepage/hpage_pmd_size", procfs.Text("2097152\n"))
//	fsys.Mount("/sys", sys)
package procfs

import (
	"time"

	"github.com/xairrosx/xairrosx/fs/internal/rotree"
)

// Magic numbers statfs reports (PROC_SUPER_MAGIC, SYSFS_MAGIC).
const (
	ProcMagic  = 0x9fa0
	SysfsMagic = 0x62656572
)

// FS is a generated read-only tree; register files with File and Symlink
// (also after mounting). Generators run while the file system's lock is
// held: they must not call into the vfs.FS they are mounted in (except
// vfs.FS.Mountinfo, which takes no lock).
type FS struct {
	*rotree.Tree
	clock func() time.Time
}

// New returns an empty tree of type "proc".
func New() *FS { return newFS("proc", ProcMagic) }

// NewSys returns an empty tree of type "sysfs".
func NewSys() *FS { return newFS("sysfs", SysfsMagic) }

func newFS(typ string, magic int64) *FS {
	return &FS{Tree: rotree.New(typ, magic, time.Now()), clock: time.Now}
}

// File registers path (relative to the mount, e.g. "self/cgroup") as a
// file of mode 0444 whose contents gen returns; missing directories are
// made. A file already at path is replaced.
func (p *FS) File(path string, gen func() []byte) error {
	return p.AddGenerated(path, 0o444, p.clock(), gen)
}

// Symlink registers path as a symbolic link to target.
func (p *FS) Symlink(path, target string) error {
	return p.AddSymlink(path, target, nil, p.clock())
}

// SymlinkFunc registers path as a symbolic link whose target gen returns
// each time it is read.
func (p *FS) SymlinkFunc(path string, gen func() string) error {
	return p.AddSymlink(path, "", gen, p.clock())
}

// Dir makes an empty directory at path.
func (p *FS) Dir(path string) error { return p.Mkdir(path, 0o555, p.clock()) }

// Text returns a generator of fixed contents s.
func Text(s string) func() []byte {
	return func() []byte { return []byte(s) }
}

// Package ext2 is a backend (see fs/backend) for file systems in the
// standard ext2 on-disk format, as made by mkfs.ext2, on a block device.
//
// Mount (read-only) and Open (read-only or read-write) validate the
// superblock and group descriptors: a corrupt or unsupported image is
// refused with an error naming what is wrong, never a panic. Every on-disk
// pointer is range-checked when used; a bad one turns into EIO for that
// operation.
//
// Read-write mounts cache metadata and file data (write-back, bounded) and
// write it out in checkpoints (Sync, a node's Sync, Unmount, or when the
// cache is full) ordered so that the image on the device is consistent up
// to leaked blocks and inodes at every instant: new blocks before pointers
// to them, inodes before the directory entries that name them, directory
// entries added before others are removed, and frees applied only after the
// pointers are gone. A file system not cleanly unmounted (a power cut) is
// repaired at the next read-write mount by a recovery pass that rebuilds
// link counts, bitmaps and free counts from the tree. docs/ext2.md
// describes the design.
//
// Locking: FS.mu serializes every exported method and every backend call
// (the VFS already serializes backend calls; the lock also covers Sync and
// Unmount called from outside the VFS).
package ext2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// Device is the block device a file system lives on. A host *os.File
// satisfies it through a small adapter (see FileDevice); the virtio-blk
// driver has the same methods.
type Device interface {
	io.ReaderAt
	io.WriterAt
	// Flush makes completed writes durable.
	Flush() error
	// Size is the device size in bytes.
	Size() int64
}

// Magic is the ext2 superblock magic number, also the Statfs type.
const Magic = 0xEF53

// Feature flags of the superblock and other on-disk constants.
const (
	compatHasJournal  = 0x0004
	compatResizeInode = 0x0010
	incompatFiletype  = 0x0002
	roCompatSparse    = 0x0001
	roCompatLargeFile = 0x0002
	roCompatBtreeDir  = 0x0004
	roCompatHugeFile  = 0x0008
	rootIno           = 2
	superOff          = 1024
	inodeBlockPtrs    = 15
	maxSymlinkFastLen = 60
	stateValid        = 1 // s_state: cleanly unmounted
	stateError        = 2 // s_state: errors detected
	flagIndex         = 0x1000
	flagHuge          = 0x40000
)

var incompatNames = map[uint32]string{
	0x0001: "compression", 0x0004: "needs_recovery (journal)", 0x0008: "journal_dev",
	0x0010: "meta_bg", 0x0040: "extents (ext4)", 0x0080: "64bit (ext4)", 0x0100: "mmp",
	0x0200: "flex_bg (ext4)", 0x0400: "ea_inode", 0x1000: "dirdata", 0x2000: "metadata_csum_seed",
	0x4000: "large_dir", 0x8000: "inline_data", 0x10000: "encrypt", 0x20000: "casefold",
}

var roCompatNames = map[uint32]string{
	0x0008: "huge_file", 0x0010: "gdt_csum (uninit_bg)", 0x0020: "dir_nlink", 0x0040: "extra_isize",
	0x0100: "quota", 0x0200: "bigalloc", 0x0400: "metadata_csum", 0x1000: "readonly",
	0x2000: "project", 0x8000: "verity", 0x10000: "orphan_present",
}

// Options configure Open.
type Options struct {
	// ReadWrite mounts the file system for writing; otherwise it is
	// read-only and nothing is ever written to the device.
	ReadWrite bool
	// Clock gives timestamps; nil means time.Now.
	Clock func() time.Time
	// CacheBytes bounds the dirty data and metadata held in memory before
	// a checkpoint writes it out; 0 means DefaultCacheBytes.
	CacheBytes int64
}

// DefaultCacheBytes is the default bound of the write-back cache.
const DefaultCacheBytes = 8 << 20

// FS is a mounted ext2 file system. It implements backend.FS.
type FS struct {
	mu             sync.Mutex
	dev            Device
	rw             bool
	closed         bool
	clock          func() time.Time
	bs             int64 // block size in bytes
	blocks         uint32
	inodes         uint32
	freeBlocks     uint32
	freeInodes     uint32
	reserved       uint32
	firstData      uint32
	firstIno       uint32
	blocksPerGroup uint32
	inodesPerGrp   uint32
	inodeSize      int64
	reservedGDT    uint32
	gdtBlocks      uint32
	groups         []group
	filetype       bool
	hugeFile       bool
	sparseSuper    bool
	sb             []byte // the primary superblock, 1024 bytes
	sbDirty        bool   // a feature flag changed: write sb in the next checkpoint
	recovered      bool

	c     cache
	icach map[uint32]*inode
	seen  map[uint32]bool // blocks truncBlocks has visited (nil outside it)
}

type group struct {
	blockBitmap, inodeBitmap, inodeTable uint32
	freeBlocks, freeInodes, usedDirs     uint32
}

// Mount mounts dev read-only (Open with default Options).
func Mount(dev Device) (*FS, error) { return Open(dev, Options{}) }

// Open reads and checks the superblock and group descriptors of dev and
// mounts it. A read-write mount marks the file system "not clean" on the
// device until Unmount; when it finds it already not clean (the previous
// mount ended without Unmount), it first runs the recovery pass.
func Open(dev Device, o Options) (*FS, error) {
	if dev.Size() < superOff+1024 {
		return nil, fmt.Errorf("ext2: device of %d bytes is too small for a superblock", dev.Size())
	}
	sb := make([]byte, 1024)
	if _, err := dev.ReadAt(sb, superOff); err != nil {
		return nil, fmt.Errorf("ext2: reading superblock: %w", err)
	}
	le := binary.LittleEndian
	if m := le.Uint16(sb[56:]); m != Magic {
		return nil, fmt.Errorf("ext2: superblock: bad magic %#x (want %#x)", m, Magic)
	}
	f := &FS{dev: dev, sb: sb, rw: o.ReadWrite, clock: o.Clock, icach: map[uint32]*inode{}}
	if f.clock == nil {
		f.clock = time.Now
	}
	f.inodes = le.Uint32(sb[0:])
	f.blocks = le.Uint32(sb[4:])
	f.reserved = le.Uint32(sb[8:])
	f.freeBlocks = le.Uint32(sb[12:])
	f.freeInodes = le.Uint32(sb[16:])
	f.firstData = le.Uint32(sb[20:])
	logBS := le.Uint32(sb[24:])
	f.blocksPerGroup = le.Uint32(sb[32:])
	f.inodesPerGrp = le.Uint32(sb[40:])
	rev := le.Uint32(sb[76:])
	if logBS > 2 {
		return nil, fmt.Errorf("ext2: superblock: block size 1024<<%d unsupported (1-4 KiB only)", logBS)
	}
	f.bs = 1024 << logBS
	f.inodeSize = 128
	f.firstIno = 11
	f.sparseSuper = false
	switch rev {
	case 0:
	case 1:
		f.inodeSize = int64(le.Uint16(sb[88:]))
		f.firstIno = le.Uint32(sb[84:])
		compat, incompat, ro := le.Uint32(sb[92:]), le.Uint32(sb[96:]), le.Uint32(sb[100:])
		if compat&compatHasJournal != 0 {
			return nil, fmt.Errorf("ext2: superblock: feature has_journal (ext3/ext4 journaling) is not supported")
		}
		if bad := incompat &^ incompatFiletype; bad != 0 {
			return nil, fmt.Errorf("ext2: superblock: incompatible feature %s is not supported", featureName(bad, incompatNames))
		}
		if bad := ro &^ (roCompatSparse | roCompatLargeFile | roCompatBtreeDir); bad != 0 && f.rw {
			return nil, fmt.Errorf("ext2: superblock: feature %s is not supported for writing (mount read-only)", featureName(bad, roCompatNames))
		}
		f.filetype = incompat&incompatFiletype != 0
		f.hugeFile = ro&roCompatHugeFile != 0
		f.sparseSuper = ro&roCompatSparse != 0
		if compat&compatResizeInode != 0 {
			f.reservedGDT = uint32(le.Uint16(sb[206:]))
		}
	default:
		return nil, fmt.Errorf("ext2: superblock: revision %d unsupported (0 or 1 only)", rev)
	}
	if f.inodeSize < 128 || f.inodeSize > f.bs || f.inodeSize&(f.inodeSize-1) != 0 {
		return nil, fmt.Errorf("ext2: superblock: bad inode size %d", f.inodeSize)
	}
	if want := uint32(0); f.bs == 1024 {
		want = 1
		if f.firstData != want {
			return nil, fmt.Errorf("ext2: superblock: first data block %d, want %d for 1 KiB blocks", f.firstData, want)
		}
	} else if f.firstData != 0 {
		return nil, fmt.Errorf("ext2: superblock: first data block %d, want 0", f.firstData)
	}
	if f.blocksPerGroup == 0 || int64(f.blocksPerGroup) > 8*f.bs {
		return nil, fmt.Errorf("ext2: superblock: bad blocks per group %d", f.blocksPerGroup)
	}
	if f.inodesPerGrp == 0 || int64(f.inodesPerGrp) > 8*f.bs {
		return nil, fmt.Errorf("ext2: superblock: bad inodes per group %d", f.inodesPerGrp)
	}
	if f.blocks <= f.firstData {
		return nil, fmt.Errorf("ext2: superblock: block count %d too small", f.blocks)
	}
	if need := int64(f.blocks) * f.bs; need > dev.Size() {
		return nil, fmt.Errorf("ext2: superblock: %d blocks of %d bytes exceed the device (%d bytes)", f.blocks, f.bs, dev.Size())
	}
	ngroups := (f.blocks - f.firstData + f.blocksPerGroup - 1) / f.blocksPerGroup
	if uint64(f.inodes) > uint64(ngroups)*uint64(f.inodesPerGrp) || f.inodes < rootIno {
		return nil, fmt.Errorf("ext2: superblock: inode count %d does not fit %d groups of %d", f.inodes, ngroups, f.inodesPerGrp)
	}
	if f.firstIno <= rootIno || f.firstIno > f.inodes {
		return nil, fmt.Errorf("ext2: superblock: first inode %d out of range", f.firstIno)
	}
	f.gdtBlocks = uint32((int64(ngroups)*32 + f.bs - 1) / f.bs)
	if int64(f.firstData)+1+int64(f.gdtBlocks)+int64(f.reservedGDT) > int64(f.blocks) {
		return nil, fmt.Errorf("ext2: superblock: %d group descriptor blocks do not fit", f.gdtBlocks+f.reservedGDT)
	}
	f.c.init(f, o.CacheBytes)
	gdt := make([]byte, int64(f.gdtBlocks)*f.bs)
	if _, err := dev.ReadAt(gdt, int64(f.firstData+1)*f.bs); err != nil {
		return nil, fmt.Errorf("ext2: reading group descriptors: %w", err)
	}
	tableBlocks := f.tableBlocks()
	for g := range ngroups {
		d := gdt[g*32:]
		gr := group{blockBitmap: le.Uint32(d[0:]), inodeBitmap: le.Uint32(d[4:]), inodeTable: le.Uint32(d[8:]),
			freeBlocks: uint32(le.Uint16(d[12:])), freeInodes: uint32(le.Uint16(d[14:])), usedDirs: uint32(le.Uint16(d[16:]))}
		for _, p := range []struct {
			what string
			b    uint32
			n    int64
		}{{"block bitmap", gr.blockBitmap, 1}, {"inode bitmap", gr.inodeBitmap, 1}, {"inode table", gr.inodeTable, tableBlocks}} {
			if p.b < f.firstData || int64(p.b)+p.n > int64(f.blocks) {
				return nil, fmt.Errorf("ext2: group %d: %s at block %d outside the file system (%d blocks)", g, p.what, p.b, f.blocks)
			}
		}
		f.groups = append(f.groups, gr)
	}
	root, e := f.iget(rootIno)
	if e != 0 {
		return nil, fmt.Errorf("ext2: root inode: %w", e)
	}
	if root.mode&backend.TypeMask != backend.TypeDir {
		return nil, fmt.Errorf("ext2: root inode has mode %#o, not a directory", root.mode)
	}
	if !f.rw {
		return f, nil
	}
	if err := f.checkCounts(); err != nil {
		return nil, err
	}
	state := le.Uint16(sb[58:])
	if state&stateValid == 0 || state&stateError != 0 {
		if err := f.recover(); err != nil {
			return nil, err
		}
		f.recovered = true
	}
	// Mark the file system in use: a power cut from now on is seen at
	// the next mount and repaired.
	now := uint32(f.clock().Unix())
	le.PutUint16(sb[58:], state&^(stateValid|stateError))
	le.PutUint16(sb[52:], le.Uint16(sb[52:])+1)
	le.PutUint32(sb[44:], now)
	if err := f.writeSuper(); err != nil {
		return nil, err
	}
	if err := dev.Flush(); err != nil {
		return nil, fmt.Errorf("ext2: flush: %w", err)
	}
	return f, nil
}

// featureName names the lowest bit of bad.
func featureName(bad uint32, names map[uint32]string) string {
	for bit := uint32(1); bit != 0; bit <<= 1 {
		if bad&bit != 0 {
			if name := names[bit]; name != "" {
				return name
			}
			return fmt.Sprintf("unknown %#x", bit)
		}
	}
	return ""
}

// checkCounts refuses a read-write mount whose group free counts exceed
// the group sizes (a corrupt image; writing would make it worse).
func (f *FS) checkCounts() error {
	for g, gr := range f.groups {
		if gr.freeBlocks > f.blocksPerGroup || gr.freeInodes > f.inodesPerGrp || gr.usedDirs > f.inodesPerGrp {
			return fmt.Errorf("ext2: group %d: free counts %d blocks / %d inodes / %d dirs out of range; run e2fsck",
				g, gr.freeBlocks, gr.freeInodes, gr.usedDirs)
		}
	}
	return nil
}

// tableBlocks is the size of one group's inode table in blocks.
func (f *FS) tableBlocks() int64 {
	return (int64(f.inodesPerGrp)*f.inodeSize + f.bs - 1) / f.bs
}

// writeSuper encodes the free counts into the superblock and writes it.
func (f *FS) writeSuper() error {
	le := binary.LittleEndian
	le.PutUint32(f.sb[12:], f.freeBlocks)
	le.PutUint32(f.sb[16:], f.freeInodes)
	le.PutUint32(f.sb[48:], uint32(f.clock().Unix()))
	if _, err := f.dev.WriteAt(f.sb, superOff); err != nil {
		return fmt.Errorf("ext2: writing superblock: %w", err)
	}
	return nil
}

// Recovered reports whether Open found the file system not cleanly
// unmounted and repaired it.
func (f *FS) Recovered() bool { return f.recovered }

// ErrUnmounted is returned by Sync and Unmount after Unmount.
var ErrUnmounted = errors.New("ext2: file system is unmounted")

// Sync writes every dirty block and inode, in the crash-safe order, and
// flushes the device.
func (f *FS) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrUnmounted
	}
	return f.checkpoint()
}

// Unmount writes everything out, frees files that were removed while
// open, marks the file system clean and flushes the device. The FS answers
// EIO to every later call. Read-only mounts only become unusable.
func (f *FS) Unmount() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrUnmounted
	}
	if !f.rw {
		f.closed = true
		return nil
	}
	for _, in := range f.icach {
		f.trimPrealloc(in)
		if in.links == 0 && in.opens > 0 && in.mode != 0 {
			in.opens = 0
			f.evict(in)
		}
	}
	if err := f.checkpoint(); err != nil {
		return err
	}
	le := binary.LittleEndian
	le.PutUint16(f.sb[58:], le.Uint16(f.sb[58:])|stateValid)
	if err := f.writeSuper(); err != nil {
		return err
	}
	if err := f.dev.Flush(); err != nil {
		return fmt.Errorf("ext2: flush: %w", err)
	}
	f.closed = true
	return nil
}

// Root implements backend.FS.
func (f *FS) Root() backend.Node { return &node{fs: f, ino: rootIno} }

// Type implements backend.FS.
func (f *FS) Type() string { return "ext2" }

// ReadOnly implements backend.FS.
func (f *FS) ReadOnly() bool { return !f.rw }

// Statfs implements backend.FS.
func (f *FS) Statfs(st *syscall.Statfs_t) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st.Type = Magic
	st.Bsize = f.bs
	st.Frsize = f.bs
	st.Blocks = uint64(f.blocks - f.firstData)
	st.Bfree = uint64(f.freeBlocks)
	if f.freeBlocks > f.reserved {
		st.Bavail = uint64(f.freeBlocks - f.reserved)
	} else {
		st.Bavail = 0
	}
	st.Files = uint64(f.inodes)
	st.Ffree = uint64(f.freeInodes)
	st.Namelen = 255
}

func unixTime(s uint32) time.Time { return time.Unix(int64(s), 0) }

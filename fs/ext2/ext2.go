// Package ext2 is a backend (see fs/backend) for file systems in the
// standard ext2 on-disk format, as made by mkfs.ext2, on a block device.
//
// This version mounts read-only: it validates the superblock and group
// descriptors at Mount (a corrupt or unsupported image is refused with an
// error naming what is wrong, never a panic), and reads directories
// (linked-list format), regular files through direct, indirect, double and
// triple indirect blocks, fast and slow symbolic links, and inode
// attributes. Every on-disk pointer is range-checked when used; a bad one
// turns into EIO for that operation.
package ext2

import (
	"encoding/binary"
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

// Feature flags of the superblock.
const (
	compatHasJournal  = 0x0004
	incompatFiletype  = 0x0002
	incompatRecover   = 0x0004
	incompatJournDev  = 0x0008
	roCompatHugeFile  = 0x0008
	rootIno           = 2
	superOff          = 1024
	inodeBlockPtrs    = 15
	maxSymlinkFastLen = 60
)

var incompatNames = map[uint32]string{
	0x0001: "compression", 0x0004: "needs_recovery (journal)", 0x0008: "journal_dev",
	0x0010: "meta_bg", 0x0040: "extents (ext4)", 0x0080: "64bit (ext4)", 0x0100: "mmp",
	0x0200: "flex_bg (ext4)", 0x0400: "ea_inode", 0x1000: "dirdata", 0x2000: "metadata_csum_seed",
	0x4000: "large_dir", 0x8000: "inline_data", 0x10000: "encrypt", 0x20000: "casefold",
}

// FS is a mounted ext2 file system. It implements backend.FS.
type FS struct {
	dev            Device
	bs             int64 // block size in bytes
	blocks         uint32
	inodes         uint32
	freeBlocks     uint32
	freeInodes     uint32
	reserved       uint32
	firstData      uint32
	blocksPerGroup uint32
	inodesPerGrp   uint32
	inodeSize      int64
	groups         []group
	filetype       bool
	hugeFile       bool
	ptrMu          sync.Mutex
	ptrCache       map[uint32][]byte // indirect blocks by number
}

type group struct {
	inodeTable uint32
}

// Mount reads and checks the superblock and group descriptors of dev.
func Mount(dev Device) (*FS, error) {
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
	f := &FS{dev: dev, ptrCache: map[uint32][]byte{}}
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
	switch rev {
	case 0:
	case 1:
		f.inodeSize = int64(le.Uint16(sb[88:]))
		compat, incompat, ro := le.Uint32(sb[92:]), le.Uint32(sb[96:]), le.Uint32(sb[100:])
		if compat&compatHasJournal != 0 {
			return nil, fmt.Errorf("ext2: superblock: feature has_journal (ext3/ext4 journaling) is not supported")
		}
		if bad := incompat &^ incompatFiletype; bad != 0 {
			for bit := uint32(1); bit != 0; bit <<= 1 {
				if bad&bit != 0 {
					name := incompatNames[bit]
					if name == "" {
						name = fmt.Sprintf("unknown %#x", bit)
					}
					return nil, fmt.Errorf("ext2: superblock: incompatible feature %s is not supported", name)
				}
			}
		}
		f.filetype = incompat&incompatFiletype != 0
		f.hugeFile = ro&roCompatHugeFile != 0
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
	gdt := make([]byte, int64(ngroups)*32)
	if _, err := dev.ReadAt(gdt, int64(f.firstData+1)*f.bs); err != nil {
		return nil, fmt.Errorf("ext2: reading group descriptors: %w", err)
	}
	tableBlocks := (int64(f.inodesPerGrp)*f.inodeSize + f.bs - 1) / f.bs
	for g := range ngroups {
		d := gdt[g*32:]
		bb, ib, it := le.Uint32(d[0:]), le.Uint32(d[4:]), le.Uint32(d[8:])
		for _, p := range []struct {
			what string
			b    uint32
			n    int64
		}{{"block bitmap", bb, 1}, {"inode bitmap", ib, 1}, {"inode table", it, tableBlocks}} {
			if p.b < f.firstData || int64(p.b)+p.n > int64(f.blocks) {
				return nil, fmt.Errorf("ext2: group %d: %s at block %d outside the file system (%d blocks)", g, p.what, p.b, f.blocks)
			}
		}
		f.groups = append(f.groups, group{inodeTable: it})
	}
	root, e := f.inode(rootIno)
	if e != 0 {
		return nil, fmt.Errorf("ext2: root inode: %w", e)
	}
	if root.mode&backend.TypeMask != backend.TypeDir {
		return nil, fmt.Errorf("ext2: root inode has mode %#o, not a directory", root.mode)
	}
	return f, nil
}

// Root implements backend.FS.
func (f *FS) Root() backend.Node {
	n, e := f.node(rootIno)
	if e != 0 {
		// Mount checked the root inode; a device that changed under us
		// still gets a node, whose operations answer EIO.
		return &node{fs: f, ino: rootIno, bad: true}
	}
	return n
}

// Type implements backend.FS.
func (f *FS) Type() string { return "ext2" }

// ReadOnly implements backend.FS.
func (f *FS) ReadOnly() bool { return true }

// Statfs implements backend.FS.
func (f *FS) Statfs(st *syscall.Statfs_t) {
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

// inode is the decoded part of an on-disk inode.
type inode struct {
	mode                uint32
	uid, gid            uint32
	size                int64
	atime, ctime, mtime uint32
	links               uint32
	blocks512           int64
	flags               uint32
	fileACL             uint32
	block               [inodeBlockPtrs]uint32
	raw                 []byte
}

// readBlock reads block b (checked against the block count) into p.
func (f *FS) readAt(p []byte, off int64) syscall.Errno {
	if _, err := f.dev.ReadAt(p, off); err != nil {
		return syscall.EIO
	}
	return 0
}

func (f *FS) inode(ino uint32) (*inode, syscall.Errno) {
	if ino == 0 || ino > f.inodes {
		return nil, syscall.EIO
	}
	g := (ino - 1) / f.inodesPerGrp
	idx := int64((ino - 1) % f.inodesPerGrp)
	raw := make([]byte, 128)
	if e := f.readAt(raw, int64(f.groups[g].inodeTable)*f.bs+idx*f.inodeSize); e != 0 {
		return nil, e
	}
	le := binary.LittleEndian
	in := &inode{raw: raw}
	in.mode = uint32(le.Uint16(raw[0:]))
	in.uid = uint32(le.Uint16(raw[2:])) | uint32(le.Uint16(raw[120:]))<<16
	in.gid = uint32(le.Uint16(raw[24:])) | uint32(le.Uint16(raw[122:]))<<16
	in.size = int64(le.Uint32(raw[4:]))
	if in.mode&backend.TypeMask == backend.TypeReg {
		in.size |= int64(le.Uint32(raw[108:])) << 32
	}
	in.atime = le.Uint32(raw[8:])
	in.ctime = le.Uint32(raw[12:])
	in.mtime = le.Uint32(raw[16:])
	in.links = uint32(le.Uint16(raw[26:]))
	in.blocks512 = int64(le.Uint32(raw[28:])) | int64(le.Uint16(raw[116:]))<<32
	in.flags = le.Uint32(raw[32:])
	if f.hugeFile && in.flags&0x40000 != 0 { // EXT4_HUGE_FILE_FL: i_blocks in fs blocks
		in.blocks512 *= f.bs / 512
	}
	for i := range in.block {
		in.block[i] = le.Uint32(raw[40+4*i:])
	}
	in.fileACL = le.Uint32(raw[104:])
	if in.size < 0 {
		return nil, syscall.EIO
	}
	return in, 0
}

// ptrsPerBlock is how many block numbers an indirect block holds.
func (f *FS) ptrsPerBlock() int64 { return f.bs / 4 }

// maxFileBlocks is the number of logical blocks addressable by an inode.
func (f *FS) maxFileBlocks() int64 {
	p := f.ptrsPerBlock()
	return 12 + p + p*p + p*p*p
}

// bmap returns the physical block of logical block lb of in, 0 for a hole.
func (f *FS) bmap(in *inode, lb int64) (uint32, syscall.Errno) {
	p := f.ptrsPerBlock()
	if lb < 12 {
		return f.checkBlock(in.block[lb])
	}
	lb -= 12
	var top uint32
	var depth int
	switch {
	case lb < p:
		top, depth = in.block[12], 1
	case lb < p+p*p:
		lb -= p
		top, depth = in.block[13], 2
	case lb < p+p*p+p*p*p:
		lb -= p + p*p
		top, depth = in.block[14], 3
	default:
		return 0, syscall.EFBIG
	}
	b, e := f.checkBlock(top)
	for ; depth > 0 && e == 0 && b != 0; depth-- {
		span := int64(1)
		for range depth - 1 {
			span *= p
		}
		b, e = f.readPtr(b, lb/span)
		lb %= span
	}
	return b, e
}

// checkBlock answers EIO for a block number outside the file system.
func (f *FS) checkBlock(b uint32) (uint32, syscall.Errno) {
	if b != 0 && (b < f.firstData || b >= f.blocks) {
		return 0, syscall.EIO
	}
	return b, 0
}

// readPtr reads entry i of indirect block b, through a small cache of
// whole indirect blocks (sequential reads use the same block many times).
func (f *FS) readPtr(b uint32, i int64) (uint32, syscall.Errno) {
	f.ptrMu.Lock()
	blk, ok := f.ptrCache[b]
	f.ptrMu.Unlock()
	if !ok {
		blk = make([]byte, f.bs)
		if e := f.readAt(blk, int64(b)*f.bs); e != 0 {
			return 0, e
		}
		f.ptrMu.Lock()
		if len(f.ptrCache) >= ptrCacheBlocks {
			clear(f.ptrCache)
		}
		f.ptrCache[b] = blk
		f.ptrMu.Unlock()
	}
	return f.checkBlock(binary.LittleEndian.Uint32(blk[4*i:]))
}

// ptrCacheBlocks bounds the indirect-block cache.
const ptrCacheBlocks = 64

// readData reads file data of in at off into p (short at end of file).
func (f *FS) readData(in *inode, p []byte, off int64) (int, syscall.Errno) {
	if off < 0 {
		return 0, syscall.EINVAL
	}
	if off >= in.size {
		return 0, 0
	}
	if rem := in.size - off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		lb, bo := pos/f.bs, pos%f.bs
		chunk := p[n:min(len(p), n+int(f.bs-bo))]
		pb, e := f.bmap(in, lb)
		if e != 0 {
			return n, e
		}
		// Extend the chunk over physically contiguous following blocks,
		// so a sequential read is one device read per run.
		for pb != 0 && bo == 0 && len(p)-n-len(chunk) >= int(f.bs) {
			next, e := f.bmap(in, lb+int64(len(chunk))/f.bs)
			if e != 0 || next != pb+uint32(len(chunk)/int(f.bs)) {
				break
			}
			chunk = p[n : n+len(chunk)+int(f.bs)]
		}
		if pb == 0 {
			clear(chunk)
		} else if e := f.readAt(chunk, int64(pb)*f.bs+bo); e != 0 {
			return n, e
		}
		n += len(chunk)
	}
	return n, 0
}

func unixTime(s uint32) time.Time { return time.Unix(int64(s), 0) }

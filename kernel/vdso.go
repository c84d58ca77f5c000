package kernel

import (
	"github.com/xairrosx/xairrosx/arch/amd64"
)

// The vDSO: a minimal ELF shared object in memory, announced to the program
// through AT_SYSINFO_EHDR, whose dynamic symbol __vdso_clock_gettime points at
// arch/amd64's user-mode clock. Go's runtime finds it as on Linux and reads
// the monotonic and real-time clocks without a system call (it calls them
// thousands of times a second). The image has what the runtime's parser
// reads: one PT_LOAD, a PT_DYNAMIC with STRTAB, SYMTAB and a SysV HASH, and
// no version tables.

var vdsoImage [512]uint64 // 4 KiB, 8-byte aligned

// Offsets in the image.
const (
	vdsoPhdr   = 64
	vdsoDyn    = 256
	vdsoHash   = 384
	vdsoSymtab = 416
	vdsoStrtab = 480 // "\0__vdso_clock_gettime\0LINUX_2.6\0"
	vdsoVersym = 528
	vdsoVerdef = 544
	vdsoEnd    = 576
)

// The symbol and version the runtime looks up, and the version's ELF hash.
const (
	vdsoSymName     = "__vdso_clock_gettime"
	vdsoVersion     = "LINUX_2.6"
	vdsoVersionHash = 0x3ae75f6
)

// initVDSO fills VDSOData and builds the image; it returns its address.
func initVDSO() uintptr {
	amd64.VDSOData[0] = tscBase
	amd64.VDSOData[1] = tscMult
	amd64.VDSOData[2] = uint64(wallBase)
	base := addrOf(&vdsoImage[0])
	b := bytesAt(base, 4096)
	le16 := func(off int, v uint16) { b[off], b[off+1] = byte(v), byte(v>>8) }
	le32 := func(off int, v uint32) {
		for i := 0; i < 4; i++ {
			b[off+i] = byte(v >> (8 * i))
		}
	}
	le64 := func(off int, v uint64) {
		for i := 0; i < 8; i++ {
			b[off+i] = byte(v >> (8 * i))
		}
	}
	// ELF header.
	copy(b[0:4], "\x7fELF")
	b[4], b[5], b[6] = 2, 1, 1 // 64-bit, little-endian, version 1
	le16(16, 3)                // ET_DYN
	le16(18, 62)               // EM_X86_64
	le32(20, 1)
	le64(32, vdsoPhdr) // e_phoff
	le16(52, 64)       // e_ehsize
	le16(54, 56)       // e_phentsize
	le16(56, 2)        // e_phnum
	// PT_LOAD covering the image, vaddr 0.
	p := vdsoPhdr
	le32(p, 1)
	le32(p+4, 5) // R+X
	le64(p+32, vdsoEnd)
	le64(p+40, vdsoEnd)
	le64(p+48, pageSize)
	// PT_DYNAMIC.
	p += 56
	le32(p, 2)
	le32(p+4, 4)
	le64(p+8, vdsoDyn)
	le64(p+16, vdsoDyn)
	le64(p+32, 6*16)
	le64(p+40, 6*16)
	// Dynamic table: DT_HASH(4), DT_STRTAB(5), DT_SYMTAB(6), DT_VERSYM,
	// DT_VERDEF, DT_NULL.
	le64(vdsoDyn, 4)
	le64(vdsoDyn+8, vdsoHash)
	le64(vdsoDyn+16, 5)
	le64(vdsoDyn+24, vdsoStrtab)
	le64(vdsoDyn+32, 6)
	le64(vdsoDyn+40, vdsoSymtab)
	le64(vdsoDyn+48, 0x6ffffff0) // DT_VERSYM
	le64(vdsoDyn+56, vdsoVersym)
	le64(vdsoDyn+64, 0x6ffffffc) // DT_VERDEF
	le64(vdsoDyn+72, vdsoVerdef)
	// SysV hash: one bucket holding symbol 1, chain ends.
	le32(vdsoHash, 1)    // nbucket
	le32(vdsoHash+4, 2)  // nchain
	le32(vdsoHash+8, 1)  // bucket[0]
	le32(vdsoHash+12, 0) // chain[0]
	le32(vdsoHash+16, 0) // chain[1]
	// Symbol 1: global function, defined, value relative to the load base.
	s := vdsoSymtab + 24
	le32(s, 1)    // st_name: offset 1 in strtab
	b[s+4] = 0x12 // STB_GLOBAL, STT_FUNC
	le16(s+6, 1)  // st_shndx: any defined section
	le64(s+8, uint64(amd64.VDSOClockGettime()-base))
	copy(b[vdsoStrtab+1:], vdsoSymName)
	verName := 1 + len(vdsoSymName) + 1
	copy(b[vdsoStrtab+verName:], vdsoVersion)
	// Symbol versions: symbol 1 has version index 2.
	le16(vdsoVersym+2, 2)
	// One version definition (index 2, LINUX_2.6) with its name entry.
	le16(vdsoVerdef, 1)   // vd_version
	le16(vdsoVerdef+4, 2) // vd_ndx
	le16(vdsoVerdef+6, 1) // vd_cnt
	le32(vdsoVerdef+8, vdsoVersionHash)
	le32(vdsoVerdef+12, 20) // vd_aux
	le32(vdsoVerdef+20, uint32(verName))
	return base
}

package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

// Xen ELF note constants (xen/include/public/elfnote.h).
const (
	// xenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit physical
	// entry point of a PVH kernel. QEMU's -kernel boots an ELF64 only when it
	// carries this note.
	xenElfnotePhys32Entry = 18
	// noteSize is the size of the one note written: 12 bytes of header,
	// "Xen\0" and a 4-byte entry address.
	noteSize = 20
)

// Headroom is the memory, on top of the highest loaded byte of the image,
// that a guest needs at least (page tables, boot stacks, the first heap).
// An image whose segments end less than Headroom below -mem does not fit.
const Headroom = 8 << 20

// MaxEntry is the highest entry address that a 32-bit PVH entry can hold.
const MaxEntry = 1<<32 - 1

// ErrNotELF is returned for input that is not an ELF file at all.
var ErrNotELF = errors.New("not an ELF file")

// PatchPVH rewrites the PT_NOTE program header of the x86-64 ELF image in b,
// in place, into a single Xen PVH note holding the 32-bit entry address, and
// sets the header's sizes to that note. The Go linker's PT_NOTE (the build ID
// note area) is what gets reused, so the file does not grow. Patching an
// already patched image rewrites the same bytes.
func PatchPVH(b []byte) error {
	f, err := parse(b)
	if err != nil {
		return err
	}
	if f.Entry > MaxEntry {
		return fmt.Errorf("entry point %#x is above 4 GiB; a PVH entry is a 32-bit physical address (link with -T below 4 GiB)", f.Entry)
	}
	idx := -1
	for i, p := range f.Progs {
		if p.Type == elf.PT_NOTE {
			idx = i
			break
		}
	}
	if idx < 0 {
		return errors.New("ELF image has no PT_NOTE program header to turn into a PVH note")
	}
	note := f.Progs[idx]
	if note.Filesz < noteSize {
		return fmt.Errorf("PT_NOTE is %d bytes, need at least %d for the PVH note", note.Filesz, noteSize)
	}
	if note.Off+noteSize > uint64(len(b)) || note.Off+noteSize < note.Off {
		return fmt.Errorf("PT_NOTE at file offset %#x lies outside the %d-byte file", note.Off, len(b))
	}
	le := binary.LittleEndian
	n := b[note.Off : note.Off+noteSize]
	le.PutUint32(n[0:], 4)                     // namesz
	le.PutUint32(n[4:], 4)                     // descsz
	le.PutUint32(n[8:], xenElfnotePhys32Entry) // type
	copy(n[12:], "Xen\x00")                    // name
	le.PutUint32(n[16:], uint32(f.Entry))      // desc: the entry point

	ph := phdrOffset(b, idx)
	le.PutUint64(b[ph+32:], noteSize) // p_filesz
	le.PutUint64(b[ph+40:], noteSize) // p_memsz
	return nil
}

// Info describes the loadable part of an image.
type Info struct {
	// Entry is the ELF entry point.
	Entry uint64
	// End is the highest physical address p_paddr+p_memsz of any PT_LOAD.
	End uint64
	// PVH reports whether the image carries a Xen PVH entry note that
	// matches Entry.
	PVH bool
}

// Inspect reads the entry point, the end of the loaded segments and whether
// b is already patched for PVH.
func Inspect(b []byte) (Info, error) {
	f, err := parse(b)
	if err != nil {
		return Info{}, err
	}
	info := Info{Entry: f.Entry}
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			end := p.Paddr + p.Memsz
			if end < p.Paddr {
				return Info{}, fmt.Errorf("PT_LOAD at %#x with size %#x wraps around", p.Paddr, p.Memsz)
			}
			info.End = max(info.End, end)
		case elf.PT_NOTE:
			if p.Filesz == noteSize && p.Off+noteSize <= uint64(len(b)) {
				n := b[p.Off : p.Off+noteSize]
				le := binary.LittleEndian
				info.PVH = info.PVH || le.Uint32(n[0:]) == 4 && le.Uint32(n[4:]) == 4 &&
					le.Uint32(n[8:]) == xenElfnotePhys32Entry && string(n[12:16]) == "Xen\x00" &&
					uint64(le.Uint32(n[16:])) == f.Entry
			}
		}
	}
	if info.End == 0 {
		return Info{}, errors.New("ELF image has no PT_LOAD segment")
	}
	return info, nil
}

// CheckFits reports an error when the image in b, with Headroom on top,
// does not fit in mem bytes of guest memory.
func CheckFits(b []byte, mem uint64) error {
	info, err := Inspect(b)
	if err != nil {
		return err
	}
	if need := info.End + Headroom; need > mem {
		return fmt.Errorf("image does not fit in %s of guest memory: its segments end at %.1f MiB and the kernel needs %d MiB more (use at least -mem %s)",
			FormatSize(mem), float64(info.End)/(1<<20), Headroom>>20, FormatSize(roundUpMiB(need)))
	}
	return nil
}

// parse checks that b is a little-endian x86-64 ELF64 executable and
// returns its parsed form.
func parse(b []byte) (*elf.File, error) {
	if len(b) < 4 || string(b[:4]) != elf.ELFMAG {
		return nil, ErrNotELF
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("bad ELF file: %v", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("ELF image is %v %v, want a little-endian ELF64", f.Class, f.Data)
	}
	if f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("ELF image is for %v, want x86-64 (EM_X86_64)", f.Machine)
	}
	if f.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("ELF image is of type %v, want an executable (ET_EXEC) linked at a fixed address", f.Type)
	}
	phoff := binary.LittleEndian.Uint64(b[0x20:])
	phentsize := uint64(binary.LittleEndian.Uint16(b[0x36:]))
	if phentsize != 56 || phoff+phentsize*uint64(len(f.Progs)) > uint64(len(b)) {
		return nil, fmt.Errorf("bad ELF program header table (offset %#x, entry size %d)", phoff, phentsize)
	}
	return f, nil
}

// phdrOffset returns the file offset of program header i of a checked ELF64.
func phdrOffset(b []byte, i int) uint64 {
	return binary.LittleEndian.Uint64(b[0x20:]) + uint64(i)*56
}

func roundUpMiB(n uint64) uint64 { return (n + 1<<20 - 1) &^ (1<<20 - 1) }

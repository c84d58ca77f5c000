package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const stubKernel = ModulePath + "/test/qemu/stubkernel"

// plainELF builds testdata/hello as an ordinary static linux/amd64 binary
// linked at LinkBase, the layout Build produces, without a kernel.
func plainELF(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command("go", "build", "-ldflags=-T "+LinkBase, "-o", out, "./testdata/hello")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkPVHNote verifies with debug/elf that b carries exactly one Xen
// PHYS32_ENTRY note equal to the entry point.
func checkPVHNote(t *testing.T, b []byte) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	notes := 0
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		notes++
		if p.Filesz != 20 || p.Memsz != 20 {
			t.Errorf("PT_NOTE sizes %d/%d, want 20/20", p.Filesz, p.Memsz)
		}
		d := make([]byte, p.Filesz)
		if _, err := p.ReadAt(d, 0); err != nil {
			t.Fatal(err)
		}
		le := binary.LittleEndian
		if le.Uint32(d[0:]) != 4 || le.Uint32(d[4:]) != 4 || le.Uint32(d[8:]) != 18 || string(d[12:16]) != "Xen\x00" {
			t.Errorf("note header %x is not a Xen PHYS32_ENTRY note", d[:16])
		}
		if got := uint64(le.Uint32(d[16:])); got != f.Entry {
			t.Errorf("note entry %#x, ELF entry %#x", got, f.Entry)
		}
	}
	if notes != 1 {
		t.Errorf("%d PT_NOTE headers, want 1", notes)
	}
}

func TestPatchPVHOnRealBinary(t *testing.T) {
	b := plainELF(t)
	before := append([]byte(nil), b...)
	if info, err := Inspect(b); err != nil || info.PVH {
		t.Fatalf("unpatched Inspect = %+v, %v; want no PVH note", info, err)
	}
	if err := PatchPVH(b); err != nil {
		t.Fatal(err)
	}
	checkPVHNote(t, b)
	if len(b) != len(before) {
		t.Fatalf("patch changed the file size")
	}
	// Only the note bytes and the PT_NOTE header may change.
	f, _ := elf.NewFile(bytes.NewReader(before))
	var note elf.ProgHeader
	idx := 0
	for i, p := range f.Progs {
		if p.Type == elf.PT_NOTE {
			note, idx = p.ProgHeader, i
		}
	}
	ph := phdrOffset(before, idx)
	for i := range b {
		inNote := uint64(i) >= note.Off && uint64(i) < note.Off+20
		inPhdr := uint64(i) >= ph && uint64(i) < ph+56
		if b[i] != before[i] && !inNote && !inPhdr {
			t.Fatalf("patch changed byte %#x outside the note and its header", i)
		}
	}
	info, err := Inspect(b)
	if err != nil || !info.PVH || info.Entry != f.Entry {
		t.Errorf("Inspect = %+v, %v", info, err)
	}
	if info.End <= 1<<20 || info.End > 64<<20 {
		t.Errorf("segments end at %#x; a hello world linked at 1 MiB should end a few MiB up", info.End)
	}
	// Patching again gives the same bytes.
	again := append([]byte(nil), b...)
	if err := PatchPVH(again); err != nil || !bytes.Equal(again, b) {
		t.Errorf("second patch changed the image (err %v)", err)
	}
}

func TestPatchPVHRejectsBadInput(t *testing.T) {
	good := plainELF(t)
	le := binary.LittleEndian
	noteIndex := func(b []byte) int {
		f, _ := elf.NewFile(bytes.NewReader(b))
		for i, p := range f.Progs {
			if p.Type == elf.PT_NOTE {
				return i
			}
		}
		t.Fatal("test binary has no PT_NOTE")
		return -1
	}
	cases := []struct {
		name string
		mod  func([]byte) []byte
		want string
	}{
		{"empty", func([]byte) []byte { return nil }, "not an ELF"},
		{"text", func([]byte) []byte { return []byte("#!/bin/sh\necho hi\n") }, "not an ELF"},
		{"truncated", func(b []byte) []byte { return b[:40] }, "bad ELF"},
		{"32-bit", func(b []byte) []byte { b[4] = byte(elf.ELFCLASS32); return b }, ""},
		{"arm64", func(b []byte) []byte { le.PutUint16(b[18:], uint16(elf.EM_AARCH64)); return b }, "x86-64"},
		{"shared object", func(b []byte) []byte { le.PutUint16(b[16:], uint16(elf.ET_DYN)); return b }, "ET_EXEC"},
		{"entry above 4 GiB", func(b []byte) []byte { le.PutUint64(b[24:], 1<<32); return b }, "4 GiB"},
		{"no PT_NOTE", func(b []byte) []byte {
			le.PutUint32(b[phdrOffset(b, noteIndex(b)):], uint32(elf.PT_NULL))
			return b
		}, "no PT_NOTE"},
		{"tiny PT_NOTE", func(b []byte) []byte {
			le.PutUint64(b[phdrOffset(b, noteIndex(b))+32:], 8)
			return b
		}, "at least 20"},
		{"PT_NOTE past end", func(b []byte) []byte {
			le.PutUint64(b[phdrOffset(b, noteIndex(b))+8:], uint64(len(b)))
			return b
		}, "outside"},
		{"phdrs past end", func(b []byte) []byte { le.PutUint64(b[0x20:], uint64(len(b))); return b }, ""},
	}
	for _, c := range cases {
		b := c.mod(append([]byte(nil), good...))
		err := PatchPVH(b)
		if err == nil {
			t.Errorf("%s: PatchPVH accepted it", c.name)
			continue
		}
		if c.want != "" && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
	}
	if err := PatchPVH([]byte("nope")); !errors.Is(err, ErrNotELF) {
		t.Errorf("PatchPVH(text) = %v, want ErrNotELF", err)
	}
}

func TestCheckFits(t *testing.T) {
	b := plainELF(t)
	info, err := Inspect(b)
	if err != nil {
		t.Fatal(err)
	}
	need := roundUpMiB(info.End + Headroom)
	if err := CheckFits(b, need); err != nil {
		t.Errorf("CheckFits(%d) = %v", need, err)
	}
	err = CheckFits(b, need-1<<20)
	if err == nil || !strings.Contains(err.Error(), "does not fit") || !strings.Contains(err.Error(), FormatSize(need)) {
		t.Errorf("CheckFits(too small) = %v; want a message naming -mem %s", err, FormatSize(need))
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]uint64{"256": 256 << 20, "256M": 256 << 20, "256m": 256 << 20, "1G": 1 << 30, "1GiB": 1 << 30,
		"512K": 512 << 10, "16MB": 16 << 20, "2T": 2 << 40}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "M", "-1M", "12X", "1.5G", "99999999999999999999", "9000000000T"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
	for n, want := range map[uint64]string{256 << 20: "256M", 2 << 30: "2G", 1536 << 10: "1536K", 100: "100B"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFindRoot(t *testing.T) {
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	if !isRoot(root) || !strings.HasSuffix(filepath.Join(root, "internal", "image"), filepath.Join("internal", "image")) {
		t.Errorf("FindRoot = %s", root)
	}
	t.Setenv("XAIRROSX_ROOT", t.TempDir())
	if _, err := FindRoot(); err == nil || !strings.Contains(err.Error(), "XAIRROSX_ROOT") {
		t.Errorf("FindRoot with a bad XAIRROSX_ROOT = %v", err)
	}
}

func stubOpts(pkg, out string) Options {
	return Options{Pkg: pkg, Out: out, Kernel: stubKernel, Entry: stubKernel + ".entry32"}
}

func TestBuild(t *testing.T) {
	out := filepath.Join(t.TempDir(), "hello.img")
	pkg, err := Build(stubOpts("./testdata/hello", out))
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Name != "hello" || pkg.ImportPath != ModulePath+"/internal/image/testdata/hello" {
		t.Errorf("Build returned %+v", pkg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkPVHNote(t, b)
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var entry uint64
	for _, s := range syms {
		if s.Name == stubKernel+".entry32.abi0" {
			entry = s.Value
		}
	}
	if entry == 0 || entry != f.Entry {
		t.Errorf("entry %#x, want the kernel's entry32 at %#x", f.Entry, entry)
	}
	if f.Progs[0].Type != elf.PT_PHDR && f.Progs[0].Vaddr != 1<<20 {
		t.Errorf("first segment at %#x", f.Progs[0].Vaddr)
	}
	// The source directory is untouched.
	if _, err := os.Stat(filepath.Join("testdata", "hello", overlayName)); err == nil {
		t.Error("Build left the overlay file in the source directory")
	}
}

func TestBuildOutsideModule(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "go.mod"), "module example.com/outside\n\ngo 1.26\n")
	mustWrite(t, filepath.Join(dir, "cmd", "prog", "main.go"), "package main\n\nfunc main() {}\n")
	out := filepath.Join(dir, "prog.img")
	o := stubOpts(filepath.Join(dir, "cmd", "prog"), out)
	pkg, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	if pkg.ImportPath != "example.com/outside/cmd/prog" || pkg.Name != "prog" {
		t.Errorf("Build returned %+v", pkg)
	}
	if info, err := inspectFile(out); err != nil || !info.PVH {
		t.Errorf("image: %+v, %v", info, err)
	}
	// An import path of that module, from its directory.
	o = stubOpts("example.com/outside/cmd/prog", out)
	o.Dir = dir
	if pkg, err := Build(o); err != nil || pkg.Dir != filepath.Join(dir, "cmd", "prog") {
		t.Errorf("Build(import path from the other module) = %+v, %v", pkg, err)
	}
	// A directory outside any module is refused with a clear message.
	loose := t.TempDir()
	mustWrite(t, filepath.Join(loose, "main.go"), "package main\n\nfunc main() {}\n")
	if _, err := Build(stubOpts(loose, out)); err == nil || !strings.Contains(err.Error(), "not inside a Go module") {
		t.Errorf("Build(loose dir) = %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.img")
	cases := []struct{ pkg, want string }{
		{"./testdata/nosuchdir", "no such directory"},
		{ModulePath + "/no/such/package", "no/such/package"},
		{"./testdata/notmain", "not a main package"},
		{"./testdata/broken", "undefinedFunction"},
	}
	for _, c := range cases {
		_, err := Build(stubOpts(c.pkg, out))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build(%s) = %v; want an error mentioning %q", c.pkg, err, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed build left an image behind")
	}
	if _, err := Build(Options{Pkg: "./testdata/hello", Out: out, Kernel: ModulePath + "/no/such/kernel"}); err == nil {
		t.Error("Build with a missing kernel package succeeded")
	}
}

func inspectFile(path string) (Info, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Info{}, err
	}
	return Inspect(b)
}

func mustWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

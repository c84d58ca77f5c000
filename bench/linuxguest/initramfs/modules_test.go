package initramfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSource serves modules from a map of name to dependencies; the object
// file is the module's name.
type fakeSource map[string][]string

func (f fakeSource) Module(name string) ([]byte, []string, error) {
	deps, ok := f[name]
	if !ok {
		return nil, nil, errors.New("not found")
	}
	return []byte(name), deps, nil
}

// listOf returns the module names of ModulesList in order; with named it
// also checks that each listed file holds its module's name (fakeSource).
func listOf(t *testing.T, entries []Entry, named bool) []string {
	t.Helper()
	files := map[string][]byte{}
	for _, e := range entries {
		files[e.Name] = e.Data
	}
	list, ok := files[ModulesList]
	if !ok {
		t.Fatalf("no %s entry", ModulesList)
	}
	var names []string
	for _, p := range strings.Fields(string(list)) {
		name := strings.TrimSuffix(filepath.Base(p), ".ko")
		if got := string(files[strings.TrimPrefix(p, "/")]); named && got != name {
			t.Errorf("%s holds %q, want the module %q", p, got, name)
		}
		names = append(names, name)
	}
	return names
}

func TestModulesOrder(t *testing.T) {
	// The dependencies of Debian 6.1's virtio_net and virtio_blk.
	src := fakeSource{
		"virtio_net":   {"virtio_ring", "virtio", "net_failover"},
		"virtio_blk":   {"virtio", "virtio_ring"},
		"virtio_pci":   {"virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio"},
		"virtio":       {"virtio_ring"},
		"virtio_ring":  nil,
		"net_failover": {"failover"},
		"failover":     nil,

		"virtio_pci_modern_dev": nil,
		"virtio_pci_legacy_dev": nil,
	}
	entries, err := Modules(src, []string{"virtio_pci", "virtio_net", "virtio_blk"})
	if err != nil {
		t.Fatal(err)
	}
	got := listOf(t, entries, true)
	if len(got) != len(src) {
		t.Fatalf("loads %v, want each of the %d modules once", got, len(src))
	}
	pos := map[string]int{}
	for i, n := range got {
		if _, dup := pos[n]; dup {
			t.Fatalf("%s listed twice: %v", n, got)
		}
		pos[n] = i
	}
	for m, deps := range src {
		for _, d := range deps {
			if pos[d] > pos[m] {
				t.Errorf("%s loads before its dependency %s: %v", m, d, got)
			}
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, append(Init([]byte("prog")), entries...)); err != nil {
		t.Fatal(err)
	}
	if n := len(parse(t, buf.Bytes())); n != 5+len(entries) {
		t.Errorf("archive holds %d entries, want %d", n, 5+len(entries))
	}
}

func TestModulesErrors(t *testing.T) {
	_, err := Modules(fakeSource{"a": {"b"}, "b": {"c"}, "c": {"a"}}, []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "cycle: a -> b -> c -> a") {
		t.Errorf("cycle: got %v", err)
	}
	_, err = Modules(fakeSource{"a": {"b"}}, []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "module b (needed by a)") {
		t.Errorf("missing dependency: got %v", err)
	}
}

func TestModinfo(t *testing.T) {
	m := Modinfo([]byte("license=GPL\x00depends=virtio_ring,virtio\x00\x00alias=a\x00alias=b\x00junk\x00vermagic=6.1.0 SMP\x00"))
	want := map[string]string{"license": "GPL", "depends": "virtio_ring,virtio", "alias": "a,b", "vermagic": "6.1.0 SMP"}
	if len(m) != len(want) {
		t.Errorf("got %q, want %q", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
}

// moduleELF returns a minimal ELF64 relocatable object with one .modinfo
// section holding modinfo: what the kernel's module files look like to
// Dependencies.
func moduleELF(modinfo string) []byte {
	shstrtab := "\x00.modinfo\x00.shstrtab\x00"
	const ehsize, shentsize = 64, 64
	dataOff := ehsize
	strOff := dataOff + len(modinfo)
	shOff := (strOff + len(shstrtab) + 7) &^ 7
	b := make([]byte, shOff+3*shentsize)
	copy(b, "\x7fELF\x02\x01\x01")
	le := binary.LittleEndian
	le.PutUint16(b[16:], 1)  // ET_REL
	le.PutUint16(b[18:], 62) // EM_X86_64
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[40:], uint64(shOff))
	le.PutUint16(b[52:], ehsize)
	le.PutUint16(b[58:], shentsize)
	le.PutUint16(b[60:], 3) // sections
	le.PutUint16(b[62:], 2) // .shstrtab index
	copy(b[dataOff:], modinfo)
	copy(b[strOff:], shstrtab)
	sect := func(i int, name, typ uint32, off, size int) {
		s := b[shOff+i*shentsize:]
		le.PutUint32(s[0:], name)
		le.PutUint32(s[4:], typ)
		le.PutUint64(s[24:], uint64(off))
		le.PutUint64(s[32:], uint64(size))
		le.PutUint64(s[48:], 1)
	}
	sect(1, 1, 1, dataOff, len(modinfo)) // .modinfo, SHT_PROGBITS
	sect(2, 10, 3, strOff, len(shstrtab))
	return b
}

func TestTree(t *testing.T) {
	dir := t.TempDir()
	put := func(rel, modinfo string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, moduleELF(modinfo), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("kernel/drivers/block/virtio_blk.ko", "license=GPL\x00depends=virtio,virtio_ring\x00")
	put("kernel/drivers/virtio/virtio.ko", "depends=virtio_ring\x00")
	put("kernel/drivers/virtio/virtio_ring.ko", "depends=\x00")
	put("kernel/drivers/net/net-failover.ko", "depends=\x00")
	if err := os.WriteFile(filepath.Join(dir, "kernel/drivers/virtio/broken.ko"), []byte("not elf"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree := &Tree{Dir: dir}
	entries, err := Modules(tree, []string{"virtio_blk", "net_failover"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(listOf(t, entries, false), " "), "virtio_ring virtio virtio_blk net_failover"; got != want {
		t.Errorf("load order %q, want %q", got, want)
	}
	if _, err := Modules(tree, []string{"broken"}); err == nil || !strings.Contains(err.Error(), "broken.ko: not an ELF module") {
		t.Errorf("broken module: got %v", err)
	}
	if _, err := Modules(tree, []string{"ext4"}); err == nil || !strings.Contains(err.Error(), "module ext4: not found") {
		t.Errorf("missing module: got %v", err)
	}
}

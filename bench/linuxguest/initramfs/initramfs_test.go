package initramfs

import (
	"bytes"
	"strconv"
	"testing"
)

// parse reads a newc archive back, checking magic and alignment.
func parse(t *testing.T, b []byte) []Entry {
	t.Helper()
	var out []Entry
	off := 0
	for {
		if off%4 != 0 {
			t.Fatalf("header at unaligned offset %d", off)
		}
		if off+110 > len(b) || string(b[off:off+6]) != "070701" {
			t.Fatalf("no newc header at offset %d", off)
		}
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("bad header field %d at %d: %v", i, off, err)
			}
			return uint32(v)
		}
		mode, size, rmaj, rmin, namesize := field(1), field(6), field(9), field(10), field(11)
		nameStart := off + 110
		name := string(b[nameStart : nameStart+int(namesize)-1])
		if b[nameStart+int(namesize)-1] != 0 {
			t.Fatalf("name %q not NUL-terminated", name)
		}
		dataStart := (nameStart + int(namesize) + 3) &^ 3
		data := b[dataStart : dataStart+int(size)]
		off = (dataStart + int(size) + 3) &^ 3
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after the trailer", len(b)-off)
			}
			return out
		}
		out = append(out, Entry{Name: name, Mode: mode, Data: append([]byte(nil), data...), Major: rmaj, Minor: rmin})
	}
}

func TestWriteReadBack(t *testing.T) {
	prog := bytes.Repeat([]byte{0x7f, 'E', 'L', 'F', 1}, 1001) // odd size
	entries := append(Init(prog), Entry{Name: "etc/x", Mode: ModeFile | 0o644, Data: []byte("abc")})
	var buf bytes.Buffer
	if err := Write(&buf, entries); err != nil {
		t.Fatal(err)
	}
	got := parse(t, buf.Bytes())
	if len(got) != len(entries) {
		t.Fatalf("read back %d entries, wrote %d", len(got), len(entries))
	}
	for i, e := range entries {
		g := got[i]
		if g.Name != e.Name || g.Mode != e.Mode || !bytes.Equal(g.Data, e.Data) || g.Major != e.Major || g.Minor != e.Minor {
			t.Errorf("entry %d: read %+v, wrote %+v", i, g, e)
		}
	}
	if got[1].Name != "dev/console" || got[1].Mode != ModeChar|0o600 || got[1].Major != 5 || got[1].Minor != 1 {
		t.Errorf("console node %+v", got[1])
	}
	if got[4].Name != "init" || got[4].Mode&0o111 == 0 {
		t.Errorf("init entry %+v not executable", got[4])
	}
}

func TestWriteRejectsBadEntries(t *testing.T) {
	for _, e := range []Entry{{Name: ""}, {Name: "/init", Mode: ModeFile}, {Name: "dir", Mode: ModeDir, Data: []byte("x")}} {
		if err := Write(&bytes.Buffer{}, []Entry{e}); err == nil {
			t.Errorf("Write accepted %+v", e)
		}
	}
}

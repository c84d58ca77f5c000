package state

import (
	"bytes"
	"fmt"
	"testing"
)

func fill(t *testing.T, s *Store, versions, perVersion int) {
	t.Helper()
	for v := range versions {
		for i := range perVersion {
			k := fmt.Appendf(nil, "k%03d", (v*7+i*13)%97)
			if err := s.Set(k, fmt.Appendf(nil, "v%d.%d", v, i)); err != nil {
				t.Fatal(err)
			}
		}
		if v%3 == 2 {
			if err := s.Delete(fmt.Appendf(nil, "k%03d", v)); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProofs(t *testing.T) {
	s := OpenMem()
	fill(t, s, 5, 20)
	root := s.Hash()
	for _, key := range [][]byte{[]byte("k013"), []byte("absent"), []byte("k002")} {
		val, proof, r, h, err := s.Prove(key, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r, root) || h != 5 {
			t.Fatalf("root/height %X/%d, want %X/5", r, h, root)
		}
		if err := VerifyProof(root, key, val, proof); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		// A wrong value, wrong root or wrong key must not verify.
		if err := VerifyProof(root, key, []byte("forged"), proof); err == nil {
			t.Fatalf("%s: forged value verified", key)
		}
		bad := append([]byte{}, root...)
		bad[0] ^= 1
		if err := VerifyProof(bad, key, val, proof); err == nil {
			t.Fatalf("%s: proof verified against a wrong root", key)
		}
	}
	// Older versions stay provable.
	val, proof, r, _, err := s.Prove([]byte("k013"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyProof(r, []byte("k013"), val, proof); err != nil {
		t.Fatal(err)
	}
}

func TestExportImport(t *testing.T) {
	src := OpenMem()
	fill(t, src, 6, 30)
	var buf bytes.Buffer
	if err := src.Export(6, &buf); err != nil {
		t.Fatal(err)
	}
	dst := OpenMem()
	if err := dst.Import(6, bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if dst.Version() != 6 || !bytes.Equal(dst.Hash(), src.Hash()) {
		t.Fatalf("imported version %d hash %X, want 6 %X", dst.Version(), dst.Hash(), src.Hash())
	}
	// Both continue identically.
	for _, s := range []*Store{src, dst} {
		s.Set([]byte("next"), []byte("x"))
		s.Commit()
	}
	if !bytes.Equal(dst.Hash(), src.Hash()) {
		t.Fatal("stores diverge after the import")
	}
	// A truncated stream is an error, not a panic.
	if err := OpenMem().Import(6, bytes.NewReader(buf.Bytes()[:buf.Len()/2])); err == nil {
		t.Fatal("truncated snapshot imported")
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, 4, 10)
	want := s.Hash()
	s.Set([]byte("uncommitted"), []byte("lost"))
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Version() != 4 || !bytes.Equal(s.Hash(), want) {
		t.Fatalf("reopened at %d %X, want 4 %X", s.Version(), s.Hash(), want)
	}
	if v, _ := s.Get([]byte("uncommitted")); v != nil {
		t.Fatal("uncommitted write survived")
	}
}

func TestOverlayOrderIndependent(t *testing.T) {
	a, b := OpenMem(), OpenMem()
	oa, ob := NewOverlay(a), NewOverlay(b)
	for i := range 50 {
		oa.Set(fmt.Appendf(nil, "k%d", i), []byte("v"))
		ob.Set(fmt.Appendf(nil, "k%d", 49-i), []byte("v"))
	}
	oa.Delete([]byte("k7"))
	ob.Delete([]byte("k7"))
	oa.Write()
	ob.Write()
	if !bytes.Equal(a.WorkingHash(), b.WorkingHash()) {
		t.Fatal("write order changed the root")
	}
	if v, _ := a.Get([]byte("k7")); v != nil {
		t.Fatal("deleted key present")
	}
}

// FuzzImport feeds arbitrary snapshot streams to Import: errors are fine,
// panics and hangs are not, and whatever imports must have a root.
func FuzzImport(f *testing.F) {
	src := OpenMem()
	for i := range 20 {
		src.Set(fmt.Appendf(nil, "key%d", i), []byte("value"))
	}
	src.Commit()
	var buf bytes.Buffer
	if err := src.Export(1, &buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte{1, 0, 1, 1, 'k', 1, 'v'})
	f.Fuzz(func(t *testing.T, stream []byte) {
		dst := OpenMem()
		if err := dst.Import(1, bytes.NewReader(stream)); err == nil && dst.Version() != 1 {
			t.Fatalf("imported without loading version 1")
		}
	})
}

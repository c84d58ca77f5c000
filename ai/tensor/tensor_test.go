package tensor

import "testing"

func TestViewsShareMemory(t *testing.T) {
	a := MustNew(Float32, 2, 3)
	for i := range a.F32()[:6] {
		a.F32()[i] = float32(i)
	}
	tr, err := a.Transpose(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if tr.IsContiguous() || !SameShape(tr.Shape, []int{3, 2}) {
		t.Fatalf("transpose: shape %v contiguous %v", tr.Shape, tr.IsContiguous())
	}
	c := tr.Contiguous()
	want := []float32{0, 3, 1, 4, 2, 5}
	for i, v := range c.F32()[:6] {
		if v != want[i] {
			t.Fatalf("transposed copy %v, want %v", c.F32()[:6], want)
		}
	}
	r, err := a.Reshape(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	r.F32()[5] = 42
	if a.F32()[5] != 42 {
		t.Fatal("reshape copied the data")
	}
	if _, err := tr.Reshape(6); err == nil {
		t.Fatal("reshape of a non-contiguous view accepted")
	}
	v, err := a.View(1, []int{2}, []int{3}) // column 1
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Contiguous().F32()[:2]; got[0] != 1 || got[1] != 4 {
		t.Fatalf("column view %v", got)
	}
	if _, err := a.View(4, []int{2}, []int{3}); err == nil {
		t.Fatal("out-of-bounds view accepted")
	}
}

func TestFromBytesAliasesAlignedData(t *testing.T) {
	buf := AlignedBytes(64)
	x, err := FromBytes(Int32, []int{4}, buf[:16])
	if err != nil {
		t.Fatal(err)
	}
	if !x.Aliases(buf) {
		t.Fatal("aligned bytes were copied")
	}
	y, err := FromBytes(Int32, []int{4}, buf[1:17])
	if err != nil {
		t.Fatal(err)
	}
	if y.Aliases(buf[1:]) {
		t.Fatal("unaligned int32 data must be copied")
	}
	u, err := FromBytes(Uint8, []int{3}, buf[1:4])
	if err != nil || !u.Aliases(buf[1:]) {
		t.Fatal("bytes never need alignment")
	}
	if _, err := FromBytes(Float32, []int{5}, buf[:16]); err == nil {
		t.Fatal("size mismatch accepted")
	}
	if _, err := New(Float32, 1<<40, 1<<20); err == nil {
		t.Fatal("a 2^60-element tensor was accepted")
	}
	if _, err := New(DType(9), 1); err == nil {
		t.Fatal("bool dtype accepted")
	}
}

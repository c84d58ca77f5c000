package wasmbin

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestLEBRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 127, 128, 300, 1<<32 - 1, 1 << 40, math.MaxUint64} {
		r := &Reader{Data: AppendU64(nil, v)}
		if got, err := r.U64(); err != nil || got != v || !r.EOF() {
			t.Errorf("U64 %d: got %d, %v", v, got, err)
		}
	}
	for _, v := range []int64{0, 1, -1, 63, -64, 64, -65, 1 << 31, -1 << 31, math.MaxInt64, math.MinInt64} {
		r := &Reader{Data: AppendS64(nil, v)}
		if got, err := r.S64(); err != nil || got != v || !r.EOF() {
			t.Errorf("S64 %d: got %d, %v", v, got, err)
		}
	}
	// Too long or too large encodings are errors, not wrap-arounds.
	for _, b := range [][]byte{{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, {0xff, 0xff, 0xff, 0xff, 0x1f}, {0x80}} {
		r := &Reader{Data: b, Base: 100}
		if _, err := r.U32(); err == nil || !strings.Contains(err.Error(), "byte offset 10") {
			t.Errorf("U32(%x): error %v", b, err)
		}
	}
	if v, err := (&Reader{Data: []byte{0x40}}).S33(); err != nil || v != -64 {
		t.Errorf("S33 empty block type: %d %v", v, err)
	}
}

func TestDecodeEncodeRoundTrip(t *testing.T) {
	m := &Module{
		Types:    []FuncType{{Results: []ValType{I32}}, {Params: []ValType{I32, I64}}},
		Imports:  []Import{{Module: "xairrosx", Name: "caller", Kind: KindFunc, Type: 0}},
		Funcs:    []uint32{0, 1},
		Tables:   []Table{{Elem: FuncRef, Limits: Limits{Min: 2, Max: 2, HasMax: true}}},
		Memories: []Limits{{Min: 1}},
		Globals:  []Global{{Type: I64, Mutable: true, Init: []byte{byte(OpI64Const), 5, byte(OpEnd)}}},
		Exports:  []Export{{Name: "memory", Kind: KindMemory}, {Name: "f", Kind: KindFunc, Index: 1}},
		HasStart: true, Start: 1,
		Code: []Body{
			{Code: []byte{byte(OpI32Const), 7, byte(OpEnd)}},
			{Locals: []Locals{{Count: 2, Type: I32}}, Code: []byte{byte(OpNop), byte(OpEnd)}},
		},
		Data: []byte{0},
	}
	enc := m.Encode()
	d, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if again := d.Encode(); !bytes.Equal(enc, again) {
		t.Fatalf("re-encoding differs:\n%x\n%x", enc, again)
	}
	if ft, ok := d.FuncTypeOf(2); !ok || !ft.Equal(m.Types[1]) {
		t.Fatalf("FuncTypeOf(2) = %v %v", ft, ok)
	}
	if d.NumImportedFuncs() != 1 || d.Code[1].NumLocals() != 2 || d.Start != 1 {
		t.Fatalf("decoded %+v", d)
	}
	if ft := (FuncType{Params: []ValType{I32}, Results: []ValType{I64, F32}}).String(); ft != "(i32) -> (i64, f32)" {
		t.Fatalf("String = %q", ft)
	}
}

func TestDecodeErrors(t *testing.T) {
	hdr := []byte("\x00asm\x01\x00\x00\x00")
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{[]byte("\x00asm\x02\x00\x00\x00"), "bad magic or version"},
		{append(hdr, 0x01, 0x10), "section 1"},
		{append(hdr, 0x0d, 0x00), "unknown section id 13"},
		{append(hdr, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00), "out of order"},
		{append(hdr, 0x01, 0x04, 0x01, 0x60, 0x01, 0x55), "invalid value type 0x55"},
		{append(hdr, 0x03, 0x02, 0x01, 0x00), "declares 1 functions but code section has 0"},
		{append(hdr, 0x01, 0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), "integer too large"},
	} {
		if _, err := Decode(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%x): %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestNextImmediates(t *testing.T) {
	code := []byte{
		byte(OpBlock), 0x7f, // block (result i32)
		byte(OpBrTable), 2, 0, 1, 0, // br_table 0 1 default 0
		byte(OpCallIndirect), 3, 0,
		0x36, 2, 8, // i32.store align=2 offset=8
		PrefixMisc, 10, 0, 0, // memory.copy
		byte(OpSelectT), 1, 0x7e,
		PrefixSIMD, 12, // SIMD: sub-opcode only
	}
	r := &Reader{Data: code}
	var ops []Opcode
	for !r.EOF() {
		in, err := Next(r)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, in.Op)
		if in.Op == OpBlock {
			if vt, ok := in.BlockValType(); !ok || vt != I32 {
				t.Fatalf("block type %v %v", vt, ok)
			}
		}
		if in.Op.Prefix() == PrefixSIMD {
			break
		}
	}
	want := []Opcode{OpBlock, OpBrTable, OpCallIndirect, 0x36, OpMemoryCopy, OpSelectT, PrefixSIMD<<8 | 12}
	if len(ops) != len(want) {
		t.Fatalf("ops %x, want %x", ops, want)
	}
	for i := range want {
		if ops[i] != want[i] {
			t.Fatalf("ops %x, want %x", ops, want)
		}
	}
	if _, err := Next(&Reader{Data: []byte{0xc5}}); err == nil {
		t.Fatal("opcode 0xc5 accepted")
	}
	if _, err := Next(&Reader{Data: []byte{byte(OpMemoryGrow), 1}}); err == nil {
		t.Fatal("memory.grow with memory index 1 accepted")
	}
}

package wasmbin

import (
	"bytes"
	"fmt"
)

// ValType is a WebAssembly value type.
type ValType byte

// Value types.
const (
	I32       ValType = 0x7f
	I64       ValType = 0x7e
	F32       ValType = 0x7d
	F64       ValType = 0x7c
	V128      ValType = 0x7b
	FuncRef   ValType = 0x70
	ExternRef ValType = 0x6f
)

// String returns the text-format name of the type.
func (t ValType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return fmt.Sprintf("type 0x%02x", byte(t))
}

// Valid reports whether t is one of the value types above.
func (t ValType) Valid() bool {
	switch t {
	case I32, I64, F32, F64, V128, FuncRef, ExternRef:
		return true
	}
	return false
}

// Section ids.
const (
	SecCustom    = 0
	SecType      = 1
	SecImport    = 2
	SecFunction  = 3
	SecTable     = 4
	SecMemory    = 5
	SecGlobal    = 6
	SecExport    = 7
	SecStart     = 8
	SecElement   = 9
	SecCode      = 10
	SecData      = 11
	SecDataCount = 12
)

// External kinds of imports and exports.
const (
	KindFunc   = 0
	KindTable  = 1
	KindMemory = 2
	KindGlobal = 3
)

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValType
}

// Equal reports whether two signatures are identical.
func (f FuncType) Equal(g FuncType) bool {
	return bytes.Equal(valBytes(f.Params), valBytes(g.Params)) && bytes.Equal(valBytes(f.Results), valBytes(g.Results))
}

func valBytes(v []ValType) []byte {
	b := make([]byte, len(v))
	for i, t := range v {
		b[i] = byte(t)
	}
	return b
}

// String returns the signature as "(i32, i32) -> (i64)".
func (f FuncType) String() string {
	s := "("
	for i, p := range f.Params {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	s += ") -> ("
	for i, p := range f.Results {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	return s + ")"
}

// Limits are the size limits of a memory or table.
type Limits struct {
	Min, Max uint32
	HasMax   bool
	Shared   bool
}

// Import is one entry of the import section.
type Import struct {
	Module, Name string
	Kind         byte
	Type         uint32  // function imports: type index
	Global       Global  // global imports: type (Init is nil)
	Limits       Limits  // table and memory imports
	Elem         ValType // table imports
	Offset       int     // module offset of the entry
}

// Table is one entry of the table section.
type Table struct {
	Elem   ValType
	Limits Limits
}

// Global is one entry of the global section.
type Global struct {
	Type    ValType
	Mutable bool
	Init    []byte // constant expression, including its final end opcode
	Offset  int    // module offset of the entry
}

// Export is one entry of the export section.
type Export struct {
	Name  string
	Kind  byte
	Index uint32
}

// Locals is a run of Count locals of one type.
type Locals struct {
	Count uint32
	Type  ValType
}

// Body is one function body of the code section.
type Body struct {
	Locals []Locals
	Code   []byte // instructions, including the final end opcode
	Offset int    // module offset of Code[0]
}

// NumLocals returns the number of declared locals (not parameters).
func (b *Body) NumLocals() uint64 {
	var n uint64
	for _, l := range b.Locals {
		n += uint64(l.Count)
	}
	return n
}

// Module is a decoded module. Element, data and data-count sections are kept
// as raw bytes; custom sections are dropped.
type Module struct {
	Types    []FuncType
	Imports  []Import
	Funcs    []uint32 // type index of each defined function
	Tables   []Table
	Memories []Limits
	Globals  []Global
	Exports  []Export
	HasStart bool
	Start    uint32
	Code     []Body

	Elements  []byte // raw element section contents, nil if absent
	DataCount []byte // raw data-count section contents, nil if absent
	Data      []byte // raw data section contents, nil if absent

	MemoryOffset int // module offset of the memory section, for messages
}

// NumImportedFuncs returns the number of function imports.
func (m *Module) NumImportedFuncs() int { return m.numImported(KindFunc) }

// NumImportedGlobals returns the number of global imports.
func (m *Module) NumImportedGlobals() int { return m.numImported(KindGlobal) }

func (m *Module) numImported(kind byte) int {
	n := 0
	for _, im := range m.Imports {
		if im.Kind == kind {
			n++
		}
	}
	return n
}

// FuncTypeOf returns the signature of function index fi (imports first).
func (m *Module) FuncTypeOf(fi uint32) (FuncType, bool) {
	n := uint32(0)
	for _, im := range m.Imports {
		if im.Kind != KindFunc {
			continue
		}
		if n == fi {
			return m.typeAt(im.Type)
		}
		n++
	}
	d := uint64(fi) - uint64(n)
	if d >= uint64(len(m.Funcs)) {
		return FuncType{}, false
	}
	return m.typeAt(m.Funcs[d])
}

func (m *Module) typeAt(ti uint32) (FuncType, bool) {
	if uint64(ti) >= uint64(len(m.Types)) {
		return FuncType{}, false
	}
	return m.Types[ti], true
}

// TypeIndex returns the index of a type equal to ft, appending one if none.
func (m *Module) TypeIndex(ft FuncType) uint32 {
	for i, t := range m.Types {
		if t.Equal(ft) {
			return uint32(i)
		}
	}
	m.Types = append(m.Types, ft)
	return uint32(len(m.Types) - 1)
}

// Decode parses a module. It checks the structure needed to read it, not
// full validity (run a validator such as wazero's for that).
func Decode(wasm []byte) (*Module, error) {
	r := &Reader{Data: wasm}
	hdr, err := r.Bytes(8)
	if err != nil || !bytes.Equal(hdr, []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, fmt.Errorf("not a WebAssembly 1.0 module (bad magic or version)")
	}
	m := &Module{}
	var funcCount = -1
	last := 0
	order := map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12}
	for !r.EOF() {
		id, err := r.Byte()
		if err != nil {
			return nil, err
		}
		size, err := r.U32()
		if err != nil {
			return nil, err
		}
		start := r.Off()
		data, err := r.Bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		if id == SecCustom {
			continue
		}
		o, ok := order[id]
		if !ok {
			return nil, fmt.Errorf("at byte offset %d: unknown section id %d", start, id)
		}
		if o <= last {
			return nil, fmt.Errorf("at byte offset %d: section %d out of order or duplicated", start, id)
		}
		last = o
		s := &Reader{Data: data, Base: start}
		switch id {
		case SecType:
			err = m.decodeTypes(s)
		case SecImport:
			err = m.decodeImports(s)
		case SecFunction:
			err = vec(s, func() error {
				ti, err := s.U32()
				m.Funcs = append(m.Funcs, ti)
				return err
			})
			funcCount = len(m.Funcs)
		case SecTable:
			err = vec(s, func() error {
				t, err := decodeTable(s)
				m.Tables = append(m.Tables, t)
				return err
			})
		case SecMemory:
			m.MemoryOffset = start
			err = vec(s, func() error {
				l, err := decodeLimits(s)
				m.Memories = append(m.Memories, l)
				return err
			})
		case SecGlobal:
			err = vec(s, func() error {
				off := s.Off()
				g, err := decodeGlobalType(s)
				if err != nil {
					return err
				}
				g.Offset = off
				g.Init, err = constExpr(s)
				m.Globals = append(m.Globals, g)
				return err
			})
		case SecExport:
			err = vec(s, func() error {
				var e Export
				var err error
				if e.Name, err = s.Name(); err != nil {
					return err
				}
				if e.Kind, err = s.Byte(); err != nil {
					return err
				}
				e.Index, err = s.U32()
				m.Exports = append(m.Exports, e)
				return err
			})
		case SecStart:
			m.HasStart = true
			m.Start, err = s.U32()
		case SecElement:
			m.Elements = data
			s.Pos = len(data)
		case SecDataCount:
			m.DataCount = data
			s.Pos = len(data)
		case SecCode:
			err = m.decodeCode(s)
		case SecData:
			m.Data = data
			s.Pos = len(data)
		}
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		if !s.EOF() {
			return nil, fmt.Errorf("section %d: %w", id, s.Errorf("trailing bytes"))
		}
	}
	if funcCount < 0 {
		funcCount = 0
	}
	if funcCount != len(m.Code) {
		return nil, fmt.Errorf("function section declares %d functions but code section has %d bodies", funcCount, len(m.Code))
	}
	return m, nil
}

// vec reads a vector count and calls f for each element.
func vec(r *Reader, f func() error) error {
	n, err := r.U32()
	if err != nil {
		return err
	}
	if int(n) > len(r.Data)-r.Pos {
		return r.Errorf("vector of %d elements longer than its section", n)
	}
	for i := uint32(0); i < n; i++ {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

func (m *Module) decodeTypes(r *Reader) error {
	return vec(r, func() error {
		b, err := r.Byte()
		if err != nil {
			return err
		}
		if b != 0x60 {
			return r.Errorf("expected function type 0x60, got 0x%02x", b)
		}
		var ft FuncType
		if ft.Params, err = valTypes(r); err != nil {
			return err
		}
		if ft.Results, err = valTypes(r); err != nil {
			return err
		}
		m.Types = append(m.Types, ft)
		return nil
	})
}

func valTypes(r *Reader) ([]ValType, error) {
	var out []ValType
	err := vec(r, func() error {
		t, err := valType(r)
		out = append(out, t)
		return err
	})
	return out, err
}

func valType(r *Reader) (ValType, error) {
	b, err := r.Byte()
	if err != nil {
		return 0, err
	}
	if !ValType(b).Valid() {
		return 0, r.Errorf("invalid value type 0x%02x", b)
	}
	return ValType(b), nil
}

func (m *Module) decodeImports(r *Reader) error {
	return vec(r, func() error {
		im := Import{Offset: r.Off()}
		var err error
		if im.Module, err = r.Name(); err != nil {
			return err
		}
		if im.Name, err = r.Name(); err != nil {
			return err
		}
		if im.Kind, err = r.Byte(); err != nil {
			return err
		}
		switch im.Kind {
		case KindFunc:
			im.Type, err = r.U32()
		case KindTable:
			var t Table
			t, err = decodeTable(r)
			im.Elem, im.Limits = t.Elem, t.Limits
		case KindMemory:
			im.Limits, err = decodeLimits(r)
		case KindGlobal:
			im.Global, err = decodeGlobalType(r)
		default:
			err = r.Errorf("invalid import kind 0x%02x", im.Kind)
		}
		m.Imports = append(m.Imports, im)
		return err
	})
}

func decodeTable(r *Reader) (Table, error) {
	t, err := valType(r)
	if err != nil {
		return Table{}, err
	}
	l, err := decodeLimits(r)
	return Table{Elem: t, Limits: l}, err
}

func decodeLimits(r *Reader) (Limits, error) {
	flag, err := r.Byte()
	if err != nil {
		return Limits{}, err
	}
	if flag > 3 {
		return Limits{}, r.Errorf("invalid limits flag 0x%02x", flag)
	}
	l := Limits{HasMax: flag&1 != 0, Shared: flag&2 != 0}
	if l.Min, err = r.U32(); err != nil {
		return l, err
	}
	if l.HasMax {
		l.Max, err = r.U32()
	}
	return l, err
}

func decodeGlobalType(r *Reader) (Global, error) {
	t, err := valType(r)
	if err != nil {
		return Global{}, err
	}
	mut, err := r.Byte()
	if err != nil {
		return Global{}, err
	}
	if mut > 1 {
		return Global{}, r.Errorf("invalid global mutability 0x%02x", mut)
	}
	return Global{Type: t, Mutable: mut == 1}, nil
}

// constExpr reads a constant expression up to and including its end opcode.
func constExpr(r *Reader) ([]byte, error) {
	start := r.Pos
	for {
		in, err := Next(r)
		if err != nil {
			return nil, err
		}
		if in.Op == OpEnd {
			return r.Data[start:r.Pos], nil
		}
	}
}

func (m *Module) decodeCode(r *Reader) error {
	return vec(r, func() error {
		size, err := r.U32()
		if err != nil {
			return err
		}
		base := r.Off()
		data, err := r.Bytes(int(size))
		if err != nil {
			return err
		}
		b := &Reader{Data: data, Base: base}
		var body Body
		var total uint64
		err = vec(b, func() error {
			n, err := b.U32()
			if err != nil {
				return err
			}
			t, err := valType(b)
			total += uint64(n)
			if total > 1<<20 {
				return b.Errorf("too many locals")
			}
			body.Locals = append(body.Locals, Locals{Count: n, Type: t})
			return err
		})
		if err != nil {
			return err
		}
		body.Code = data[b.Pos:]
		body.Offset = b.Off()
		if len(body.Code) == 0 || body.Code[len(body.Code)-1] != byte(OpEnd) {
			return b.Errorf("function body does not end with end opcode")
		}
		m.Code = append(m.Code, body)
		return nil
	})
}

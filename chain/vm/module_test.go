package vm

import (
	"github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"
)

// Helpers that assemble small test modules with wasmbin, so that the VM's
// tests need no external assembler.

// fn is one defined function of a test module.
type fn struct {
	params, results []wasmbin.ValType
	locals          []wasmbin.Locals
	code            []byte // without the final end
	export          string
}

// testModule describes a module: host imports by name, then functions. By
// default it gets one exported memory of one page and an exported alloc
// that returns 1024.
type testModule struct {
	imports  []string
	fns      []fn
	globals  []wasmbin.Global
	start    int // function index + 1; 0 for none
	memory   *wasmbin.Limits
	noAlloc  bool
	noMemory bool
	exports  []wasmbin.Export
	types    []wasmbin.FuncType
}

func (tm testModule) module() *wasmbin.Module {
	m := &wasmbin.Module{Types: append([]wasmbin.FuncType(nil), tm.types...)}
	for _, name := range tm.imports {
		sig, ok := hostSigs[name]
		if !ok {
			sig = wasmbin.FuncType{}
		}
		m.Imports = append(m.Imports, wasmbin.Import{Module: ImportModule, Name: name, Kind: wasmbin.KindFunc, Type: m.TypeIndex(sig)})
	}
	fns := tm.fns
	if !tm.noAlloc {
		fns = append(fns, fn{params: []wasmbin.ValType{i32}, results: []wasmbin.ValType{i32}, code: i32c(1024), export: ExportAlloc})
	}
	for _, f := range fns {
		ti := m.TypeIndex(wasmbin.FuncType{Params: f.params, Results: f.results})
		m.Funcs = append(m.Funcs, ti)
		m.Code = append(m.Code, wasmbin.Body{Locals: f.locals, Code: cat(f.code, op(wasmbin.OpEnd))})
		if f.export != "" {
			m.Exports = append(m.Exports, wasmbin.Export{Name: f.export, Kind: wasmbin.KindFunc, Index: uint32(len(tm.imports) + len(m.Funcs) - 1)})
		}
	}
	if !tm.noMemory {
		mem := wasmbin.Limits{Min: 1}
		if tm.memory != nil {
			mem = *tm.memory
		}
		m.Memories = []wasmbin.Limits{mem}
		m.Exports = append(m.Exports, wasmbin.Export{Name: ExportMemory, Kind: wasmbin.KindMemory})
	}
	m.Globals = tm.globals
	m.Exports = append(m.Exports, tm.exports...)
	if tm.start > 0 {
		m.HasStart, m.Start = true, uint32(tm.start-1)
	}
	return m
}

func (tm testModule) wasm() []byte { return tm.module().Encode() }

// method is a function with the method signature (ptr, len i32) -> ().
func method(name string, code ...[]byte) fn {
	return fn{params: []wasmbin.ValType{i32, i32}, code: cat(code...), export: name}
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func op(ops ...wasmbin.Opcode) []byte {
	var out []byte
	for _, o := range ops {
		if p := o.Prefix(); p != 0 {
			out = append(out, p)
			out = wasmbin.AppendU32(out, uint32(o&0xff))
			continue
		}
		out = append(out, byte(o))
	}
	return out
}

func i32c(v int32) []byte { return wasmbin.AppendS64([]byte{byte(wasmbin.OpI32Const)}, int64(v)) }
func i64c(v int64) []byte { return wasmbin.AppendS64([]byte{byte(wasmbin.OpI64Const)}, v) }

// withIdx is an opcode with one u32 immediate (local/global index, label,
// function index).
func withIdx(o wasmbin.Opcode, idx uint32) []byte { return wasmbin.AppendU32([]byte{byte(o)}, idx) }

// block opens block, loop or if with the empty block type.
func block(o wasmbin.Opcode) []byte { return []byte{byte(o), 0x40} }

func callHost(m testModule, name string) []byte {
	for i, n := range m.imports {
		if n == name {
			return withIdx(wasmbin.OpCall, uint32(i))
		}
	}
	panic("test module does not import " + name)
}

package vm

import (
	"context"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"
)

// Prepare validates raw wasm (rejects float/SIMD/threads opcodes, bad imports,
// oversized code) and returns the gas-instrumented module bytes that the node
// stores on chain at deploy time. It is deterministic: the same wasm and
// Config give the same bytes on every node. Errors are *Error values with
// CodeInvalidModule.
func Prepare(wasm []byte, cfg Config) ([]byte, error) {
	cfg = cfg.withDefaults()
	if len(wasm) > cfg.MaxCodeSize {
		return nil, errorf(CodeInvalidModule, "code is %d bytes, over the limit of %d bytes", len(wasm), cfg.MaxCodeSize)
	}
	m, err := wasmbin.Decode(wasm)
	if err != nil {
		return nil, errorf(CodeInvalidModule, "invalid wasm: %v", err)
	}
	// The contract rules first, so that forbidden opcodes get their own
	// message even where wazero would reject them as unknown (threads).
	if err := checkModule(m, cfg); err != nil {
		return nil, err
	}
	if err := validate(wasm, cfg); err != nil {
		return nil, errorf(CodeInvalidModule, "invalid wasm: %v", err)
	}
	if err := instrument(m); err != nil {
		return nil, err
	}
	out := m.Encode()
	if err := validate(out, cfg); err != nil {
		return nil, errorf(CodeInvalidModule, "instrumented module does not validate (VM bug): %v", err)
	}
	return out, nil
}

// validate runs wazero's validator (WebAssembly 2.0 core features) on wasm.
func validate(wasm []byte, cfg Config) error {
	ctx := context.Background()
	rc := wazero.NewRuntimeConfigInterpreter().
		WithCoreFeatures(api.CoreFeaturesV2).
		WithMemoryLimitPages(cfg.MaxMemoryPages)
	r := wazero.NewRuntimeWithConfig(ctx, rc)
	defer r.Close(ctx)
	cm, err := r.CompileModule(ctx, wasm)
	if err != nil {
		return err
	}
	return cm.Close(ctx)
}

// checkModule applies the contract rules that wazero's validator does not:
// no floating point, SIMD, threads or unmetered bulk operations; imports
// only from the host ABI; one memory within the page limit; the ABI exports.
func checkModule(m *wasmbin.Module, cfg Config) error {
	for i, t := range m.Types {
		if err := noFloat(t.Params, "type %d parameter", i); err != nil {
			return err
		}
		if err := noFloat(t.Results, "type %d result", i); err != nil {
			return err
		}
	}
	for i, im := range m.Imports {
		if err := checkImport(m, i, im); err != nil {
			return err
		}
	}
	for i, g := range m.Globals {
		if isFloat(g.Type) {
			return errorf(CodeInvalidModule, "global %d at byte offset %d has type %v: %s is not allowed", i, g.Offset, g.Type, banned(g.Type))
		}
	}
	if len(m.Tables) > 1 {
		return errorf(CodeInvalidModule, "module declares %d tables; at most one is allowed", len(m.Tables))
	}
	for _, t := range m.Tables {
		if t.Limits.Min > maxTableSize {
			return errorf(CodeInvalidModule, "table of %d entries is over the limit of %d", t.Limits.Min, maxTableSize)
		}
	}
	if len(m.Memories) != 1 {
		return errorf(CodeInvalidModule, "module declares %d memories; a contract needs exactly one", len(m.Memories))
	}
	if mem := m.Memories[0]; mem.Shared {
		return errorf(CodeInvalidModule, "shared memory (threads) is not allowed")
	} else if mem.Min > cfg.MaxMemoryPages {
		return errorf(CodeInvalidModule, "memory at byte offset %d starts at %d pages, over the limit of %d pages", m.MemoryOffset, mem.Min, cfg.MaxMemoryPages)
	}
	if err := checkExports(m); err != nil {
		return err
	}
	nimp := m.NumImportedFuncs()
	for i := range m.Code {
		if err := checkBody(m, nimp+i, &m.Code[i]); err != nil {
			return err
		}
	}
	return nil
}

func checkImport(m *wasmbin.Module, i int, im wasmbin.Import) error {
	where := fmt.Sprintf("import %d %q.%q at byte offset %d", i, im.Module, im.Name, im.Offset)
	if im.Kind != wasmbin.KindFunc {
		return errorf(CodeInvalidModule, "%s: only functions may be imported", where)
	}
	want, ok := hostSigs[im.Name]
	if im.Module != ImportModule || !ok {
		return errorf(CodeInvalidModule, "%s: unknown import; contracts may import only these functions of module %q: %s", where, ImportModule, hostNames())
	}
	if int(im.Type) >= len(m.Types) || !m.Types[im.Type].Equal(want) {
		got := "an invalid type"
		if int(im.Type) < len(m.Types) {
			got = m.Types[im.Type].String()
		}
		return errorf(CodeInvalidModule, "%s: has signature %s, want %s", where, got, want)
	}
	return nil
}

func checkExports(m *wasmbin.Module) error {
	var haveMem, haveAlloc bool
	for _, e := range m.Exports {
		if strings.HasPrefix(e.Name, reservedPrefix) {
			return errorf(CodeInvalidModule, "export %q uses the reserved prefix %q", e.Name, reservedPrefix)
		}
		switch {
		case e.Name == ExportMemory && e.Kind == wasmbin.KindMemory:
			haveMem = true
		case e.Name == ExportAlloc && e.Kind == wasmbin.KindFunc:
			ft, _ := m.FuncTypeOf(e.Index)
			want := wasmbin.FuncType{Params: []wasmbin.ValType{i32}, Results: []wasmbin.ValType{i32}}
			if !ft.Equal(want) {
				return errorf(CodeInvalidModule, "export %q has signature %s, want %s", ExportAlloc, ft, want)
			}
			haveAlloc = true
		}
	}
	if !haveMem {
		return errorf(CodeInvalidModule, "module does not export its memory as %q", ExportMemory)
	}
	if !haveAlloc {
		return errorf(CodeInvalidModule, "module does not export the function %q (i32) -> (i32)", ExportAlloc)
	}
	return nil
}

// checkBody rejects forbidden local types and opcodes in one function body.
// fi is the function's index in the function index space.
func checkBody(m *wasmbin.Module, fi int, b *wasmbin.Body) error {
	if n := b.NumLocals(); n > maxLocals {
		return errorf(CodeInvalidModule, "function %d declares %d locals, over the limit of %d", fi, n, maxLocals)
	}
	r := &wasmbin.Reader{Data: b.Code, Base: b.Offset}
	for !r.EOF() {
		off := r.Off()
		in, err := wasmbin.Next(r)
		if err != nil {
			return errorf(CodeInvalidModule, "function %d: %v", fi, err)
		}
		if why := forbidden(m, &in); why != "" {
			return errorf(CodeInvalidModule, "function %d: opcode %s at byte offset %d is not allowed: %s", fi, opName(in.Op), off, why)
		}
	}
	for _, l := range b.Locals {
		if isFloat(l.Type) {
			return errorf(CodeInvalidModule, "function %d has a local of type %v: %s is not allowed", fi, l.Type, banned(l.Type))
		}
	}
	return nil
}

// forbidden returns why an instruction is not allowed, or "".
func forbidden(m *wasmbin.Module, in *wasmbin.Instr) string {
	op := in.Op
	switch op.Prefix() {
	case wasmbin.PrefixSIMD:
		return "SIMD"
	case wasmbin.PrefixThreads:
		return "threads and atomics"
	case wasmbin.PrefixMisc:
		sub := op & 0xff
		switch {
		case sub <= 7:
			return "floating point"
		case op == wasmbin.OpMemoryCopy || op == wasmbin.OpMemoryFill:
			return ""
		}
		return "bulk table and passive segment operations are not supported"
	}
	switch {
	case isFloatOp(op):
		return "floating point"
	case op == 0x12 || op == 0x13:
		return "tail calls are not supported"
	case op >= 0x06 && op <= 0x0a, op == 0x18, op == 0x19:
		return "exception handling is not supported"
	case op == wasmbin.OpBlock || op == wasmbin.OpLoop || op == wasmbin.OpIf:
		if t, ok := in.BlockValType(); ok && isFloat(t) {
			return "block result type " + t.String() + ": " + banned(t)
		}
		if in.BlockType >= 0 && int(in.BlockType) < len(m.Types) {
			t := m.Types[in.BlockType]
			if hasFloat(t.Params) || hasFloat(t.Results) {
				return "block type " + t.String() + ": floating point"
			}
		}
	case op == wasmbin.OpSelectT && hasFloat(in.Types):
		return "select of floating point values"
	}
	return ""
}

// banned names the feature a forbidden value type belongs to.
func banned(t wasmbin.ValType) string {
	if t == wasmbin.V128 {
		return "SIMD"
	}
	return "floating point"
}

// isFloat reports whether t is a forbidden value type: f32, f64 or v128.
func isFloat(t wasmbin.ValType) bool {
	return t == wasmbin.F32 || t == wasmbin.F64 || t == wasmbin.V128
}

func hasFloat(ts []wasmbin.ValType) bool {
	for _, t := range ts {
		if isFloat(t) {
			return true
		}
	}
	return false
}

func noFloat(ts []wasmbin.ValType, format string, i int) error {
	for j, t := range ts {
		if isFloat(t) {
			return errorf(CodeInvalidModule, format+" %d has type %v: %s is not allowed", i, j, t, banned(t))
		}
	}
	return nil
}

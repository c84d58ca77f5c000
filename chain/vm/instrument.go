package vm

import (
	"github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"
)

// Status values that injected code stores in the status global before it
// traps, so that Execute can tell why the contract stopped.
const (
	statusOutOfGas    = 1
	statusCallDepth   = 2
	statusMemoryLimit = 3
)

// instrumenter rewrites a checked module for metering. It only appends to
// the type, function and global index spaces (imports are never added), so
// no existing index changes.
//
// Injected state, exported for the host:
//
//	global gas    i64 mut  remaining gas; set to the limit before a call
//	global depth  i32 mut  remaining call depth; set to MaxCallDepth
//	global status i32 mut  why injected code trapped (status* constants)
//
// Every function body becomes
//
//	depth -= 1; if depth < 0 { trap(statusCallDepth) }   (not in leaf functions)
//	block (result <function results>)
//	  <body with a gas charge at each basic block entry, return -> br>
//	end
//	depth += 1                                           (not in leaf functions)
//
// A leaf function (no call or call_indirect) skips the depth accounting: it
// adds at most one frame, so the stack still stays within MaxCallDepth+1.
// A basic block starts at function entry and after each block, loop, if,
// else, end, br, br_if, br_table, return and unreachable; its charge is the
// sum of instrCost over its instructions, paid before any of them runs.
// memory.grow, memory.copy and memory.fill become calls to helpers that
// charge for their size first; a memory.grow that fails (past the memory
// limit) returns -1 as usual and records statusMemoryLimit.
type instrumenter struct {
	m                            *wasmbin.Module
	gas, depth, status           uint32 // global indices
	trapFn, growFn, copyFn, fill uint32 // helper function indices
}

func instrument(m *wasmbin.Module) error {
	ng := uint32(m.NumImportedGlobals() + len(m.Globals))
	nf := uint32(m.NumImportedFuncs() + len(m.Funcs))
	in := &instrumenter{m: m, gas: ng, depth: ng + 1, status: ng + 2,
		trapFn: nf, growFn: nf + 1, copyFn: nf + 2, fill: nf + 3}
	nimp := m.NumImportedFuncs()
	for i := range m.Code {
		ft, _ := m.FuncTypeOf(uint32(nimp + i))
		code, err := in.body(&m.Code[i], ft, nimp+i)
		if err != nil {
			return err
		}
		m.Code[i].Code = code
	}
	in.addHelpers()
	m.Globals = append(m.Globals,
		wasmbin.Global{Type: wasmbin.I64, Mutable: true, Init: []byte{byte(wasmbin.OpI64Const), 0, byte(wasmbin.OpEnd)}},
		wasmbin.Global{Type: wasmbin.I32, Mutable: true, Init: []byte{byte(wasmbin.OpI32Const), 0, byte(wasmbin.OpEnd)}},
		wasmbin.Global{Type: wasmbin.I32, Mutable: true, Init: []byte{byte(wasmbin.OpI32Const), 0, byte(wasmbin.OpEnd)}},
	)
	m.Exports = append(m.Exports,
		wasmbin.Export{Name: exportGas, Kind: wasmbin.KindGlobal, Index: in.gas},
		wasmbin.Export{Name: exportDepth, Kind: wasmbin.KindGlobal, Index: in.depth},
		wasmbin.Export{Name: exportStatus, Kind: wasmbin.KindGlobal, Index: in.status},
	)
	if m.HasStart {
		// The start function runs after the host has set the gas global.
		m.Exports = append(m.Exports, wasmbin.Export{Name: exportStart, Kind: wasmbin.KindFunc, Index: m.Start})
		m.HasStart = false
	}
	return nil
}

// body returns the instrumented code of one function (index fi).
func (in *instrumenter) body(b *wasmbin.Body, ft wasmbin.FuncType, fi int) ([]byte, error) {
	var instrs []wasmbin.Instr
	r := &wasmbin.Reader{Data: b.Code, Base: b.Offset}
	for !r.EOF() {
		ins, err := wasmbin.Next(r)
		if err != nil {
			return nil, errorf(CodeInvalidModule, "function %d: %v", fi, err)
		}
		instrs = append(instrs, ins)
	}
	// charges[i] is the gas paid just before instrs[i].
	charges := make([]int64, len(instrs)+1)
	start, cost := 0, int64(GasFuncEntry+GasPerLocal*int64(b.NumLocals()))
	for i := range instrs {
		cost += instrCost(instrs[i].Op)
		if isBlockBoundary(instrs[i].Op) {
			charges[start] += cost
			start, cost = i+1, 0
		}
	}

	// A leaf function (one that calls nothing) adds one frame at most, so
	// it needs no depth accounting: the wasm stack stays within
	// MaxCallDepth+1 frames.
	leaf := true
	for i := range instrs {
		if instrs[i].Op == wasmbin.OpCall || instrs[i].Op == wasmbin.OpCallIndirect {
			leaf = false
			break
		}
	}
	out := make([]byte, 0, len(b.Code)*2+32)
	if !leaf {
		out = in.depthPrologue(out)
	}
	out = append(out, byte(wasmbin.OpBlock))
	out = wasmbin.AppendS64(out, in.blockType(ft.Results))
	nest := uint32(0)
	last := len(instrs) - 1
	for i := range instrs {
		ins := &instrs[i]
		if charges[i] > 0 {
			out = in.charge(out, charges[i])
		}
		raw := b.Code[ins.Pos:ins.End]
		switch ins.Op {
		case wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpIf:
			nest++
			out = append(out, raw...)
		case wasmbin.OpEnd:
			if i == last {
				out = append(out, byte(wasmbin.OpEnd))
				if !leaf {
					out = in.depthEpilogue(out)
				}
				out = append(out, byte(wasmbin.OpEnd))
				continue
			}
			nest--
			out = append(out, raw...)
		case wasmbin.OpReturn:
			// The wrapper block is label nest; branching there runs the
			// epilogue, then the function returns with the block's results.
			out = append(out, byte(wasmbin.OpBr))
			out = wasmbin.AppendU32(out, nest)
		case wasmbin.OpMemoryGrow:
			out = in.call(out, in.growFn)
		case wasmbin.OpMemoryCopy:
			out = in.call(out, in.copyFn)
		case wasmbin.OpMemoryFill:
			out = in.call(out, in.fill)
		default:
			out = append(out, raw...)
		}
	}
	return out, nil
}

func isBlockBoundary(op wasmbin.Opcode) bool {
	switch op {
	case wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpIf, wasmbin.OpElse, wasmbin.OpEnd,
		wasmbin.OpBr, wasmbin.OpBrIf, wasmbin.OpBrTable, wasmbin.OpReturn, wasmbin.OpUnreachable:
		return true
	}
	return false
}

// blockType returns the s33 block type whose results are results.
func (in *instrumenter) blockType(results []wasmbin.ValType) int64 {
	switch len(results) {
	case 0:
		return -64 // 0x40, empty
	case 1:
		return int64(int8(byte(results[0]) | 0x80)) // single value type as s33
	}
	return int64(in.m.TypeIndex(wasmbin.FuncType{Results: results}))
}

func (in *instrumenter) call(out []byte, fn uint32) []byte {
	out = append(out, byte(wasmbin.OpCall))
	return wasmbin.AppendU32(out, fn)
}

// charge appends: gas -= cost; if gas < 0 { trap(statusOutOfGas) }.
func (in *instrumenter) charge(out []byte, cost int64) []byte {
	out = in.globalGet(out, in.gas)
	out = append(out, byte(wasmbin.OpI64Const))
	out = wasmbin.AppendS64(out, cost)
	out = append(out, byte(wasmbin.OpI64Sub))
	return in.payOrTrap(out)
}

// payOrTrap appends, with the new gas value on the stack:
// gas = value; if gas < 0 { trap(statusOutOfGas) }.
func (in *instrumenter) payOrTrap(out []byte) []byte {
	out = in.globalSet(out, in.gas)
	out = in.globalGet(out, in.gas)
	out = append(out, byte(wasmbin.OpI64Const), 0, byte(wasmbin.OpI64LtS))
	return in.trapIf(out, statusOutOfGas)
}

// trapIf appends: if <i32 on stack> { trap(status) }.
func (in *instrumenter) trapIf(out []byte, status byte) []byte {
	out = append(out, byte(wasmbin.OpIf), 0x40, byte(wasmbin.OpI32Const), status)
	out = in.call(out, in.trapFn)
	return append(out, byte(wasmbin.OpEnd))
}

func (in *instrumenter) depthPrologue(out []byte) []byte {
	out = in.globalGet(out, in.depth)
	out = append(out, byte(wasmbin.OpI32Const), 1, byte(wasmbin.OpI32Sub))
	out = in.globalSet(out, in.depth)
	out = in.globalGet(out, in.depth)
	out = append(out, byte(wasmbin.OpI32Const), 0, byte(wasmbin.OpI32LtS))
	return in.trapIf(out, statusCallDepth)
}

func (in *instrumenter) depthEpilogue(out []byte) []byte {
	out = in.globalGet(out, in.depth)
	out = append(out, byte(wasmbin.OpI32Const), 1, byte(wasmbin.OpI32Add))
	return in.globalSet(out, in.depth)
}

func (in *instrumenter) globalGet(out []byte, g uint32) []byte {
	return wasmbin.AppendU32(append(out, byte(wasmbin.OpGlobalGet)), g)
}

func (in *instrumenter) globalSet(out []byte, g uint32) []byte {
	return wasmbin.AppendU32(append(out, byte(wasmbin.OpGlobalSet)), g)
}

func (in *instrumenter) localGet(out []byte, l byte) []byte {
	return append(out, byte(wasmbin.OpLocalGet), l)
}

// addHelpers appends the helper functions trap, grow, copy and fill, in the
// order of their indices in the instrumenter.
func (in *instrumenter) addHelpers() {
	m := in.m
	tTrap := m.TypeIndex(wasmbin.FuncType{Params: []wasmbin.ValType{i32}})
	tGrow := m.TypeIndex(wasmbin.FuncType{Params: []wasmbin.ValType{i32}, Results: []wasmbin.ValType{i32}})
	tBulk := m.TypeIndex(wasmbin.FuncType{Params: []wasmbin.ValType{i32, i32, i32}})

	// trap(status): status global = status; unreachable.
	trap := in.localGet(nil, 0)
	trap = in.globalSet(trap, in.status)
	trap = append(trap, byte(wasmbin.OpUnreachable), byte(wasmbin.OpEnd))

	// grow(pages): pay GasGrowBase + pages*GasPerPage; r = memory.grow(pages);
	// if r == -1 { status = statusMemoryLimit }; return r. A failed grow
	// keeps its wasm meaning (-1); the status lets Execute report a later
	// trap (typically the allocator's) as CodeMemoryLimit.
	grow := in.globalGet(nil, in.gas)
	grow = in.localGet(grow, 0)
	grow = append(grow, byte(wasmbin.OpI64ExtendU), byte(wasmbin.OpI64Const))
	grow = wasmbin.AppendS64(grow, GasPerPage)
	grow = append(grow, byte(wasmbin.OpI64Mul), byte(wasmbin.OpI64Const))
	grow = wasmbin.AppendS64(grow, GasGrowBase)
	grow = append(grow, byte(wasmbin.OpI64Add), byte(wasmbin.OpI64Sub))
	grow = in.payOrTrap(grow)
	grow = in.localGet(grow, 0)
	grow = append(grow, byte(wasmbin.OpMemoryGrow), 0, byte(wasmbin.OpLocalTee), 1,
		byte(wasmbin.OpI32Const), 0x7f, byte(wasmbin.OpI32Eq))
	grow = append(grow, byte(wasmbin.OpIf), 0x40, byte(wasmbin.OpI32Const), statusMemoryLimit)
	grow = in.globalSet(grow, in.status)
	grow = append(grow, byte(wasmbin.OpEnd))
	grow = in.localGet(grow, 1)
	grow = append(grow, byte(wasmbin.OpEnd))

	bulk := func(op []byte) []byte {
		// pay GasBulkBase + n>>GasBulkShift; then the operation on (a, b, n).
		c := in.globalGet(nil, in.gas)
		c = in.localGet(c, 2)
		c = append(c, byte(wasmbin.OpI64ExtendU), byte(wasmbin.OpI64Const), GasBulkShift, byte(wasmbin.OpI64ShrU),
			byte(wasmbin.OpI64Const))
		c = wasmbin.AppendS64(c, GasBulkBase)
		c = append(c, byte(wasmbin.OpI64Add), byte(wasmbin.OpI64Sub))
		c = in.payOrTrap(c)
		c = in.localGet(c, 0)
		c = in.localGet(c, 1)
		c = in.localGet(c, 2)
		c = append(c, op...)
		return append(c, byte(wasmbin.OpEnd))
	}
	m.Funcs = append(m.Funcs, tTrap, tGrow, tBulk, tBulk)
	m.Code = append(m.Code,
		wasmbin.Body{Code: trap},
		wasmbin.Body{Code: grow, Locals: []wasmbin.Locals{{Count: 1, Type: wasmbin.I32}}},
		wasmbin.Body{Code: bulk([]byte{wasmbin.PrefixMisc, 10, 0, 0})},
		wasmbin.Body{Code: bulk([]byte{wasmbin.PrefixMisc, 11, 0})},
	)
}

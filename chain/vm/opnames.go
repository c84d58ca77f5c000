package vm

import (
	"fmt"
	"strings"

	"github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"
)

// floatOps names every floating-point instruction of WebAssembly 2.0 outside
// the SIMD prefix; they are all rejected by Prepare.
var floatOps = map[wasmbin.Opcode]string{
	0x2a: "f32.load", 0x2b: "f64.load", 0x38: "f32.store", 0x39: "f64.store",
	0x43: "f32.const", 0x44: "f64.const",
	0xa8: "i32.trunc_f32_s", 0xa9: "i32.trunc_f32_u", 0xaa: "i32.trunc_f64_s", 0xab: "i32.trunc_f64_u",
	0xae: "i64.trunc_f32_s", 0xaf: "i64.trunc_f32_u", 0xb0: "i64.trunc_f64_s", 0xb1: "i64.trunc_f64_u",
	0xb2: "f32.convert_i32_s", 0xb3: "f32.convert_i32_u", 0xb4: "f32.convert_i64_s", 0xb5: "f32.convert_i64_u",
	0xb6: "f32.demote_f64",
	0xb7: "f64.convert_i32_s", 0xb8: "f64.convert_i32_u", 0xb9: "f64.convert_i64_s", 0xba: "f64.convert_i64_u",
	0xbb: "f64.promote_f32",
	0xbc: "i32.reinterpret_f32", 0xbd: "i64.reinterpret_f64", 0xbe: "f32.reinterpret_i32", 0xbf: "f64.reinterpret_i64",
}

func init() {
	for i, n := range strings.Fields("eq ne lt gt le ge") {
		floatOps[wasmbin.Opcode(0x5b+i)] = "f32." + n
		floatOps[wasmbin.Opcode(0x61+i)] = "f64." + n
	}
	for i, n := range strings.Fields("abs neg ceil floor trunc nearest sqrt add sub mul div min max copysign") {
		floatOps[wasmbin.Opcode(0x8b+i)] = "f32." + n
		floatOps[wasmbin.Opcode(0x99+i)] = "f64." + n
	}
	for i, n := range strings.Fields("i32.trunc_sat_f32_s i32.trunc_sat_f32_u i32.trunc_sat_f64_s i32.trunc_sat_f64_u i64.trunc_sat_f32_s i64.trunc_sat_f32_u i64.trunc_sat_f64_s i64.trunc_sat_f64_u") {
		floatOps[wasmbin.PrefixMisc<<8|wasmbin.Opcode(i)] = n
	}
}

var otherOps = map[wasmbin.Opcode]string{
	0x06: "try", 0x07: "catch", 0x08: "throw", 0x09: "rethrow", 0x0a: "throw_ref",
	0x12: "return_call", 0x13: "return_call_indirect", 0x18: "delegate", 0x19: "catch_all",
	wasmbin.PrefixMisc<<8 | 8: "memory.init", wasmbin.PrefixMisc<<8 | 9: "data.drop",
	wasmbin.PrefixMisc<<8 | 12: "table.init", wasmbin.PrefixMisc<<8 | 13: "elem.drop",
	wasmbin.PrefixMisc<<8 | 14: "table.copy", wasmbin.PrefixMisc<<8 | 15: "table.grow",
	wasmbin.PrefixMisc<<8 | 16: "table.size", wasmbin.PrefixMisc<<8 | 17: "table.fill",
	0x02: "block", 0x03: "loop", 0x04: "if", 0x1c: "select",
}

// isFloatOp reports whether op is a floating-point instruction.
func isFloatOp(op wasmbin.Opcode) bool {
	_, ok := floatOps[op]
	return ok
}

// opName returns the opcode bytes and, where known, the mnemonic, e.g.
// "0x92 (f32.add)" or "0xfd 12".
func opName(op wasmbin.Opcode) string {
	var code string
	if p := op.Prefix(); p != 0 {
		code = fmt.Sprintf("0x%02x %d", p, op&0xff)
	} else {
		code = fmt.Sprintf("0x%02x", uint32(op))
	}
	if n, ok := floatOps[op]; ok {
		return code + " (" + n + ")"
	}
	if n, ok := otherOps[op]; ok {
		return code + " (" + n + ")"
	}
	switch op.Prefix() {
	case wasmbin.PrefixSIMD:
		return code + " (SIMD)"
	case wasmbin.PrefixThreads:
		return code + " (atomic)"
	}
	return code
}

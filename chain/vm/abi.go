package vm

import (
	"sort"
	"strings"

	"github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"
)

// ImportModule is the only module name contracts may import from.
const ImportModule = "xairrosx"

// Names of the ABI exports.
const (
	// ExportMemory is the contract's linear memory.
	ExportMemory = "memory"
	// ExportAlloc is alloc(len i32) -> ptr i32: the host calls it to get
	// len bytes of memory where it writes a method's input.
	ExportAlloc = "alloc"

	// reservedPrefix starts the names of exports added by Prepare.
	reservedPrefix = "__xairrosx_"
	exportGas      = reservedPrefix + "gas"
	exportDepth    = reservedPrefix + "depth"
	exportStatus   = reservedPrefix + "status"
	exportStart    = reservedPrefix + "start"
)

// Size limits of data crossing the host boundary.
const (
	MaxKeySize    = 1 << 10
	MaxValueSize  = 256 << 10
	MaxOutputSize = 256 << 10
	MaxInputSize  = 1 << 20
	MaxEventSize  = 16 << 10
	maxRevertMsg  = 1 << 10
	maxLocals     = 4096
	maxTableSize  = 1 << 16
	maxMethodName = 128
)

var (
	i32 = wasmbin.I32
	i64 = wasmbin.I64
)

// hostSigs are the signatures of the host functions in module "xairrosx".
// Pointers and lengths are i32; functions returning variable-length data
// return its length (or -1 for "absent") and leave the bytes in the
// execution's result buffer, which the contract copies with read_result.
var hostSigs = map[string]wasmbin.FuncType{
	"return_data":  {Params: []wasmbin.ValType{i32, i32}},
	"revert":       {Params: []wasmbin.ValType{i32, i32}},
	"read_result":  {Params: []wasmbin.ValType{i32}},
	"storage_get":  {Params: []wasmbin.ValType{i32, i32}, Results: []wasmbin.ValType{i32}},
	"storage_set":  {Params: []wasmbin.ValType{i32, i32, i32, i32}},
	"caller":       {Results: []wasmbin.ValType{i32}},
	"self":         {Results: []wasmbin.ValType{i32}},
	"block_height": {Results: []wasmbin.ValType{i64}},
	"gas_left":     {Results: []wasmbin.ValType{i64}},
	"emit":         {Params: []wasmbin.ValType{i32, i32, i32, i32}},
	"call":         {Params: []wasmbin.ValType{i32, i32, i32, i32, i32, i32, i64}, Results: []wasmbin.ValType{i32}},
	"infer":        {Params: []wasmbin.ValType{i32, i32, i32, i32}, Results: []wasmbin.ValType{i32}},
}

// hostNames returns the host function names, sorted, for messages.
func hostNames() string {
	names := make([]string, 0, len(hostSigs))
	for n := range hostSigs {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

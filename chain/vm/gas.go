package vm

import "github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"

// Gas schedule. These constants are consensus rules: changing one changes the
// gas used by every contract, so they only change with a chain upgrade.
const (
	// GasFuncEntry is charged on every function entry, plus GasPerLocal for
	// each declared local (they are zero-initialised).
	GasFuncEntry = 5
	GasPerLocal  = 1
	// GasPerPage is charged per 64 KiB page of the initial memory when a
	// contract is instantiated (every Execute) and per page that
	// memory.grow asks for (also when it fails), plus GasGrowBase per
	// memory.grow.
	GasPerPage  = 8192
	GasGrowBase = 100
	// memory.copy and memory.fill cost GasBulkBase plus one gas per
	// 1<<GasBulkShift bytes.
	GasBulkBase  = 10
	GasBulkShift = 3

	// Host functions: each call costs GasHostBase plus what is listed.
	GasHostBase       = 50
	GasPerByte        = 1    // per byte copied between memory and the host
	GasStorageRead    = 200  // plus GasPerByte per key and value byte
	GasStorageWrite   = 1000 // plus GasStorageByte per key and value byte
	GasStorageByte    = 5
	GasEmit           = 200  // plus GasPerByte per kind and attribute byte
	GasCall           = 1000 // plus the gas the callee used
	GasInfer          = 50000
	GasInferPerByte   = 2 // per input and output byte
	GasBlockHeightGet = 20
)

// instrCost returns the gas charged for one instruction of a basic block.
func instrCost(op wasmbin.Opcode) int64 {
	switch {
	case op == wasmbin.OpBlock || op == wasmbin.OpLoop || op == wasmbin.OpElse ||
		op == wasmbin.OpEnd || op == wasmbin.OpNop:
		return 0
	case op == wasmbin.OpCall:
		return 5
	case op == wasmbin.OpCallIndirect:
		return 8
	case op >= 0x28 && op <= 0x3e: // loads and stores
		return 2
	case op >= 0x6d && op <= 0x70, op >= 0x7f && op <= 0x82: // div and rem
		return 4
	case op == 0x6c || op == 0x7e: // mul
		return 2
	}
	return 1
}

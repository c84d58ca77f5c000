// Package vm is the XairrosX smart-contract virtual machine: it validates
// WebAssembly contracts at deploy time (rejecting float, SIMD and threads
// opcodes, unknown imports and oversized code), instruments them with
// deterministic gas metering, and executes them on wazero with memory,
// call-depth and gas limits against a Host supplied by the node.
//
// The contract ABI (imports in the "xairrosx" namespace, the exported alloc
// function and memory, method signature (ptr, len) -> ()) is described in
// docs/contracts.md.
//
// Determinism: Prepare is a pure function of its inputs; Execute charges gas
// from a fixed cost table at basic-block entry, so gas used, output, state
// writes and errors are identical on every node and in both wazero engines.
package vm

// Host is what a contract can reach; the node implements it over its state
// for one execution.
type Host interface {
	// Get is a contract-scoped storage read (nil, nil when absent).
	Get(key []byte) ([]byte, error)
	// Set is a contract-scoped storage write.
	Set(key, value []byte) error
	// Caller is the address of the account or contract that called.
	Caller() []byte
	// Self is the address of the running contract.
	Self() []byte
	// BlockHeight is the height of the block being executed.
	BlockHeight() int64
	// Emit records an event into the block results.
	Emit(kind string, attrs map[string]string) error
	// Call runs another contract's export with the given gas limit; the VM
	// charges what it used.
	Call(contract []byte, method string, input []byte, gasLimit uint64) (output []byte, gasUsed uint64, err error)
	// Infer runs a registered int8 model (identified by the SHA-256 of its
	// bytes) on raw input bytes.
	Infer(modelHash []byte, input []byte) (output []byte, err error)
}

// Config holds the limits of the VM. Zero fields take the defaults below.
// All nodes of a chain must use the same Config.
type Config struct {
	// MaxMemoryPages caps a contract's linear memory in 64 KiB pages.
	MaxMemoryPages uint32
	// MaxCallDepth caps the wasm call depth inside one contract execution
	// (frames of functions that call others; at most 1024). Nested
	// cross-contract calls are capped separately by MaxContractDepth.
	MaxCallDepth int
	// MaxCodeSize caps the size of the raw wasm given to Prepare, in bytes.
	MaxCodeSize int
	// Compiler selects wazero's compiler when the platform supports it
	// (executable memory on amd64/arm64); the interpreter is used otherwise.
	Compiler bool
}

// Default limits used for zero Config fields.
const (
	DefaultMaxMemoryPages = 256 // 16 MiB
	DefaultMaxCallDepth   = 256
	DefaultMaxCodeSize    = 512 << 10
	// MaxContractDepth caps nested cross-contract calls (the depth argument
	// of Execute).
	MaxContractDepth = 16
	// maxCallDepthCeiling keeps MaxCallDepth under wazero's interpreter
	// frame ceiling (2000 frames), so that our limit always fires first.
	maxCallDepthCeiling = 1024
)

// Result is the outcome of a successful execution.
type Result struct {
	// Output is what the contract passed to return_data (nil if never called).
	Output []byte
	// GasUsed is the gas charged, including host calls and nested calls.
	GasUsed uint64
}

// withDefaults returns cfg with zero fields replaced by the defaults.
func (cfg Config) withDefaults() Config {
	if cfg.MaxMemoryPages == 0 {
		cfg.MaxMemoryPages = DefaultMaxMemoryPages
	}
	if cfg.MaxCallDepth == 0 {
		cfg.MaxCallDepth = DefaultMaxCallDepth
	}
	if cfg.MaxCodeSize == 0 {
		cfg.MaxCodeSize = DefaultMaxCodeSize
	}
	return cfg
}

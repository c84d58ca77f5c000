package vm

import (
	"context"
	"sync"

	"github.com/tetratelabs/wazero"
)

// Engine holds a wazero runtime and a cache of compiled modules keyed by the
// SHA-256 of their prepared code. It is safe for concurrent use.
type Engine struct {
	cfg     Config
	runtime wazero.Runtime
	mu      sync.Mutex
	cache   map[[32]byte]wazero.CompiledModule
}

// NewEngine creates an engine with the given limits.
func NewEngine(ctx context.Context, cfg Config) (*Engine, error) {
	return nil, errorf(CodeHost, "not implemented yet")
}

// Close releases the runtime and every compiled module.
func (e *Engine) Close(ctx context.Context) error { return nil }

// Prepare validates raw wasm (rejects float/SIMD/threads opcodes, bad imports,
// oversized code) and returns the gas-instrumented module bytes that the node
// stores on chain at deploy time. It is deterministic: the same wasm and
// Config give the same bytes on every node.
func Prepare(wasm []byte, cfg Config) ([]byte, error) {
	return nil, errorf(CodeInvalidModule, "not implemented yet")
}

// Execute runs export method of prepared code with input, charging gas up to
// gasLimit. depth is the cross-contract nesting level (0 for a call from a
// transaction). Errors are *Error values; Result.GasUsed is valid on error too.
func (e *Engine) Execute(ctx context.Context, code []byte, method string, input []byte, gasLimit uint64, host Host, depth int) (Result, error) {
	return Result{}, errorf(CodeHost, "not implemented yet")
}

package vm

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"
)

// maxCachedModules bounds the compiled-module cache of an Engine.
const maxCachedModules = 256

// Engine holds a wazero runtime and a cache of compiled modules keyed by the
// SHA-256 of their prepared code. It is safe for concurrent use.
type Engine struct {
	cfg      Config
	compiler bool
	rt       wazero.Runtime

	mu    sync.Mutex
	cache map[[32]byte]*compiled
}

// compiled is a cache entry; refs counts executions using it.
type compiled struct {
	cm   wazero.CompiledModule
	refs int
	// memPages is the initial size of the module's memory, charged at
	// GasPerPage on every instantiation.
	memPages uint32
}

// NewEngine creates an engine with the given limits. With cfg.Compiler it
// uses wazero's compiler if CompilerSupported, and the interpreter otherwise.
func NewEngine(ctx context.Context, cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	if cfg.MaxMemoryPages > 65536 {
		return nil, errorf(CodeHost, "MaxMemoryPages %d is over the 65536 pages of a 32-bit memory", cfg.MaxMemoryPages)
	}
	if cfg.MaxCallDepth < 1 || cfg.MaxCallDepth > maxCallDepthCeiling {
		return nil, errorf(CodeHost, "MaxCallDepth %d is outside 1..%d", cfg.MaxCallDepth, maxCallDepthCeiling)
	}
	e := &Engine{cfg: cfg, compiler: cfg.Compiler && CompilerSupported(), cache: map[[32]byte]*compiled{}}
	rc := wazero.NewRuntimeConfigInterpreter()
	if e.compiler {
		rc = wazero.NewRuntimeConfigCompiler()
	}
	rc = rc.WithCoreFeatures(api.CoreFeaturesV2).WithMemoryLimitPages(cfg.MaxMemoryPages)
	e.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if err := e.instantiateHost(ctx); err != nil {
		e.rt.Close(ctx)
		return nil, errorf(CodeHost, "host module: %v", err)
	}
	return e, nil
}

// Compiler reports whether the engine runs wazero's compiler (true) or its
// interpreter (false).
func (e *Engine) Compiler() bool { return e.compiler }

// Close releases the runtime and every compiled module.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.cache = map[[32]byte]*compiled{}
	e.mu.Unlock()
	return e.rt.Close(ctx)
}

// Execute runs export method of prepared code with input, charging gas up to
// gasLimit (values over math.MaxInt64 are treated as math.MaxInt64). depth is
// the cross-contract nesting level: 0 for a call from a transaction, and a
// Host.Call implementation passes its own depth+1. Errors are *Error values;
// Result.GasUsed is valid on error too.
func (e *Engine) Execute(ctx context.Context, code []byte, method string, input []byte, gasLimit uint64, host Host, depth int) (Result, error) {
	if depth < 0 || depth > MaxContractDepth {
		return Result{}, errorf(CodeCallDepth, "cross-contract call depth %d is outside 0..%d", depth, MaxContractDepth)
	}
	if host == nil {
		return Result{}, errorf(CodeHost, "nil Host")
	}
	if len(input) > MaxInputSize {
		return Result{}, errorf(CodeHost, "input of %d bytes is over the limit of %d bytes", len(input), MaxInputSize)
	}
	gasLimit = min(gasLimit, math.MaxInt64)
	c, err := e.compile(ctx, code)
	if err != nil {
		return Result{}, err
	}
	defer e.release(c)
	fn, ok := c.cm.ExportedFunctions()[method]
	if !ok || method == ExportAlloc || strings.HasPrefix(method, reservedPrefix) {
		return Result{}, errorf(CodeNoMethod, "contract has no method %q", trunc(method))
	}
	if p, r := fn.ParamTypes(), fn.ResultTypes(); len(p) != 2 || p[0] != api.ValueTypeI32 || p[1] != api.ValueTypeI32 || len(r) != 0 {
		return Result{}, errorf(CodeNoMethod, "export %q does not have the method signature (i32, i32) -> ()", trunc(method))
	}

	mod, err := e.rt.InstantiateModule(ctx, c.cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return Result{}, errorf(CodeTrap, "instantiation: %s", firstLine(err))
	}
	defer mod.Close(ctx)
	x := &execution{engine: e, host: host, depth: depth, limit: gasLimit, mod: mod}
	var ok1, ok2, ok3 bool
	x.gas, ok1 = mod.ExportedGlobal(exportGas).(api.MutableGlobal)
	x.callDepth, ok2 = mod.ExportedGlobal(exportDepth).(api.MutableGlobal)
	x.status, ok3 = mod.ExportedGlobal(exportStatus).(api.MutableGlobal)
	if !ok1 || !ok2 || !ok3 {
		return Result{}, errorf(CodeInvalidModule, "code was not produced by Prepare (no metering globals)")
	}
	x.gas.Set(gasLimit)
	x.callDepth.Set(uint64(e.cfg.MaxCallDepth))
	if err := x.try(func() { x.charge(GasPerPage * uint64(c.memPages)) }); err != nil {
		return Result{GasUsed: x.used()}, err
	}

	err = x.run(context.WithValue(ctx, execKey{}, x), method, input)
	used := x.used()
	if err != nil {
		return Result{GasUsed: used}, x.classify(err)
	}
	return Result{Output: x.output, GasUsed: used}, nil
}

// compile returns the cached compiled module of code, compiling it on a miss.
func (e *Engine) compile(ctx context.Context, code []byte) (*compiled, error) {
	key := sha256.Sum256(code)
	e.mu.Lock()
	if c, ok := e.cache[key]; ok {
		c.refs++
		e.mu.Unlock()
		return c, nil
	}
	e.mu.Unlock()

	memPages, err := checkPrepared(code)
	if err != nil {
		return nil, err
	}
	cm, err := e.rt.CompileModule(ctx, code)
	if err != nil {
		return nil, errorf(CodeInvalidModule, "compiling code: %s", firstLine(err))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.cache[key]; ok { // compiled concurrently
		cm.Close(ctx)
		c.refs++
		return c, nil
	}
	for k, old := range e.cache {
		if len(e.cache) < maxCachedModules {
			break
		}
		if old.refs == 0 {
			old.cm.Close(ctx)
			delete(e.cache, k)
		}
	}
	c := &compiled{cm: cm, refs: 1, memPages: memPages}
	e.cache[key] = c
	return c, nil
}

func (e *Engine) release(c *compiled) {
	e.mu.Lock()
	c.refs--
	e.mu.Unlock()
}

// checkPrepared checks that code has the shape Prepare gives (metering
// globals exported, no start section, one memory) and returns the initial
// number of memory pages.
func checkPrepared(code []byte) (uint32, error) {
	m, err := wasmbin.Decode(code)
	if err != nil {
		return 0, errorf(CodeInvalidModule, "decoding code: %v", err)
	}
	if m.HasStart || len(m.Memories) != 1 {
		return 0, errorf(CodeInvalidModule, "code was not produced by Prepare (start section or not one memory)")
	}
	found := 0
	for _, ex := range m.Exports {
		if ex.Kind == wasmbin.KindGlobal && (ex.Name == exportGas || ex.Name == exportDepth || ex.Name == exportStatus) {
			found++
		}
	}
	if found != 3 {
		return 0, errorf(CodeInvalidModule, "code was not produced by Prepare (no metering globals)")
	}
	return m.Memories[0].Min, nil
}

// execKey is the context key of the running *execution.
type execKey struct{}

// execution is the state of one Execute call, reachable from host functions
// through the context.
type execution struct {
	engine *Engine
	host   Host
	depth  int
	limit  uint64
	mod    api.Module

	gas, callDepth, status api.MutableGlobal

	output []byte // set by return_data
	result []byte // the result buffer, read by read_result
}

// run calls the start function (if any), alloc, then the method.
func (x *execution) run(ctx context.Context, method string, input []byte) error {
	if f := x.mod.ExportedFunction(exportStart); f != nil {
		if _, err := f.Call(ctx); err != nil {
			return err
		}
	}
	res, err := x.mod.ExportedFunction(ExportAlloc).Call(ctx, uint64(len(input)))
	if err != nil {
		return err
	}
	ptr := uint32(res[0])
	if !x.mod.Memory().Write(ptr, input) {
		return errorf(CodeTrap, "alloc(%d) returned %d, out of bounds of memory (%d bytes)", len(input), ptr, x.mod.Memory().Size())
	}
	_, err = x.mod.ExportedFunction(method).Call(ctx, uint64(ptr), uint64(len(input)))
	return err
}

// try runs f, which may stop the execution by panicking with an *Error (as
// host functions do), and returns that error.
func (x *execution) try(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			ve, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			err = ve
		}
	}()
	f()
	return nil
}

// remaining returns the gas left (negative once exhausted).
func (x *execution) remaining() int64 { return int64(x.gas.Get()) }

// used returns the gas used so far, at most the limit.
func (x *execution) used() uint64 {
	r := x.remaining()
	if r < 0 {
		return x.limit
	}
	return x.limit - uint64(r)
}

// classify turns an error from a wasm call into an *Error.
func (x *execution) classify(err error) *Error {
	var ve *Error
	if errors.As(err, &ve) {
		return ve
	}
	switch x.status.Get() {
	case statusOutOfGas:
		return errorf(CodeOutOfGas, "gas limit %d exhausted", x.limit)
	case statusCallDepth:
		return errorf(CodeCallDepth, "wasm call depth over the limit of %d", x.engine.cfg.MaxCallDepth)
	case statusMemoryLimit:
		return errorf(CodeMemoryLimit, "%s after memory.grow failed at the limit of %d pages (or the module's declared maximum)", firstLine(err), x.engine.cfg.MaxMemoryPages)
	}
	return errorf(CodeTrap, "%s", firstLine(err))
}

// firstLine returns the first line of err's message (wazero appends a wasm
// stack trace on the following lines).
func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// trunc shortens user-supplied names in messages.
func trunc(s string) string {
	if len(s) > maxMethodName {
		return s[:maxMethodName] + "..."
	}
	return s
}

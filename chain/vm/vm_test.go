package vm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"
)

// mapHost is a minimal Host over a map.
type mapHost struct {
	kv     map[string][]byte
	events []string
	getErr error
}

func newHost() *mapHost { return &mapHost{kv: map[string][]byte{}} }

func (h *mapHost) Get(k []byte) ([]byte, error) {
	if h.getErr != nil {
		return nil, h.getErr
	}
	return h.kv[string(k)], nil
}
func (h *mapHost) Set(k, v []byte) error { h.kv[string(k)] = v; return nil }
func (h *mapHost) Caller() []byte        { return []byte("caller") }
func (h *mapHost) Self() []byte          { return []byte("self") }
func (h *mapHost) BlockHeight() int64    { return 7 }
func (h *mapHost) Emit(kind string, attrs map[string]string) error {
	h.events = append(h.events, fmt.Sprint(kind, attrs))
	return nil
}
func (h *mapHost) Call([]byte, string, []byte, uint64) ([]byte, uint64, error) {
	return nil, 0, errors.New("no contracts here")
}
func (h *mapHost) Infer([]byte, []byte) ([]byte, error) { return nil, errors.New("no models here") }

// bothEngines runs f on the interpreter and on the compiler.
func bothEngines(t *testing.T, cfg Config, f func(t *testing.T, e *Engine)) {
	for _, comp := range []bool{false, true} {
		cfg.Compiler = comp
		e, err := NewEngine(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("compiler=%v", e.Compiler()), func(t *testing.T) { f(t, e) })
		e.Close(context.Background())
	}
}

// run prepares tm and executes method with input.
func run(t *testing.T, e *Engine, tm testModule, method string, input []byte, gas uint64) (Result, error) {
	t.Helper()
	code, err := Prepare(tm.wasm(), e.cfg)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return e.Execute(context.Background(), code, method, input, gas, newHost(), 0)
}

func wantCode(t *testing.T, err error, code Code, msg string) {
	t.Helper()
	var ve *Error
	if !errors.As(err, &ve) || ve.Code != code || !strings.Contains(ve.Msg, msg) {
		t.Fatalf("got error %v, want code %v with %q", err, code, msg)
	}
}

// allocGas is the fixed cost of every call of a test module: its one page
// of initial memory and alloc (i32.const 1024).
const allocGas = GasPerPage + GasFuncEntry + 1

func TestGasExact(t *testing.T) {
	tm := testModule{fns: []fn{method("run", i32c(1), op(0x1a))}} // i32.const 1; drop
	bothEngines(t, Config{}, func(t *testing.T, e *Engine) {
		res, err := run(t, e, tm, "run", nil, 100000)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(allocGas + GasFuncEntry + 2); res.GasUsed != want {
			t.Fatalf("gas used %d, want %d", res.GasUsed, want)
		}
		// One gas short of that must fail with out-of-gas, charging the limit.
		res, err = run(t, e, tm, "run", nil, allocGas+GasFuncEntry+1)
		wantCode(t, err, CodeOutOfGas, "exhausted")
		if res.GasUsed != allocGas+GasFuncEntry+1 {
			t.Fatalf("out of gas used %d", res.GasUsed)
		}
	})
}

// countdown loops len times; each iteration costs 5 gas.
var countdown = testModule{fns: []fn{method("loop",
	block(wasmbin.OpBlock),
	withIdx(wasmbin.OpLocalGet, 1), op(wasmbin.OpI32Eqz), withIdx(wasmbin.OpBrIf, 0),
	block(wasmbin.OpLoop),
	withIdx(wasmbin.OpLocalGet, 1), i32c(1), op(wasmbin.OpI32Sub), withIdx(wasmbin.OpLocalTee, 1), withIdx(wasmbin.OpBrIf, 0),
	op(wasmbin.OpEnd), op(wasmbin.OpEnd),
)}}

func TestGasPerIteration(t *testing.T) {
	bothEngines(t, Config{}, func(t *testing.T, e *Engine) {
		a, err := run(t, e, countdown, "loop", make([]byte, 10), 1e6)
		if err != nil {
			t.Fatal(err)
		}
		b, err := run(t, e, countdown, "loop", make([]byte, 20), 1e6)
		if err != nil {
			t.Fatal(err)
		}
		if b.GasUsed-a.GasUsed != 50 {
			t.Fatalf("10 more iterations cost %d gas, want 50", b.GasUsed-a.GasUsed)
		}
	})
}

func TestInfiniteLoop(t *testing.T) {
	tm := testModule{fns: []fn{method("spin", block(wasmbin.OpLoop), withIdx(wasmbin.OpBr, 0), op(wasmbin.OpEnd))}}
	bothEngines(t, Config{}, func(t *testing.T, e *Engine) {
		res, err := run(t, e, tm, "spin", nil, 3_000_000)
		wantCode(t, err, CodeOutOfGas, "gas limit 3000000")
		if res.GasUsed != 3_000_000 {
			t.Fatalf("gas used %d", res.GasUsed)
		}
	})
}

func TestReturnRestoresDepth(t *testing.T) {
	// f(x) returns 7 from inside nested blocks when x != 0, else 9.
	f := fn{params: []wasmbin.ValType{i32}, results: []wasmbin.ValType{i32}, code: cat(
		block(wasmbin.OpBlock), block(wasmbin.OpBlock),
		withIdx(wasmbin.OpLocalGet, 0), block(wasmbin.OpIf), i32c(7), op(wasmbin.OpReturn), op(wasmbin.OpEnd),
		op(wasmbin.OpEnd), op(wasmbin.OpEnd), i32c(9))}
	// g() -> (i32, i64) returns two values from inside a block.
	g := fn{results: []wasmbin.ValType{i32, i64}, code: cat(block(wasmbin.OpBlock), i32c(1), i64c(2), op(wasmbin.OpReturn), op(wasmbin.OpEnd), op(wasmbin.OpUnreachable))}
	tm := testModule{imports: []string{"return_data"}}
	// sum over i in [0, 513) of f(i & 1), plus g's i32; stored at 0 and returned.
	// locals: 2 = i, 3 = acc
	body := cat(
		block(wasmbin.OpLoop),
		withIdx(wasmbin.OpLocalGet, 3), withIdx(wasmbin.OpLocalGet, 2), i32c(1), op(0x71), // i32.and
		withIdx(wasmbin.OpCall, 1), op(wasmbin.OpI32Add), withIdx(wasmbin.OpLocalSet, 3),
		withIdx(wasmbin.OpLocalGet, 2), i32c(1), op(wasmbin.OpI32Add), withIdx(wasmbin.OpLocalTee, 2),
		i32c(513), op(0x48), withIdx(wasmbin.OpBrIf, 0), // i32.lt_s
		op(wasmbin.OpEnd),
		withIdx(wasmbin.OpCall, 2), op(0x1a), withIdx(wasmbin.OpLocalGet, 3), op(wasmbin.OpI32Add), withIdx(wasmbin.OpLocalSet, 3),
		i32c(0), withIdx(wasmbin.OpLocalGet, 3), []byte{0x36, 2, 0}, // i32.store
		i32c(0), i32c(4), callHost(tm, "return_data"))
	m := method("sum", body)
	m.locals = []wasmbin.Locals{{Count: 2, Type: i32}}
	tm.fns = []fn{f, g, m}
	bothEngines(t, Config{}, func(t *testing.T, e *Engine) {
		res, err := run(t, e, tm, "sum", nil, 1e7)
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint32(res.Output); got != 7*256+9*257+1 {
			t.Fatalf("sum = %d, want %d", got, 7*256+9*257+1)
		}
	})
}

// recursive h(n) = n recurses n levels; method "rec" reads n from its input.
var recursive = testModule{fns: []fn{
	{params: []wasmbin.ValType{i32}, results: []wasmbin.ValType{i32}, code: cat(
		withIdx(wasmbin.OpLocalGet, 0), op(wasmbin.OpI32Eqz),
		[]byte{byte(wasmbin.OpIf), byte(wasmbin.I32)}, i32c(0), op(wasmbin.OpElse),
		withIdx(wasmbin.OpLocalGet, 0), i32c(1), op(wasmbin.OpI32Sub), withIdx(wasmbin.OpCall, 0), i32c(1), op(wasmbin.OpI32Add),
		op(wasmbin.OpEnd))},
	method("rec", withIdx(wasmbin.OpLocalGet, 0), []byte{0x28, 2, 0}, withIdx(wasmbin.OpCall, 0), op(0x1a)),
}}

func TestCallDepthLimit(t *testing.T) {
	bothEngines(t, Config{MaxCallDepth: 100}, func(t *testing.T, e *Engine) {
		n := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
		// rec is one frame and h(n) is n+1 frames.
		if _, err := run(t, e, recursive, "rec", n(98), 1e7); err != nil {
			t.Fatalf("depth 100: %v", err)
		}
		_, err := run(t, e, recursive, "rec", n(99), 1e7)
		wantCode(t, err, CodeCallDepth, "limit of 100")
		_, err = run(t, e, recursive, "rec", n(1<<30), 1e12)
		wantCode(t, err, CodeCallDepth, "limit of 100")
	})
	e, err := NewEngine(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	code, _ := Prepare(recursive.wasm(), Config{})
	_, err = e.Execute(context.Background(), code, "rec", nil, 1e6, newHost(), MaxContractDepth+1)
	wantCode(t, err, CodeCallDepth, "cross-contract")
}

func TestStartFunctionRunsMetered(t *testing.T) {
	tm := testModule{imports: []string{"return_data"},
		globals: []wasmbin.Global{{Type: i32, Mutable: true, Init: cat(i32c(0), op(wasmbin.OpEnd))}}}
	tm.fns = []fn{
		{code: cat(i32c(42), withIdx(wasmbin.OpGlobalSet, 0))},
		method("get", i32c(0), withIdx(wasmbin.OpGlobalGet, 0), []byte{0x36, 2, 0}, i32c(0), i32c(4), callHost(tm, "return_data")),
	}
	tm.start = 2 // function index 1 (after the import)
	bothEngines(t, Config{}, func(t *testing.T, e *Engine) {
		res, err := run(t, e, tm, "get", nil, 1e6)
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint32(res.Output); got != 42 {
			t.Fatalf("global = %d, want 42 set by the start function", got)
		}
		startGas := uint64(GasFuncEntry + 2)
		getGas := uint64(GasFuncEntry + 4 + 2 + 5 + GasHostBase + 4*GasPerByte)
		if res.GasUsed != startGas+allocGas+getGas {
			t.Fatalf("gas used %d, want %d", res.GasUsed, startGas+allocGas+getGas)
		}
	})
}

func TestMemoryGrowAndBulkGas(t *testing.T) {
	grow := method("grow", withIdx(wasmbin.OpLocalGet, 1), []byte{byte(wasmbin.OpMemoryGrow), 0}, op(0x1a))
	growOrTrap := method("growtrap", withIdx(wasmbin.OpLocalGet, 1), []byte{byte(wasmbin.OpMemoryGrow), 0},
		i32c(-1), op(wasmbin.OpI32Eq), block(wasmbin.OpIf), op(wasmbin.OpUnreachable), op(wasmbin.OpEnd))
	fill := method("fill", i32c(0), i32c(0), i32c(65536), []byte{wasmbin.PrefixMisc, 11, 0})
	copyM := method("copy", i32c(0), i32c(100), i32c(800), []byte{wasmbin.PrefixMisc, 10, 0, 0})
	tm := testModule{fns: []fn{grow, growOrTrap, fill, copyM}}
	bothEngines(t, Config{MaxMemoryPages: 4}, func(t *testing.T, e *Engine) {
		res, err := run(t, e, tm, "grow", make([]byte, 3), 1e6)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(allocGas + GasFuncEntry + 3 + GasGrowBase + 3*GasPerPage); res.GasUsed != want {
			t.Fatalf("grow(3) gas %d, want %d", res.GasUsed, want)
		}
		// A failed grow returns -1 to a contract that handles it...
		if _, err := run(t, e, tm, "grow", make([]byte, 4), 1e6); err != nil {
			t.Fatalf("grow past the limit, result ignored: %v", err)
		}
		// ... and a trap after it is reported as the memory limit.
		_, err = run(t, e, tm, "growtrap", make([]byte, 4), 1e6)
		wantCode(t, err, CodeMemoryLimit, "limit of 4 pages")
		_, err = run(t, e, tm, "grow", make([]byte, 3), 20000)
		wantCode(t, err, CodeOutOfGas, "")

		res, err = run(t, e, tm, "fill", nil, 1e6)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(allocGas + GasFuncEntry + 4 + GasBulkBase + 65536>>GasBulkShift); res.GasUsed != want {
			t.Fatalf("fill gas %d, want %d", res.GasUsed, want)
		}
		res, err = run(t, e, tm, "copy", nil, 1e6)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(allocGas + GasFuncEntry + 4 + GasBulkBase + 800>>GasBulkShift); res.GasUsed != want {
			t.Fatalf("copy gas %d, want %d", res.GasUsed, want)
		}
	})
}

func TestHostFunctions(t *testing.T) {
	tm := testModule{imports: []string{"return_data", "storage_set", "storage_get", "read_result", "emit", "infer", "block_height", "caller"}}
	tm.fns = []fn{
		method("set", i32c(0), i32c(3), i32c(8), i32c(5), callHost(tm, "storage_set")),
		method("oob", i32c(-16), i32c(100), callHost(tm, "return_data")),
		method("bigkey", i32c(0), i32c(MaxKeySize+1), i32c(0), i32c(1), callHost(tm, "storage_set")),
		method("get", i32c(0), i32c(3), callHost(tm, "storage_get"), op(0x1a)),
		method("emitbad", i32c(0), i32c(1), i32c(0), i32c(3), callHost(tm, "emit")),
		method("infer", i32c(0), i32c(5), i32c(0), i32c(10), callHost(tm, "infer"), op(0x1a)),
		// height: store block_height at 0 as i64 and return it; then the caller at 8.
		method("height", i32c(0), callHost(tm, "block_height"), []byte{0x37, 3, 0},
			i32c(0), i32c(8), callHost(tm, "return_data")),
		method("caller", callHost(tm, "caller"), withIdx(wasmbin.OpLocalSet, 1), i32c(0), callHost(tm, "read_result"),
			i32c(0), withIdx(wasmbin.OpLocalGet, 1), callHost(tm, "return_data")),
	}
	bothEngines(t, Config{}, func(t *testing.T, e *Engine) {
		code, err := Prepare(tm.wasm(), Config{})
		if err != nil {
			t.Fatal(err)
		}
		exec := func(h Host, m string, gas uint64) (Result, error) {
			return e.Execute(context.Background(), code, m, nil, gas, h, 0)
		}
		h := newHost()
		res, err := exec(h, "set", 1e6)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(allocGas + GasFuncEntry + 4 + 5 + GasHostBase + GasStorageWrite + GasStorageByte*8 + 8*GasPerByte); res.GasUsed != want {
			t.Fatalf("storage_set gas %d, want %d", res.GasUsed, want)
		}
		if len(h.kv) != 1 {
			t.Fatalf("storage %v", h.kv)
		}
		res, err = exec(newHost(), "set", 500)
		wantCode(t, err, CodeOutOfGas, "")
		if res.GasUsed != 500 {
			t.Fatalf("gas used %d, want the limit", res.GasUsed)
		}
		_, err = exec(h, "oob", 1e6)
		wantCode(t, err, CodeHost, "outside memory")
		_, err = exec(h, "bigkey", 1e6)
		wantCode(t, err, CodeHost, "over the limits")
		_, err = exec(&mapHost{getErr: errors.New("disk on fire")}, "get", 1e6)
		wantCode(t, err, CodeHost, "disk on fire")
		_, err = exec(h, "emitbad", 1e6)
		wantCode(t, err, CodeHost, "malformed attribute key")
		_, err = exec(h, "infer", 1e6)
		wantCode(t, err, CodeHost, "want 32")
		res, err = exec(h, "height", 1e6)
		if err != nil || binary.LittleEndian.Uint64(res.Output) != 7 {
			t.Fatalf("height: %v %v", res.Output, err)
		}
		res, err = exec(h, "caller", 1e6)
		if err != nil || string(res.Output) != "caller" {
			t.Fatalf("caller: %q %v", res.Output, err)
		}
	})
}

func TestExecuteRejects(t *testing.T) {
	e, err := NewEngine(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	tm := testModule{fns: []fn{method("run"), {params: []wasmbin.ValType{i32}, export: "wrongsig"}}}
	raw := tm.wasm()
	_, err = e.Execute(context.Background(), raw, "run", nil, 1e6, newHost(), 0)
	wantCode(t, err, CodeInvalidModule, "not produced by Prepare")
	_, err = e.Execute(context.Background(), []byte("junk"), "run", nil, 1e6, newHost(), 0)
	wantCode(t, err, CodeInvalidModule, "")
	code, err := Prepare(raw, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for m, msg := range map[string]string{"wrongsig": "signature", "nosuch": "no method", "alloc": "no method", exportGas: "no method", "": "no method"} {
		_, err = e.Execute(context.Background(), code, m, nil, 1e6, newHost(), 0)
		wantCode(t, err, CodeNoMethod, msg)
	}
	_, err = e.Execute(context.Background(), code, "run", make([]byte, MaxInputSize+1), 1e6, newHost(), 0)
	wantCode(t, err, CodeHost, "input")
	_, err = e.Execute(context.Background(), code, "run", nil, 1e6, nil, 0)
	wantCode(t, err, CodeHost, "nil Host")
	if res, err := e.Execute(context.Background(), code, "run", nil, ^uint64(0), newHost(), 0); err != nil || res.GasUsed != allocGas+GasFuncEntry {
		t.Fatalf("max gas limit: %v %v", res, err)
	}
}

func TestNewEngineConfig(t *testing.T) {
	for _, cfg := range []Config{{MaxCallDepth: maxCallDepthCeiling + 1}, {MaxCallDepth: -1}, {MaxMemoryPages: 70000}} {
		if _, err := NewEngine(context.Background(), cfg); err == nil {
			t.Errorf("NewEngine(%+v) accepted", cfg)
		}
	}
}

func TestConcurrentExecute(t *testing.T) {
	e, err := NewEngine(context.Background(), Config{Compiler: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	code, err := Prepare(countdown.wasm(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.Execute(context.Background(), code, "loop", make([]byte, 100), 1e6, newHost(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				res, err := e.Execute(context.Background(), code, "loop", make([]byte, 100), 1e6, newHost(), 0)
				if err != nil || res.GasUsed != want.GasUsed {
					errs <- fmt.Errorf("got %v %v, want gas %d", res, err, want.GasUsed)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// BenchmarkExecute measures gas per second of a tight metered loop (the
// worst case for block-entry metering: 5 instructions per block) on both
// engines; chain/contracts has the AssemblyScript workloads.
func BenchmarkExecute(b *testing.B) {
	code, err := Prepare(countdown.wasm(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	input := make([]byte, 60_000) // 60,000 iterations; fits the one page of memory
	for _, comp := range []bool{false, true} {
		e, err := NewEngine(context.Background(), Config{Compiler: comp})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(map[bool]string{false: "interpreter", true: "compiler"}[e.Compiler()], func(b *testing.B) {
			var gas uint64
			for i := 0; i < b.N; i++ {
				res, err := e.Execute(context.Background(), code, "loop", input, 1<<40, newHost(), 0)
				if err != nil {
					b.Fatal(err)
				}
				gas += res.GasUsed
			}
			b.ReportMetric(float64(gas)/b.Elapsed().Seconds(), "gas/s")
		})
		e.Close(context.Background())
	}
}

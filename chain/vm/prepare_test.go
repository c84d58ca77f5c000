package vm

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"
)

// opOffset returns the module offset of the first occurrence of pattern in
// the body of defined function i.
func opOffset(t *testing.T, wasm []byte, i int, pattern []byte) int {
	t.Helper()
	m, err := wasmbin.Decode(wasm)
	if err != nil {
		t.Fatal(err)
	}
	p := bytes.Index(m.Code[i].Code, pattern)
	if p < 0 {
		t.Fatalf("pattern %x not in body %d", pattern, i)
	}
	return m.Code[i].Offset + p
}

func TestPrepareRejects(t *testing.T) {
	f32const := []byte{byte(wasmbin.OpF32Const), 0, 0, 0x80, 0x3f}
	simd := cat([]byte{wasmbin.PrefixSIMD, 12}, make([]byte, 16)) // v128.const
	atomic := []byte{wasmbin.PrefixThreads, 0x10, 2, 0}           // i32.atomic.load
	truncSat := []byte{wasmbin.PrefixMisc, 0}
	memInit := []byte{wasmbin.PrefixMisc, 8, 0, 0}
	tailCall := withIdx(0x12, 0)
	withCode := func(code []byte) testModule {
		return testModule{imports: []string{"caller"}, fns: []fn{method("m", i32c(0), code, op(0x1a))}}
	}
	noMemExport := testModule{fns: []fn{method("m")}}.module()
	noMemExport.Exports = noMemExport.Exports[:len(noMemExport.Exports)-1]
	shared := wasmbin.Limits{Min: 1, Max: 1, HasMax: true, Shared: true}
	big := wasmbin.Limits{Min: 300}
	importMem := testModule{fns: []fn{method("m")}}.module()
	importMem.Imports = append(importMem.Imports, wasmbin.Import{Module: ImportModule, Name: "mem", Kind: wasmbin.KindMemory, Limits: wasmbin.Limits{Min: 1}})

	cases := []struct {
		name string
		wasm []byte
		cfg  Config
		want string
	}{
		{"f32.const", withCode(f32const).wasm(), Config{}, "function 1: opcode 0x43 (f32.const) at byte offset %d is not allowed: floating point"},
		{"SIMD", withCode(simd).wasm(), Config{}, "function 1: opcode 0xfd 12 (SIMD) at byte offset %d is not allowed: SIMD"},
		{"atomic", withCode(atomic).wasm(), Config{}, "function 1: opcode 0xfe 16 (atomic) at byte offset %d is not allowed: threads"},
		{"trunc_sat", withCode(truncSat).wasm(), Config{}, "opcode 0xfc 0 (i32.trunc_sat_f32_s) at byte offset %d is not allowed: floating point"},
		{"memory.init", withCode(memInit).wasm(), Config{}, "(memory.init) at byte offset %d is not allowed"},
		{"tail call", withCode(tailCall).wasm(), Config{}, "(return_call) at byte offset %d is not allowed: tail calls"},
		{"f64 local", testModule{fns: []fn{{locals: []wasmbin.Locals{{Count: 1, Type: wasmbin.F64}}, export: "x"}}}.wasm(), Config{}, "function 0 has a local of type f64: floating point"},
		{"f64 param", testModule{fns: []fn{{params: []wasmbin.ValType{wasmbin.F64}}}}.wasm(), Config{}, "parameter 0 has type f64"},
		{"f32 global", testModule{globals: []wasmbin.Global{{Type: wasmbin.F32, Init: cat(f32const, op(wasmbin.OpEnd))}}}.wasm(), Config{}, "global 0 at byte offset"},
		{"unknown import", testModule{imports: []string{"getrandom"}}.wasm(), Config{}, `import 0 "xairrosx"."getrandom" at byte offset`},
		{"import memory", importMem.Encode(), Config{}, "only functions may be imported"},
		{"import signature", func() []byte {
			m := testModule{}.module()
			m.Imports = []wasmbin.Import{{Module: ImportModule, Name: "caller", Kind: wasmbin.KindFunc, Type: m.TypeIndex(wasmbin.FuncType{Params: []wasmbin.ValType{i32}})}}
			return m.Encode()
		}(), Config{}, "has signature (i32) -> (), want () -> (i32)"},
		{"no alloc", testModule{noAlloc: true}.wasm(), Config{}, `does not export the function "alloc"`},
		{"alloc signature", testModule{noAlloc: true, fns: []fn{{export: "alloc"}}}.wasm(), Config{}, `export "alloc" has signature () -> ()`},
		{"no memory", testModule{noMemory: true}.wasm(), Config{}, "0 memories"},
		{"memory not exported", noMemExport.Encode(), Config{}, `does not export its memory as "memory"`},
		{"reserved export", testModule{fns: []fn{method("__xairrosx_gas")}}.wasm(), Config{}, "reserved prefix"},
		{"shared memory", testModule{memory: &shared}.wasm(), Config{}, "shared memory"},
		{"memory too big", testModule{memory: &big}.wasm(), Config{}, "300 pages, over the limit of 256 pages"},
		{"too many locals", testModule{fns: []fn{{locals: []wasmbin.Locals{{Count: 5000, Type: i32}}}}}.wasm(), Config{}, "5000 locals"},
		{"code too big", testModule{}.wasm(), Config{MaxCodeSize: 20}, "over the limit of 20 bytes"},
		{"not wasm", []byte("hello, world"), Config{}, "not a WebAssembly"},
		{"empty", nil, Config{}, "not a WebAssembly"},
		{"truncated", testModule{}.wasm()[:30], Config{}, "invalid wasm"},
		{"type error", testModule{fns: []fn{method("m", i64c(1))}}.wasm(), Config{}, "invalid wasm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if strings.Contains(want, "%d") {
				var pat []byte
				switch tc.name {
				case "f32.const":
					pat = f32const
				case "SIMD":
					pat = simd
				case "atomic":
					pat = atomic
				case "trunc_sat":
					pat = truncSat
				case "memory.init":
					pat = memInit
				case "tail call":
					pat = tailCall
				}
				want = fmt.Sprintf(want, opOffset(t, tc.wasm, 0, pat))
			}
			_, err := Prepare(tc.wasm, tc.cfg)
			wantCode(t, err, CodeInvalidModule, want)
		})
	}
}

func TestPrepareDeterministicAndIdempotentCheck(t *testing.T) {
	w := countdown.wasm()
	a, err := Prepare(w, Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Prepare(w, Config{})
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("Prepare not deterministic: %v", err)
	}
	// Prepared code cannot be deployed again as a contract (its metering
	// globals use the reserved prefix).
	_, err = Prepare(a, Config{})
	wantCode(t, err, CodeInvalidModule, "reserved prefix")
}

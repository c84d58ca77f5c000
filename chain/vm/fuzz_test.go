package vm

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/xairrosx/xairrosx/chain/vm/internal/wasmbin"
)

var (
	fuzzOnce   sync.Once
	fuzzEngine *Engine
)

// FuzzPrepare feeds arbitrary bytes to the contract loader. The seed corpus
// in testdata/fuzz/FuzzPrepare holds the example AssemblyScript contracts,
// hostile and float-using builds, and hand-assembled modules. Properties:
// Prepare never panics; it fails only with CodeInvalidModule; it is
// deterministic; and every method of a prepared module stops within its gas
// limit with a result or an *Error.
func FuzzPrepare(f *testing.F) {
	for _, tm := range []testModule{countdown, recursive, {fns: []fn{method("m", i32c(1), op(0x1a))}}} {
		f.Add(tm.wasm())
	}
	cfg := Config{MaxCodeSize: 64 << 10, MaxMemoryPages: 16}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, err := Prepare(wasm, cfg)
		if err != nil {
			var ve *Error
			if !errors.As(err, &ve) || ve.Code != CodeInvalidModule {
				t.Fatalf("Prepare error %v is not an invalid-module *Error", err)
			}
			return
		}
		if again, _ := Prepare(wasm, cfg); !bytes.Equal(out, again) {
			t.Fatal("Prepare is not deterministic")
		}
		fuzzOnce.Do(func() {
			fuzzEngine, err = NewEngine(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
		})
		m, err := wasmbin.Decode(out)
		if err != nil {
			t.Fatalf("prepared code does not decode: %v", err)
		}
		want := wasmbin.FuncType{Params: []wasmbin.ValType{i32, i32}}
		n := 0
		for _, ex := range m.Exports {
			if ft, ok := m.FuncTypeOf(ex.Index); ex.Kind != wasmbin.KindFunc || !ok || !ft.Equal(want) || n == 3 {
				continue
			}
			n++
			const limit = 50_000
			res, err := fuzzEngine.Execute(context.Background(), out, ex.Name, []byte("input"), limit, newHost(), 0)
			var ve *Error
			if err != nil && !errors.As(err, &ve) {
				t.Fatalf("Execute(%q) error %v is not an *Error", ex.Name, err)
			}
			if res.GasUsed > limit {
				t.Fatalf("Execute(%q) used %d gas, over the limit", ex.Name, res.GasUsed)
			}
		}
	})
}

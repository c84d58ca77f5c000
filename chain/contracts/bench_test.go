package contracts_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/xairrosx/xairrosx/chain/contracts"
	"github.com/xairrosx/xairrosx/chain/vm"
	"github.com/xairrosx/xairrosx/chain/vm/vmtest"
)

var benchWasm []byte

func benchContract(b *testing.B) []byte {
	if benchWasm == nil {
		m, err := contracts.Compile("testdata/bench.ts")
		if err != nil {
			b.Fatal(err)
		}
		benchWasm = m["bench"]
	}
	return benchWasm
}

const workN = 20000

// BenchmarkGas measures contract execution speed in gas per second (and
// ns per call) on both engines: the bench.ts workload and a token transfer.
func BenchmarkGas(b *testing.B) {
	for _, comp := range []bool{false, true} {
		e, err := vm.NewEngine(context.Background(), vm.Config{Compiler: comp})
		if err != nil {
			b.Fatal(err)
		}
		name := map[bool]string{false: "interpreter", true: "compiler"}[e.Compiler()]
		c := vmtest.NewChain(e)
		if err := c.Deploy([]byte("bench"), benchContract(b), vm.Config{}); err != nil {
			b.Fatal(err)
		}
		if err := c.Deploy(token, wasm(b, "token"), vm.Config{}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Call(alice, token, "init", nil, gasCap); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Call(alice, token, "mint", contracts.Enc().Bytes(bob).U64(1<<62).Done(), gasCap); err != nil {
			b.Fatal(err)
		}
		for _, w := range []struct {
			name, method string
			contract     []byte
			input        []byte
		}{
			{"work", "work", []byte("bench"), contracts.Enc().U64(workN).Done()},
			{"token-transfer", "transfer", token, contracts.Enc().Bytes(carol).U64(1).Done()},
		} {
			b.Run(name+"/"+w.name, func(b *testing.B) {
				var gas uint64
				for i := 0; i < b.N; i++ {
					res, err := c.Call(bob, w.contract, w.method, w.input, 1<<40)
					if err != nil {
						b.Fatal(err)
					}
					gas += res.GasUsed
				}
				b.ReportMetric(float64(gas)/b.Elapsed().Seconds(), "gas/s")
				b.ReportMetric(float64(gas)/float64(b.N), "gas/op")
			})
		}
		e.Close(context.Background())
	}
}

// BenchmarkMetering runs the bench.ts workload uninstrumented in plain
// wazero ("raw") and through the VM ("metered") on both engines; the ratio
// of their times is the cost of gas and call-depth metering.
func BenchmarkMetering(b *testing.B) {
	ctx := context.Background()
	raw := benchContract(b)
	input := binary.LittleEndian.AppendUint64(nil, workN)
	for _, comp := range []bool{false, true} {
		name := "interpreter"
		rc := wazero.NewRuntimeConfigInterpreter()
		if comp && vm.CompilerSupported() {
			name, rc = "compiler", wazero.NewRuntimeConfigCompiler()
		}
		b.Run(name+"/raw", func(b *testing.B) {
			r := wazero.NewRuntimeWithConfig(ctx, rc)
			defer r.Close(ctx)
			hb := r.NewHostModuleBuilder(vm.ImportModule)
			for _, n := range []string{"return_data", "revert", "read_result"} {
				params := []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}
				if n == "read_result" {
					params = params[:1]
				}
				hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(context.Context, api.Module, []uint64) {}), params, nil).Export(n)
			}
			if _, err := hb.Instantiate(ctx); err != nil {
				b.Fatal(err)
			}
			cm, err := r.CompileModule(ctx, raw)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
				if err != nil {
					b.Fatal(err)
				}
				p, err := mod.ExportedFunction("alloc").Call(ctx, uint64(len(input)))
				if err != nil {
					b.Fatal(err)
				}
				mod.Memory().Write(uint32(p[0]), input)
				if _, err := mod.ExportedFunction("work").Call(ctx, p[0], uint64(len(input))); err != nil {
					b.Fatal(err)
				}
				mod.Close(ctx)
			}
		})
		b.Run(name+"/metered", func(b *testing.B) {
			e, err := vm.NewEngine(ctx, vm.Config{Compiler: comp})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			code, err := vm.Prepare(raw, vm.Config{})
			if err != nil {
				b.Fatal(err)
			}
			host := vmtest.NewChain(e)
			host.Code["bench"] = code
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := host.Call(alice, []byte("bench"), "work", contracts.Enc().U64(workN).Done(), 1<<40); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPrepare measures deploy-time validation and instrumentation.
func BenchmarkPrepare(b *testing.B) {
	for _, name := range contracts.Examples {
		w := wasm(b, name)
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := vm.Prepare(w, vm.Config{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(w)), "bytes")
		})
	}
}

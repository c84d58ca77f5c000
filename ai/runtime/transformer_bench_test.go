package runtime_test

import (
	"os"
	"syscall"

	"github.com/xairrosx/xairrosx/ai/onnx"
	"testing"

	"github.com/xairrosx/xairrosx/ai/internal/testmodels"
	"github.com/xairrosx/xairrosx/ai/quant"
	xrt "github.com/xairrosx/xairrosx/ai/runtime"
)

func BenchmarkTransformerBatch1(b *testing.B) {
	m, _, err := testmodels.LoadTransformer()
	if err != nil {
		b.Fatal(err)
	}
	p, err := xrt.Compile(m, xrt.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Run(transformerInput(1, 1)); err != nil {
		b.Fatal(err)
	}
	runBench(b, p)
}

func BenchmarkTransformerDynamicInt8Batch1(b *testing.B) {
	m, _, err := testmodels.LoadTransformer()
	if err != nil {
		b.Fatal(err)
	}
	qm, _, err := quant.QuantizeDynamic(m)
	if err != nil {
		b.Fatal(err)
	}
	p, err := xrt.Compile(qm, xrt.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Run(transformerInput(1, 1)); err != nil {
		b.Fatal(err)
	}
	runBench(b, p)
}

func BenchmarkTransformerInt8Batch1(b *testing.B) {
	raw, err := os.ReadFile(testmodels.TransformerInt8())
	if err != nil {
		b.Fatal(err)
	}
	m, err := onnx.Load(raw)
	if err != nil {
		b.Fatal(err)
	}
	p, err := xrt.Compile(m, xrt.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	p.Exec()
	runBench(b, p)
}

func BenchmarkTransformerBatch64(b *testing.B) {
	m, _, err := testmodels.LoadTransformer()
	if err != nil {
		b.Fatal(err)
	}
	p, err := xrt.Compile(m, xrt.Options{Shapes: map[string][]int{"x": {64, 128, 256}}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Run(transformerInput(64, 1)); err != nil {
		b.Fatal(err)
	}
	runBench(b, p)
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N)/64, "ms/sequence")
}

// runBench times p.Exec and also reports the process CPU time per run,
// which varies less than wall-clock time on a shared machine.
func runBench(b *testing.B, p *xrt.Program) {
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		p.Exec()
	}
	b.ReportMetric((cpuTime()-c0)*1e3/float64(b.N), "cpu-ms/op")
}

func cpuTime() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

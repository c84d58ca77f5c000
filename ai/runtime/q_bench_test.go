package runtime_test

import (
	"os"
	"testing"

	"github.com/xairrosx/xairrosx/ai/onnx"
	xrt "github.com/xairrosx/xairrosx/ai/runtime"
)

func BenchmarkMNISTInt8(b *testing.B) {
	buf, err := os.ReadFile("../testdata/mnist-8-int8.onnx")
	if err != nil {
		b.Fatal(err)
	}
	m, err := onnx.Load(buf)
	if err != nil {
		b.Fatal(err)
	}
	p, err := xrt.Compile(m, xrt.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	runBench(b, p)
}

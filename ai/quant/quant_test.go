package quant_test

import (
	"os"
	"testing"

	"github.com/xairrosx/xairrosx/ai/internal/mnist"
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/quant"
	"github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func TestQuantizedMNISTAccuracy(t *testing.T) {
	src, err := os.ReadFile("../testdata/mnist-8.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := mnist.Dir()
	if err != nil {
		t.Fatal(err)
	}
	train, err := mnist.LoadTrain(dir)
	if err != nil {
		t.Fatal(err)
	}
	test, err := mnist.LoadTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var calib []*tensor.Tensor
	for i := 0; i < 200; i++ {
		x := tensor.MustNew(tensor.Float32, 1, 1, 28, 28)
		for j, v := range train.Images[i] {
			x.F32()[j] = float32(v)
		}
		calib = append(calib, x)
	}
	qm, err := quant.Quantize(m, src, calib, quant.Options{InputScale: 1})
	if err != nil {
		t.Fatal(err)
	}
	fp, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	qb := onnx.Encode(qm)
	qm2, err := onnx.Load(qb)
	if err != nil {
		t.Fatal(err)
	}
	qp, err := runtime.Compile(qm2, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.MustNew(tensor.Float32, 1, 1, 28, 28)
	var okF, okQ, agree int
	for i, img := range test.Images {
		for j, v := range img {
			x.F32()[j] = float32(v)
		}
		fo, err := fp.Run(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := qp.SetInput(0, img); err != nil {
			t.Fatal(err)
		}
		qo := qp.Exec()
		lf, lq := argmaxF(fo[0].F32()[:10]), argmaxI(qo[0].I32()[:10])
		if lf == int(test.Labels[i]) {
			okF++
		}
		if lq == int(test.Labels[i]) {
			okQ++
		}
		if lf == lq {
			agree++
		}
	}
	n := float64(len(test.Images))
	t.Logf("MNIST-8 on %d test images: float32 %.2f%%, int8 %.2f%%, same answer on %d; quantized model %d bytes",
		len(test.Images), 100*float64(okF)/n, 100*float64(okQ)/n, agree, len(qb))
	if d := 100 * float64(okF-okQ) / n; d > 0.5 || d < -0.5 {
		t.Errorf("int8 accuracy differs from float32 by %.2f points (> 0.5)", d)
	}
	if out := os.Getenv("XAIRROSX_WRITE_QMODEL"); out != "" {
		if err := os.WriteFile(out, qb, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func argmaxF(v []float32) int {
	b := 0
	for i := range v {
		if v[i] > v[b] {
			b = i
		}
	}
	return b
}

func argmaxI(v []int32) int {
	b := 0
	for i := range v {
		if v[i] > v[b] {
			b = i
		}
	}
	return b
}

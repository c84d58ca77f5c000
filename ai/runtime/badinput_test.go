package runtime_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/xairrosx/xairrosx/ai/onnx"
	xrt "github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func mnistBytes(t testing.TB) []byte {
	b, err := os.ReadFile(mnistModel)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadCompileRun is what a user of the engine does with untrusted bytes.
func loadCompileRun(b []byte) error {
	m, err := onnx.Load(b)
	if err != nil {
		return err
	}
	p, err := xrt.Compile(m, xrt.Options{MaxArenaBytes: 64 << 20, MaxNodeWork: 1 << 26, Threads: 1})
	if err != nil {
		return err
	}
	var in []*tensor.Tensor
	for _, i := range p.Inputs {
		in = append(in, tensor.MustNew(i.DType, i.Shape...))
	}
	_, err = p.Run(in...)
	return err
}

func TestTruncatedModelsAreRefused(t *testing.T) {
	b := mnistBytes(t)
	for n := 0; n < len(b); n += 97 {
		err := loadCompileRun(b[:n])
		if err == nil {
			t.Fatalf("model truncated to %d of %d bytes was accepted", n, len(b))
		}
	}
	t.Log("example:", loadCompileRun(b[:len(b)/2]))
}

func TestUnknownOperatorNamesOpNodeAndOpset(t *testing.T) {
	m, err := onnx.Load(mnistBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	m.Graph.Nodes[3].OpType = "FancyNewOp"
	_, err = xrt.Compile(m, xrt.Options{})
	var ue *xrt.UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v, want an UnsupportedError", err)
	}
	msg := err.Error()
	for _, want := range []string{"FancyNewOp", m.Graph.Nodes[3].Name, "opset 7"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	t.Log(msg)
}

func TestWrongInputsAreRefused(t *testing.T) {
	m, err := onnx.Load(mnistBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := xrt.Compile(m, xrt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]*tensor.Tensor{
		"wrong shape": {tensor.MustNew(tensor.Float32, 1, 1, 28, 27)},
		"wrong type":  {tensor.MustNew(tensor.Int32, 1, 1, 28, 28)},
		"no input":    {},
		"two inputs":  {tensor.MustNew(tensor.Float32, 1, 1, 28, 28), tensor.MustNew(tensor.Float32, 1)},
	}
	for name, in := range cases {
		if _, err := p.Run(in...); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	nan := tensor.MustNew(tensor.Float32, 1, 1, 28, 28)
	nan.F32()[300] = float32(math.NaN())
	_, err = p.Run(nan)
	var ie *xrt.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN input: got %v", err)
	} else {
		t.Log("NaN:", err)
	}
	if err := p.SetInput(0, make([]byte, 10)); err == nil {
		t.Error("SetInput with 10 bytes accepted")
	}
}

func TestModelLargerThanMemoryIsRefused(t *testing.T) {
	m, err := onnx.Load(mnistBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	_ = m
	// activations of 2^34 floats (64 GiB) exceed the default 16 GiB limit
	huge := &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 13}, Graph: &onnx.Graph{
		Inputs:  []onnx.ValueInfo{{Name: "x", ElemType: tensor.Float32, HasShape: true, Dims: []onnx.Dim{{Value: 1 << 17}, {Value: 1 << 17}}}},
		Outputs: []onnx.ValueInfo{{Name: "y", ElemType: tensor.Float32}},
		Nodes:   []*onnx.Node{{Name: "r", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: map[string]*onnx.Attr{}}},
	}}
	hm, err := onnx.Load(onnx.Encode(huge))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := xrt.Compile(hm, xrt.Options{}); err == nil {
		t.Fatal("a model needing 64 GiB of activations was accepted")
	} else {
		t.Log(err)
	}
	// an initializer declaring 2^39 floats while the file holds none
	var tp []byte
	tp = protowire.AppendTag(tp, 1, protowire.VarintType)
	tp = protowire.AppendVarint(tp, 1<<39)
	tp = protowire.AppendTag(tp, 2, protowire.VarintType)
	tp = protowire.AppendVarint(tp, 1)
	var g []byte
	g = protowire.AppendTag(g, 5, protowire.BytesType)
	g = protowire.AppendBytes(g, tp)
	var model []byte
	model = protowire.AppendTag(model, 7, protowire.BytesType)
	model = protowire.AppendBytes(model, g)
	if _, err := onnx.Load(model); err == nil {
		t.Fatal("a tensor claiming 2^39 floats with no data was accepted")
	} else {
		t.Log(err)
	}
}

// FuzzLoadCompileRun feeds arbitrary bytes to the loader, the compiler and
// one inference: every input must end in a result or an error, never a
// panic or a hang. The seed corpus is in testdata/fuzz/FuzzLoadCompileRun.
func FuzzLoadCompileRun(f *testing.F) {
	b, err := os.ReadFile(mnistModel)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	if q, err := os.ReadFile("../testdata/mnist-8-int8.onnx"); err == nil {
		f.Add(q)
	}
	f.Add(b[:100])
	f.Add(tinyIntegerEncoder())
	// small models exercising other operators, from ONNX's node tests
	for _, name := range []string{"test_concat_2d_axis_1", "test_gather_0", "test_slice_neg_steps", "test_reduce_mean_keepdims_example",
		"test_layer_normalization_4d_axis1", "test_softmax_axis_1_expanded", "test_maxpool_with_argmax_2d_precomputed_pads", "test_gemm_all_attributes",
		"test_conv_with_strides_and_asymmetric_padding", "test_averagepool_2d_ceil", "test_transpose_all_permutations_3", "test_unsqueeze_two_axes"} {
		m, err := os.ReadFile("/usr/share/libonnx-testdata/data/node/" + name + "/model.onnx")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = loadCompileRun(data)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			debug.SetTraceback("all")
			panic(fmt.Sprintf("no answer after 10 s (a hang) on %d bytes", len(data)))
		}
	})
}

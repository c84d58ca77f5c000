package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/xairrosx/xairrosx/ai/eval"
	"github.com/xairrosx/xairrosx/ai/internal/mnist"
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/quant"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func loadMNIST(train bool) (*mnist.Set, error) {
	dir, err := mnist.Dir()
	if err != nil {
		return nil, err
	}
	if train {
		return mnist.LoadTrain(dir)
	}
	return mnist.LoadTest(dir)
}

func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	model := fs.String("model", "ai/testdata/mnist-8.onnx", "model file (float32 or int8)")
	n := fs.Int("n", 10000, "number of MNIST test images")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*model)
	if err != nil {
		return err
	}
	set, err := loadMNIST(false)
	if err != nil {
		return err
	}
	*n = min(max(*n, 1), len(set.Images))
	bar := newProgress(stderr, "eval", *n)
	res, err := eval.Images(b, set.Images[:*n], set.Labels[:*n], bar.set)
	if err != nil {
		return err
	}
	kind := "float32"
	if res.Int8 {
		kind = "int8"
	}
	fmt.Fprintf(stdout, "model       %s (%s)\n", *model, kind)
	fmt.Fprintf(stdout, "images      %d (MNIST test set)\n", res.N)
	fmt.Fprintf(stdout, "accuracy    %.2f%% (%d correct)\n", res.Accuracy(), res.Correct)
	fmt.Fprintf(stdout, "output hash %s\n", res.Hash)
	return nil
}

func cmdQuantize(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quantize", flag.ContinueOnError)
	calibN := fs.Int("calib", 200, "number of MNIST training images used for calibration")
	inScale := fs.Float64("input-scale", 1, "input quantization scale (0 = calibrate); 1 keeps raw 0-255 pixels")
	dynamic := fs.Bool("dynamic", false, "dynamic int8 MatMuls (any model, no calibration, not bit-exact)")
	encoder := fs.Bool("transformer", false, "integer-only transformer encoder, calibrated on -calib unit-normal inputs (default 8, seed 1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("usage: xairrosx ai quantize [-calib N | -dynamic | -transformer] IN.onnx OUT.onnx")
	}
	src, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	m, err := onnx.Load(src)
	if err != nil {
		return err
	}
	if *dynamic {
		qm, n, err := quant.QuantizeDynamic(m)
		if err != nil {
			return err
		}
		out := onnx.Encode(qm)
		if err := os.WriteFile(fs.Arg(1), out, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: %d bytes, %d MatMuls with int8 weights\n", fs.Arg(1), len(out), n)
		return nil
	}
	if *encoder {
		return quantizeEncoder(m, src, fs, stdout)
	}
	set, err := loadMNIST(true)
	if err != nil {
		return err
	}
	*calibN = min(max(*calibN, 1), len(set.Images))
	var calib []*tensor.Tensor
	for _, img := range set.Images[:*calibN] {
		x := tensor.MustNew(tensor.Float32, 1, 1, set.Rows, set.Cols)
		for j, v := range img {
			x.F32()[j] = float32(v)
		}
		calib = append(calib, x)
	}
	qm, err := quant.Quantize(m, src, calib, quant.Options{InputScale: *inScale})
	if err != nil {
		return err
	}
	out := onnx.Encode(qm)
	if err := os.WriteFile(fs.Arg(1), out, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes, %d nodes, calibrated on %d images\n", fs.Arg(1), len(out), len(qm.Graph.Nodes), *calibN)
	return nil
}

// quantizeEncoder writes the integer-only form of a transformer encoder,
// calibrated on fixed unit-normal inputs of the model's input shape (batch 1).
func quantizeEncoder(m *onnx.Model, src []byte, fs *flag.FlagSet, stdout io.Writer) error {
	n := 8
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "calib" {
			n, _ = strconv.Atoi(f.Value.String())
		}
	})
	if len(m.Graph.Inputs) != 1 {
		return fmt.Errorf("the model must have one input")
	}
	shape := []int{1}
	for _, d := range m.Graph.Inputs[0].Dims[1:] {
		shape = append(shape, int(d.Value))
	}
	qm, err := quant.QuantizeTransformer(m, src, quant.NormalInputs(1, max(n, 1), shape...))
	if err != nil {
		return err
	}
	out := onnx.Encode(qm)
	if err := os.WriteFile(fs.Arg(1), out, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes, %d nodes, calibrated on %d unit-normal inputs %v\n", fs.Arg(1), len(out), len(qm.Graph.Nodes), max(n, 1), shape)
	return nil
}

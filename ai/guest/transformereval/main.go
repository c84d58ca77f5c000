// Command transformereval is a self-contained workload for the XairrosX
// kernel: it embeds the integer-only int8 transformer encoder (quantized
// from ai/models/make_transformer.py's model by `xairrosx ai quantize
// -transformer`), runs it on fixed inputs and prints the SHA-256 of the
// outputs. Built as a stock GOOS=linux program it runs on the host and,
// unchanged, under `xairrosx run ./ai/guest/transformereval`; every machine,
// kernel (pure Go, AVX2, AVX-512 VNNI) and thread count must print the same
// hash.
//
// The inputs are n sequences of unit-normal values (math/rand, seed 3),
// quantized with the model's input scale and zero point.
package main

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/xairrosx/xairrosx/ai/infer"
	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/quant"
)

//go:embed transformer-int8.onnx
var model []byte

// n is the number of sequences.
const n = 2

func main() {
	hash, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "transformereval:", err)
		os.Exit(1)
	}
	_, impl := kernels.Current()
	fmt.Printf("kernels     int8 %v\n", impl)
	fmt.Printf("model       %x\n", infer.ModelID(model))
	fmt.Printf("sequences   %d\noutput hash %s\n", n, hash)
}

// Inputs returns the n quantized input sequences as raw uint8 bytes.
func Inputs() ([][]byte, error) {
	spec, err := infer.Inspect(model)
	if err != nil {
		return nil, err
	}
	scale, err1 := strconv.ParseFloat(spec.Metadata[quant.MetaInputScale], 64)
	zp, err2 := strconv.Atoi(spec.Metadata[quant.MetaInputZeroPoint])
	if err1 != nil || err2 != nil || scale <= 0 {
		return nil, fmt.Errorf("the model has no input scale and zero point in its metadata")
	}
	var ins [][]byte
	for _, x := range quant.NormalInputs(3, n, spec.InputShape...) {
		b := make([]byte, x.Len())
		for i, v := range x.F32()[:x.Len()] {
			b[i] = uint8(min(max(math.Round(float64(v)/scale)+float64(zp), 0), 255))
		}
		ins = append(ins, b)
	}
	return ins, nil
}

func run() (string, error) {
	ins, err := Inputs()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, in := range ins {
		out, err := infer.RunInt8(model, in)
		if err != nil {
			return "", err
		}
		h.Write(out)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

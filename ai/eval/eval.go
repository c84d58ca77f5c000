// Package eval measures a classifier on a labelled image set: accuracy and
// the output hash, the SHA-256 of the raw bytes of every output in order,
// which lets two machines (or the host and a XairrosX guest) check that
// they computed the same thing.
package eval

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Result is the outcome of an evaluation.
type Result struct {
	N, Correct int
	Hash       string // hex SHA-256 of all raw outputs
	Int8       bool
}

// Accuracy returns the fraction of correct answers in percent.
func (r *Result) Accuracy() float64 { return 100 * float64(r.Correct) / float64(max(1, r.N)) }

// Images runs model (float32 taking raw 0-255 pixels as floats, or an int8
// model taking the pixel bytes) on each image and compares the arg-max of
// its first output with the label. progress, if not nil, is called with the
// number of images done.
func Images(model []byte, images [][]byte, labels []byte, progress func(int)) (*Result, error) {
	m, err := onnx.Load(model)
	if err != nil {
		return nil, err
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	if len(p.Inputs) != 1 {
		return nil, fmt.Errorf("eval: the model has %d inputs, want 1", len(p.Inputs))
	}
	in := p.InputTensor(0)
	if in.Len() != len(images[0]) {
		return nil, fmt.Errorf("eval: the model input %v does not hold a %d-pixel image", in, len(images[0]))
	}
	res := &Result{Int8: in.DType == tensor.Uint8}
	h := sha256.New()
	for i, img := range images {
		switch in.DType {
		case tensor.Float32:
			f := in.F32()
			for j, v := range img {
				f[j] = float32(v)
			}
		case tensor.Uint8:
			copy(in.U8(), img)
		default:
			return nil, fmt.Errorf("eval: input type %v is not an image type", in.DType)
		}
		out := p.Exec()[0]
		h.Write(out.Bytes())
		if argmax(out) == int(labels[i]) {
			res.Correct++
		}
		res.N++
		if progress != nil {
			progress(i + 1)
		}
	}
	res.Hash = hex.EncodeToString(h.Sum(nil))
	return res, nil
}

func argmax(t *tensor.Tensor) int {
	best := 0
	switch t.DType {
	case tensor.Float32:
		v := t.F32()[:t.Len()]
		for i := range v {
			if v[i] > v[best] {
				best = i
			}
		}
	case tensor.Int32:
		v := t.I32()[:t.Len()]
		for i := range v {
			if v[i] > v[best] {
				best = i
			}
		}
	case tensor.Uint8:
		v := t.U8()[:t.Len()]
		for i := range v {
			if v[i] > v[best] {
				best = i
			}
		}
	}
	return best
}

// Package infer is the small, stable API the chain node uses for on-chain
// inference: it runs an integer-only (int8) model, identified by the SHA-256
// of its bytes, on raw input bytes and returns raw output bytes that are the
// same on every machine.
//
// The model format is ONNX with the engine's integer operators (domain
// ai.xairrosx: QConv, QGemm, and for transformers QRescale, QLayerNorm,
// QGelu, QAttention) plus MaxPool, Reshape, Flatten, Add and Identity on
// integer tensors, as produced by package quant (xairrosx ai quantize); see
// docs/ai.md. Float models are refused: no float initializer, input or
// output is accepted, so no float value can arise inside the graph.
package infer

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/ops"
	"github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// ErrFloatModel reports a model that is not integer-only.
var ErrFloatModel = errors.New("infer: not an integer-only model")

// ModelID returns the identity of a model: the SHA-256 of its bytes.
func ModelID(model []byte) [32]byte { return sha256.Sum256(model) }

// integerOps are the operators an int8 model may use.
var integerOps = map[string]bool{
	ops.Domain + "/QConv": true, ops.Domain + "/QGemm": true,
	ops.Domain + "/QRescale": true, ops.Domain + "/QLayerNorm": true,
	ops.Domain + "/QGelu": true, ops.Domain + "/QAttention": true,
	"/MaxPool": true, "/Reshape": true, "/Flatten": true, "/Add": true, "/Identity": true,
}

type compiled struct {
	id    [32]byte
	in    runtime.Input
	out   runtime.Input
	pool  sync.Pool // of *runtime.Program
	model *onnx.Model
	bytes []byte // a private copy: the program aliases it
}

var (
	mu    sync.Mutex
	cache = map[[32]byte]*compiled{}
)

const maxCached = 64

func load(model []byte) (*compiled, error) {
	id := ModelID(model)
	mu.Lock()
	c := cache[id]
	mu.Unlock()
	if c != nil {
		return c, nil
	}
	own := append([]byte(nil), model...)
	m, err := onnx.Load(own)
	if err != nil {
		return nil, err
	}
	for _, n := range m.Graph.Nodes {
		d := n.Domain
		if d == "ai.onnx" {
			d = ""
		}
		if !integerOps[d+"/"+n.OpType] {
			return nil, fmt.Errorf("%w: %s is not an integer operator", ErrFloatModel, n.Describe())
		}
	}
	for _, in := range m.Graph.Initializers {
		if in.Tensor.DType == tensor.Float32 {
			return nil, fmt.Errorf("%w: initializer %q is float32", ErrFloatModel, in.Name)
		}
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	if len(p.Inputs) != 1 || len(p.Outputs) < 1 {
		return nil, fmt.Errorf("infer: the model must have one input and at least one output (has %d and %d)", len(p.Inputs), len(p.Outputs))
	}
	for _, v := range append([]runtime.Input{p.Inputs[0]}, p.Outputs...) {
		if v.DType == tensor.Float32 {
			return nil, fmt.Errorf("%w: value %q is float32", ErrFloatModel, v.Name)
		}
	}
	c = &compiled{id: id, in: p.Inputs[0], out: p.Outputs[0], model: m, bytes: own}
	c.pool.Put(p)
	mu.Lock()
	if len(cache) >= maxCached {
		for k := range cache { // evict an arbitrary entry
			delete(cache, k)
			break
		}
	}
	cache[id] = c
	mu.Unlock()
	return c, nil
}

func (c *compiled) program() (*runtime.Program, error) {
	if p, ok := c.pool.Get().(*runtime.Program); ok {
		return p, nil
	}
	return runtime.Compile(c.model, runtime.Options{Threads: 1})
}

// RunInt8 runs a quantized model (the exact bytes that were registered on
// chain; its identity is sha256(model)) on one input given as the raw bytes
// of the model's single input tensor in its dtype, and returns the raw
// bytes of its first output. Bit-exact on every machine; refuses float
// models. It is safe for concurrent use; compiled models are cached by
// identity.
func RunInt8(model []byte, input []byte) ([]byte, error) {
	c, err := load(model)
	if err != nil {
		return nil, err
	}
	p, err := c.program()
	if err != nil {
		return nil, err
	}
	defer c.pool.Put(p)
	if err := p.SetInput(0, input); err != nil {
		return nil, err
	}
	out := p.Exec()[0]
	return append([]byte(nil), out.Bytes()...), nil
}

// Spec describes a model's input and first output.
type Spec struct {
	InputName   string
	InputDType  string // "uint8"
	InputShape  []int
	OutputName  string
	OutputDType string // "int32" or "uint8"
	OutputShape []int
	// Metadata holds the quantization parameters (xairrosx.input_scale,
	// xairrosx.input_zero_point, xairrosx.output_scale, ...).
	Metadata map[string]string
}

// Inspect returns the input and output description of an int8 model, and
// refuses what RunInt8 would refuse.
func Inspect(model []byte) (*Spec, error) {
	c, err := load(model)
	if err != nil {
		return nil, err
	}
	return &Spec{InputName: c.in.Name, InputDType: c.in.DType.String(), InputShape: append([]int(nil), c.in.Shape...),
		OutputName: c.out.Name, OutputDType: c.out.DType.String(), OutputShape: append([]int(nil), c.out.Shape...),
		Metadata: c.model.Metadata}, nil
}

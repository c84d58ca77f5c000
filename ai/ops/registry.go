// Package ops implements the engine's operators. Each operator has a build
// function that runs once when a model is compiled: it checks the node's
// attributes and input types and shapes, computes the output types and
// shapes, prepares constant data (transposed or packed weights) and scratch
// memory, and returns a kernel that later runs with no heap allocation.
package ops

import (
	"fmt"
	"sort"
	"strings"

	"github.com/xairrosx/xairrosx/ai/internal/par"
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Value is what the compiler knows about a tensor value: its element type
// and shape, and its contents when it is a constant.
type Value struct {
	DType tensor.DType
	Shape []int
	Const *tensor.Tensor
}

// Kernel computes a node's outputs from its inputs. The tensors have the
// dtypes and shapes the build function announced. A kernel must not
// allocate.
type Kernel func(in, out []*tensor.Tensor)

// Build is the state passed to a build function.
type Build struct {
	Node  *onnx.Node
	Opset int64
	In    []Value // one per node input; DType 0 for an omitted optional input
	Out   []Value // the build function sets one per node output
	Run   Kernel  // the build function sets it
	Group *par.Group
	// MemLeft, when not nil, is the remaining byte budget for the
	// operator's own buffers (packed weights, scratch); Reserve draws on it.
	MemLeft *int
	// MaxWork, when positive, bounds the multiply-adds (or comparable
	// element operations) of one execution of the node.
	MaxWork int64
}

// Reserve accounts for n bytes of operator-owned memory and fails when the
// model's memory budget is exhausted.
func (b *Build) Reserve(n int) error {
	if n < 0 {
		return b.Errorf("buffer size overflows")
	}
	if b.MemLeft == nil {
		return nil
	}
	if n > *b.MemLeft {
		return b.Errorf("needs %d bytes of working memory, more than the %d bytes left in the budget", n, *b.MemLeft)
	}
	*b.MemLeft -= n
	return nil
}

// Work fails when one execution of the node would take more than MaxWork
// operations.
func (b *Build) Work(ops int64) error {
	if ops < 0 || (b.MaxWork > 0 && ops > b.MaxWork) {
		return b.Errorf("needs %d operations per run, more than the limit of %d", ops, b.MaxWork)
	}
	return nil
}

// BuildFunc checks a node and prepares its kernel.
type BuildFunc func(b *Build) error

// Error is a problem with one node found at compile time.
type Error struct {
	Node  *onnx.Node
	Opset int64
	Msg   string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%s, opset %d: %s", e.Node.Describe(), e.Opset, e.Msg)
}

// Errorf returns an Error for b's node.
func (b *Build) Errorf(format string, args ...any) error {
	return &Error{Node: b.Node, Opset: b.Opset, Msg: fmt.Sprintf(format, args...)}
}

type entry struct {
	since int64
	build BuildFunc
}

var registry = map[string][]entry{}

func key(domain, op string) string {
	if domain == "ai.onnx" {
		domain = ""
	}
	return domain + "/" + op
}

// register adds a build function for an operator from opset version since on.
func register(domain, op string, since int64, f BuildFunc) {
	registry[key(domain, op)] = append(registry[key(domain, op)], entry{since, f})
}

// Lookup returns the build function of op in domain at the given opset
// version, or nil.
func Lookup(domain, op string, opset int64) BuildFunc {
	var best *entry
	for i, e := range registry[key(domain, op)] {
		if e.since <= opset && (best == nil || e.since > best.since) {
			best = &registry[key(domain, op)][i]
		}
	}
	if best == nil {
		return nil
	}
	return best.build
}

// Supported lists the supported operators as "domain/op" ("op" for the
// default domain), sorted.
func Supported() []string {
	var r []string
	for k := range registry {
		r = append(r, strings.TrimPrefix(k, "/"))
	}
	sort.Strings(r)
	return r
}

// Attribute helpers.

// Int returns an int attribute or def.
func (b *Build) Int(name string, def int64) int64 {
	if a, ok := b.Node.Attrs[name]; ok {
		return a.I
	}
	return def
}

// Float returns a float attribute or def.
func (b *Build) Float(name string, def float32) float32 {
	if a, ok := b.Node.Attrs[name]; ok {
		return a.F
	}
	return def
}

// String returns a string attribute or def.
func (b *Build) String(name, def string) string {
	if a, ok := b.Node.Attrs[name]; ok {
		return a.S
	}
	return def
}

// Ints returns an ints attribute as []int, or def.
func (b *Build) Ints(name string, def []int) []int {
	a, ok := b.Node.Attrs[name]
	if !ok {
		return def
	}
	r := make([]int, len(a.Ints))
	for i, v := range a.Ints {
		r[i] = int(v)
	}
	return r
}

// Has reports whether input i is present.
func (b *Build) Has(i int) bool { return i < len(b.In) && b.In[i].DType != 0 }

// need checks the input count and that required inputs have dtype in
// allowed (nil allows any).
func (b *Build) need(min, max int, allowed ...tensor.DType) error {
	if len(b.In) < min || len(b.In) > max {
		return b.Errorf("takes %d to %d inputs, has %d", min, max, len(b.In))
	}
	for i := 0; i < min; i++ {
		if b.In[i].DType == 0 {
			return b.Errorf("input %d is required", i)
		}
	}
	if len(allowed) > 0 {
		ok := false
		for _, d := range allowed {
			ok = ok || b.In[0].DType == d
		}
		if !ok {
			return b.Errorf("input type %v is not supported (want one of %v)", b.In[0].DType, allowed)
		}
	}
	return nil
}

// axis normalizes a possibly negative axis for a rank.
func (b *Build) axis(a int64, rank int) (int, error) {
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(rank) {
		return 0, b.Errorf("axis %d out of range for rank %d", a, rank)
	}
	return int(a), nil
}

// constInts reads a constant int64 input as []int.
func (b *Build) constInts(i int) ([]int, error) {
	v := b.In[i]
	if v.Const == nil {
		return nil, b.Errorf("input %d (%q) must be a constant", i, b.Node.Inputs[i])
	}
	if v.DType != tensor.Int64 {
		return nil, b.Errorf("input %d must be int64, is %v", i, v.DType)
	}
	c := v.Const.Contiguous().I64()[:v.Const.Len()]
	r := make([]int, len(c))
	for j, x := range c {
		r[j] = int(x)
	}
	return r, nil
}

func clone(s []int) []int { return append([]int(nil), s...) }

// Package runtime compiles a checked ONNX graph into a Program: operators are
// resolved and prepared once, constant subgraphs are folded, shapes are
// fixed, and every intermediate tensor gets a fixed place in one arena by a
// static memory plan. Program.Run then executes the steps in order with no
// heap allocation.
package runtime

import (
	"errors"
	"fmt"
	"math"
	goruntime "runtime"

	"github.com/xairrosx/xairrosx/ai/arena"
	"github.com/xairrosx/xairrosx/ai/internal/par"
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/ops"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Options configure compilation.
type Options struct {
	// Threads bounds the goroutines one operator uses; 0 means GOMAXPROCS.
	Threads int
	// Shapes overrides the shapes of graph inputs (needed for symbolic
	// dimensions); symbolic dimensions not given here default to 1.
	Shapes map[string][]int
	// Constants gives values for graph inputs that are known when the
	// program is compiled (for example shape tensors); such inputs become
	// constants and are no longer inputs of the program.
	Constants map[string]*tensor.Tensor
	// NoFusion turns off operator fusion (Conv+Add+Relu); KeepAll implies it.
	NoFusion bool
	// KeepAll keeps every intermediate value alive until the end of a run
	// (no memory reuse), so Value can read it; calibration uses it.
	KeepAll bool
	// MaxArenaBytes refuses models whose activations, or whose operators'
	// own buffers, need more memory (0 means 16 GiB each).
	MaxArenaBytes int
	// MaxNodeWork refuses nodes that need more operations per run
	// (multiply-adds for convolutions and matrix products); 0 means no limit.
	MaxNodeWork int64
}

// Input describes one graph input of a compiled program.
type Input struct {
	Name  string
	DType tensor.DType
	Shape []int
}

type step struct {
	node    *onnx.Node
	run     ops.Kernel
	in, out []*tensor.Tensor
}

// Program is a compiled model. A Program is not safe for concurrent Run
// calls; compile one per goroutine.
type Program struct {
	Model   *onnx.Model
	Inputs  []Input
	Outputs []Input
	steps   []step
	inBufs  []*tensor.Tensor
	outBufs []*tensor.Tensor
	values  map[string]*tensor.Tensor
	consts  map[string]*tensor.Tensor
	arena   *arena.Arena
	group   *par.Group
	// CheckFinite makes Run refuse float inputs holding NaN or ±Inf.
	CheckFinite bool
}

// UnsupportedError reports an operator the engine does not implement.
type UnsupportedError struct {
	Node   *onnx.Node
	Domain string
	Opset  int64
}

// Error implements error.
func (e *UnsupportedError) Error() string {
	d := e.Domain
	if d == "" {
		d = "ai.onnx"
	}
	return fmt.Sprintf("unsupported operator %s (domain %s, opset %d) at %s", e.Node.OpType, d, e.Opset, e.Node.Describe())
}

// Compile prepares m for execution.
func Compile(m *onnx.Model, opt Options) (*Program, error) {
	if err := onnx.Check(m); err != nil {
		return nil, err
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = goruntime.GOMAXPROCS(0)
	}
	maxArena := opt.MaxArenaBytes
	if maxArena <= 0 {
		maxArena = 16 << 30
	}
	g := m.Graph
	p := &Program{Model: m, group: &par.Group{Threads: threads}, CheckFinite: true}

	// Refuse unsupported operators before doing any work.
	for _, n := range g.Nodes {
		if ops.Lookup(n.Domain, n.OpType, m.Opset(n.Domain)) == nil {
			return nil, &UnsupportedError{Node: n, Domain: n.Domain, Opset: m.Opset(n.Domain)}
		}
	}

	vals := map[string]ops.Value{}
	for _, init := range g.Initializers {
		t := init.Tensor
		vals[init.Name] = ops.Value{DType: t.DType, Shape: t.Shape, Const: t}
	}
	for name, t := range opt.Constants {
		vals[name] = ops.Value{DType: t.DType, Shape: t.Shape, Const: t}
	}
	for _, in := range g.Inputs {
		if _, isConst := vals[in.Name]; isConst {
			continue
		}
		if !in.ElemType.Valid() {
			return nil, fmt.Errorf("graph input %q has element type %v, which the engine does not support", in.Name, in.ElemType)
		}
		shape, err := inputShape(in, opt.Shapes[in.Name])
		if err != nil {
			return nil, err
		}
		if err := checkSize(in.Name, in.ElemType, shape, maxArena); err != nil {
			return nil, err
		}
		vals[in.Name] = ops.Value{DType: in.ElemType, Shape: shape}
		p.Inputs = append(p.Inputs, Input{Name: in.Name, DType: in.ElemType, Shape: shape})
	}

	// Fuse Conv+Add+Relu chains (on copies of the nodes).
	nodes := g.Nodes
	if !opt.NoFusion && !opt.KeepAll {
		consts := map[string]*tensor.Tensor{}
		for name, v := range vals {
			if v.Const != nil {
				consts[name] = v.Const
			}
		}
		nodes = fuse(g, consts)
	}

	// Build every node; fold nodes whose inputs are all constant.
	type pending struct {
		node *onnx.Node
		run  ops.Kernel
		in   []string
		out  []ops.Value
	}
	var plan []pending
	memLeft := maxArena
	for _, n := range nodes {
		opset := m.Opset(n.Domain)
		if n.Domain == ops.Domain && opset == 0 {
			opset = 1 // a node made by the fusion pass in a model that does not import the domain
		}
		b := &ops.Build{Node: n, Opset: opset, Group: p.group, MemLeft: &memLeft, MaxWork: opt.MaxNodeWork}
		allConst := true
		for _, name := range n.Inputs {
			if name == "" {
				b.In = append(b.In, ops.Value{})
				continue
			}
			v := vals[name]
			allConst = allConst && v.Const != nil
			b.In = append(b.In, v)
		}
		if err := buildNode(b); err != nil {
			return nil, err
		}
		if len(b.Out) < len(n.Outputs) || b.Run == nil {
			return nil, fmt.Errorf("%s: internal error: operator produced %d of %d outputs", n.Describe(), len(b.Out), len(n.Outputs))
		}
		for i, name := range n.Outputs {
			if err := checkSize(name, b.Out[i].DType, b.Out[i].Shape, maxArena); err != nil {
				return nil, fmt.Errorf("%s: %w", n.Describe(), err)
			}
		}
		if allConst {
			if err := safeFold(b); err != nil {
				return nil, err
			}
		}
		for i, name := range n.Outputs {
			if name != "" {
				vals[name] = b.Out[i]
			}
		}
		if !allConst {
			plan = append(plan, pending{node: n, run: b.Run, in: n.Inputs, out: b.Out})
		}
	}

	// Lifetimes: a value lives from its producing step to its last use;
	// graph inputs from step -1, graph outputs to the end.
	type life struct {
		v           ops.Value
		first, last int
	}
	lives := map[string]*life{}
	var order []string
	for _, in := range p.Inputs {
		lives[in.Name] = &life{v: vals[in.Name], first: -1, last: -1}
		order = append(order, in.Name)
	}
	for i, st := range plan {
		for _, name := range st.in {
			if l := lives[name]; l != nil {
				l.last = i
			}
		}
		for j, name := range st.node.Outputs {
			if name != "" {
				lives[name] = &life{v: st.out[j], first: i, last: i}
				order = append(order, name)
			}
		}
	}
	for _, out := range g.Outputs {
		l := lives[out.Name]
		if l == nil { // a constant or an input passed straight through
			v := vals[out.Name]
			if v.Const == nil {
				continue
			}
			lives[out.Name] = &life{v: v, first: -1, last: len(plan)}
			order = append(order, out.Name)
			continue
		}
		l.last = len(plan)
	}
	if opt.KeepAll {
		for _, l := range lives {
			l.last = len(plan)
		}
	}
	blocks := make([]arena.Block, len(order))
	for i, name := range order {
		l := lives[name]
		sz := tensor.NumElements(l.v.Shape) * l.v.DType.Size()
		if sz < 0 || sz > maxArena {
			return nil, fmt.Errorf("value %q (%v%v) needs more memory than allowed (%d bytes)", name, l.v.DType, l.v.Shape, maxArena)
		}
		blocks[i] = arena.Block{Size: max(sz, 1), First: l.first, Last: l.last}
	}
	offs, total := arena.Plan(blocks)
	if total > maxArena {
		return nil, fmt.Errorf("the model's activations need %d bytes, more than the limit of %d", total, maxArena)
	}
	ar, err := arena.New(total)
	if err != nil {
		return nil, err
	}
	p.arena = ar
	bufs := map[string]*tensor.Tensor{}
	for i, name := range order {
		l := lives[name]
		t := tensor.FromBuffer(l.v.DType, l.v.Shape, ar.Bytes(offs[i], blocks[i].Size), ar)
		bufs[name] = t
		if l.v.Const != nil {
			copy(t.Raw(), l.v.Const.Contiguous().Bytes())
		}
	}
	p.values = bufs
	p.consts = map[string]*tensor.Tensor{}
	for name, v := range vals {
		if v.Const != nil {
			p.consts[name] = v.Const
		}
	}
	for _, in := range p.Inputs {
		p.inBufs = append(p.inBufs, bufs[in.Name])
	}
	for _, out := range g.Outputs {
		t := bufs[out.Name]
		if t == nil {
			if v, ok := vals[out.Name]; ok && v.DType != 0 {
				return nil, fmt.Errorf("graph output %q is a graph input; not supported", out.Name)
			}
			return nil, fmt.Errorf("graph output %q is not computed", out.Name)
		}
		p.outBufs = append(p.outBufs, t)
		p.Outputs = append(p.Outputs, Input{Name: out.Name, DType: t.DType, Shape: t.Shape})
	}
	for _, st := range plan {
		s := step{node: st.node, run: st.run}
		for _, name := range st.in {
			switch {
			case name == "":
				s.in = append(s.in, nil)
			case bufs[name] != nil:
				s.in = append(s.in, bufs[name])
			default:
				s.in = append(s.in, vals[name].Const.Contiguous())
			}
		}
		for _, name := range st.node.Outputs {
			s.out = append(s.out, bufs[name]) // nil for an omitted optional output
		}
		p.steps = append(p.steps, s)
	}
	return p, nil
}

// checkSize refuses a value larger than limit bytes.
func checkSize(name string, dt tensor.DType, shape []int, limit int) error {
	n := int64(dt.Size())
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("value %q has a negative dimension: %v", name, shape)
		}
		if d > 0 && n > int64(limit)/int64(d) {
			return fmt.Errorf("value %q (%v%v) needs more memory than allowed (%d bytes)", name, dt, shape, limit)
		}
		n *= int64(d)
	}
	return nil
}

// buildNode runs an operator's build function; a panic there (a bug
// exposed by an unusual model) becomes an error naming the node.
func buildNode(b *ops.Build) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &ops.Error{Node: b.Node, Opset: b.Opset, Msg: fmt.Sprintf("internal error while preparing the operator: %v", r)}
		}
	}()
	build := ops.Lookup(b.Node.Domain, b.Node.OpType, b.Opset)
	if build == nil {
		return &UnsupportedError{Node: b.Node, Domain: b.Node.Domain, Opset: b.Opset}
	}
	return build(b)
}

func safeFold(b *ops.Build) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &ops.Error{Node: b.Node, Opset: b.Opset, Msg: fmt.Sprintf("internal error while folding constants: %v", r)}
		}
	}()
	return fold(b)
}

// fold runs a node whose inputs are all constants and records its outputs
// as constants.
func fold(b *ops.Build) error {
	in := make([]*tensor.Tensor, len(b.In))
	for i, v := range b.In {
		if v.Const != nil {
			in[i] = v.Const.Contiguous()
		}
	}
	out := make([]*tensor.Tensor, len(b.Out))
	for i, v := range b.Out {
		if v.Const != nil {
			out[i] = v.Const
			continue
		}
		t, err := tensor.New(v.DType, v.Shape...)
		if err != nil {
			return b.Errorf("%v", err)
		}
		out[i] = t
	}
	b.Run(in, out)
	for i := range b.Out {
		b.Out[i].Const = out[i]
	}
	return nil
}

func inputShape(in onnx.ValueInfo, override []int) ([]int, error) {
	if override != nil {
		if in.HasShape && len(override) != len(in.Dims) {
			return nil, fmt.Errorf("input %q: shape %v has rank %d, the model declares rank %d", in.Name, override, len(override), len(in.Dims))
		}
		for i, d := range override {
			if d < 0 || (in.HasShape && in.Dims[i].Param == "" && in.Dims[i].Value != int64(d)) {
				return nil, fmt.Errorf("input %q: shape %v does not match the declared dimension %d", in.Name, override, i)
			}
		}
		return append([]int(nil), override...), nil
	}
	if !in.HasShape {
		return nil, fmt.Errorf("input %q declares no shape; give one in Options.Shapes", in.Name)
	}
	s := make([]int, len(in.Dims))
	for i, d := range in.Dims {
		switch {
		case d.Value < 0 || d.Value > 1<<40:
			return nil, fmt.Errorf("input %q: bad dimension %d", in.Name, d.Value)
		case d.Param != "" || d.Value == 0: // symbolic or unknown: batch of 1
			s[i] = 1
		default:
			s[i] = int(d.Value)
		}
	}
	return s, nil
}

// InputError reports an input that does not fit the program.
type InputError struct {
	Input string
	Msg   string
}

// Error implements error.
func (e *InputError) Error() string { return fmt.Sprintf("input %q: %s", e.Input, e.Msg) }

// ErrInputCount reports a wrong number of inputs.
var ErrInputCount = errors.New("wrong number of inputs")

// SetInput copies raw little-endian element bytes into input i.
func (p *Program) SetInput(i int, raw []byte) error {
	if i < 0 || i >= len(p.inBufs) {
		return fmt.Errorf("%w: no input %d (the model has %d)", ErrInputCount, i, len(p.inBufs))
	}
	t := p.inBufs[i]
	want := len(t.Raw())
	if len(raw) != want {
		return &InputError{p.Inputs[i].Name, fmt.Sprintf("has %d bytes, the model takes %v%v = %d bytes", len(raw), t.DType, t.Shape, want)}
	}
	copy(t.Raw(), raw)
	return p.checkFinite(i)
}

func (p *Program) checkFinite(i int) error {
	t := p.inBufs[i]
	if !p.CheckFinite || t.DType != tensor.Float32 {
		return nil
	}
	for j, v := range t.F32()[:t.Len()] {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return &InputError{p.Inputs[i].Name, fmt.Sprintf("element %d is %v; inputs must be finite", j, v)}
		}
	}
	return nil
}

// Run executes the program on inputs (one per Program.Inputs, matching
// dtype and shape) and returns its outputs. The output tensors belong to the
// program: they are overwritten by the next Run and valid only while the
// program is alive. Run makes no heap allocation.
func (p *Program) Run(inputs ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(inputs) != len(p.inBufs) {
		return nil, fmt.Errorf("%w: got %d, the model takes %d", ErrInputCount, len(inputs), len(p.inBufs))
	}
	for i, in := range inputs {
		want := p.inBufs[i]
		if in == nil || in.DType != want.DType || !tensor.SameShape(in.Shape, want.Shape) {
			got := "nil"
			if in != nil {
				got = in.String()
			}
			return nil, &InputError{p.Inputs[i].Name, fmt.Sprintf("is %s, the model takes %s", got, want.String())}
		}
		if in != want {
			copy(want.Raw(), in.Contiguous().Bytes())
			if err := p.checkFinite(i); err != nil {
				return nil, err
			}
		}
	}
	return p.safeExec()
}

// safeExec is Exec that turns a panic in a kernel (a bug exposed by an
// unusual model) into an error naming the node, instead of crashing.
func (p *Program) safeExec() (out []*tensor.Tensor, err error) {
	step := -1
	defer func() {
		if r := recover(); r != nil {
			name := "?"
			if step >= 0 && step < len(p.steps) {
				name = p.steps[step].node.Describe()
			}
			out, err = nil, fmt.Errorf("internal error in %s: %v", name, r)
		}
	}()
	for step = 0; step < len(p.steps); step++ {
		s := &p.steps[step]
		s.run(s.in, s.out)
	}
	return p.outBufs, nil
}

// Exec runs the program on the inputs already placed with SetInput or
// InputTensor and returns the outputs (see Run).
func (p *Program) Exec() []*tensor.Tensor {
	for i := range p.steps {
		s := &p.steps[i]
		s.run(s.in, s.out)
	}
	return p.outBufs
}

// InputTensor returns the program's own buffer for input i; writing into it
// and calling Exec avoids a copy.
func (p *Program) InputTensor(i int) *tensor.Tensor { return p.inBufs[i] }

// ArenaBytes returns the size of the activation arena.
func (p *Program) ArenaBytes() int { return p.arena.Size() }

// Steps returns the number of operator executions per run (constant
// subgraphs are folded away at compile time).
func (p *Program) Steps() int { return len(p.steps) }

// Value returns the tensor holding a named value after Exec (meaningful for
// every value only when compiled with KeepAll), or nil.
func (p *Program) Value(name string) *tensor.Tensor { return p.values[name] }

// Const returns the value of a constant (an initializer or a folded node
// output), or nil.
func (p *Program) Const(name string) *tensor.Tensor { return p.consts[name] }

// Package backendtest runs test cases laid out as ONNX's backend tests:
// DIR/model.onnx with DIR/test_data_set_N/input_K.pb and output_K.pb
// (serialized TensorProtos), comparing outputs with ONNX's tolerance
// (|got - want| <= atol + rtol·|want|, atol = rtol = 1e-4 unless changed).
package backendtest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Tolerances used by ONNX's own backend test runner.
const (
	RTol = 1e-4
	ATol = 1e-4
)

// OutputResult is the comparison of one output of one data set.
type OutputResult struct {
	DataSet string
	Name    string
	MaxAbs  float64 // largest absolute error
	OK      bool
	Msg     string // shape or dtype mismatch
}

// Result is the outcome of one test case.
type Result struct {
	Dir     string
	Ops     []string // operator types in the model
	Outputs []OutputResult
	Pass    bool
}

func readTensor(path string) (string, *tensor.Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	name, t, err := onnx.DecodeTensor(b)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	return name, t, nil
}

// ModelOps returns the sorted distinct operator types of a model file.
func ModelOps(m *onnx.Model) []string {
	seen := map[string]bool{}
	var r []string
	for _, n := range m.Graph.Nodes {
		if !seen[n.OpType] {
			seen[n.OpType] = true
			r = append(r, n.OpType)
		}
	}
	sort.Strings(r)
	return r
}

// Run loads DIR/model.onnx, runs every data set and compares the outputs.
// An error means the case could not run at all (for example an unsupported
// operator, which is refused at load time).
func Run(dir string) (*Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return nil, err
	}
	m, err := onnx.Load(b)
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: dir, Ops: ModelOps(m), Pass: true}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	sort.Strings(sets)
	if len(sets) == 0 {
		return nil, fmt.Errorf("%s: no test_data_set_* directories", dir)
	}
	for _, set := range sets {
		inFiles, _ := filepath.Glob(filepath.Join(set, "input_*.pb"))
		outFiles, _ := filepath.Glob(filepath.Join(set, "output_*.pb"))
		sortNumeric(inFiles)
		sortNumeric(outFiles)
		shapes := map[string][]int{}
		inputs := map[string]*tensor.Tensor{}
		var order []string
		for i, f := range inFiles {
			name, t, err := readTensor(f)
			if err != nil {
				return nil, err
			}
			if name == "" { // fall back to the position among the graph inputs
				name = realInput(m, i)
			}
			shapes[name] = t.Shape
			inputs[name] = t
			order = append(order, name)
		}
		// int64 inputs used as shape parameters (Reshape's shape, Slice's
		// starts, ...): the engine fixes shapes at compile time, so they are
		// given as constants.
		consts := map[string]*tensor.Tensor{}
		for name, t := range inputs {
			if t.DType == tensor.Int64 && t.Len() <= 16 && feedsShape(m, name) {
				consts[name] = t
			}
		}
		p, err := runtime.Compile(m, runtime.Options{Shapes: shapes, Constants: consts})
		if err != nil {
			return nil, err
		}
		p.CheckFinite = false // conformance data may hold NaN on purpose
		args := make([]*tensor.Tensor, len(p.Inputs))
		for i, in := range p.Inputs {
			t := inputs[in.Name]
			if t == nil {
				return nil, fmt.Errorf("%s: no data for input %q", set, in.Name)
			}
			args[i] = t
		}
		outs, err := p.Run(args...)
		if err != nil {
			return nil, err
		}
		for i, f := range outFiles {
			name, want, err := readTensor(f)
			if err != nil {
				return nil, err
			}
			r := OutputResult{DataSet: filepath.Base(set), Name: name}
			if i >= len(outs) {
				r.Msg = "output not produced"
			} else {
				r.MaxAbs, r.OK, r.Msg = compare(outs[i], want)
			}
			res.Pass = res.Pass && r.OK
			res.Outputs = append(res.Outputs, r)
		}
	}
	return res, nil
}

func realInput(m *onnx.Model, i int) string {
	inits := map[string]bool{}
	for _, in := range m.Graph.Initializers {
		inits[in.Name] = true
	}
	k := 0
	for _, in := range m.Graph.Inputs {
		if inits[in.Name] {
			continue
		}
		if k == i {
			return in.Name
		}
		k++
	}
	return ""
}

func sortNumeric(files []string) {
	num := func(s string) int {
		var n int
		base := filepath.Base(s)
		for _, c := range base {
			if c >= '0' && c <= '9' {
				n = n*10 + int(c-'0')
			}
		}
		return n
	}
	sort.Slice(files, func(i, j int) bool { return num(files[i]) < num(files[j]) })
}

func values(t *tensor.Tensor) []float64 {
	t = t.Contiguous()
	n := t.Len()
	r := make([]float64, n)
	for i := 0; i < n; i++ {
		switch t.DType {
		case tensor.Float32:
			r[i] = float64(t.F32()[i])
		case tensor.Uint8:
			r[i] = float64(t.U8()[i])
		case tensor.Int8:
			r[i] = float64(t.I8()[i])
		case tensor.Int32:
			r[i] = float64(t.I32()[i])
		case tensor.Int64:
			r[i] = float64(t.I64()[i])
		}
	}
	return r
}

func compare(got, want *tensor.Tensor) (float64, bool, string) {
	if got.DType != want.DType {
		return 0, false, fmt.Sprintf("dtype %v, want %v", got.DType, want.DType)
	}
	if !tensor.SameShape(got.Shape, want.Shape) {
		return 0, false, fmt.Sprintf("shape %v, want %v", got.Shape, want.Shape)
	}
	g, w := values(got), values(want)
	maxAbs, ok := 0.0, true
	for i := range g {
		if math.IsNaN(w[i]) && math.IsNaN(g[i]) {
			continue
		}
		d := math.Abs(g[i] - w[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		maxAbs = math.Max(maxAbs, d)
		if d > ATol+RTol*math.Abs(w[i]) {
			ok = false
		}
	}
	return maxAbs, ok, ""
}

// shapeInputs lists, per operator, the inputs that are shape parameters
// (the engine needs them at compile time).
var shapeInputs = map[string][]int{
	"Reshape":   {1},
	"Slice":     {1, 2, 3, 4},
	"Squeeze":   {1},
	"Unsqueeze": {1},
	"ReduceSum": {1},
}

// feedsShape reports whether a graph input is used only as a shape
// parameter (Reshape's shape, Slice's starts, ...).
func feedsShape(m *onnx.Model, name string) bool {
	used := false
	for _, n := range m.Graph.Nodes {
		for i, in := range n.Inputs {
			if in != name {
				continue
			}
			ok := false
			for _, j := range shapeInputs[n.OpType] {
				ok = ok || i == j
			}
			if !ok {
				return false
			}
			used = true
		}
	}
	return used
}

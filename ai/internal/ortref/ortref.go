// Package ortref runs models under ONNX Runtime (npm onnxruntime-node,
// installed into ai/node by scripts/deps-ai.sh) through ai/node/ort.js, to
// give tests and benchmarks a reference implementation.
package ortref

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Script returns the path of ort.js.
func Script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "node", "ort.js")
}

type jtensor struct {
	Name  string `json:"name,omitempty"`
	DType string `json:"dtype"`
	Dims  []int  `json:"dims"`
	B64   string `json:"b64"`
}

type request struct {
	Model   string                          `json:"model"`
	Threads int                             `json:"threads"`
	Opt     string                          `json:"opt,omitempty"`
	Profile bool                            `json:"profile,omitempty"`
	Runs    []map[string]map[string]jtensor `json:"-"`
	RunsRaw []struct {
		Inputs map[string]jtensor `json:"inputs"`
	} `json:"runs"`
	Bench *struct {
		Warmup int `json:"warmup"`
		Iters  int `json:"iters"`
	} `json:"bench,omitempty"`
}

type reply struct {
	Runs []struct {
		Outputs []jtensor `json:"outputs"`
	} `json:"runs"`
	Bench   *BenchResult `json:"bench"`
	Kernels []string     `json:"kernels"`
}

// BenchResult is ONNX Runtime's measured speed.
type BenchResult struct {
	MeanMS   float64 `json:"mean_ms"`
	RunsPerS float64 `json:"runs_per_s"`
	// CPUMS is the node process's CPU time (all threads) per run.
	CPUMS float64 `json:"cpu_ms"`
}

func call(req *request) (*reply, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", Script())
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ortref: node %s: %v: %s (run scripts/deps-ai.sh to install onnxruntime-node)", Script(), err, stderr.String())
	}
	var r reply
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("ortref: bad reply: %v", err)
	}
	return &r, nil
}

func encode(in map[string]*tensor.Tensor) map[string]jtensor {
	m := map[string]jtensor{}
	for k, t := range in {
		t = t.Contiguous()
		m[k] = jtensor{DType: t.DType.String(), Dims: t.Shape, B64: base64.StdEncoding.EncodeToString(t.Bytes())}
	}
	return m
}

var dtypes = map[string]tensor.DType{"float32": tensor.Float32, "uint8": tensor.Uint8, "int8": tensor.Int8, "int32": tensor.Int32, "int64": tensor.Int64}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// Run runs the model file once per input set and returns the outputs of
// each run in the session's output order, with ONNX Runtime's default
// graph optimization level ("all").
func Run(model string, threads int, runs []map[string]*tensor.Tensor) ([][]*tensor.Tensor, error) {
	return RunLevel(model, threads, "all", runs)
}

// RunLevel is Run with a graph optimization level: "disabled", "basic",
// "extended" or "all". The level changes which kernels ONNX Runtime picks
// (at "all", convolutions run in its blocked NCHWc layout), not the
// semantics of the model.
func RunLevel(model string, threads int, level string, runs []map[string]*tensor.Tensor) ([][]*tensor.Tensor, error) {
	if _, err := os.Stat(model); err != nil {
		return nil, err
	}
	req := &request{Model: absPath(model), Threads: threads, Opt: level}
	for _, r := range runs {
		req.RunsRaw = append(req.RunsRaw, struct {
			Inputs map[string]jtensor `json:"inputs"`
		}{encode(r)})
	}
	rep, err := call(req)
	if err != nil {
		return nil, err
	}
	var res [][]*tensor.Tensor
	for _, r := range rep.Runs {
		var outs []*tensor.Tensor
		for _, o := range r.Outputs {
			raw, err := base64.StdEncoding.DecodeString(o.B64)
			if err != nil {
				return nil, err
			}
			dt, ok := dtypes[o.DType]
			if !ok {
				return nil, fmt.Errorf("ortref: output %q has dtype %s", o.Name, o.DType)
			}
			t, err := tensor.FromBytes(dt, o.Dims, raw)
			if err != nil {
				return nil, err
			}
			outs = append(outs, t)
		}
		res = append(res, outs)
	}
	return res, nil
}

// Bench measures ONNX Runtime's mean time per run over iters runs of the
// given input sets, with threads intra-op threads.
func Bench(model string, threads, iters int, runs []map[string]*tensor.Tensor) (*BenchResult, error) {
	req := &request{Model: absPath(model), Threads: threads}
	for _, r := range runs {
		req.RunsRaw = append(req.RunsRaw, struct {
			Inputs map[string]jtensor `json:"inputs"`
		}{encode(r)})
	}
	req.Bench = &struct {
		Warmup int `json:"warmup"`
		Iters  int `json:"iters"`
	}{Warmup: max(3, iters/10), Iters: iters}
	rep, err := call(req)
	if err != nil {
		return nil, err
	}
	if rep.Bench == nil {
		return nil, fmt.Errorf("ortref: no bench result")
	}
	return rep.Bench, nil
}

// Kernels runs the model once on the given inputs at a graph optimization
// level and returns the operator names of the kernels ONNX Runtime ran, in
// order, from its profiler (for example FusedConv, or Conv of the NCHWc
// domain followed by ReorderOutput).
func Kernels(model, level string, inputs map[string]*tensor.Tensor) ([]string, error) {
	req := &request{Model: absPath(model), Threads: 1, Opt: level, Profile: true}
	req.RunsRaw = append(req.RunsRaw, struct {
		Inputs map[string]jtensor `json:"inputs"`
	}{encode(inputs)})
	rep, err := call(req)
	if err != nil {
		return nil, err
	}
	return rep.Kernels, nil
}

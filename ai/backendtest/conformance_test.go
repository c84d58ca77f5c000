package backendtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/ops"
)

// NodeTestDir is where Debian's libonnx-testdata (ONNX 1.12) installs the
// backend node tests; scripts/deps-ai.sh installs the package.
const NodeTestDir = "/usr/share/libonnx-testdata/data/node"

// TestONNXNodeConformance runs every ONNX backend node test whose model uses
// only operators the engine claims. Every such case must pass; the test
// prints the pass count per operator. Cases whose single operator is
// claimed must load: a claimed operator may not refuse one of its own tests.
func TestONNXNodeConformance(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(NodeTestDir, "test_*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no ONNX node tests in %s (run scripts/deps-ai.sh): %v", NodeTestDir, err)
	}
	claimed := map[string]bool{}
	for _, op := range ops.Supported() {
		if !strings.Contains(op, "/") {
			claimed[op] = true
		}
	}
	pass := map[string]int{}
	total := map[string]int{}
	var failures []string
	ran := 0
	var notLoadable, notTensor []string
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := onnx.Load(b)
		if err != nil {
			// only cases with tensor types the engine lacks (bool, double,
			// float16, strings, ...) in constant attributes fail to load
			notLoadable = append(notLoadable, filepath.Base(dir))
			continue
		}
		nonTensor := false
		for _, in := range m.Graph.Inputs {
			nonTensor = nonTensor || in.ElemType == 0
		}
		if nonTensor {
			// sequence and optional values: the engine computes on tensors only
			notTensor = append(notTensor, filepath.Base(dir))
			continue
		}
		opsUsed := ModelOps(m)
		all := true
		for _, op := range opsUsed {
			all = all && claimed[op]
		}
		for _, n := range m.Graph.Nodes {
			all = all && (n.Domain == "" || n.Domain == "ai.onnx")
		}
		if !all {
			continue
		}
		ran++
		res, err := Run(dir)
		ok := err == nil && res.Pass
		for _, op := range opsUsed {
			total[op]++
			if ok {
				pass[op]++
			}
		}
		if !ok {
			msg := ""
			if err != nil {
				msg = err.Error()
			} else {
				for _, o := range res.Outputs {
					if !o.OK {
						msg += fmt.Sprintf(" %s/%s max abs error %g %s", o.DataSet, o.Name, o.MaxAbs, o.Msg)
					}
				}
			}
			failures = append(failures, filepath.Base(dir)+": "+msg)
		}
	}
	names := make([]string, 0, len(total))
	for op := range total {
		names = append(names, op)
	}
	sort.Strings(names)
	for _, op := range names {
		t.Logf("%-20s %3d/%d node tests pass", op, pass[op], total[op])
	}
	for op := range claimed {
		if total[op] == 0 {
			t.Logf("%-20s no node test in ONNX 1.12 uses only claimed operators", op)
		}
	}
	t.Logf("%d cases run; %d not loadable (unsupported tensor types in attributes): %v", ran, len(notLoadable), notLoadable)
	t.Logf("%d cases on sequence/optional values not counted: %v", len(notTensor), notTensor)
	for _, f := range failures {
		t.Error(f)
	}
}

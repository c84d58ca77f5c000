package cli

import (
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/runtime"
)

func cmdInspect(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: xairrosx ai inspect MODEL.onnx")
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	m, err := onnx.Load(b)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model      %s\n", fs.Arg(0))
	fmt.Fprintf(stdout, "sha256     %x\n", sha256.Sum256(b))
	fmt.Fprintf(stdout, "size       %d bytes\n", len(b))
	fmt.Fprintf(stdout, "producer   %s %s (IR version %d)\n", m.ProducerName, m.ProducerVersion, m.IRVersion)
	for _, d := range slices.Sorted(maps.Keys(m.Opsets)) {
		name := d
		if name == "" {
			name = "ai.onnx"
		}
		fmt.Fprintf(stdout, "opset      %s %d\n", name, m.Opsets[d])
	}
	for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
		fmt.Fprintf(stdout, "metadata   %s = %s\n", k, m.Metadata[k])
	}
	inits := map[string]bool{}
	params := 0
	for _, in := range m.Graph.Initializers {
		inits[in.Name] = true
		params += in.Tensor.Len()
	}
	for _, in := range m.Graph.Inputs {
		if !inits[in.Name] {
			fmt.Fprintf(stdout, "input      %s %v %s\n", in.Name, in.ElemType, dimsString(in.Dims))
		}
	}
	for _, out := range m.Graph.Outputs {
		fmt.Fprintf(stdout, "output     %s %v %s\n", out.Name, out.ElemType, dimsString(out.Dims))
	}
	fmt.Fprintf(stdout, "parameters %d in %d initializers\n", params, len(m.Graph.Initializers))
	count := map[string]int{}
	for _, n := range m.Graph.Nodes {
		op := n.OpType
		if n.Domain != "" {
			op = n.Domain + "/" + op
		}
		count[op]++
	}
	fmt.Fprintf(stdout, "nodes      %d\n", len(m.Graph.Nodes))
	for _, op := range slices.Sorted(maps.Keys(count)) {
		fmt.Fprintf(stdout, "  %-28s %d\n", op, count[op])
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		fmt.Fprintf(stdout, "compile    FAILED: %v\n", err)
		return nil
	}
	fmt.Fprintf(stdout, "compile    ok: %d steps after constant folding, activation arena %d bytes\n", p.Steps(), p.ArenaBytes())
	return nil
}

func dimsString(d []onnx.Dim) string {
	s := "["
	for i, x := range d {
		if i > 0 {
			s += "x"
		}
		if x.Param != "" {
			s += x.Param
		} else {
			s += fmt.Sprint(x.Value)
		}
	}
	return s + "]"
}

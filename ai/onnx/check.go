package onnx

import (
	"errors"
	"fmt"
)

// CheckError reports a structural problem of a decoded graph.
type CheckError struct {
	Node *Node // nil for graph-level problems
	Msg  string
}

// Error implements error.
func (e *CheckError) Error() string {
	if e.Node != nil {
		return "onnx: " + e.Node.Describe() + ": " + e.Msg
	}
	return "onnx: " + e.Msg
}

// Load decodes and checks a model. See Decode for aliasing.
func Load(b []byte) (*Model, error) {
	m, err := Decode(b)
	if err != nil {
		return nil, err
	}
	if err := Check(m); err != nil {
		return nil, err
	}
	return m, nil
}

// Check verifies the graph's structure: the default operator set is
// imported, every node input is a graph input, an initializer or the output
// of an earlier node (nodes must be topologically sorted, as ONNX requires),
// no value is produced twice, every graph output is produced and graph
// inputs have names. Element types are checked when a model is compiled.
func Check(m *Model) error {
	if m.Graph == nil {
		return errors.New("onnx: model has no graph")
	}
	if _, ok := m.Opsets[""]; !ok && len(m.Opsets) == 0 {
		return errors.New("onnx: model imports no operator set")
	}
	return checkGraph(m.Graph, nil)
}

func checkGraph(g *Graph, outer map[string]bool) error {
	defined := map[string]bool{"": true} // "" marks an omitted optional input
	for k := range outer {
		defined[k] = true
	}
	for _, in := range g.Inputs {
		if in.Name == "" {
			return &CheckError{Msg: "graph input with an empty name"}
		}
		defined[in.Name] = true
	}
	for _, init := range g.Initializers {
		if init.Name == "" {
			return &CheckError{Msg: "initializer with an empty name"}
		}
		defined[init.Name] = true
	}
	produced := map[string]bool{}
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if !defined[in] {
				return &CheckError{Node: n, Msg: fmt.Sprintf("input %d %q is not defined before the node (graph not topologically sorted, or a dangling name)", i, in)}
			}
		}
		for _, a := range n.Attrs {
			if a.G != nil {
				if err := checkGraph(a.G, defined); err != nil {
					return fmt.Errorf("in subgraph %q of %s: %w", a.Name, n.Describe(), err)
				}
			}
		}
		for _, out := range n.Outputs {
			if out == "" {
				continue
			}
			if produced[out] || (defined[out] && !outer[out]) {
				return &CheckError{Node: n, Msg: fmt.Sprintf("output %q is already defined", out)}
			}
			produced[out] = true
			defined[out] = true
		}
	}
	for _, out := range g.Outputs {
		if !defined[out.Name] {
			return &CheckError{Msg: fmt.Sprintf("graph output %q is not produced by any node", out.Name)}
		}
	}
	return nil
}

func isInitializer(g *Graph, name string) bool {
	for _, in := range g.Initializers {
		if in.Name == name {
			return true
		}
	}
	return false
}

// Package onnx decodes ONNX model files (the protobuf messages of onnx.proto,
// IR version 3 and later) into a graph the runtime can plan, and checks that
// graph: every value is produced before it is used, names are unique and
// tensors hold as many bytes as their shape says. Tensor payloads stored as
// raw_data alias the model bytes, so weights are never copied on load.
//
// Decoding uses google.golang.org/protobuf/encoding/protowire directly
// (field numbers from onnx/onnx.proto of ONNX 1.12); fields the engine does
// not need are skipped, as protobuf allows.
package onnx

import (
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Model is a decoded ONNX ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	// Opsets maps an operator-set domain ("" is the default ai.onnx domain)
	// to its version.
	Opsets map[string]int64
	Graph  *Graph
	// Metadata holds the model's metadata_props.
	Metadata map[string]string
}

// Graph is a decoded GraphProto.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Initializer
	Inputs       []ValueInfo
	Outputs      []ValueInfo
}

// Initializer is a named constant tensor of a graph.
type Initializer struct {
	Name   string
	Tensor *tensor.Tensor
}

// Node is one operator application.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   map[string]*Attr
	// Index is the node's position in its graph.
	Index int
}

// AttrType is the ONNX AttributeProto.AttributeType.
type AttrType int32

// Attribute types the decoder keeps.
const (
	AttrFloat   AttrType = 1
	AttrInt     AttrType = 2
	AttrString  AttrType = 3
	AttrTensor  AttrType = 4
	AttrGraph   AttrType = 5
	AttrFloats  AttrType = 6
	AttrInts    AttrType = 7
	AttrStrings AttrType = 8
)

// Attr is a decoded AttributeProto.
type Attr struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       string
	T       *tensor.Tensor
	G       *Graph
	Floats  []float32
	Ints    []int64
	Strings []string
}

// Dim is one dimension of a declared shape: a fixed value or a symbolic name.
type Dim struct {
	Value int64
	Param string
}

// ValueInfo is a declared graph input or output.
type ValueInfo struct {
	Name     string
	ElemType tensor.DType
	// HasShape is false when the type carries no shape at all.
	HasShape bool
	Dims     []Dim
}

// Opset returns the version of the operator set of domain ("" or "ai.onnx"
// for the default), or 0 when the model does not import it.
func (m *Model) Opset(domain string) int64 {
	if domain == "ai.onnx" {
		domain = ""
	}
	return m.Opsets[domain]
}

// Describe names a node for error messages: its name, op type and index.
func (n *Node) Describe() string {
	if n.Name != "" {
		return "node " + quote(n.Name) + " (" + n.OpType + ", #" + itoa(n.Index) + ")"
	}
	return "node #" + itoa(n.Index) + " (" + n.OpType + ")"
}

// Consumers maps each value name to the nodes that read it, in graph order.
func (g *Graph) Consumers() map[string][]*Node {
	c := map[string][]*Node{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			c[in] = append(c[in], n)
		}
	}
	return c
}

// OutputSet returns the names of the graph's outputs.
func (g *Graph) OutputSet() map[string]bool {
	s := map[string]bool{}
	for _, o := range g.Outputs {
		s[o.Name] = true
	}
	return s
}

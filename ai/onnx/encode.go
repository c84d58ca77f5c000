package onnx

import (
	"maps"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Encode serializes a model as an ONNX ModelProto. It writes the fields
// Decode reads, in a fixed order (maps sorted by key), so equal models give
// equal bytes.
func Encode(m *Model) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(m.IRVersion))
	b = appendString(b, 2, m.ProducerName)
	b = appendString(b, 3, m.ProducerVersion)
	if m.Graph != nil {
		b = protowire.AppendTag(b, 7, protowire.BytesType)
		b = protowire.AppendBytes(b, encodeGraph(m.Graph))
	}
	for _, d := range slices.Sorted(maps.Keys(m.Opsets)) {
		var o []byte
		o = appendString(o, 1, d)
		o = protowire.AppendTag(o, 2, protowire.VarintType)
		o = protowire.AppendVarint(o, uint64(m.Opsets[d]))
		b = protowire.AppendTag(b, 8, protowire.BytesType)
		b = protowire.AppendBytes(b, o)
	}
	for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
		var e []byte
		e = appendString(e, 1, k)
		e = appendString(e, 2, m.Metadata[k])
		b = protowire.AppendTag(b, 14, protowire.BytesType)
		b = protowire.AppendBytes(b, e)
	}
	return b
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMsg(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func encodeGraph(g *Graph) []byte {
	var b []byte
	for _, n := range g.Nodes {
		b = appendMsg(b, 1, encodeNode(n))
	}
	b = appendString(b, 2, g.Name)
	for _, in := range g.Initializers {
		b = appendMsg(b, 5, EncodeTensor(in.Name, in.Tensor))
	}
	for _, vi := range g.Inputs {
		b = appendMsg(b, 11, encodeValueInfo(vi))
	}
	for _, vi := range g.Outputs {
		b = appendMsg(b, 12, encodeValueInfo(vi))
	}
	return b
}

func encodeNode(n *Node) []byte {
	var b []byte
	for _, s := range n.Inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	for _, s := range n.Outputs {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendString(b, 3, n.Name)
	b = appendString(b, 4, n.OpType)
	for _, k := range slices.Sorted(maps.Keys(n.Attrs)) {
		b = appendMsg(b, 5, encodeAttr(n.Attrs[k]))
	}
	b = appendString(b, 7, n.Domain)
	return b
}

func encodeAttr(a *Attr) []byte {
	var b []byte
	b = appendString(b, 1, a.Name)
	switch a.Type {
	case AttrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.I))
	case AttrString:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendString(b, a.S)
	case AttrTensor:
		b = appendMsg(b, 5, EncodeTensor("", a.T))
	case AttrFloats:
		var p []byte
		for _, f := range a.Floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendMsg(b, 7, p)
	case AttrInts:
		var p []byte
		for _, v := range a.Ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMsg(b, 8, p)
	case AttrStrings:
		for _, s := range a.Strings {
			b = protowire.AppendTag(b, 9, protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(a.Type))
	return b
}

func encodeValueInfo(vi ValueInfo) []byte {
	var te []byte
	te = protowire.AppendTag(te, 1, protowire.VarintType)
	te = protowire.AppendVarint(te, uint64(vi.ElemType))
	if vi.HasShape {
		var sh []byte
		for _, d := range vi.Dims {
			var dm []byte
			if d.Param != "" {
				dm = appendString(dm, 2, d.Param)
			} else {
				dm = protowire.AppendTag(dm, 1, protowire.VarintType)
				dm = protowire.AppendVarint(dm, uint64(d.Value))
			}
			sh = appendMsg(sh, 1, dm)
		}
		te = appendMsg(te, 2, sh)
	}
	var b []byte
	b = appendString(b, 1, vi.Name)
	return appendMsg(b, 2, appendMsg(nil, 1, te))
}

// EncodeTensor serializes a tensor as a TensorProto with raw_data.
func EncodeTensor(name string, t *tensor.Tensor) []byte {
	var b []byte
	if len(t.Shape) > 0 {
		var p []byte
		for _, d := range t.Shape {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = appendMsg(b, 1, p)
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.DType))
	b = appendString(b, 8, name)
	return appendMsg(b, 9, t.Contiguous().Bytes())
}

// IntsAttr returns an ints attribute.
func IntsAttr(name string, v ...int64) *Attr { return &Attr{Name: name, Type: AttrInts, Ints: v} }

// IntAttr returns an int attribute.
func IntAttr(name string, v int64) *Attr { return &Attr{Name: name, Type: AttrInt, I: v} }

// StringAttr returns a string attribute.
func StringAttr(name, v string) *Attr { return &Attr{Name: name, Type: AttrString, S: v} }

// FloatAttr returns a float attribute.
func FloatAttr(name string, v float32) *Attr { return &Attr{Name: name, Type: AttrFloat, F: v} }

package onnx

import (
	"bytes"
	"os"
	"testing"

	"github.com/xairrosx/xairrosx/ai/tensor"
)

func TestEncodeRoundTrip(t *testing.T) {
	b, err := os.ReadFile("../testdata/mnist-8.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(b)
	if err != nil {
		t.Fatal(err)
	}
	enc := Encode(m)
	m2, err := Load(enc)
	if err != nil {
		t.Fatalf("re-decoding: %v", err)
	}
	if len(m2.Graph.Nodes) != len(m.Graph.Nodes) || len(m2.Graph.Initializers) != len(m.Graph.Initializers) {
		t.Fatalf("round trip lost nodes or initializers")
	}
	for i, in := range m.Graph.Initializers {
		if !bytes.Equal(in.Tensor.Bytes(), m2.Graph.Initializers[i].Tensor.Bytes()) {
			t.Fatalf("initializer %q changed", in.Name)
		}
	}
	for i, n := range m.Graph.Nodes {
		n2 := m2.Graph.Nodes[i]
		if n.OpType != n2.OpType || len(n.Attrs) != len(n2.Attrs) {
			t.Fatalf("node %d changed", i)
		}
	}
	if !bytes.Equal(Encode(m2), enc) {
		t.Fatal("encoding is not stable")
	}
}

// TestInitializersAliasModelBytes checks zero-copy loading: a tensor whose
// raw_data is aligned for its dtype in the model bytes is used in place. For
// each initializer the file is placed in memory so that its data is aligned.
func TestInitializersAliasModelBytes(t *testing.T) {
	b, err := os.ReadFile("../testdata/mnist-8.onnx")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(b)
	if err != nil {
		t.Fatal(err)
	}
	for k, in := range m.Graph.Initializers {
		if in.Tensor.DType != tensor.Float32 {
			continue // int64 shapes are varint-encoded: converted, not aliased
		}
		pos := bytes.Index(b, in.Tensor.Bytes())
		if pos < 0 {
			t.Fatalf("initializer %q: data not found in the file", in.Name)
		}
		buf := make([]byte, len(b)+64)
		base := int(uintptrOf(buf) % 64)
		shift := (64 - (base+pos)%64) % 64 // puts the data on a 64-byte boundary
		file := buf[shift : shift+len(b)]
		copy(file, b)
		m2, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		got := m2.Graph.Initializers[k].Tensor
		if !got.Aliases(file[pos:]) {
			t.Errorf("initializer %q was copied although its data is aligned", in.Name)
		}
	}
}

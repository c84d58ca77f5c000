package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Limits that keep a hostile file from exhausting memory or the stack.
const (
	maxGraphDepth = 8
	maxRank       = 16
	maxListLen    = 1 << 24
)

// DecodeError reports where in the protobuf structure a model is malformed.
type DecodeError struct {
	Path string // e.g. "graph.initializer[2] (\"W\")"
	Err  error
}

// Error implements error.
func (e *DecodeError) Error() string { return "onnx: decoding " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

var errTruncated = errors.New("truncated or corrupted protobuf")

func quote(s string) string { return strconv.Quote(s) }

func itoa(i int) string { return strconv.Itoa(i) }

// fieldIter walks the fields of one message.
type fieldIter struct {
	b    []byte
	path string
	num  protowire.Number
	typ  protowire.Type
	err  error
	// the value of the current field
	varint uint64
	fixed  uint64
	bytes  []byte
}

func (it *fieldIter) next() bool {
	if it.err != nil || len(it.b) == 0 {
		return false
	}
	num, typ, n := protowire.ConsumeTag(it.b)
	if n < 0 {
		it.err = &DecodeError{it.path, fmt.Errorf("bad field tag: %w", protowire.ParseError(n))}
		return false
	}
	it.b = it.b[n:]
	it.num, it.typ = num, typ
	switch typ {
	case protowire.VarintType:
		it.varint, n = protowire.ConsumeVarint(it.b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(it.b)
		it.fixed = uint64(v)
	case protowire.Fixed64Type:
		it.fixed, n = protowire.ConsumeFixed64(it.b)
	case protowire.BytesType:
		it.bytes, n = protowire.ConsumeBytes(it.b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, it.b)
	}
	if n < 0 {
		it.err = &DecodeError{fmt.Sprintf("%s field %d", it.path, num), fmt.Errorf("%w (%v)", errTruncated, protowire.ParseError(n))}
		return false
	}
	it.b = it.b[n:]
	return true
}

func (it *fieldIter) wrong(name string) {
	if it.err == nil {
		it.err = &DecodeError{it.path + "." + name, fmt.Errorf("field %d has wire type %d", it.num, it.typ)}
	}
}

func (it *fieldIter) str(name string) string {
	if it.typ != protowire.BytesType {
		it.wrong(name)
		return ""
	}
	return string(it.bytes)
}

func (it *fieldIter) int(name string) int64 {
	if it.typ != protowire.VarintType {
		it.wrong(name)
		return 0
	}
	return int64(it.varint)
}

func (it *fieldIter) msg(name string) []byte {
	if it.typ != protowire.BytesType {
		it.wrong(name)
		return nil
	}
	return it.bytes
}

// ints appends a repeated int64/int32 field in packed or unpacked form.
func (it *fieldIter) ints(dst []int64, name string) []int64 {
	switch it.typ {
	case protowire.VarintType:
		return append(dst, int64(it.varint))
	case protowire.BytesType:
		b := it.bytes
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				it.err = &DecodeError{it.path + "." + name, errTruncated}
				return dst
			}
			if len(dst) >= maxListLen {
				it.err = &DecodeError{it.path + "." + name, errors.New("list too long")}
				return dst
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst
	}
	it.wrong(name)
	return dst
}

// floats appends a repeated float field in packed or unpacked form.
func (it *fieldIter) floats(dst []float32, name string) []float32 {
	switch it.typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(it.fixed)))
	case protowire.BytesType:
		if len(it.bytes)%4 != 0 {
			it.err = &DecodeError{it.path + "." + name, errTruncated}
			return dst
		}
		for i := 0; i < len(it.bytes); i += 4 {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(it.bytes[i:])))
		}
		return dst
	}
	it.wrong(name)
	return dst
}

func (it *fieldIter) doubles(dst []float64, name string) []float64 {
	switch it.typ {
	case protowire.Fixed64Type:
		return append(dst, math.Float64frombits(it.fixed))
	case protowire.BytesType:
		if len(it.bytes)%8 != 0 {
			it.err = &DecodeError{it.path + "." + name, errTruncated}
			return dst
		}
		for i := 0; i < len(it.bytes); i += 8 {
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(it.bytes[i:])))
		}
		return dst
	}
	it.wrong(name)
	return dst
}

// Decode parses the bytes of an ONNX model. Tensors stored as raw_data alias
// b, so b must stay unchanged while the model is in use. Decode only
// decodes; Load also checks the graph.
func Decode(b []byte) (*Model, error) {
	m := &Model{Opsets: map[string]int64{}, Metadata: map[string]string{}}
	it := fieldIter{b: b, path: "model"}
	var sawGraph bool
	for it.next() {
		switch it.num {
		case 1:
			m.IRVersion = it.int("ir_version")
		case 2:
			m.ProducerName = it.str("producer_name")
		case 3:
			m.ProducerVersion = it.str("producer_version")
		case 7:
			g, err := decodeGraph(it.msg("graph"), "graph", 0)
			if err != nil {
				return nil, err
			}
			m.Graph, sawGraph = g, true
		case 14:
			k, v, err := decodeEntry(it.msg("metadata_props"), "model.metadata_props")
			if err != nil {
				return nil, err
			}
			m.Metadata[k] = v
		case 8:
			d, v, err := decodeOpset(it.msg("opset_import"), fmt.Sprintf("model.opset_import[%d]", len(m.Opsets)))
			if err != nil {
				return nil, err
			}
			if d == "ai.onnx" {
				d = ""
			}
			m.Opsets[d] = v
		}
	}
	if it.err != nil {
		return nil, it.err
	}
	if !sawGraph {
		return nil, &DecodeError{"model", errors.New("no graph (not an ONNX model, or a truncated one)")}
	}
	return m, nil
}

func decodeOpset(b []byte, path string) (string, int64, error) {
	it := fieldIter{b: b, path: path}
	var d string
	var v int64
	for it.next() {
		switch it.num {
		case 1:
			d = it.str("domain")
		case 2:
			v = it.int("version")
		}
	}
	return d, v, it.err
}

// decodeEntry decodes a StringStringEntryProto.
func decodeEntry(b []byte, path string) (string, string, error) {
	it := fieldIter{b: b, path: path}
	var k, v string
	for it.next() {
		switch it.num {
		case 1:
			k = it.str("key")
		case 2:
			v = it.str("value")
		}
	}
	return k, v, it.err
}

func decodeGraph(b []byte, path string, depth int) (*Graph, error) {
	if depth > maxGraphDepth {
		return nil, &DecodeError{path, errors.New("subgraphs nested too deeply")}
	}
	g := &Graph{}
	it := fieldIter{b: b, path: path}
	for it.next() {
		switch it.num {
		case 1:
			p := fmt.Sprintf("%s.node[%d]", path, len(g.Nodes))
			n, err := decodeNode(it.msg("node"), p, depth)
			if err != nil {
				return nil, err
			}
			n.Index = len(g.Nodes)
			g.Nodes = append(g.Nodes, n)
		case 2:
			g.Name = it.str("name")
		case 5:
			p := fmt.Sprintf("%s.initializer[%d]", path, len(g.Initializers))
			name, t, err := decodeTensor(it.msg("initializer"), p)
			if err != nil {
				return nil, err
			}
			g.Initializers = append(g.Initializers, &Initializer{Name: name, Tensor: t})
		case 11, 12:
			kind := "input"
			if it.num == 12 {
				kind = "output"
			}
			p := fmt.Sprintf("%s.%s[%d]", path, kind, len(g.Inputs)+len(g.Outputs))
			vi, err := decodeValueInfo(it.msg(kind), p)
			if err != nil {
				return nil, err
			}
			if it.num == 11 {
				g.Inputs = append(g.Inputs, vi)
			} else {
				g.Outputs = append(g.Outputs, vi)
			}
		}
	}
	return g, it.err
}

func decodeNode(b []byte, path string, depth int) (*Node, error) {
	n := &Node{Attrs: map[string]*Attr{}}
	it := fieldIter{b: b, path: path}
	for it.next() {
		switch it.num {
		case 1:
			n.Inputs = append(n.Inputs, it.str("input"))
		case 2:
			n.Outputs = append(n.Outputs, it.str("output"))
		case 3:
			n.Name = it.str("name")
		case 4:
			n.OpType = it.str("op_type")
		case 7:
			n.Domain = it.str("domain")
		case 5:
			a, err := decodeAttr(it.msg("attribute"), fmt.Sprintf("%s.attribute[%d]", path, len(n.Attrs)), depth)
			if err != nil {
				return nil, err
			}
			if _, dup := n.Attrs[a.Name]; dup {
				return nil, &DecodeError{path, fmt.Errorf("attribute %q given twice", a.Name)}
			}
			n.Attrs[a.Name] = a
		}
	}
	if it.err != nil {
		return nil, it.err
	}
	if n.OpType == "" {
		return nil, &DecodeError{path, errors.New("node has no op_type")}
	}
	return n, nil
}

func decodeAttr(b []byte, path string, depth int) (*Attr, error) {
	a := &Attr{}
	it := fieldIter{b: b, path: path}
	var seen AttrType
	for it.next() {
		switch it.num {
		case 1:
			a.Name = it.str("name")
		case 20:
			a.Type = AttrType(it.int("type"))
		case 2:
			if it.typ != protowire.Fixed32Type {
				it.wrong("f")
				break
			}
			a.F, seen = math.Float32frombits(uint32(it.fixed)), AttrFloat
		case 3:
			a.I, seen = it.int("i"), AttrInt
		case 4:
			a.S, seen = it.str("s"), AttrString
		case 5:
			_, t, err := decodeTensor(it.msg("t"), path+".t")
			if err != nil {
				return nil, err
			}
			a.T, seen = t, AttrTensor
		case 6:
			g, err := decodeGraph(it.msg("g"), path+".g", depth+1)
			if err != nil {
				return nil, err
			}
			a.G, seen = g, AttrGraph
		case 7:
			a.Floats, seen = it.floats(a.Floats, "floats"), AttrFloats
		case 8:
			a.Ints, seen = it.ints(a.Ints, "ints"), AttrInts
		case 9:
			a.Strings, seen = append(a.Strings, it.str("strings")), AttrStrings
		}
	}
	if it.err != nil {
		return nil, it.err
	}
	if a.Type == 0 { // IR version < 3 files may omit the discriminator
		a.Type = seen
	}
	return a, nil
}

func decodeValueInfo(b []byte, path string) (ValueInfo, error) {
	var vi ValueInfo
	it := fieldIter{b: b, path: path}
	for it.next() {
		switch it.num {
		case 1:
			vi.Name = it.str("name")
		case 2: // TypeProto
			tt := fieldIter{b: it.msg("type"), path: path + ".type"}
			for tt.next() {
				if tt.num != 1 { // only tensor_type
					continue
				}
				te := fieldIter{b: tt.msg("tensor_type"), path: path + ".type.tensor_type"}
				for te.next() {
					switch te.num {
					case 1:
						vi.ElemType = tensor.DType(te.int("elem_type"))
					case 2:
						vi.HasShape = true
						sh := fieldIter{b: te.msg("shape"), path: path + ".shape"}
						for sh.next() {
							if sh.num != 1 {
								continue
							}
							var d Dim
							dm := fieldIter{b: sh.msg("dim"), path: path + ".shape.dim"}
							for dm.next() {
								switch dm.num {
								case 1:
									d.Value = dm.int("dim_value")
								case 2:
									d.Param = dm.str("dim_param")
								}
							}
							if dm.err != nil {
								return vi, dm.err
							}
							if len(vi.Dims) >= maxRank {
								return vi, &DecodeError{path, errors.New("shape has too many dimensions")}
							}
							vi.Dims = append(vi.Dims, d)
						}
						if sh.err != nil {
							return vi, sh.err
						}
					}
				}
				if te.err != nil {
					return vi, te.err
				}
			}
			if tt.err != nil {
				return vi, tt.err
			}
		}
	}
	return vi, it.err
}

// decodeTensor decodes a TensorProto. raw_data is aliased, typed repeated
// fields are converted.
func decodeTensor(b []byte, path string) (string, *tensor.Tensor, error) {
	var (
		name      string
		dims      []int64
		dt        tensor.DType
		raw       []byte
		hasRaw    bool
		f32       []float32
		i64       []int64
		f64       []float64
		external  bool
		packedF32 []byte
	)
	it := fieldIter{b: b, path: path}
	for it.next() {
		switch it.num {
		case 1:
			dims = it.ints(dims, "dims")
		case 2:
			dt = tensor.DType(it.int("data_type"))
		case 4:
			if it.typ == protowire.BytesType && packedF32 == nil && len(f32) == 0 {
				// packed fixed32 floats are little-endian float32 bytes:
				// use them in place like raw_data
				packedF32 = it.bytes
				break
			}
			if packedF32 != nil {
				f32 = it.floats(f32, "float_data") // rare: split packed runs
				break
			}
			f32 = it.floats(f32, "float_data")
		case 5, 7, 11:
			i64 = it.ints(i64, "int_data")
		case 8:
			name = it.str("name")
		case 9:
			if it.typ != protowire.BytesType {
				it.wrong("raw_data")
				break
			}
			raw, hasRaw = it.bytes, true
		case 10:
			f64 = it.doubles(f64, "double_data")
		case 14:
			external = it.int("data_location") == 1
		}
	}
	if it.err != nil {
		return "", nil, it.err
	}
	if name != "" {
		path += " (" + quote(name) + ")"
	}
	if external {
		return "", nil, &DecodeError{path, errors.New("tensor data stored in an external file is not supported")}
	}
	if !dt.Valid() {
		return "", nil, &DecodeError{path, fmt.Errorf("unsupported data type %d (the engine handles float32, uint8, int8, int32, int64)", int32(dt))}
	}
	if len(dims) > maxRank {
		return "", nil, &DecodeError{path, errors.New("too many dimensions")}
	}
	shape := make([]int, len(dims))
	n := int64(1)
	for i, d := range dims {
		if d < 0 || (d > 0 && n > (1<<46)/d) {
			return "", nil, &DecodeError{path, fmt.Errorf("bad dimensions %v", dims)}
		}
		n *= d
		shape[i] = int(d)
	}
	if packedF32 != nil {
		if len(f32) > 0 || hasRaw || dt != tensor.Float32 {
			if len(packedF32)%4 != 0 {
				return "", nil, &DecodeError{path, errTruncated}
			}
			f32 = append(bytesToF32(packedF32), f32...)
		} else {
			raw, hasRaw = packedF32, true
		}
	}
	if hasRaw {
		t, err := tensor.FromBytes(dt, shape, raw)
		if err != nil {
			return "", nil, &DecodeError{path, err}
		}
		return name, t, nil
	}
	cnt := len(f32) + len(i64) + len(f64)
	if int64(cnt) != n {
		return "", nil, &DecodeError{path, fmt.Errorf("%v%v needs %d values, file has %d", dt, shape, n, cnt)}
	}
	t, err := tensor.New(dt, shape...)
	if err != nil {
		return "", nil, &DecodeError{path, err}
	}
	if dt != tensor.Float32 && len(f32) > 0 {
		return "", nil, &DecodeError{path, fmt.Errorf("%v tensor stores values in float_data", dt)}
	}
	switch dt {
	case tensor.Float32:
		if len(f32) != cnt {
			return "", nil, &DecodeError{path, errors.New("float tensor stores its values in a non-float field")}
		}
		copy(t.F32(), f32)
	case tensor.Int64:
		copy(t.I64(), i64)
	case tensor.Int32:
		for i, v := range i64 {
			t.I32()[i] = int32(v)
		}
	case tensor.Uint8:
		for i, v := range i64 {
			t.U8()[i] = uint8(v)
		}
	case tensor.Int8:
		for i, v := range i64 {
			t.I8()[i] = int8(v)
		}
	}
	if len(f64) > 0 {
		return "", nil, &DecodeError{path, errors.New("double data for a non-double tensor")}
	}
	return name, t, nil
}

// DecodeTensor decodes a serialized TensorProto (as stored in the input_*.pb
// and output_*.pb files of the ONNX backend tests).
func DecodeTensor(b []byte) (string, *tensor.Tensor, error) {
	return decodeTensor(b, "tensor")
}

func bytesToF32(b []byte) []float32 {
	r := make([]float32, 0, len(b)/4)
	for i := 0; i+4 <= len(b); i += 4 {
		r = append(r, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
	}
	return r
}

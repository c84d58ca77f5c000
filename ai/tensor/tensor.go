// Package tensor provides the engine's n-dimensional arrays: a dtype, a shape,
// element strides and a byte buffer that may alias memory the tensor does not
// own (a model file, the kernel image or an arena), so weights are used where
// they lie without copying.
package tensor

import (
	"fmt"
	"strings"
)

// DType is an element type. Its values are the ONNX TensorProto.DataType
// codes, so a model's data_type field converts directly.
type DType int32

// The element types the engine computes with.
const (
	Float32 DType = 1
	Uint8   DType = 2
	Int8    DType = 3
	Int32   DType = 6
	Int64   DType = 7
)

// Size returns the size in bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case Float32, Int32:
		return 4
	case Uint8, Int8:
		return 1
	case Int64:
		return 8
	}
	return 0
}

// Valid reports whether the engine supports the dtype.
func (d DType) Valid() bool { return d.Size() != 0 }

// String returns the lower-case name of the dtype.
func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Uint8:
		return "uint8"
	case Int8:
		return "int8"
	case Int32:
		return "int32"
	case Int64:
		return "int64"
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// Tensor is a strided view of a byte buffer. Offset and Strides count
// elements, not bytes. A tensor built by New owns its buffer; one built by
// FromBytes or View aliases another buffer.
type Tensor struct {
	DType   DType
	Shape   []int
	Strides []int
	Offset  int
	data    []byte
	// owner keeps the memory behind data alive (an arena whose mapping is
	// released by a finalizer) for as long as any view of it exists.
	owner any
}

// NumElements returns the product of the dimensions (1 for a scalar).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// ContiguousStrides returns the row-major strides of shape.
func ContiguousStrides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// checkShape refuses negative dimensions and element counts that overflow.
func checkShape(shape []int) error {
	n := 1
	for i, d := range shape {
		if d < 0 {
			return fmt.Errorf("tensor: dimension %d is negative (%d)", i, d)
		}
		if d != 0 && n > (1<<46)/d {
			return fmt.Errorf("tensor: shape %v has too many elements", shape)
		}
		n *= d
	}
	return nil
}

// New allocates a zeroed contiguous tensor.
func New(dt DType, shape ...int) (*Tensor, error) {
	if !dt.Valid() {
		return nil, fmt.Errorf("tensor: unsupported dtype %v", dt)
	}
	if err := checkShape(shape); err != nil {
		return nil, err
	}
	return &Tensor{DType: dt, Shape: append([]int(nil), shape...), Strides: ContiguousStrides(shape),
		data: alignedBytes(NumElements(shape) * dt.Size())}, nil
}

// MustNew is New for shapes known to be valid; it panics on error and is
// meant for tests and package-internal constants.
func MustNew(dt DType, shape ...int) *Tensor {
	t, err := New(dt, shape...)
	if err != nil {
		panic(err)
	}
	return t
}

// FromBytes returns a contiguous tensor that aliases b (no copy) when b is
// aligned for dt; an unaligned buffer is copied once into aligned memory,
// since wider elements must be naturally aligned to be read as Go slices.
// b must hold exactly the tensor's bytes.
func FromBytes(dt DType, shape []int, b []byte) (*Tensor, error) {
	if !dt.Valid() {
		return nil, fmt.Errorf("tensor: unsupported dtype %v", dt)
	}
	if err := checkShape(shape); err != nil {
		return nil, err
	}
	want := NumElements(shape) * dt.Size()
	if len(b) != want {
		return nil, fmt.Errorf("tensor: %v%v needs %d bytes, have %d", dt, shape, want, len(b))
	}
	if !aligned(b, dt.Size()) {
		c := alignedBytes(len(b))
		copy(c, b)
		b = c
	}
	return &Tensor{DType: dt, Shape: append([]int(nil), shape...), Strides: ContiguousStrides(shape), data: b}, nil
}

// Aliases reports whether t's buffer starts at the first byte of b, that is
// whether t was built on b without a copy.
func (t *Tensor) Aliases(b []byte) bool {
	return len(b) > 0 && len(t.data) > 0 && &t.data[0] == &b[0]
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return NumElements(t.Shape) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// IsContiguous reports whether the view is row-major without gaps.
func (t *Tensor) IsContiguous() bool {
	acc := 1
	for i := len(t.Shape) - 1; i >= 0; i-- {
		if t.Shape[i] != 1 && t.Strides[i] != acc {
			return false
		}
		acc *= t.Shape[i]
	}
	return true
}

// Bytes returns the bytes of a contiguous tensor's elements (aliased).
func (t *Tensor) Bytes() []byte {
	sz := t.DType.Size()
	return t.data[t.Offset*sz : (t.Offset+t.Len())*sz]
}

// Raw returns the whole underlying buffer.
func (t *Tensor) Raw() []byte { return t.data }

// View returns a tensor sharing t's buffer with another offset, shape and
// strides (all in elements); it checks that every element is in bounds.
func (t *Tensor) View(offset int, shape, strides []int) (*Tensor, error) {
	if len(shape) != len(strides) {
		return nil, fmt.Errorf("tensor: view rank mismatch: shape %v strides %v", shape, strides)
	}
	if err := checkShape(shape); err != nil {
		return nil, err
	}
	lo, hi := offset, offset
	if NumElements(shape) > 0 {
		for i, d := range shape {
			if strides[i] >= 0 {
				hi += (d - 1) * strides[i]
			} else {
				lo += (d - 1) * strides[i]
			}
		}
		if lo < 0 || (hi+1)*t.DType.Size() > len(t.data) {
			return nil, fmt.Errorf("tensor: view offset %d shape %v strides %v is out of bounds", offset, shape, strides)
		}
	}
	return &Tensor{DType: t.DType, Shape: append([]int(nil), shape...), Strides: append([]int(nil), strides...), Offset: offset, data: t.data, owner: t.owner}, nil
}

// Reshape returns a contiguous view of t with a new shape of the same size.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	if !t.IsContiguous() {
		return nil, fmt.Errorf("tensor: reshape of a non-contiguous view")
	}
	if err := checkShape(shape); err != nil {
		return nil, err
	}
	if NumElements(shape) != t.Len() {
		return nil, fmt.Errorf("tensor: cannot reshape %v to %v", t.Shape, shape)
	}
	return &Tensor{DType: t.DType, Shape: append([]int(nil), shape...), Strides: ContiguousStrides(shape), Offset: t.Offset, data: t.data, owner: t.owner}, nil
}

// Transpose returns a view with the axes permuted: result axis i is t's axis perm[i].
func (t *Tensor) Transpose(perm ...int) (*Tensor, error) {
	if len(perm) != t.Rank() {
		return nil, fmt.Errorf("tensor: permutation %v for rank %d", perm, t.Rank())
	}
	seen := make([]bool, len(perm))
	shape := make([]int, len(perm))
	strides := make([]int, len(perm))
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			return nil, fmt.Errorf("tensor: %v is not a permutation", perm)
		}
		seen[p] = true
		shape[i], strides[i] = t.Shape[p], t.Strides[p]
	}
	return &Tensor{DType: t.DType, Shape: shape, Strides: strides, Offset: t.Offset, data: t.data, owner: t.owner}, nil
}

// Contiguous returns t if it is contiguous, else a contiguous copy.
func (t *Tensor) Contiguous() *Tensor {
	if t.IsContiguous() {
		return t
	}
	c := MustNew(t.DType, t.Shape...)
	sz := t.DType.Size()
	dst := c.data
	idx := make([]int, len(t.Shape))
	n := t.Len()
	for k := 0; k < n; k++ {
		off := t.Offset
		for i, v := range idx {
			off += v * t.Strides[i]
		}
		copy(dst[k*sz:(k+1)*sz], t.data[off*sz:(off+1)*sz])
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < t.Shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return c
}

// String describes the tensor's dtype and shape.
func (t *Tensor) String() string {
	parts := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		parts[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("%v[%s]", t.DType, strings.Join(parts, "x"))
}

// SameShape reports whether a and b have equal shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

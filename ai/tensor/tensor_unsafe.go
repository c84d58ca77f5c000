package tensor

import "unsafe"

// alignedBytes allocates n zeroed bytes aligned to 64 bytes (backed by
// uint64 words, then offset to the next cache line).
func alignedBytes(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	w := make([]uint64, (n+64+7)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8)
	off := int((64 - uintptr(unsafe.Pointer(&b[0]))%64) % 64)
	return b[off : off+n : off+n]
}

// AlignedBytes allocates n zeroed bytes aligned to a 64-byte cache line.
func AlignedBytes(n int) []byte { return alignedBytes(n) }

func aligned(b []byte, align int) bool {
	return len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%uintptr(align) == 0
}

// FromBuffer returns a contiguous tensor on an aligned buffer (for example
// arena memory) without copying; owner, if not nil, is kept reachable as
// long as the tensor or a view of it is. It panics if b is too small or
// unaligned, which is a programming error of the caller.
func FromBuffer(dt DType, shape []int, b []byte, owner any) *Tensor {
	n := NumElements(shape) * dt.Size()
	if len(b) < n || !aligned(b, dt.Size()) {
		panic("tensor: FromBuffer on a short or unaligned buffer")
	}
	return &Tensor{DType: dt, Shape: append([]int(nil), shape...), Strides: ContiguousStrides(shape), data: b[:n:n], owner: owner}
}

func sliceOf[T any](t *Tensor) []T {
	var z T
	sz := int(unsafe.Sizeof(z))
	if len(t.data) < sz {
		return nil
	}
	all := unsafe.Slice((*T)(unsafe.Pointer(&t.data[0])), len(t.data)/sz)
	return all[t.Offset:]
}

// F32 returns the float32 elements from the view's offset to the end of the
// buffer; for a contiguous tensor the first Len() of them are the tensor.
func (t *Tensor) F32() []float32 { t.must(Float32); return sliceOf[float32](t) }

// U8 is F32 for uint8 tensors.
func (t *Tensor) U8() []uint8 { t.must(Uint8); return sliceOf[uint8](t) }

// I8 is F32 for int8 tensors.
func (t *Tensor) I8() []int8 { t.must(Int8); return sliceOf[int8](t) }

// I32 is F32 for int32 tensors.
func (t *Tensor) I32() []int32 { t.must(Int32); return sliceOf[int32](t) }

// I64 is F32 for int64 tensors.
func (t *Tensor) I64() []int64 { t.must(Int64); return sliceOf[int64](t) }

func (t *Tensor) must(d DType) {
	if t.DType != d {
		panic("tensor: " + t.DType.String() + " tensor read as " + d.String())
	}
}

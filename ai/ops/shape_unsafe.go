package ops

import (
	"unsafe"

	"github.com/xairrosx/xairrosx/ai/tensor"
)

// unsafeU32 views a contiguous tensor with 4-byte elements (float32 or
// int32) as uint32 words, so that data movement is type-independent.
func unsafeU32(t *tensor.Tensor) []uint32 {
	b := t.Bytes()
	if len(b) < 4 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4)
}

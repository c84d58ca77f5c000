package ops

import "testing"

// TestExpReciprocal checks QAttention's division by reciprocal over its
// whole range.
func TestExpReciprocal(t *testing.T) {
	for n := int64(0); n < expLn2*64; n++ {
		if got := (n * expRecip) >> 32; got != n/expLn2 {
			t.Fatalf("floor(%d/709) = %d, reciprocal gives %d", n, n/expLn2, got)
		}
	}
}

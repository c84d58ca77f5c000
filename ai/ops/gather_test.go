package ops

import "testing"

func BenchmarkGatherConv2(b *testing.B) {
	w := &window{in: []int{14, 14}, k: []int{5, 5}, s: []int{1, 1}, d: []int{1, 1}, pb: []int{2, 2}, pe: []int{2, 2}, out: []int{14, 14}}
	t := w.patchTable(8)
	src := make([]uint8, 8*14*14)
	col := make([]uint8, 196*256)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		gather(t, src, col, 256, 0)
	}
}

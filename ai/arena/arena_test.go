package arena

import "testing"

func TestPlanNoOverlapOfLiveBlocks(t *testing.T) {
	blocks := []Block{{100, 0, 1}, {200, 1, 2}, {100, 2, 3}, {300, 3, 4}, {50, 0, 4}}
	off, total := Plan(blocks)
	for i := range blocks {
		for j := range blocks {
			if i == j || blocks[i].Last < blocks[j].First || blocks[j].Last < blocks[i].First {
				continue
			}
			if off[i] < off[j]+blocks[j].Size && off[j] < off[i]+blocks[i].Size {
				t.Fatalf("live blocks %d and %d overlap: %v", i, j, off)
			}
		}
	}
	sum := 0
	for _, b := range blocks {
		sum += (b.Size + Align - 1) / Align * Align
	}
	if total >= sum {
		t.Fatalf("plan reuses nothing: total %d, sum %d", total, sum)
	}
	a, err := New(total)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Mapped() {
		t.Fatal("arena memory did not come from mmap")
	}
	b := a.Bytes(off[3], 300)
	b[299] = 7
}

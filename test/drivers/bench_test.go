package drivers_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkBlkSequentialRead boots the blkbench guest with a 64 MiB disk
// once and reports the guest's sequential read throughput for each ReadAt
// size as MB/s metrics (and the ratio of each to the 4 KiB figure). The
// guest times itself; b.N does not apply, so run it with -benchtime=1x.
func BenchmarkBlkSequentialRead(b *testing.B) {
	img := buildGuest(b, "blkbench")
	disk := filepath.Join(b.TempDir(), "bench.raw")
	if err := os.WriteFile(disk, make([]byte, 64<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		out, res := boot(b, img, "q35",
			"-device", "virtio-blk-pci,drive=d0",
			"-drive", "file="+disk+",if=none,id=d0,format=raw,cache=unsafe")
		if res.Status != 0 {
			b.Fatalf("guest status %d:\n%s", res.Status, out)
		}
		var base float64
		for _, line := range strings.Split(out, "\n") {
			var size, n, ns int64
			if _, err := fmt.Sscanf(line, "read %d %d %d", &size, &n, &ns); err != nil {
				continue
			}
			mbs := float64(n) / 1e6 / (float64(ns) / 1e9)
			if base == 0 {
				base = mbs
			}
			b.ReportMetric(mbs, fmt.Sprintf("MB/s-%dKiB", size>>10))
			b.ReportMetric(mbs/base, fmt.Sprintf("x4KiB-%dKiB", size>>10))
		}
		if base == 0 {
			b.Fatalf("guest printed no figures:\n%s", out)
		}
	}
}

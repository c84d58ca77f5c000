package drivers_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hostRead reads the file front to back with ReadAt calls of size bytes and
// returns MB/s.
func hostRead(path string, size int) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, size)
	start := time.Now()
	for off := int64(0); off < st.Size(); off += int64(size) {
		if _, err := f.ReadAt(buf, off); err != nil {
			return 0, err
		}
	}
	return float64(st.Size()) / 1e6 / time.Since(start).Seconds(), nil
}

// BenchmarkBlkSequentialRead boots the blkbench guest with a 64 MiB disk
// once and reports the 4 KiB request latency polled and through the
// driver's interrupt path (and their ratio), the guest's sequential read
// throughput for each ReadAt size as MB/s metrics (and the ratio of each to
// the 4 KiB figure), and the host's throughput reading the same file. The
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
		sizes := []int64{}
		lat := map[string]float64{}
		for _, line := range strings.Split(out, "\n") {
			var kind string
			var ns int64
			if _, err := fmt.Sscanf(line, "latency %s %d", &kind, &ns); err == nil {
				lat[kind] = float64(ns) / 1e3
				b.ReportMetric(lat[kind], "us-4KiB-"+kind)
				continue
			}
			var size, n int64
			if _, err := fmt.Sscanf(line, "read %d %d %d", &size, &n, &ns); err != nil {
				continue
			}
			mbs := float64(n) / 1e6 / (float64(ns) / 1e9)
			if base == 0 {
				base = mbs
			}
			b.ReportMetric(mbs, fmt.Sprintf("MB/s-%dKiB", size>>10))
			b.ReportMetric(mbs/base, fmt.Sprintf("x4KiB-%dKiB", size>>10))
			sizes = append(sizes, size)
		}
		// The host reading the same file through the page cache, as a
		// reference measured in the same run.
		for _, size := range sizes {
			mbs, err := hostRead(disk, int(size))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(mbs, fmt.Sprintf("hostMB/s-%dKiB", size>>10))
		}
		if lat["polled"] == 0 || lat["interrupt"] == 0 {
			b.Fatalf("guest printed no latencies:\n%s", out)
		}
		b.ReportMetric(lat["interrupt"]/lat["polled"], "x-interrupt/polled")
		if base == 0 {
			b.Fatalf("guest printed no figures:\n%s", out)
		}
	}
}

#!/usr/bin/env bash
# Drivers benchmark (make bench): sequential reads from a 64 MiB virtio-blk
# disk by the blkbench guest on XairrosX (q35, TCG), with ReadAt calls of
# 4 KiB, 64 KiB and 1 MiB, next to the host reading the same file through
# its page cache; and the latency of one 4 KiB read polled on a bare queue
# and through the driver's interrupt path. RUNS boots (default 3); prints
# each run and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps-drivers.sh
runs=${RUNS:-3}
out=$(go test -run '^$' -bench BlkSequentialRead -benchtime=1x -count="$runs" ./test/drivers/)
echo "$out" | grep -E '^Benchmark' >&2
echo "$out" | awk '
/^BenchmarkBlkSequentialRead/ {
	for (i = 3; i < NF; i++) if ($(i+1) ~ /^((host)?MB\/s-|us-)/) v[$(i+1)] = v[$(i+1)] " " $i
}
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((n + 1) / 2)]
}
END {
	printf "%-10s %14s %14s %12s %12s\n", "ReadAt", "guest MB/s", "host MB/s", "guest/host", "vs 4 KiB"
	split("4 64 1024", sizes, " ")
	g4 = median(v["MB/s-4KiB"])
	for (k = 1; k <= 3; k++) {
		s = sizes[k]
		g = median(v["MB/s-" s "KiB"]); h = median(v["hostMB/s-" s "KiB"])
		printf "%-10s %14.1f %14.1f %12.3f %12.2f\n", s " KiB", g, h, g / h, g / g4
	}
	p = median(v["us-4KiB-polled"]); q = median(v["us-4KiB-interrupt"])
	printf "\n%-32s %10s\n", "4 KiB read, one in flight", "us"
	printf "%-32s %10.1f\n", "device, polled (no driver)", p
	printf "%-32s %10.1f\n", "driver, interrupt completion", q
	printf "%-32s %10.2f\n", "ratio interrupt/polled", q / p
}'

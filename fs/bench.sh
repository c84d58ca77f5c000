#!/usr/bin/env bash
# File system benchmarks: each operation on XairrosX's in-memory VFS and on
# the host kernel (a temporary directory, through package syscall), side by
# side in one run. Prints the median ns/op (and MB/s) of each, and the
# ratio host/vfs (above 1: the VFS is faster). Meant to be run as
# scripts/bench-fs.sh by `make bench`; extra arguments go to go test
# (e.g. -benchtime 1s).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${BENCH_COUNT:-5}
out=$(go test -run '^$' -bench . -benchtime 200ms -count "$count" "$@" ./fs/vfs)
if echo "$out" | grep -q -- '--- FAIL'; then
	echo "$out" >&2
	exit 1
fi
echo "$out" | awk -v count="$count" '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	n = split(name, parts, "/"); side = parts[n]
	op = parts[1]; for (i = 2; i < n; i++) op = op "/" parts[i]
	sub(/^Benchmark/, "", op)
	if (!(op in seen)) { seen[op] = 1; order[++ops] = op }
	k = op SUBSEP side
	ns[k, ++cnt[k]] = $3
	for (i = 4; i <= NF; i++) if ($(i) == "MB/s") mb[k, cnt[k]] = $(i-1)
}
function median(arr, k, c,   i, j, t, v) {
	for (i = 1; i <= c; i++) v[i] = arr[k, i] + 0
	for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return (c % 2) ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
}
END {
	printf "%-18s %14s %14s %12s %12s %9s\n", "benchmark", "vfs ns/op", "host ns/op", "vfs MB/s", "host MB/s", "host/vfs"
	for (o = 1; o <= ops; o++) {
		op = order[o]; v = op SUBSEP "vfs"; h = op SUBSEP "host"
		vn = median(ns, v, cnt[v]); hn = median(ns, h, cnt[h])
		vm = ((v, 1) in mb) ? sprintf("%.0f", median(mb, v, cnt[v])) : "-"
		hm = ((h, 1) in mb) ? sprintf("%.0f", median(mb, h, cnt[h])) : "-"
		printf "%-18s %14.0f %14.0f %12s %12s %9.2f\n", op, vn, hn, vm, hm, hn / vn
	}
	printf "(median of %d runs each; vfs = in-process XairrosX VFS over tmpfs, host = Linux syscalls on the test temp dir)\n", count
}'

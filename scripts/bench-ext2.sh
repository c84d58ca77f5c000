#!/bin/sh
# bench-ext2.sh: throughput of the ext2 backend on an image in a host file,
# for 1 KiB and 4 KiB block sizes, each as a ratio to the same work on a
# plain host file measured in the same run (mean of 3 runs):
#   SeqRead   8 MiB file read in 64 KiB calls
#   SeqWrite  8 MiB file written in 64 KiB calls, then fsync
#   Fsync     4 KiB appends, each followed by fsync
# with the device writes and flushes per operation of the ext2 cases.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps-ext2.sh
go test -run XXX -bench 'SeqRead|SeqWrite|Fsync' -benchtime 1s -count 3 ./fs/ext2/ | awk '
/^Benchmark/ { split($1, p, "/"); bench=p[1]; sub(/^Benchmark/, "", bench)
	name=p[2]; sub(/-[0-9]+$/, "", name)
	k = bench SUBSEP name; n[k]++; ns[k] += $3
	for (i = 4; i <= NF; i++) {
		if ($i == "MB/s") mb[k] += $(i-1)
		if ($i == "writes/op") wr[k] += $(i-1)
		if ($i == "flushes/op") fl[k] += $(i-1)
	}
	if (!(bench in seen)) { seen[bench]=1; order[++nb]=bench } }
END {
	printf "%-9s %-10s %10s %12s %7s %10s %11s\n", "bench", "case", "MB/s", "us/op", "ratio", "writes/op", "flushes/op"
	for (i = 1; i <= nb; i++) { b = order[i]; base = mb[b SUBSEP "host-file"] / n[b SUBSEP "host-file"]
		split("host-file bs=1024 bs=4096", cs, " ")
		for (j = 1; j <= 3; j++) { k = b SUBSEP cs[j]; if (!(k in n)) continue
			printf "%-9s %-10s %10.1f %12.1f %7.2f %10.2f %11.2f\n", b, cs[j], mb[k]/n[k], ns[k]/n[k]/1000, (mb[k]/n[k])/base, wr[k]/n[k], fl[k]/n[k] } } }'

#!/bin/sh
# bench-ext2.sh: sequential read throughput of the ext2 backend (8 MiB file,
# 64 KiB reads, host image file) for 1 KiB and 4 KiB block sizes, as a ratio
# to the same reads from a plain host file measured in the same run.
set -eu
cd "$(dirname "$0")/.."
go test -run XXX -bench SeqRead -benchtime 20x -count 3 ./fs/ext2/ | awk '
/^BenchmarkSeqRead/ { name=$1; sub(/-[0-9]+$/, "", name); sub(/BenchmarkSeqRead\//, "", name)
	mb[name] += $(NF-1); n[name]++ }
END { base = mb["host-file"] / n["host-file"]
	printf "%-12s %10s %8s\n", "case", "MB/s", "ratio"
	for (k in mb) printf "%-12s %10.0f %8.2f\n", k, mb[k]/n[k], (mb[k]/n[k])/base }'

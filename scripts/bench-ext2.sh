#!/bin/sh
# bench-ext2.sh: sequential read throughput of the ext2 backend (8 MiB file,
# 64 KiB reads, host image file) for 1 KiB and 4 KiB block sizes.
set -eu
cd "$(dirname "$0")/.."
go test -run XXX -bench SeqRead -benchtime 20x ./fs/ext2/

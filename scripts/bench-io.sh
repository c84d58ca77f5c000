#!/usr/bin/env bash
# I/O benchmark (make bench): HTTP requests/s and latency into the guest,
# TCP throughput between two guests, ext2 sequential read and 4 KiB
# write+fsync/s and the raw virtio-blk read, each on XairrosX and on a Linux
# guest (Debian's cloud kernel, the same Go workload, the same QEMU flags),
# side by side in one run; prints one table of medians with the ratio
# XairrosX/Linux per vCPU count. RUNS repetitions (default 3); SMP the vCPU
# counts, one table each (default "1"; e.g. SMP="1 2"); extra arguments go
# to bench/ioguest (e.g. -only http,tcp -tcp-mib 128 -v).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps-kernel.sh
bash scripts/deps-ext2.sh
read -r pkg vmlinuz < <(bash bench/linuxguest/fetch-kernel.sh)
for smp in ${SMP:-1}; do
	go run ./bench/ioguest -vmlinuz "$vmlinuz" -kernel-name "$pkg" -runs "${RUNS:-3}" -smp "$smp" "$@"
done

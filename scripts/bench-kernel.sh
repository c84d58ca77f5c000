#!/usr/bin/env bash
# Kernel benchmark (make bench): boots hello-world and the in-guest
# microbenchmarks on XairrosX and on a Linux guest (Debian's cloud kernel
# with the same Go program as /init), on the same QEMU flags, and prints one
# table with both columns and the ratio. Extra arguments go to
# bench/linuxguest (e.g. -runs 3, -skip-mem, -machine microvm).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps-kernel.sh

read -r pkg vmlinuz < <(bash bench/linuxguest/fetch-kernel.sh)
go run ./bench/linuxguest -vmlinuz "$vmlinuz" -kernel-name "$pkg" "$@"

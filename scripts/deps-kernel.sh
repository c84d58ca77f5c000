#!/usr/bin/env bash
# Installs what the kernel area's tests and benchmarks need: QEMU for x86-64
# (Debian's qemu-system-x86). Idempotent and quick when QEMU is present.
set -euo pipefail

if command -v qemu-system-x86_64 >/dev/null 2>&1; then
	exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps-kernel: installing qemu-system-x86" >&2
if ! $SUDO apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null 2>&1; then
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends qemu-system-x86
fi
qemu-system-x86_64 --version | head -1 >&2

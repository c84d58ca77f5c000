#!/usr/bin/env bash
# Installs what the drivers' tests and benchmark need: QEMU for x86-64, the
# same package the kernel's tests use (scripts/deps-kernel.sh installs it).
set -euo pipefail
exec bash "$(dirname "$0")/deps-kernel.sh"

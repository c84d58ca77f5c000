#!/usr/bin/env bash
# Kernel benchmark (make bench): boots hello-world and the in-guest
# microbenchmarks on XairrosX and on a Linux guest (Debian's cloud kernel
# with the same Go program as /init), on the same QEMU flags, and prints one
# table with both columns and the ratio. Extra arguments go to
# bench/linuxguest (e.g. -runs 3, -skip-mem, -machine microvm).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps-kernel.sh

cache=bench/linuxguest/.cache
mkdir -p "$cache"
meta=linux-image-cloud-amd64
resolve() { apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}'; }
pkg=$(resolve)
if [ -z "$pkg" ]; then
	apt-get update -qq
	pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
	echo "bench-kernel: cannot resolve $meta to a kernel package" >&2
	exit 1
fi
vmlinuz=$(ls "$cache/$pkg"/boot/vmlinuz-* 2>/dev/null | head -1 || true)
if [ -z "$vmlinuz" ]; then
	echo "bench-kernel: fetching $pkg" >&2
	(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null)
	dpkg-deb -x "$cache/${pkg}"_*.deb "$cache/$pkg"
	rm -f "$cache/${pkg}"_*.deb
	vmlinuz=$(ls "$cache/$pkg"/boot/vmlinuz-* | head -1)
fi
go run ./bench/linuxguest -vmlinuz "$vmlinuz" -kernel-name "$pkg" "$@"

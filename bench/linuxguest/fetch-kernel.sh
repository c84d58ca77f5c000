#!/usr/bin/env bash
# Fetches Debian's cloud kernel (the package linux-image-cloud-amd64 depends
# on) with apt-get download into bench/linuxguest/.cache, unpacked, once,
# and prints "PACKAGE VMLINUZ": the package name and the path of its bzImage.
# Its modules lie in .cache/PACKAGE/lib/modules/VERSION. Used by the
# side-by-side benchmarks with a Linux guest (scripts/bench-io.sh).
set -euo pipefail
cd "$(dirname "$0")"

cache=.cache
mkdir -p "$cache"
meta=linux-image-cloud-amd64
resolve() { apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}'; }
pkg=$(resolve)
if [ -z "$pkg" ]; then
	apt-get update -qq
	pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
	echo "fetch-kernel: cannot resolve $meta to a kernel package" >&2
	exit 1
fi
vmlinuz=$(ls "$cache/$pkg"/boot/vmlinuz-* 2>/dev/null | head -1 || true)
if [ -z "$vmlinuz" ]; then
	echo "fetch-kernel: fetching $pkg" >&2
	(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null)
	dpkg-deb -x "$cache/${pkg}"_*.deb "$cache/$pkg"
	rm -f "$cache/${pkg}"_*.deb
	vmlinuz=$(ls "$cache/$pkg"/boot/vmlinuz-* | head -1)
fi
echo "$pkg $PWD/$vmlinuz"

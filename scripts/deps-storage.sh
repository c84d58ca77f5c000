#!/bin/sh
# deps-storage.sh installs what test/storage needs: QEMU for x86-64 (boots
# the guests) and e2fsprogs (mkfs.ext2 makes the data disks, e2fsck and
# debugfs check them). Idempotent and quick when both are present.
set -eu
pkgs=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || pkgs="$pkgs qemu-system-x86"
if ! command -v mkfs.ext2 >/dev/null 2>&1 && [ ! -x /usr/sbin/mkfs.ext2 ] && [ ! -x /sbin/mkfs.ext2 ]; then
	pkgs="$pkgs e2fsprogs"
fi
[ -z "$pkgs" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "deps-storage: apt-get install$pkgs" >&2
# shellcheck disable=SC2086 # pkgs is a list of words
if ! $SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null 2>&1; then
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends $pkgs
fi

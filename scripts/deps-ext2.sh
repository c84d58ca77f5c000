#!/bin/sh
# deps-ext2.sh installs what fs/ext2's tests need: e2fsprogs (mkfs.ext2,
# mkfs.ext3, mkfs.ext4, e2fsck, debugfs), which make and check the images.
# Idempotent and quick when it is present.
set -eu
if ! command -v mkfs.ext2 >/dev/null 2>&1 && [ ! -x /usr/sbin/mkfs.ext2 ] && [ ! -x /sbin/mkfs.ext2 ]; then
	echo "deps-ext2: apt-get install e2fsprogs"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends e2fsprogs >/dev/null
fi

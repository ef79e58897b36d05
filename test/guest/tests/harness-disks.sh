#!/bin/sh
# Harness self-test of guest-disks: two fresh raw disks must show up as
# /dev/vda and /dev/vdb with the declared size, empty, and be writable.
# guest-disks: 2x64M
# guest-timeout: 120
# guest-dm-shadow: no
set -eu
echo "harness-disks: GUEST_DISKS=$GUEST_DISKS"
[ "$GUEST_DISKS" = "/dev/vda /dev/vdb" ]
for d in /dev/vda /dev/vdb; do
	size=$(blockdev --getsize64 "$d")
	echo "$d: $size bytes"
	[ "$size" = $((64 * 1024 * 1024)) ]
	# Fresh: all zeroes.
	[ "$(head -c 1048576 "$d" | tr -d '\0' | wc -c)" = 0 ]
done
mkfs.ext4 -q /dev/vdb
mkdir -p /mnt/b
mount /dev/vdb /mnt/b
echo hello >/mnt/b/file
umount /mnt/b
echo "harness-disks: ok"

#!/bin/bash
# An exposed copy of XFS mounted beside its mounted origin.  The copy
# carries the origin's file-system UUID, which XFS refuses to mount twice,
# and a read-only copy cannot replay a log: expose --mount passes nouuid
# (and norecovery when read-only).  A plain mount of the exposed device is
# refused by XFS, which shows what the options are for; expose --mount
# then mounts it read-only and writable, each reading exactly the files of
# its point in time while the origin stays mounted and written.
# guest-timeout: 300
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

origin=$(loop_disk 320)	# xfsprogs 6 makes nothing smaller than 300 MiB
store=$(loop_disk 32)
mnt=$WORK/mnt
mkdir -p "$mnt" "$WORK/ro" "$WORK/rw" "$WORK/plain"

# files <dir> <tag>: eight files of random data named after <tag>.
files() {
	for i in $(seq 1 8); do
		head -c $((i * 37 * 1024)) /dev/urandom >"$1/$2-$i"
	done
}
# sums <dir>: every file's md5, relative names, sorted.
sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum)
}

step "XFS on an enabled volume, mounted and written"
ctl enable "$origin" --store "$store" --name xv
mkfs.xfs -q /dev/mapper/xv
mount /dev/mapper/xv "$mnt"
files "$mnt" a
sync

step "create: the point in time, then the origin moves on"
ctl -J create xv >"$WORK/create.json"
id=$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')
sums "$mnt" >"$WORK/at-create.sums"
files "$mnt" a	# the same names, new data
files "$mnt" b
sync
sums "$mnt" >"$WORK/origin.sums"
! cmp -s "$WORK/at-create.sums" "$WORK/origin.sums" || fail "the origin did not change"

step "a plain mount of the exposed copy is refused by XFS (duplicate UUID)"
ctl -J expose "$id" >"$WORK/expose.json"
dev=$(json "$WORK/expose.json" 'd["shadow"]["device"]')
[ "$(blkid -p -o value -s UUID "$dev")" = "$(blkid -p -o value -s UUID /dev/mapper/xv)" ] ||
	fail "the copy does not carry the origin's UUID"
if mount -o ro "$dev" "$WORK/plain" 2>"$WORK/err"; then
	umount "$WORK/plain"
	fail "XFS mounted a second file system with the same UUID without nouuid"
fi
echo "plain mount refused: $(head -n 1 "$WORK/err")"
ctl unexpose "$id"

step "expose --mount, read-only: nouuid,norecovery"
ctl expose "$id" --mount "$WORK/ro"
findmnt -n -o FSTYPE,OPTIONS "$WORK/ro" | tee "$WORK/opts"
grep -q '^xfs .*\bro\b' "$WORK/opts" && grep -q nouuid "$WORK/opts" && grep -q norecovery "$WORK/opts" ||
	fail "the copy is not mounted ro with nouuid,norecovery"
sums "$WORK/ro" | diff "$WORK/at-create.sums" - || fail "the read-only copy differs from its point in time"
echo "read-only copy: exactly the files at create"
ctl unexpose "$id"
findmnt "$WORK/ro" >/dev/null && fail "unexpose left $WORK/ro mounted"

step "expose --rw --mount: a writable copy beside the origin"
ctl expose "$id" --rw --mount "$WORK/rw"
findmnt -n -o OPTIONS "$WORK/rw" | matches '\brw\b.*nouuid\|nouuid.*\brw\b' ||
	fail "the writable copy is not mounted rw with nouuid: $(findmnt -n -o OPTIONS "$WORK/rw")"
sums "$WORK/rw" | diff "$WORK/at-create.sums" - || fail "the writable copy differs from its point in time"
files "$WORK/rw" c
sync
sums "$mnt" | diff "$WORK/origin.sums" - || fail "writing the copy changed the origin"
ctl unexpose "$id"

step "clean up"
ctl delete "$id"
umount "$mnt"
ctl disable xv
losetup -d "$origin" "$store"
echo "ctl-xfs: ok"

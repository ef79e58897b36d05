#!/bin/bash
# shadowctl revert on ext4: refused while the volume is mounted (the
# message says how to unmount and remount) and for an unknown copy; once
# unmounted, "revert --wait --json" rolls the volume back to copy 1 and
# the volume then equals the copy block for block; reverting forward to
# copy 2 (newer) works too, and both copies stay exact throughout.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/ctl.sh"
. "$SHADOW_TOP/test/guest/lib/revert.sh"

origin=$(loop_disk 32)
store=$(loop_disk 48)
mkfs.ext4 -q -F "$origin"
mkdir -p "$WORK/mnt"

# files <tag>: files of that tag on the mounted volume, and their sums.
files() {
	mkdir -p "$WORK/mnt/$1"
	for i in $(seq 1 12); do
		head -c $((i * 13331)) /dev/urandom >"$WORK/mnt/$1/f$i"
	done
	sync
}
sums() {
	(cd "$WORK/mnt" && find . -type f ! -path './lost+found/*' | sort | xargs md5sum)
}

# copy_md5 <id>: md5 of the copy's device, exposed for it, then removed.
copy_md5() {
	ctl expose "$1" >/dev/null
	vol_md5 "/dev/mapper/vol-shadow-$1"
	ctl unexpose "$1" >/dev/null
}

step "enable; copy 1 and copy 2 of a mounted ext4 between writes"
ctl enable "$origin" --store "$store" --name vol
mount /dev/mapper/vol "$WORK/mnt"
files a
sums >"$WORK/sums1"
ctl -J create vol >"$WORK/c1.json"
id1=$(json "$WORK/c1.json" 'd["set"]["shadows"][0]["id"]')
rm "$WORK/mnt/a/f3"
files b
sums >"$WORK/sums2"
ctl -J create vol >"$WORK/c2.json"
id2=$(json "$WORK/c2.json" 'd["set"]["shadows"][0]["id"]')
files c
sums >"$WORK/sums-live"
copy1=$(copy_md5 "$id1")
copy2=$(copy_md5 "$id2")

step "refused: a mounted volume, an unknown copy"
expect_exit 3 "umount $WORK/mnt" ctl revert "$id1"
grep -qF "mount it again" "$WORK/err" || fail "the refusal does not say to remount"
[ "$(revert_id vol)" = - ] || fail "a refused revert started one"
expect_exit 2 "no such shadow copy" ctl revert 999
sums | cmp -s - "$WORK/sums-live" || fail "a refused revert changed the files"

step "revert --wait --json to copy 1, unmounted"
umount "$WORK/mnt"
ctl -J revert "$id1" --wait >"$WORK/revert.json"
cat "$WORK/revert.json"
[ "$(json "$WORK/revert.json" 'd["revert"]["state"]')" = done ] || fail "revert --wait did not end done"
[ "$(json "$WORK/revert.json" 'd["revert"]["shadow"]')" = "$id1" ] || fail "revert JSON names another copy"
[ "$(revert_id vol)" = - ] || fail "the kernel is still merging after --wait"
[ "$(vol_md5 /dev/mapper/vol)" = "$copy1" ] || fail "the volume differs from copy 1"
e2fsck -fn /dev/mapper/vol >/dev/null || fail "the reverted file system is not clean"
mount /dev/mapper/vol "$WORK/mnt"
sums | cmp - "$WORK/sums1" || fail "the files are not those of copy 1"
umount "$WORK/mnt"
[ "$(copy_md5 "$id1")" = "$copy1" ] || fail "copy 1 changed"
[ "$(copy_md5 "$id2")" = "$copy2" ] || fail "copy 2 changed"

step "revert forward to copy 2, without --wait"
ctl -J revert "$id2" >"$WORK/revert2.json"
cat "$WORK/revert2.json"
wait_reverted vol 120
[ "$(vol_md5 /dev/mapper/vol)" = "$copy2" ] || fail "the volume differs from copy 2"
mount /dev/mapper/vol "$WORK/mnt"
sums | cmp - "$WORK/sums2" || fail "the files are not those of copy 2"
umount "$WORK/mnt"
[ "$(copy_md5 "$id1")" = "$copy1" ] || fail "copy 1 changed"
ctl -J list shadows >"$WORK/list.json"
[ "$(json "$WORK/list.json" 'len(d["shadows"])')" = 2 ] || fail "the catalog lost a copy"
ctl delete "$id1"
ctl delete "$id2"
ctl disable vol
echo "ctl-revert: refused while mounted; reverted back and forward, copies exact"

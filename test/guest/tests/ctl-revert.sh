#!/bin/bash
# shadowctl revert on ext4: refused while the volume is mounted (the
# message says how to unmount and remount) and for an unknown copy; once
# unmounted, "revert --wait --json" rolls the volume back to copy 1 and
# the volume then equals the copy block for block; reverting forward to
# copy 2 (newer) works too, and both copies stay exact throughout.
# "revert --force" reverts the volume while it is mounted (exit 0, with
# a warning); once unmounted, the file system is clean, holds copy 1's
# files, and the volume equals copy 1 block for block except the
# superblock, which the stale mount writes back.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/ctl.sh"
. "$SHADOW_TOP/test/guest/lib/revert.sh"

origin=$(loop_disk 32)
store=$(loop_disk 48)
# Without lazy inode table init: its background thread would rewrite group
# descriptors, from the stale mount's view, after revert --force (seen on
# 6.1: free counts and bitmap checksums of copy 1 no longer matched).
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$origin"
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
chunks=$(dmsetup table vol | awk '{ print int(($2 + $7 - 1) / $7) }')	# 0 len shadow-origin o s cow chunk
[ "$(json "$WORK/revert.json" "d['revert']['merged_chunks'] == d['revert']['total_chunks'] == $chunks")" = True ] ||
	fail "revert --wait JSON does not count all $chunks chunks merged"
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

step "revert --force to copy 1 under the mounted file system"
mount /dev/mapper/vol "$WORK/mnt"
files d
sync
ctl revert "$id1" --force --wait 2>"$WORK/err" || { cat "$WORK/err" >&2; fail "revert --force failed"; }
cat "$WORK/err"
grep -qF "remount it now" "$WORK/err" || fail "revert --force did not warn to remount"
[ "$(revert_id vol)" = - ] || fail "the kernel is still merging after --force --wait"
# The mount's view is stale now: unmount it (which writes back its
# superblock), drop the device's cached pages, check.
umount "$WORK/mnt"
blockdev --flushbufs /dev/mapper/vol
e2fsck -fn /dev/mapper/vol >"$WORK/fsck" 2>&1 || { cat "$WORK/fsck" >&2; fail "the file system reverted under its mount is not clean"; }
# Block for block, in file system blocks: only the superblock (at byte
# 1024) may differ from copy 1.  The journal's superblock is not written
# back: the freeze before the revert emptied the journal, nothing was
# written since, and jbd2 does not rewrite an empty journal's superblock
# when it unmounts.
bs=$(tune2fs -l /dev/mapper/vol | awk '/^Block size:/ { print $3 }')
ctl expose "$id1" >/dev/null
chunk_sums "/dev/mapper/vol-shadow-$id1" $((bs / 512)) >"$WORK/copy1.sums"
ctl unexpose "$id1" >/dev/null
chunk_sums /dev/mapper/vol $((bs / 512)) >"$WORK/vol.sums"
{ diff "$WORK/copy1.sums" "$WORK/vol.sums" || true; } | awk '/^>/ { print $2 }' >"$WORK/differ"
echo "$bs-byte blocks that differ from copy 1: $(tr '\n' ' ' <"$WORK/differ")(superblock $((1024 / bs)))"
awk -v s=$((1024 / bs)) '$1 != s { bad++ } END { exit bad ? 1 : 0 }' "$WORK/differ" ||
	fail "the volume differs from copy 1 beyond its superblock"
mount /dev/mapper/vol "$WORK/mnt"
sums | cmp - "$WORK/sums1" || fail "the files are not those of copy 1 after revert --force"
umount "$WORK/mnt"
[ "$(copy_md5 "$id1")" = "$copy1" ] || fail "copy 1 changed"

ctl -J list shadows >"$WORK/list.json"
[ "$(json "$WORK/list.json" 'len(d["shadows"])')" = 2 ] || fail "the catalog lost a copy"
ctl delete "$id1"
ctl delete "$id2"
ctl disable vol
echo "ctl-revert: refused while mounted; reverted back and forward, and under a mount with --force; copies exact"

#!/bin/bash
# A clone store with a file system, two clones hydrating at once.  The
# first clone's target starts failing writes half way (its table swapped
# for an error target): that clone fails (status, list, event, log) and
# its device is refused, while origin writes go on without an error (each
# file fsynced, read back from the disk after a remount) and the second
# clone completes.  The second is detached, the module
# unloaded, and its target, with no dm-shadow at all, is a clean ext4
# holding exactly the files as they were at its point in time.  Then
# through shadowctl: a clone whose target fails shows failed (and its copy
# invalid) in list shadows, detach and export-metadata refuse it, and the
# volume takes direct writes.
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

mib=32
origin=$(loop_disk "$mib")
store=$(loop_disk 4)
bad=$(loop_disk "$mib")
good=$(loop_disk "$mib")
size=$(sectors "$origin")

# clone_status <id>: "<state> <copied>/<total>" of clone <id>.
clone_status() {
	dmsetup status vol | awk -v id="$1" '{
		n = $20; for (i = 0; i < n; i++)
			if ($(21 + 3 * i) == id) print $(22 + 3 * i), $(23 + 3 * i) }'
}

events() {
	dmsetup info vol | sed -n 's/^Event number: *//p'
}

step "ext4 on a clone store's origin; clone 1 onto a device that will fail"
mkfs.ext4 -q -b 4096 "$origin"
# The failing target is a dm device whose table is swapped for an error one.
dmsetup create badtgt --table "0 $size linear $bad 0"
dmsetup create vol --table "0 $size shadow-origin $origin $store clone 128 8 clone_target 1 /dev/mapper/badtgt clone_target 2 $good hydrate_rate 1"
mkdir -p /mnt/vol /mnt/clone
mount /dev/mapper/vol /mnt/vol
for i in $(seq 20); do
	head -c 300000 /dev/urandom >/mnt/vol/f$i
done
sync
# The suspend freezes the file system: both clones hold it clean.
snap_create vol 1
snap_create vol 2
(cd /mnt/vol && md5sum f*) >"$WORK/at-clone"
[ "$(clone_status 1 | cut -d' ' -f1)" = hydrating ] || fail "clone 1: $(clone_status 1)"

step "clone 1's target fails; origin writes go on"
ev=$(events)
before=$(dmesg | wc -l)
dmsetup suspend badtgt
dmsetup load badtgt --table "0 $size error"
dmsetup resume badtgt
# fsync reports a write-back error that sync(1) would not.
for i in $(seq 21 40); do
	dd if=/dev/urandom of=/mnt/vol/f$i bs=300000 count=1 iflag=fullblock \
		conv=fsync status=none || fail "an origin write (f$i) failed"
done
sync -f /mnt/vol || fail "an origin flush failed"
for _ in $(seq 100); do
	[ "$(clone_status 1 | cut -d' ' -f1)" = failed ] && break
	sleep 0.2
done
[ "$(clone_status 1 | cut -d' ' -f1)" = failed ] || fail "clone 1 did not fail: $(clone_status 1)"
dmesg | tail -n +"$((before + 1))" | matches "clone 1: .* the clone failed; the origin goes on" ||
	fail "no kernel log line about clone 1's failure"
[ "$(events)" -gt "$ev" ] || fail "no dm event when clone 1 failed"
[ "$(status_field vol 5)" = 1 ] || fail "status shows $(status_field vol 5) invalid, expected 1"
dmsetup message vol 0 list | matches '^1 .* invalid ' || fail "clone 1 not listed invalid"
expect_refused "snapshot is invalid" snap_open vol 1 c1
# Hydrating, or complete already on a slow machine: not failed.
case $(clone_status 2 | cut -d' ' -f1) in
hydrating | complete) ;;
*) fail "clone 2: $(clone_status 2)" ;;
esac
(cd /mnt/vol && md5sum f*) >"$WORK/live"

step "clone 2 completes; clone 1 is deleted"
dmsetup message vol 0 hydrate_rate 0
for _ in $(seq 300); do
	[ "$(clone_status 2 | cut -d' ' -f1)" = complete ] && break
	sleep 0.2
done
[ "$(clone_status 2)" = "complete 512/512" ] || fail "clone 2: $(clone_status 2)"
(cd /mnt/vol && md5sum -c --quiet "$WORK/live") || fail "the origin lost files"
umount /mnt/vol
dmsetup remove vol
store_check "$store"
"$SHADOW_TOP/cmd/shadow-dump/shadow-dump" "$store" | sed -n '/^clones:/,/^usage/p'
"$SHADOW_TOP/cmd/shadow-dump/shadow-dump" "$store" | matches "^ *1 failed " ||
	fail "shadow-dump does not show clone 1 failed"
# A failed clone needs no target in the table, a complete one for its device.
dmsetup create vol --table "0 $size shadow-origin $origin $store clone 128 3 clone_target 2 $good"
mount /dev/mapper/vol /mnt/vol
# Remounted: read from the disk, not from the page cache.
(cd /mnt/vol && md5sum -c --quiet "$WORK/live") ||
	fail "the origin's files written after clone 1 failed are not on the disk"
dmsetup message vol 0 delete 1

step "detach clone 2; with no dm-shadow loaded its target is the file system as it was"
dmsetup message vol 0 detach 2
umount /mnt/vol
dmsetup remove vol
dmsetup remove badtgt
store_check "$store"
modprobe -r dm-shadow || fail "dm-shadow does not unload"
fsck.ext4 -n "$good" || fail "the detached clone's file system is not clean"
mount -o ro "$good" /mnt/clone
(cd /mnt/clone && md5sum -c --quiet "$WORK/at-clone") ||
	fail "the detached clone does not hold the files of its point in time"
[ ! -e /mnt/clone/f21 ] || fail "the detached clone holds a file written after it"
umount /mnt/clone
modprobe dm-shadow
losetup -d "$origin" "$store" "$bad" "$good"

step "shadowctl: a clone whose target fails shows failed, and is refused"
# clone_field <shadow id> <field>: of list shadows' JSON.
clone_field() {
	ctl -J list shadows >"$WORK/shadows.json"
	json "$WORK/shadows.json" "[s for s in d['shadows'] if s['id'] == $1][0]['$2']"
}
corigin=$(loop_disk 16)
cstore=$(loop_disk 4)
ctarget=$(loop_disk 16)
dd if=/dev/urandom of="$corigin" bs=1M count=16 oflag=direct status=none
dmsetup create cbad --table "0 $(sectors "$ctarget") linear $ctarget 0"
ctl enable "$corigin" --store "$cstore" --name cv --method clone --hydrate-rate 1
ctl -J create cv --target cv=/dev/mapper/cbad >"$WORK/cset.json"
cid=$(json "$WORK/cset.json" 'd["set"]["shadows"][0]["id"]')
# 1 MiB/s: the 16 MiB hydrate for 16 s, and fail at the next batch.
dmsetup suspend cbad
dmsetup load cbad --table "0 $(sectors "$ctarget") error"
dmsetup resume cbad
for i in $(seq 150); do
	[ "$(clone_field "$cid" clone_state)" = failed ] && break
	sleep 0.2
done
[ "$(clone_field "$cid" clone_state)" = failed ] ||
	fail "list shadows: clone $cid is $(clone_field "$cid" clone_state), not failed"
[ "$(clone_field "$cid" state)" = invalid ] ||
	fail "list shadows: a failed clone is $(clone_field "$cid" state), not invalid"
ctl list shadows -o +clone-state >"$WORK/shadows.txt"
cat "$WORK/shadows.txt"
grep -qw failed "$WORK/shadows.txt" || fail "list shadows -o +clone-state does not say failed"
expect_exit 3 "the clone failed" ctl detach "$cid"
expect_exit 3 "the clone failed" ctl export-metadata "$cid" -o "$WORK/c.json"
[ ! -e "$WORK/c.json" ] || fail "a refused export-metadata left its file"
dd if=/dev/urandom of=/dev/mapper/cv bs=1M count=4 oflag=direct status=none ||
	fail "a direct write to the volume failed beside its failed clone"
[ "$(md5_direct /dev/mapper/cv)" = "$(md5_direct "$corigin")" ] ||
	fail "the volume does not read its origin"
ctl delete "$cid"
ctl disable cv
dmsetup remove cbad
losetup -d "$corigin" "$cstore" "$ctarget"
echo "clone-fail: a failed target failed its clone only; the detached clone is exact"

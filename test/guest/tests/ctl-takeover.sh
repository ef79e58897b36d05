#!/bin/bash
# Takeover in place of a dm linear device with a mounted, busy ext4, the
# way LVM inserts a snapshot origin: same name, same device number before,
# during and after enable and disable; the file system stays mounted and a
# writer keeps writing; disable gives the original table back.
# guest-timeout: 500
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

disk=$(loop_disk 64)
store=$(loop_disk 32)
# An "LV": a linear device over the second half of a disk.
dmsetup create lin --table "0 65536 linear $disk 65536"
mkfs.ext4 -q /dev/mapper/lin
mkdir -p "$WORK/mnt" "$WORK/copy"
mount /dev/mapper/lin "$WORK/mnt"
mkdir "$WORK/mnt/static"
for i in $(seq 1 10); do head -c $((i * 5003)) /dev/urandom >"$WORK/mnt/static/s$i"; done
sync
(cd "$WORK/mnt/static" && md5sum s*) >"$WORK/static.sums"
devno() { dmsetup info -c --noheadings -o major,minor "$1"; }
before_devno=$(devno lin)
before_table=$(dmsetup table lin)
echo "lin is $before_devno: $before_table"

load_start "$WORK/mnt/load"
exec 9>>"$WORK/mnt/held-open"	# and a file held open across everything
sleep 2

step "enable takes it over in place"
expect_exit 3 "keeps its name" ctl enable /dev/mapper/lin --store "$store" --name other
ctl -J enable /dev/mapper/lin --store "$store" >"$WORK/enable.json"
cat "$WORK/enable.json"
[ "$(json "$WORK/enable.json" 'd["volume"]["name"]')" = lin ] || fail "volume name"
[ "$(json "$WORK/enable.json" 'd["volume"]["real"]')" = lin-real ] || fail "real device"
[ "$(devno lin)" = "$before_devno" ] || fail "device number changed: $(devno lin)"
[ "$(dmsetup table lin | awk '{ print $3 }')" = shadow-origin ] || fail "lin is not a shadow-origin"
[ "$(dmsetup table lin-real)" = "$before_table" ] || fail "lin-real does not hold the original table"
grep -q " $WORK/mnt ext4 rw" /proc/mounts || fail "the file system is no longer mounted"
kill -0 "$LOAD_PID" || fail "the writer died"
expect_exit 3 "is already volume lin" ctl enable /dev/mapper/lin --store "$store"

step "create, expose and check a copy while the writer goes on"
n0=$(load_done)
ctl -J create lin >"$WORK/create.json"
id=$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')
ctl expose "$id" --mount "$WORK/copy"
(cd "$WORK/copy/static" && md5sum -c --quiet "$WORK/static.sums") || fail "static files differ in the copy"
load_verify "$WORK/copy/load" "$n0"
ctl unexpose "$id"
ctl delete "$id"

step "disable gives the device back as it was"
ctl disable lin
[ "$(devno lin)" = "$before_devno" ] || fail "device number changed: $(devno lin)"
[ "$(dmsetup table lin)" = "$before_table" ] || fail "table not restored: $(dmsetup table lin)"
! dmsetup info lin-real >/dev/null 2>&1 || fail "lin-real left behind"
grep -q " $WORK/mnt ext4 rw" /proc/mounts || fail "the file system is no longer mounted"
kill -0 "$LOAD_PID" || fail "the writer died"
load_stop
n=$(load_done)
exec 9>&-
load_verify "$WORK/mnt/load" "$n"
umount "$WORK/mnt"
e2fsck -fn /dev/mapper/lin || fail "the file system is damaged"
dmsetup remove lin
losetup -d "$disk" "$store"
echo "ctl-takeover: ok"

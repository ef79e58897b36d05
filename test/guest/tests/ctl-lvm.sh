#!/bin/bash
# An LVM logical volume taken over in place with systemd-udevd and LVM's
# udev rules running: a volume group on a virtio disk, an LV with ext4
# mounted and a writer busy in it (files written and fsynced, one held open
# throughout).  enable keeps the LV's /dev/mapper name and major:minor, the
# mount stays in use, the writer never sees an error, LVM still reports
# the LV, and udev hides <lv>-real (no by-uuid link to it); a copy exposed
# and mounted holds exactly what was written before its point in time;
# disable gives LVM its linear table back and lvs/lvchange work on it.
# guest-disks: 64M,32M
# guest-timeout: 400
. "$SHADOW_TOP/test/guest/lib/ctl.sh"
. "$SHADOW_TOP/test/guest/lib/udevd.sh"
FSW="python3 $SHADOW_TOP/test/guest/tools/fswriter.py"

set -- $GUEST_DISKS
pv=$1 store=$2
lv=vg0-data
trap udevd_stop EXIT
udevd_start

devno() { dmsetup info -c --noheadings -o major,minor "$1"; }
dmuuid() { dmsetup info -c --noheadings -o uuid "$1"; }
progress() {
	local p
	p=$(tail -n 1 "$WORK/progress" 2>/dev/null) || true
	echo "${p:-0}"
}
# holds_open <pid> <path>: 0 if the process has <path> open.  Each link is
# read on its own: the writer opens and closes other files meanwhile, and
# a listing of the whole directory fails on one that went away (seen: ls
# "cannot access /proc/208/fd/5", the pipeline failing under pipefail).
holds_open() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$2" ] && return 0
	done
	return 1
}
# wait_progress <n>: until the writer has completed more than n steps.
wait_progress() {
	local i
	for i in $(seq 1 300); do
		[ "$(progress)" -gt "$1" ] && return 0
		kill -0 "$WRITER" 2>/dev/null || fail "the writer died: $(cat "$WORK/writer.err")"
		sleep 0.1
	done
	fail "the writer made no progress past step $1 in 30 s"
}

step "a volume group on $pv, an LV with ext4, mounted, busy"
pvcreate -q "$pv"
vgcreate -q vg0 "$pv"
lvcreate -q -y -n data -L 40M vg0
udevadm settle --timeout=60
[ -L /dev/vg0/data ] || fail "LVM's udev rules made no /dev/vg0/data"
mkfs.ext4 -q /dev/vg0/data
udevadm settle --timeout=60
fsuuid=$(blkid -p -o value -s UUID /dev/vg0/data)
mkdir -p "$WORK/mnt" "$WORK/copy"
mount /dev/vg0/data "$WORK/mnt"
mkdir "$WORK/mnt/static"
for i in $(seq 1 8); do head -c $((i * 7001)) /dev/urandom >"$WORK/mnt/static/s$i"; done
sync
(cd "$WORK/mnt/static" && md5sum s*) >"$WORK/static.sums"
$FSW run "$WORK/mnt/busy" "$WORK/progress" "$WORK/stop" 2>"$WORK/writer.err" &
WRITER=$!
wait_progress 5
before_devno=$(devno $lv)
before_table=$(dmsetup table $lv)
before_uuid=$(dmuuid $lv)
node=$(readlink -f /dev/vg0/data)
echo "$lv is $before_devno ($node, $before_uuid): $before_table"
lvs vg0

step "enable takes the LV over in place"
n=$(progress)
ctl -J enable /dev/vg0/data --store "$store" >"$WORK/enable.json"
cat "$WORK/enable.json"
[ "$(json "$WORK/enable.json" 'd["volume"]["name"]')" = $lv ] || fail "volume name"
[ "$(json "$WORK/enable.json" 'd["volume"]["real"]')" = $lv-real ] || fail "real device"
udevadm settle --timeout=60
[ "$(devno $lv)" = "$before_devno" ] || fail "major:minor changed: $(devno $lv)"
[ "$(dmuuid $lv)" = "$before_uuid" ] || fail "dm uuid changed: $(dmuuid $lv)"
[ "$(dmsetup table $lv | awk '{ print $3 }')" = shadow-origin ] || fail "$lv is not a shadow-origin"
[ "$(dmsetup table $lv-real)" = "$before_table" ] || fail "$lv-real does not hold LVM's table"
[ "$(dmuuid $lv-real)" = "$before_uuid-real" ] || fail "$lv-real has uuid $(dmuuid $lv-real)"
[ "$(readlink -f /dev/vg0/data)" = "$node" ] || fail "/dev/vg0/data moved to $(readlink -f /dev/vg0/data)"
grep -q " $WORK/mnt ext4 rw" /proc/mounts || fail "the file system is no longer mounted"
[ "$(dmsetup info -c --noheadings -o open $lv)" -ge 1 ] || fail "$lv is not open"
holds_open "$WRITER" "$WORK/mnt/busy/held.log" || fail "the writer no longer holds held.log open"
wait_progress "$n"
echo "the writer went on past step $n"
# LVM's rules see <lv>-real as a layer of the LV: no blkid probe, no
# by-uuid link competing with the LV's.
real_node=/dev/dm-$(dmsetup info -c --noheadings -o minor $lv-real | tr -d ' ')
! udevadm info --query=property --name="$real_node" | matches '^ID_FS_UUID=' ||
	fail "udev probed $lv-real"
[ "$(readlink -f "/dev/disk/by-uuid/$fsuuid")" = "$node" ] ||
	fail "by-uuid/$fsuuid points to $(readlink -f "/dev/disk/by-uuid/$fsuuid"), not the LV $node"

step "LVM still reports the LV"
# What LVM reads from the kernel: the LV's device (name, number, open) as
# usual; its table is not LVM's, which lvs says, and then shows the state
# (the attributes that come from the table) as unknown, X.  The LV's own
# table is in <lv>-real, where LVM does not look (it reads a -real layer
# only for an LV its metadata calls a snapshot origin).
lvs --noheadings -o lv_name,lv_size,lv_kernel_major,lv_kernel_minor vg0/data >"$WORK/lvs" 2>"$WORK/lvs.err" ||
	{ cat "$WORK/lvs.err"; fail "lvs failed"; }
cat "$WORK/lvs" "$WORK/lvs.err"
read -r name size major minor <"$WORK/lvs"
[ "$name $size" = "data 40.00m" ] || fail "lvs reports '$name $size'"
[ "$major:$minor" = "$before_devno" ] || fail "lvs reports $major:$minor, not $before_devno"
lvs --noheadings -o lv_name,lv_attr vg0/data >"$WORK/lvs" 2>"$WORK/lvs.err" ||
	{ cat "$WORK/lvs.err"; fail "lvs -o lv_attr failed"; }
cat "$WORK/lvs" "$WORK/lvs.err"
grep -qF "Detected shadow-origin segment type does not match expected type striped for vg0/data" "$WORK/lvs.err" ||
	fail "lvs did not say what it found in the LV's table"
expect_exit 3 "is already volume $lv" ctl enable /dev/vg0/data --store "$store"

step "a copy, exposed and mounted, holds the point in time"
n0=$(progress)
ctl -J create $lv >"$WORK/create.json"
id=$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')
ctl expose "$id" --mount "$WORK/copy"
(cd "$WORK/copy/static" && md5sum -c --quiet "$WORK/static.sums") || fail "static files differ in the copy"
$FSW verify "$WORK/copy/busy" "$n0" || fail "the copy lacks steps written before its point in time"
ctl unexpose "$id"
ctl delete "$id"

step "disable gives LVM its LV back"
n=$(progress)
ctl disable $lv
udevadm settle --timeout=60
[ "$(devno $lv)" = "$before_devno" ] || fail "major:minor changed: $(devno $lv)"
[ "$(dmsetup table $lv)" = "$before_table" ] || fail "not LVM's table: $(dmsetup table $lv)"
[ "$(dmuuid $lv)" = "$before_uuid" ] || fail "dm uuid changed: $(dmuuid $lv)"
! dmsetup info $lv-real >/dev/null 2>&1 || fail "$lv-real left behind"
grep -q " $WORK/mnt ext4 rw" /proc/mounts || fail "the file system is no longer mounted"
wait_progress "$n"
touch "$WORK/stop"
wait "$WRITER" || fail "the writer saw an error: $(cat "$WORK/writer.err")"
n=$(progress)
$FSW verify "$WORK/mnt/busy" "$n"
step "lvs and lvchange work on the LV given back"
lvs --noheadings -o lv_name,lv_attr vg0/data >"$WORK/lvs" 2>"$WORK/lvs.err"
cat "$WORK/lvs" "$WORK/lvs.err"
[ ! -s "$WORK/lvs.err" ] || fail "lvs still warns after disable"
read -r name attr <"$WORK/lvs"
[ "${attr:4:2}" = ao ] || fail "lvs does not report data active and open: $attr"
lvchange --refresh vg0/data
[ "$(dmsetup table $lv)" = "$before_table" ] || fail "lvchange --refresh changed the table"
umount "$WORK/mnt"
step "e2fsck, lvchange -an, -ay"
e2fsck -fn /dev/vg0/data || fail "the file system is damaged"
lvchange -an vg0/data
! dmsetup info $lv >/dev/null 2>&1 || fail "lvchange -an left $lv"
lvchange -ay vg0/data
[ "$(dmsetup table $lv)" = "$before_table" ] || fail "lvchange -ay loaded $(dmsetup table $lv)"
vgchange -q -an vg0
udevadm settle --timeout=60
udevd_stop
trap - EXIT
echo "ctl-lvm: ok"

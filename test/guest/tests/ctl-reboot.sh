#!/bin/bash
# Volumes survive a reboot: shadowctl activate puts them back as they were.
# Boot 1 enables two volumes with ext4 under a writer (a virtio disk that
# gets /dev/mapper/data, and an LVM LV taken over in place) and a third of
# the dm-snapshot provider (raw data), takes two sets,
# exposes copies (one mounted), and records on the keep disk, next to the
# catalog, what every copy and origin reads; behind shadowctl's back it
# deletes one snapshot and creates another.  The power goes: the kernel
# tables go away unannounced.  Boot 2 finds the volumes inactive,
# activates them (the LV once LVM has activated it, waiting for it as the
# boot service does), and checks: each copy reads exactly what it read
# before (the dm-snapshot copy from the exceptions its store kept),
# exposed copies are exposed again (not mounted), the deleted snapshot is
# dropped and the unknown one adopted, each with a warning, the origins
# are intact, a new set works; deactivate and activate again.
# guest-disks: 4M,8M,8M,8M,8M,4M,8M
# guest-boots: 2
# guest-timeout: 400
. "$SHADOW_TOP/test/guest/lib/ctl.sh"
FSW="python3 $SHADOW_TOP/test/guest/tools/fswriter.py"

set -- $GUEST_DISKS
disk=$1 dstore=$2 pv=$3 lstore=$4 keep=$5 old=$6 ostore=$7
lv=vg1-lv
K=/mnt/keep
# The catalog lives on the keep disk, with the records of boot 1
# (SHADOW_STATE_DIR: --state-dir for every run).
export SHADOW_STATE_DIR=$K/state
devno() { dmsetup info -c --noheadings -o major,minor "$1"; }
# ids: every copy as <id>:<device>:<mountpoint> ("-" for none).
ids() {
	ctl list -n -o id,device,mountpoint | awk '{ print $1 ":" $2 ":" $3 }'
}
progress() {
	local p
	p=$(tail -n 1 "$1" 2>/dev/null) || true
	echo "${p:-0}"
}
wait_progress() { # <progress file> <n>
	local i
	for i in $(seq 1 300); do
		[ "$(progress "$1")" -gt "$2" ] && return 0
		sleep 0.1
	done
	fail "no writer progress past step $2 in $1"
}
# copy_md5 <shadow id>: what the copy reads, whole, through a device of
# its own (exposed, read, unexposed).
copy_md5() {
	ctl expose "$1" --name "check-$1" >/dev/null
	md5_of "/dev/mapper/check-$1"
	ctl unexpose "$1" >/dev/null
}
mkdir -p $K /mnt/data /mnt/lv /mnt/copy

if [ "$GUEST_BOOT" = 1 ]; then
	mkfs.ext4 -q -b 4096 "$keep"
	mount "$keep" $K
	mkdir $K/rec

	step "a disk and an LVM LV, ext4 on each, enabled while in use"
	mkfs.ext4 -q "$disk"
	ctl enable "$disk" --store "$dstore" --name data
	mount /dev/mapper/data /mnt/data
	pvcreate -q "$pv"
	vgcreate -q vg1 "$pv"
	lvcreate -q -y -n lv -L 4M vg1
	mkfs.ext4 -q /dev/vg1/lv
	mount /dev/vg1/lv /mnt/lv
	dmsetup table $lv >$K/rec/lv.table
	devno $lv >$K/rec/lv.devno
	ctl enable /dev/vg1/lv --store "$lstore"
	head -c 4M /dev/urandom >"$old"
	ctl enable "$old" --store "$ostore" --provider dm-snapshot --name old
	ctl list volumes -o +provider

	step "two sets while writers are busy on both"
	$FSW run /mnt/data/busy $K/rec/data.progress $WORK/stop &
	w1=$!
	$FSW run /mnt/lv/busy $K/rec/lv.progress $WORK/stop &
	w2=$!
	for set in 1 2; do
		wait_progress $K/rec/data.progress $((set * 5))
		wait_progress $K/rec/lv.progress $((set * 5))
		# dm-snapshot keeps one copy per store: old is in the first set only.
		ctl create data $lv $([ $set = 1 ] && echo old) |
			awk '$1 == "shadow" { print $2, $4 }' | tee -a $K/rec/copies
		if [ $set = 1 ]; then	# old changes after its point in time
			dd if=/dev/urandom of=/dev/mapper/old bs=64k count=16 seek=$((RANDOM % 48)) \
				oflag=direct status=none
		fi
	done
	touch $WORK/stop
	wait $w1 || fail "the writer on data saw an error"
	wait $w2 || fail "the writer on $lv saw an error"

	step "what every copy reads"
	while read -r id vol; do
		echo "$id $vol $(copy_md5 "$id")"
	done <$K/rec/copies | tee $K/rec/copies.md5
	read -r keep_exposed _ <$K/rec/copies	# first copy of data: exposed
	lv_mounted=$(awk -v v=$lv '$2 == v { print $1 }' $K/rec/copies | tail -n 1)
	data_gone=$(awk '$2 == "data" { print $1 }' $K/rec/copies | tail -n 1)
	ctl expose "$keep_exposed"
	ctl expose "$lv_mounted" --mount /mnt/copy
	echo "$keep_exposed $lv_mounted $data_gone" >$K/rec/special
	ctl list shadows

	step "the origins as they are left"
	umount /mnt/data /mnt/lv
	md5_of /dev/mapper/data >$K/rec/data.md5
	md5_of /dev/vg1/lv >$K/rec/lv.md5
	md5_of /dev/mapper/old >$K/rec/old.md5

	step "behind shadowctl's back: one snapshot deleted, one created"
	snap=$(ctl list -n -o id,snapshot | awk -v i="$data_gone" '$1 == i { print $2 }')
	dmsetup message data 0 delete "$snap"
	snap_create data 99
	dmsetup message data 0 list

	step "power off: mounts and kernel tables go, the catalog is not told"
	umount /mnt/copy
	dmsetup remove "data-shadow-$keep_exposed" "$lv-shadow-$lv_mounted"
	dmsetup remove old-snap
	dmsetup remove data $lv old
	dmsetup remove $lv-real
	dmsetup ls
	umount $K
	echo "boot 1 done"
	exit 0
fi

mount "$keep" $K
read -r keep_exposed lv_mounted data_gone <$K/rec/special

step "after the reboot the volumes are inactive"
ctl list volumes -o name,state,real >$WORK/vols 2>$WORK/first.err
cat $WORK/vols $WORK/first.err
[ "$(ctl list volumes -n -o name,state | xargs)" = "data inactive $lv inactive old inactive" ] ||
	fail "volumes not inactive after the reboot"
grep -qF "shadow $lv_mounted is no longer mounted on /mnt/copy" $WORK/first.err ||
	fail "no warning that shadow $lv_mounted lost its mount"
ids >$WORK/ids
grep -qx "$keep_exposed:/dev/mapper/data-shadow-$keep_exposed:-" $WORK/ids ||
	fail "the exposure of shadow $keep_exposed was forgotten"
grep -qx "$lv_mounted:/dev/mapper/$lv-shadow-$lv_mounted:-" $WORK/ids ||
	fail "shadow $lv_mounted: exposure forgotten, or its mount kept"

step "bad input changes nothing"
expect_exit 1 "takes volumes or --all" ctl activate
expect_exit 1 "takes volumes or --all" ctl activate data --all
expect_exit 2 "no such volume" ctl activate nosuch
[ -z "$(dmsetup ls | grep -v 'No devices found')" ] || fail "a refused activate left $(dmsetup ls)"

step "activate --all before LVM has activated vg1: data comes back, $lv cannot"
expect_exit 2 "device-mapper device $lv does not exist (is its LVM volume group active?)" \
	ctl activate --all
cp $WORK/err $WORK/activate1.err
cat $WORK/out
grep -q "^volume data activated: /dev/mapper/data$" $WORK/out || fail "data not reported activated"
grep -q "shadow $keep_exposed exposed again as /dev/mapper/data-shadow-$keep_exposed" $WORK/out ||
	fail "shadow $keep_exposed not reported exposed again"
grep -F "shadow $data_gone of volume data is gone from the kernel" $WORK/activate1.err ||
	fail "no warning for shadow $data_gone, gone from the store"
grep -F "adopted snapshot 99 of volume data as shadow 99" $WORK/activate1.err ||
	fail "no warning for snapshot 99, adopted"
! dmsetup info $lv-real >/dev/null 2>&1 || fail "the failed activation left $lv-real"
[ "$(dmsetup table data | awk '{ print $3 }')" = shadow-origin ] || fail "data is not a shadow-origin"
grep -q "^volume old activated: /dev/mapper/old$" $WORK/out || fail "old not reported activated"
[ "$(ctl list volumes -n -o name,state | xargs)" = "data active $lv inactive old active" ] ||
	fail "states after the first activate: $(ctl list volumes)"

step "activate --all waits for LVM's activation of vg1, then takes $lv over"
(
	sleep 2
	vgchange -q -ay vg1 >$WORK/vgchange.out 2>&1
	devno $lv >$WORK/lv.devno
) &
bg=$!
ctl activate --all --device-timeout 60 | tee $WORK/out
wait $bg || { cat $WORK/vgchange.out; fail "vgchange -ay vg1 failed"; }
grep -q "^volume data is already active$" $WORK/out || fail "data not reported already active"
grep -q "^volume $lv activated: /dev/mapper/$lv (taken over in place)$" $WORK/out ||
	fail "$lv not reported taken over"
echo "LVM gave $lv $(cat $WORK/lv.devno) (boot 1: $(cat $K/rec/lv.devno))"
[ "$(devno $lv)" = "$(cat $WORK/lv.devno)" ] || fail "$lv is $(devno $lv), LVM made it $(cat $WORK/lv.devno)"
[ "$(dmsetup table $lv | awk '{ print $3 }')" = shadow-origin ] || fail "$lv is not a shadow-origin"
[ "$(dmsetup table $lv-real)" = "$(cat $K/rec/lv.table)" ] || fail "$lv-real does not hold LVM's table"
ctl list volumes
[ "$(ctl list volumes -n -o name,state | xargs)" = "data active $lv active old active" ] ||
	fail "volumes not active: $(ctl list volumes)"

step "the catalog agrees with the stores"
ctl list -o +mountpoint
ids >$WORK/ids
grep -q "^$data_gone:" $WORK/ids && fail "shadow $data_gone, gone from the store, is still listed"
grep -qx "99:-:-" $WORK/ids || fail "snapshot 99 was not adopted"
grep -qx "$keep_exposed:/dev/mapper/data-shadow-$keep_exposed:-" $WORK/ids ||
	fail "shadow $keep_exposed not exposed again"
grep -qx "$lv_mounted:/dev/mapper/$lv-shadow-$lv_mounted:-" $WORK/ids ||
	fail "shadow $lv_mounted not exposed again, or still with a mount point"
! grep -q " /mnt/copy " /proc/mounts || fail "shadow $lv_mounted was mounted"
for d in "data-shadow-$keep_exposed" "$lv-shadow-$lv_mounted"; do
	[ "$(blockdev --getro /dev/mapper/$d)" = 1 ] || fail "$d is not read-only"
done

step "each copy reads exactly what it read before the reboot"
[ "$(md5_of /dev/mapper/data-shadow-$keep_exposed)" = \
	"$(awk -v i="$keep_exposed" '$1 == i { print $3 }' $K/rec/copies.md5)" ] ||
	fail "exposed shadow $keep_exposed changed over the reboot"
ctl unexpose "$keep_exposed"
ctl unexpose "$lv_mounted"
while read -r id vol sum; do
	[ "$id" = "$data_gone" ] && continue
	got=$(copy_md5 "$id")
	[ "$got" = "$sum" ] || fail "shadow $id of $vol reads $got, $sum before the reboot"
	echo "shadow $id of $vol: $got, as before"
done <$K/rec/copies.md5

step "the origins are intact"
[ "$(md5_of /dev/mapper/data)" = "$(cat $K/rec/data.md5)" ] || fail "data changed over the reboot"
[ "$(md5_of /dev/vg1/lv)" = "$(cat $K/rec/lv.md5)" ] || fail "$lv changed over the reboot"
[ "$(md5_of /dev/mapper/old)" = "$(cat $K/rec/old.md5)" ] || fail "old changed over the reboot"
mount /dev/mapper/data /mnt/data
mount /dev/vg1/lv /mnt/lv
$FSW verify /mnt/data/busy "$(progress $K/rec/data.progress)"
$FSW verify /mnt/lv/busy "$(progress $K/rec/lv.progress)"

step "a new set after the reboot"
umount /mnt/data /mnt/lv
ctl create data $lv | awk '$1 == "shadow" { print $2, $4 }' |
while read -r id vol; do
	[ "$(copy_md5 "$id")" = "$(md5_of /dev/mapper/$vol)" ] || fail "new shadow $id of $vol is not its origin"
done
echo "the new copies read exactly their origins"

step "deactivate and activate again"
mount /dev/vg1/lv /mnt/lv
expect_exit 3 "it is in use" ctl deactivate $lv
umount /mnt/lv
ctl expose "$keep_exposed"
expect_exit 3 "is exposed as /dev/mapper/data-shadow-$keep_exposed" ctl deactivate data
ctl -J deactivate --all --force | tee $WORK/deact.json
[ "$(json $WORK/deact.json '" ".join(d["deactivated"])')" = "data $lv old" ] || fail "not all deactivated"
for d in data old old-snap; do
	! dmsetup info $d >/dev/null 2>&1 || fail "$d left loaded"
done
[ "$(dmsetup table $lv)" = "$(cat $K/rec/lv.table)" ] || fail "$lv does not have LVM's table back"
! dmsetup info $lv-real >/dev/null 2>&1 || fail "$lv-real left"
n=$(ctl list -n -o id | wc -l)
ctl -J activate data $lv old | tee $WORK/act.json
[ "$(json $WORK/act.json '" ".join(d["activated"])')" = "data $lv old" ] || fail "not all activated"
[ "$(ctl list -n -o id | wc -l)" = "$n" ] || fail "copies lost over deactivate"
for id in "$keep_exposed" "$(awk '$2 == "old" { print $1 }' $K/rec/copies)"; do
	[ "$(copy_md5 "$id")" = "$(awk -v i="$id" '$1 == i { print $3 }' $K/rec/copies.md5)" ] ||
		fail "shadow $id changed over deactivate and activate"
done

step "clean up"
ctl disable --force data
ctl disable --force $lv
ctl disable --force old
vgchange -q -an vg1
[ -z "$(dmsetup ls | grep -v 'No devices found')" ] || fail "left: $(dmsetup ls)"
umount $K
echo "ctl-reboot: ok"

#!/bin/bash
# The README's demonstration (scripts/demo runs it on Debian's 6.1 kernel):
# a shadowctl session, each command printed with its output.
#
# Two volumes with ext4 under a steady write load: a disk that gets
# /dev/mapper/data, and an LVM logical volume taken over in place while
# mounted.  One set snapshots both at one instant; both copies are exposed
# and mounted read-only, and every file in them is checked against the
# checksums taken at the point in time while the writers went on.  The
# set is listed (also in JSON) and deleted, and the store space comes back.
# Then the disk becomes a clone volume: a clone, a full copy on a disk of
# its own, hydrates, is detached into a plain disk and moves with its
# catalog entry to a backup host's catalog (a second state directory),
# where it is mounted and checked file by file, as VSS's transportable
# shadow copies are.
# (dm-shadow(7) shows the same with dmsetup, target by target.)
# guest-disks: 64M,32M,64M,32M,64M,4M
# guest-timeout: 400
. "$SHADOW_TOP/test/guest/lib/ctl.sh"
FSW="python3 $SHADOW_TOP/test/guest/tools/fswriter.py"

set -- $GUEST_DISKS
disk=$1 dstore=$2 pv=$3 lstore=$4 target=$5 cstore=$6

shadowctl() {
	ctl "$@"
}
# show <command...>: print it as typed at a root prompt, then run it.
show() {
	echo
	echo "# $*"
	"$@"
}
# show_sh <shell line>: the same for a line with cd, &&, ...
show_sh() {
	echo
	echo "# $1"
	(eval "$1")
}
say() {
	echo
	echo "---- $*"
}

say "kernel $(uname -r); the dm-shadow targets"
show shadowctl list providers

say "a disk with ext4, made a volume: use /dev/mapper/data from now on"
mkfs.ext4 -q "$disk"
show shadowctl enable "$disk" --store "$dstore" --name data
mkdir -p /srv/data /srv/logs /mnt/data-copy /mnt/logs-copy
show mount /dev/mapper/data /srv/data

say "an LVM logical volume with ext4, mounted, taken over in place"
pvcreate -q "$pv"
vgcreate -q vg0 "$pv"
lvcreate -q -y -n logs -L 48M vg0 >/dev/null
mkfs.ext4 -q /dev/vg0/logs
show mount /dev/vg0/logs /srv/logs
show dmsetup info -c -o name,major,minor,open vg0-logs
show shadowctl enable /dev/vg0/logs --store "$lstore"
show dmsetup info -c -o name,major,minor,open vg0-logs
show dmsetup table vg0-logs
show dmsetup table vg0-logs-real
show shadowctl list volumes

say "writers on both: files written and fsynced, one held open"
rm -f "$WORK/stop"
$FSW run /srv/data/busy "$WORK/data.progress" "$WORK/stop" &
w1=$!
$FSW run /srv/logs/busy "$WORK/logs.progress" "$WORK/stop" &
w2=$!
trap 'touch "$WORK/stop"' EXIT
until [ "$(tail -n 1 "$WORK/data.progress" 2>/dev/null)" -ge 20 ] 2>/dev/null &&
	[ "$(tail -n 1 "$WORK/logs.progress" 2>/dev/null)" -ge 20 ] 2>/dev/null; do
	sleep 0.2
done
echo "data: $(ls /srv/data/busy | wc -l) files, logs: $(ls /srv/logs/busy | wc -l) files, growing"

say "one set, both volumes at one instant"
# The writers are held for a moment to note what every file holds (what a
# writer plugin does for an application); the copy must hold exactly that.
kill -STOP $w1 $w2
(cd /srv/data && find . -type f -print0 | sort -z | xargs -0 md5sum) >"$WORK/data.sums"
(cd /srv/logs && find . -type f -print0 | sort -z | xargs -0 md5sum) >"$WORK/logs.sums"
show shadowctl create data vg0-logs
kill -CONT $w1 $w2
sleep 2
show shadowctl list sets
show shadowctl list shadows

say "expose both copies read-only and mount them (the writers go on)"
show shadowctl expose 1 --mount /mnt/data-copy
show shadowctl expose 2 --mount /mnt/logs-copy
show findmnt -o TARGET,SOURCE,FSTYPE,OPTIONS /mnt/data-copy
show findmnt -o TARGET,SOURCE,FSTYPE,OPTIONS /mnt/logs-copy

say "each copy is its volume at the point in time, file by file"
for v in data logs; do
	n=$(wc -l <"$WORK/$v.sums")
	show_sh "cd /mnt/$v-copy && md5sum -c --quiet $WORK/$v.sums" ||
		fail "the copy of $v differs from its point in time"
	echo "all $n files match their checksums at the point in time"
	echo "  (on the live volume now: $(find /srv/$v -type f | wc -l) files)"
done

show shadowctl list shadows --json
show shadowctl list storage

say "the writers stop (neither saw an error); unexpose, delete the set: the store's space comes back"
touch "$WORK/stop"
wait $w1 || fail "the writer on data saw an error"
wait $w2 || fail "the writer on logs saw an error"
trap - EXIT
umount /srv/data /srv/logs
show shadowctl unexpose 1
show shadowctl unexpose 2
show shadowctl delete --set 1
show shadowctl list storage
shadowctl -J list storage >"$WORK/storage.json"
[ "$(json "$WORK/storage.json" 'sum(s["used_chunks"] for s in d["storage"])')" = 0 ] ||
	fail "the stores still hold chunks after the delete"
show shadowctl disable data
show shadowctl disable vg0-logs
show dmsetup table vg0-logs
vgchange -q -an vg0 >/dev/null

say "the same disk as a clone volume: each copy a full copy on a disk of its own"
hostname db1	# the guest has none; the clone's metadata records where it was made
show shadowctl enable "$disk" --store "$cstore" --name data --method clone
show mount /dev/mapper/data /srv/data
(cd /srv/data && find . -type f -print0 | sort -z | xargs -0 md5sum) >"$WORK/clone.sums"
show shadowctl create data --target "data=$target"
clone=$(shadowctl -J list shadows | python3 -c 'import json, sys; print(json.load(sys.stdin)["shadows"][-1]["id"])')
show shadowctl list shadows -o id,volume,method,state,target,clone
for _ in $(seq 1 240); do
	state=$(shadowctl -J list shadows | python3 -c 'import json, sys; print(json.load(sys.stdin)["shadows"][-1]["clone_state"])')
	[ "$state" = complete ] && break
	sleep 0.5
done
show shadowctl list shadows -o id,volume,method,state,target,clone
[ "$state" = complete ] || fail "the clone did not complete: $state"

say "detached, the clone is a plain disk; its catalog entry goes with it"
show shadowctl detach "$clone"
show shadowctl export-metadata "$clone" -o "$WORK/clone-$clone.json"
show dmsetup table data

say "on the backup host (here a second catalog, as if $target had moved there)"
show_sh "SHADOW_STATE_DIR=$WORK/backup-host shadowctl import-metadata $WORK/clone-$clone.json --device $target"
show_sh "SHADOW_STATE_DIR=$WORK/backup-host shadowctl list shadows -o id,volume,method,state,target,clone,origin"
show_sh "SHADOW_STATE_DIR=$WORK/backup-host shadowctl expose 1 --mount /mnt/data-copy"
n=$(wc -l <"$WORK/clone.sums")
show_sh "cd /mnt/data-copy && md5sum -c --quiet $WORK/clone.sums" ||
	fail "the imported clone differs from its point in time"
echo "all $n files match their checksums at the clone's point in time"
show_sh "SHADOW_STATE_DIR=$WORK/backup-host shadowctl unexpose 1"
show_sh "SHADOW_STATE_DIR=$WORK/backup-host shadowctl delete 1"
umount /srv/data
show shadowctl delete "$clone"
show shadowctl disable data
echo
echo "DEMO OK: two busy volumes snapshotted at one instant, both copies mounted and verified file by file, all deleted; a clone detached, moved to another catalog, mounted and verified there"

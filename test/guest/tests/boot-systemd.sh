#!/bin/bash
# The boot path under systemd as PID 1, with dm-shadow installed as
# "make install" lays it out (guest-install) and nothing run by hand at
# boot.  Boot 1: an LVM LV (taken over in place) and a plain disk (enabled
# as /dev/mapper/data, by its /dev/disk/by-path name) with ext4 on each,
# mounted from /etc/fstab through their /dev/mapper names; data, a shadow
# copy set, one copy exposed, every copy's checksum; dm-shadow-activate and
# dm-shadow-monitor enabled; sync, and the power goes.  Boot 2: the
# activation service ran and finished before the fsck and mount of either
# file system started, both are mounted from /dev/mapper on their
# shadow-origin tables, the copies are listed and read exactly what they
# read before, the exposed copy is exposed again (with its udev links),
# the data written before the cut is intact, and the monitor runs and
# reacts to the store filling up.  systemd-analyze verify accepts the
# installed units.
# guest-init: systemd
# guest-install: yes
# guest-disks: 64M,32M
# guest-boots: 2
# guest-kill-on: BOOT-SYSTEMD-POWER-CUT
# guest-timeout: 300
. "$SHADOW_TOP/test/guest/lib/shadow.sh"
trap 'echo "FAIL: line $LINENO: a command exited with $?" >&2' ERR

set -- $GUEST_DISKS
pv=$1 disk=$2
# The installed shadowctl, with the default catalog (/var/lib/dm-shadow),
# as the units run it.
unset SHADOW_STATE_DIR
CTL=/usr/local/sbin/shadowctl
REC=/var/lib/boot-systemd-test	# on the root, which survives the cut
UNITS="dm-shadow-activate.service dm-shadow-monitor.service"
lv=vg1-lv

# copy_md5 <shadow id>: what the copy reads, whole, through a device of
# its own (exposed, read, unexposed).
copy_md5() {
	$CTL expose "$1" --name "check-$1" >/dev/null
	md5_of "/dev/mapper/check-$1"
	$CTL unexpose "$1" >/dev/null
}

# files_md5 <dir>: one line per file, sorted.
files_md5() {
	(cd "$1" && find . -name 'f*' -type f -print0 | sort -z | xargs -0 md5sum)
}

# mono <unit> <property>: a monotonic timestamp (µs since boot).
mono() {
	systemctl show -P "$2" "$1"
}

udevadm settle

if [ "$GUEST_BOOT" = 1 ]; then
	step "what make install put in place is what the build made"
	for u in $UNITS; do
		cmp "/lib/systemd/system/$u" "$SHADOW_TOP/systemd/$u" ||
			fail "installed $u is not the build's"
	done
	cmp /usr/local/lib/udev/rules.d/60-dm-shadow.rules "$SHADOW_TOP/udev/60-dm-shadow.rules" ||
		fail "installed udev rules are not the tree's"
	$CTL --version
	systemctl cat dm-shadow-activate.service | grep '^ExecStart='

	step "an LVM LV and a plain disk, ext4 on each, enabled"
	pvcreate -q "$pv"
	vgcreate -q vg1 "$pv"
	lvcreate -q -y -n lv -L 24M vg1
	lvcreate -q -y -n lvstore -L 8M vg1
	lvcreate -q -y -n datastore -L 12M vg1
	mkfs.ext4 -q /dev/vg1/lv
	mkfs.ext4 -q "$disk"
	udevadm settle
	# A name that stays the same across reboots, as shadowctl(8) asks.
	bypath=
	for l in /dev/disk/by-path/*; do
		[ "$(readlink -f "$l")" = "$disk" ] && { bypath=$l; break; }
	done
	[ -n "$bypath" ] || fail "udev made no /dev/disk/by-path link for $disk"
	$CTL enable /dev/vg1/lv --store /dev/vg1/lvstore
	$CTL enable "$bypath" --store /dev/vg1/datastore --name data
	$CTL list volumes

	step "/etc/fstab names /dev/mapper; systemd mounts them"
	mkdir -p /srv/lv /srv/data
	cat >>/etc/fstab <<EOF
/dev/mapper/$lv	/srv/lv	ext4	nofail,x-systemd.requires=dm-shadow-activate.service	0 2
/dev/mapper/data	/srv/data	ext4	nofail,x-systemd.requires=dm-shadow-activate.service	0 2
EOF
	systemctl daemon-reload
	# x-systemd.requires: this starts the activation service too (the
	# volumes are already active: it says so and succeeds).
	systemctl start srv-lv.mount srv-data.mount
	systemctl is-active -q dm-shadow-activate.service || fail "dm-shadow-activate.service is not active"
	findmnt -n -o SOURCE,TARGET,FSTYPE /srv/lv
	findmnt -n -o SOURCE,TARGET,FSTYPE /srv/data

	step "data, a shadow copy set, more data"
	for d in /srv/lv /srv/data; do
		for i in 1 2 3; do
			head -c $((i * 300 * 1024)) /dev/urandom >"$d/f$i"
		done
	done
	sync
	$CTL create $lv data | awk '$1 == "shadow" { print $2, $4 }' | tee $WORK/copies
	[ "$(wc -l <$WORK/copies)" = 2 ] || fail "create made $(wc -l <$WORK/copies) copies, not 2"
	for d in /srv/lv /srv/data; do
		rm "$d/f2"
		head -c 700K /dev/urandom >"$d/f4"
	done

	step "a copy exposed; every copy's checksum"
	mkdir -p $REC
	cp $WORK/copies $REC/copies
	exposed=$(awk '$2 == "data" { print $1 }' $REC/copies)
	echo "$exposed" >$REC/exposed
	$CTL expose "$exposed"
	udevadm settle
	[ -b "/dev/shadow/data/$exposed" ] || fail "udev made no /dev/shadow/data/$exposed"
	while read -r id vol; do
		if [ "$id" = "$exposed" ]; then
			sum=$(md5_of "/dev/mapper/data-shadow-$id")
		else
			sum=$(copy_md5 "$id")
		fi
		echo "$id $vol $sum"
	done <$REC/copies | tee $REC/copies.md5
	sync
	files_md5 /srv/lv >$REC/lv.files
	files_md5 /srv/data >$REC/data.files
	$CTL list

	step "the boot services enabled; sync; power cut"
	systemctl enable $UNITS
	# A debugging kernel boots GUEST_SCALE times slower, LVM's udev
	# activation of the LVs with it: the unit's wait for a device
	# (--device-timeout 60) is scaled as systemd's own timeouts are, by
	# a drop-in, as an administrator would lengthen it.
	if [ "$GUEST_SCALE" -gt 1 ]; then
		exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/dm-shadow-activate.service)
		scaled=${exec_start/--device-timeout 60/--device-timeout $((60 * GUEST_SCALE))}
		[ "$scaled" != "$exec_start" ] || fail "no --device-timeout 60 in: $exec_start"
		mkdir -p /etc/systemd/system/dm-shadow-activate.service.d
		printf '[Service]\nExecStart=\nExecStart=%s\n' "$scaled" \
			>/etc/systemd/system/dm-shadow-activate.service.d/scale.conf
		systemctl daemon-reload
		systemctl cat dm-shadow-activate.service | grep -q -- "--device-timeout $((60 * GUEST_SCALE))" ||
			fail "the drop-in did not take"
	fi
	systemctl start dm-shadow-monitor.service
	sync
	echo "BOOT-SYSTEMD-POWER-CUT"
	sleep 600
	fail "the power was not cut"
fi

step "dm-shadow-activate.service ran, before the file systems were checked and mounted"
systemctl status --no-pager dm-shadow-activate.service || true
[ "$(systemctl show -P Result dm-shadow-activate.service)" = success ] ||
	fail "dm-shadow-activate.service: $(systemctl show -P Result dm-shadow-activate.service)"
systemctl is-active -q dm-shadow-activate.service || fail "dm-shadow-activate.service is not active"
journalctl -b -o cat -u dm-shadow-activate.service >$WORK/activate.log
cat $WORK/activate.log
exposed=$(cat $REC/exposed)
grep -q "^volume $lv activated: /dev/mapper/$lv (taken over in place)$" $WORK/activate.log ||
	fail "the service did not take $lv over"
grep -q "^volume data activated: /dev/mapper/data$" $WORK/activate.log ||
	fail "the service did not activate data"
grep -q "shadow $exposed exposed again as /dev/mapper/data-shadow-$exposed" $WORK/activate.log ||
	fail "the service did not expose shadow $exposed again"
done_at=$(mono dm-shadow-activate.service ActiveEnterTimestampMonotonic)
[ "$done_at" -gt 0 ] || fail "no activation time"
echo "dm-shadow-activate.service finished at ${done_at} µs"
for u in local-fs-pre.target "systemd-fsck@dev-mapper-vg1\\x2dlv.service" \
	systemd-fsck@dev-mapper-data.service srv-lv.mount srv-data.mount; do
	t=$(mono "$u" InactiveExitTimestampMonotonic)
	echo "$u started at ${t} µs"
	[ "$t" -gt 0 ] || fail "$u never started"
	[ "$t" -ge "$done_at" ] || fail "$u started at $t µs, before dm-shadow-activate.service finished ($done_at µs)"
done
journalctl -b -o short-monotonic --no-pager | grep -E "(Finished|Starting) (dm-shadow-activate|systemd-fsck@dev-mapper)|Mounting srv-|Started lvm-activate"

step "the file systems are mounted from /dev/mapper, on the volumes' origins"
for m in "/srv/lv $lv" "/srv/data data"; do
	set -- $m
	[ "$(findmnt -n -o SOURCE "$1")" = "/dev/mapper/$2" ] ||
		fail "$1 is mounted from '$(findmnt -n -o SOURCE "$1")', not /dev/mapper/$2"
	[ "$(dmsetup table "$2" | awk '{ print $3 }')" = shadow-origin ] || fail "$2 is not a shadow-origin"
	mnt=$(findmnt -n -o MAJ:MIN "$1" | tr -d ' ')
	dev=$(dmsetup info -c --noheadings -o major,minor --separator : "$2" | tr -d ' ')
	[ "$mnt" = "$dev" ] || fail "$1 is mounted on $mnt, $2 is $dev"
done
findmnt -n -o SOURCE,TARGET,FSTYPE /srv/lv
findmnt -n -o SOURCE,TARGET,FSTYPE /srv/data

step "the copies are back and read exactly what they read before the cut"
$CTL list volumes
[ "$($CTL list volumes -n -o name,state | xargs)" = "$lv active data active" ] ||
	fail "volumes not active: $($CTL list volumes)"
$CTL list -o +mountpoint
[ "$($CTL list -n -o id | xargs)" = "$(awk '{ print $1 }' $REC/copies | xargs)" ] ||
	fail "copies listed: $($CTL list -n -o id | xargs), before the cut: $(awk '{ print $1 }' $REC/copies | xargs)"
[ -b "/dev/mapper/data-shadow-$exposed" ] || fail "shadow $exposed is not exposed again"
udevadm settle
[ "$(readlink -f "/dev/shadow/data/$exposed")" = "$(readlink -f "/dev/mapper/data-shadow-$exposed")" ] ||
	fail "no udev link /dev/shadow/data/$exposed to the exposed copy"
while read -r id vol sum; do
	if [ "$id" = "$exposed" ]; then
		got=$(md5_of "/dev/mapper/data-shadow-$id")
	else
		got=$(copy_md5 "$id")
	fi
	[ "$got" = "$sum" ] || fail "shadow $id of $vol reads $got, $sum before the cut"
	echo "shadow $id of $vol: $got, as before"
done <$REC/copies.md5

step "the data written before the cut is intact"
files_md5 /srv/lv | diff $REC/lv.files - || fail "files on $lv changed"
files_md5 /srv/data | diff $REC/data.files - || fail "files on data changed"
echo "$(cat $REC/lv.files $REC/data.files | wc -l) files exact"

step "dm-shadow-monitor.service runs and watches the volumes"
systemctl is-active -q dm-shadow-monitor.service || fail "dm-shadow-monitor.service is not active"
pid=$(systemctl show -P MainPID dm-shadow-monitor.service)
tr '\0' ' ' </proc/"$pid"/cmdline
echo
[ "$(mono dm-shadow-monitor.service ActiveEnterTimestampMonotonic)" -ge "$done_at" ] ||
	fail "the monitor started before the volumes were activated"
# Past 80% of data's store (the default warning threshold), the monitor
# says so in the journal, with the priority of a warning.
warned() {
	journalctl -b -o cat -p warning -u dm-shadow-monitor.service >$WORK/monitor.log
	grep -q "^volume data: store [0-9]*% full" $WORK/monitor.log
}
$CTL list storage
head -c 6M /dev/urandom >/srv/data/fill0	# the store (12M) is less than 20% full
for i in $(seq 1 30); do
	head -c 1M /dev/urandom >"/srv/data/fill$i"
	sync
	warned && break
done
warned || sleep 5
journalctl -b -o cat -u dm-shadow-monitor.service
warned || fail "the monitor did not warn about data's store"
$CTL list storage

step "systemd-analyze verify accepts the installed units"
# Passing means exit 0 and no message: an unknown key is only reported.
for u in $UNITS; do
	out=$(systemd-analyze verify --man=no "/lib/systemd/system/$u" 2>&1) ||
		fail "systemd-analyze verify rejects $u: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $u: $out"
	echo "ok: $u"
done

step "clean up: stop, unmount, deactivate"
systemctl stop dm-shadow-monitor.service srv-lv.mount srv-data.mount
$CTL unexpose "$exposed"
$CTL deactivate --all
[ -z "$(dmsetup ls | grep -v 'No devices found' | grep -v '^vg1-')" ] || fail "left: $(dmsetup ls)"
echo "boot-systemd: ok"

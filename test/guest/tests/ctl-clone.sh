#!/bin/bash
# shadowctl with the clone method: a set of three volumes takes one clone
# (ext4 under write load, its hydration throttled), one cow and one row
# copy at one instant; the wrong targets are refused with nothing changed
# (none, too small, in use, the store, one for a volume that is not a
# clone volume or not in the set); list shows each clone's target, state
# and progress; a second clone hydrates beside the first.  Boot 1 ends
# mid-hydration with the volumes' tables removed (dmsetup remove: a clean
# close of the stores, which commits them, not a power cut) and the
# catalog not told; boot 2 activates the volume with both clones' targets
# from the catalog, hydration goes on from where it was and completes,
# and every clone reads byte for byte what it read before the reboot, as
# does its target alone.  (A machine killed mid-hydration is
# clone-kill.sh's.)  A detached clone is a plain device: exposed
# read-only as a linear table, read with dm-shadow unloaded, left intact
# by delete; its catalog entry goes to another host's catalog (a second
# state directory) with export-metadata and import-metadata, which
# refuses the wrong disk, and is mounted there as a shadow copy; the set
# it carries holds the hook writer's record, as the exporting host's did.
# guest-disks: 256M,4M,256M,288M,32M,16M,8M,16M,8M,8M
# guest-boots: 2
# guest-timeout: 500
. "$SHADOW_TOP/test/guest/lib/writers.sh"

set -- $GUEST_DISKS
corigin=$1 cstore=$2 t1=$3 t2=$4 small=$5 korigin=$6 kstore=$7 rorigin=$8 rstore=$9 keep=${10}
K=/mnt/keep
export SHADOW_STATE_DIR=$K/state
# 256 MiB: at 1 MiB/s the clones hydrate for minutes, past the cut even
# on a loaded machine.
obytes=$((256 << 20))
mkdir -p $K "$WORK/mnt" "$WORK/copy"

# sums <dir>: every file's md5, relative names, sorted.
sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum)
}

# copy_md5 <shadow id>: what the copy reads, whole, through its exposed
# device.
copy_md5() {
	local dev
	ctl -J expose "$1" --name "check-$1" >"$WORK/expose.json"
	dev=$(json "$WORK/expose.json" 'd["shadow"]["device"]')
	md5sum <"$dev" | cut -d' ' -f1
	ctl unexpose "$1" >/dev/null
}

# clone_field <shadow id> <field>: a field of list shadows' JSON.
clone_field() {
	ctl -J list shadows >"$WORK/shadows.json"
	json "$WORK/shadows.json" "[s for s in d['shadows'] if s['id'] == $1][0]['$2']"
}

# wait_complete <shadow id>: hydration done, within two minutes.
wait_complete() {
	local i
	for i in $(seq 1 240); do
		[ "$(clone_field "$1" clone_state)" = complete ] && return 0
		sleep 0.5
	done
	fail "clone $1 did not complete: $(clone_field "$1" clone_state)"
}

# refused <code> <text> <command...>: refused with nothing changed in the
# kernel's snapshots or the catalog.  (Device-mapper as a whole is
# compared around each group of refusals: state_of_dm costs a dozen
# dmsetup runs under TCG.)
refused() {
	local cat snaps
	cat=$(md5sum <$SHADOW_STATE_DIR/catalog.json)
	snaps=$(snapshots_in_kernel cv)
	expect_exit "$@"
	[ "$(md5sum <$SHADOW_STATE_DIR/catalog.json)" = "$cat" ] ||
		fail "a refused command changed the catalog: ${*:3}"
	[ "$(snapshots_in_kernel cv)" = "$snaps" ] || fail "a refused command made a snapshot: ${*:3}"
}

devno_of() { printf '%d:%d' "0x$(stat -L -c %t "$1")" "0x$(stat -L -c %T "$1")"; }

if [ "$GUEST_BOOT" = 1 ]; then
	mkfs.ext4 -q -F "$keep"
	mount "$keep" $K
	mkdir -p $K/rec

	step "enable a clone, a cow and a row volume"
	ctl enable "$corigin" --store "$cstore" --name cv --method clone --hydrate-rate 1
	ctl enable "$korigin" --store "$kstore" --name kv
	ctl enable "$rorigin" --store "$rstore" --name rv --method row
	[ "$(dmsetup table cv | awk '{ print $6 }')" = clone ] || fail "cv's table: $(dmsetup table cv)"
	ctl -J list volumes >"$WORK/vols.json"
	[ "$(json "$WORK/vols.json" "[v['method'] for v in d['volumes'] if v['name'] == 'cv'][0]")" = clone ] ||
		fail "list volumes: cv's method"
	[ "$(json "$WORK/vols.json" "[v['hydrate_rate'] for v in d['volumes'] if v['name'] == 'cv'][0]")" = 1 ] ||
		fail "list volumes: cv's hydrate rate is not the 1 MiB/s it was enabled with"
	[ "$(json "$WORK/vols.json" "[v['hydrate_rate'] for v in d['volumes'] if v['name'] == 'kv'][0]")" = None ] ||
		fail "list volumes: a cow volume has a hydrate rate"

	step "ext4 on the clone volume under write load, raw data on the others"
	mkfs.ext4 -q -F /dev/mapper/cv
	mount /dev/mapper/cv "$WORK/mnt"
	mkdir "$WORK/mnt/static"
	for i in $(seq 1 20); do
		head -c $((i * 7919)) /dev/urandom >"$WORK/mnt/static/s$i"
	done
	sync
	sums "$WORK/mnt/static" >$K/rec/static.sums
	for v in kv rv; do
		head -c $((16 << 20)) /dev/urandom >/dev/mapper/$v
		md5sum </dev/mapper/$v | cut -d' ' -f1 >$K/rec/$v.md5
	done
	load_start "$WORK/mnt/load"
	sleep 2

	step "wrong targets: refused, nothing changed"
	dm=$(state_of_dm)
	refused 3 "--target" ctl create cv
	refused 3 "too small" ctl create cv --target "cv=$small"
	refused 3 "store" ctl create cv --target "cv=$cstore"
	refused 3 "not a clone volume" ctl create cv kv --target "cv=$t1" --target "kv=$t2"
	refused 3 "not in the set" ctl create kv --target "cv=$t1"
	refused 3 "two targets" ctl create cv --target "cv=$t1" --target "cv=$t2"
	dmsetup create holder --table "0 $(sectors "$t2") linear $t2 0"
	refused 3 "in use" ctl create cv --target "cv=$t2"
	dmsetup remove holder
	refused 2 "nosuch" ctl create cv --target cv=/dev/nosuch
	# One store per origin: no cow or row volume beside the clones.
	for m in cow row; do
		refused 3 "is already volume cv" \
			ctl enable "$corigin" --store "$small" --name cv2 --method $m
	done
	[ "$(state_of_dm)" = "$dm" ] || fail "a refused create changed device-mapper"

	step "one set: a clone, a cow and a row copy at one instant"
	# A hook writer around it: its record goes with the clone's set.
	mkdir -p "$WORK/hooks.d"
	printf '#!/bin/sh\necho "$1" >>%s\n' "$WORK/hooks.log" >"$WORK/hooks.d/10-log"
	chmod 755 "$WORK/hooks.d/10-log"
	writer_conf <<-EOF
	[hook]
	directory = $WORK/hooks.d
	EOF
	writers_enable hook
	n1=$(load_done)
	ctl -J create cv kv rv --target "cv=$t1" --writers-dir "$WD" \
		--writer-conf "$SHADOW_WRITER_CONF" >"$WORK/set1.json"
	python3 - "$WORK/set1.json" <<-'PY' || fail "the mixed set"
	import json, sys
	s = json.load(open(sys.argv[1]))["set"]
	assert s["state"] == "complete", s
	m = {c["volume"]: c["method"] for c in s["shadows"]}
	assert m == {"cv": "clone", "kv": "cow", "rv": "row"}, m
	assert [w["name"] for w in s["writers"]] == ["hook"], s["writers"]
	PY
	[ "$(tr '\n' ' ' <"$WORK/hooks.log")" = "freeze thaw " ] ||
		fail "the hook ran: $(cat "$WORK/hooks.log")"
	c1=$(json "$WORK/set1.json" "[c['id'] for c in d['set']['shadows'] if c['volume'] == 'cv'][0]")
	kid=$(json "$WORK/set1.json" "[c['id'] for c in d['set']['shadows'] if c['volume'] == 'kv'][0]")
	rid=$(json "$WORK/set1.json" "[c['id'] for c in d['set']['shadows'] if c['volume'] == 'rv'][0]")
	for v in kv rv; do
		head -c $((4 << 20)) /dev/urandom | dd of=/dev/mapper/$v bs=1M seek=3 conv=fsync status=none
	done
	[ "$(copy_md5 "$kid")" = "$(cat $K/rec/kv.md5)" ] || fail "the cow copy of the set is not its point in time"
	[ "$(copy_md5 "$rid")" = "$(cat $K/rec/rv.md5)" ] || fail "the row copy of the set is not its point in time"
	[ "$(clone_field "$c1" target)" = "$t1" ] || fail "list shadows: the clone's target"
	[ "$(clone_field "$c1" clone_state)" = hydrating ] || fail "list shadows: the clone is not hydrating"
	ctl list shadows
	# The writes raced the set and the first seconds of hydration (origin
	# writes to chunks not copied yet copy them first); the checks below
	# run without them.
	load_stop
	dm=$(state_of_dm)
	refused 3 "copied" ctl detach "$c1"
	refused 3 "read-only" ctl expose "$c1" --rw
	refused 3 "clone" ctl revert "$c1"
	refused 3 "not a clone" ctl detach "$kid"
	[ "$(state_of_dm)" = "$dm" ] || fail "a refused detach, expose or revert changed device-mapper"

	step "the clone while it hydrates: its point in time"
	ctl expose "$c1" --mount "$WORK/copy"
	(cd "$WORK/copy/static" && md5sum -c --quiet <(sed 's|\./||' $K/rec/static.sums)) ||
		fail "static files differ in the clone"
	load_verify "$WORK/copy/load" "$n1"
	ctl unexpose "$c1"
	copy_md5 "$c1" >$K/rec/c1.md5

	step "a second clone hydrates beside the first"
	ctl -J create cv --target "cv=$t2" >"$WORK/set2.json"
	c2=$(json "$WORK/set2.json" 'd["set"]["shadows"][0]["id"]')
	table=$(dmsetup table cv)
	for t in "$t1" "$t2"; do
		echo "$table" | grep -q "clone_target [0-9]* $(devno_of "$t")" ||
			fail "cv's table lacks the target $t: $table"
	done
	echo "$table" | grep -q "hydrate_rate 1" || fail "cv's table lost its hydrate rate: $table"
	copy_md5 "$c2" >$K/rec/c2.md5
	echo "$c1 $c2 $n1 $kid" >$K/rec/ids

	step "power off mid-hydration: mounts and tables go, the catalog is not told"
	umount "$WORK/mnt"
	for c in "$c1" "$c2"; do
		[ "$(clone_field "$c" clone_state)" = hydrating ] ||
			fail "clone $c is no longer hydrating at the cut: the test proves no resume"
	done
	ctl list shadows
	md5sum </dev/mapper/cv | cut -d' ' -f1 >$K/rec/cv.md5
	dmsetup remove cv kv rv
	umount $K
	echo "boot 1 done"
	exit 0
fi

mount "$keep" $K
read -r c1 c2 n1 kid <$K/rec/ids
# other <shadowctl args>: shadowctl of another host, with its own catalog.
other() { SHADOW_STATE_DIR=$K/state2 ctl "$@"; }

step "activate: both targets from the catalog, hydration goes on"
ctl activate --all
table=$(dmsetup table cv)
for t in "$t1" "$t2"; do
	echo "$table" | grep -q "clone_target [0-9]* $(devno_of "$t")" ||
		fail "activate: cv's table lacks the target $t: $table"
done
[ "$(md5sum </dev/mapper/cv | cut -d' ' -f1)" = "$(cat $K/rec/cv.md5)" ] ||
	fail "the volume does not hold what it held before the cut"
[ "$(clone_field "$c1" clone_state)" = hydrating ] || fail "clone $c1 not hydrating after activate"
ctl throttle cv 0
[ "$(ctl list volumes -n -o name,hydrate-rate | awk '$1 == "cv" { print $2 }')" = 0 ] ||
	fail "list volumes: cv's hydrate rate is not 0 (no limit) after throttle cv 0"
wait_complete "$c1"
wait_complete "$c2"
ctl list shadows
for c in "$c1" "$c2"; do
	[ "$(copy_md5 "$c")" = "$(cat $K/rec/c$([ "$c" = "$c1" ] && echo 1 || echo 2).md5)" ] ||
		fail "clone $c does not read what it read before the cut"
done
[ "$(head -c $obytes "$t1" | md5sum | cut -d' ' -f1)" = "$(cat $K/rec/c1.md5)" ] ||
	fail "the target of clone $c1 alone does not hold the clone"
[ "$(head -c $obytes "$t2" | md5sum | cut -d' ' -f1)" = "$(cat $K/rec/c2.md5)" ] ||
	fail "the target of clone $c2 alone does not hold the clone"

step "detach: the target leaves the table, the copy stays as a plain device"
ctl detach "$c1"
table=$(dmsetup table cv)
echo "$table" | grep -q "$(devno_of "$t1")" && fail "after detach cv's table still names $t1: $table"
echo "$table" | grep -q "clone_target [0-9]* $(devno_of "$t2")" || fail "detach dropped the other target: $table"
[ "$(clone_field "$c1" clone_state)" = detached ] || fail "list shadows: not detached"
refused 3 "read-only" ctl expose "$c1" --rw
ctl -J expose "$c1" --mount "$WORK/copy" >"$WORK/expose.json"
dev=$(json "$WORK/expose.json" 'd["shadow"]["device"]')
dmsetup table "$(basename "$dev")" | grep -q "linear $(devno_of "$t1") 0" ||
	fail "a detached clone is not exposed as linear over its target: $(dmsetup table "$(basename "$dev")")"
(cd "$WORK/copy/static" && md5sum -c --quiet <(sed 's|\./||' $K/rec/static.sums)) ||
	fail "static files differ in the detached clone"
load_verify "$WORK/copy/load" "$n1"
ctl unexpose "$c1"
refused 3 "detach it first" ctl export-metadata "$c2" -o "$WORK/c2.json"
refused 3 "not a clone" ctl export-metadata "$kid" -o "$WORK/c2.json"
[ ! -e "$WORK/c2.json" ] || fail "a refused export-metadata left its file"
ctl export-metadata "$c1" -o $K/rec/c1-meta.json
# What import-metadata must carry to the other catalog.
ctl -J list shadows >$K/rec/shadows1.json
ctl -J list sets >$K/rec/sets1.json

step "with no dm-shadow loaded, the detached target is the clone"
ctl deactivate --all
modprobe -r dm-shadow
lsmod | grep -q '^dm_shadow' && fail "dm-shadow is still loaded"
[ "$(head -c $obytes "$t1" | md5sum | cut -d' ' -f1)" = "$(cat $K/rec/c1.md5)" ] ||
	fail "the detached target does not hold the clone"
e2fsck -fn "$t1" || fail "e2fsck found problems on the detached clone"
modprobe dm-shadow
ctl activate --all

step "delete: a detached clone leaves its target alone, an attached one leaves the table"
ctl delete "$c1"
[ "$(head -c $obytes "$t1" | md5sum | cut -d' ' -f1)" = "$(cat $K/rec/c1.md5)" ] ||
	fail "deleting a detached clone changed its target"
ctl delete "$c2"
table=$(dmsetup table cv)
echo "$table" | grep -q clone_target && fail "after delete cv's table still names a target: $table"
dmsetup create holder --table "0 $(sectors "$t2") linear $t2 0" || fail "the deleted clone's target is still held"
dmsetup remove holder
ctl delete --oldest kv
ctl delete --oldest rv
for v in cv kv rv; do ctl disable "$v"; done

step "import-metadata: the detached clone in another host's catalog"
head -c $((1 << 20)) /dev/urandom | dd of="$t2" bs=1M conv=fsync status=none
expect_exit 3 "does not hold this clone: its first MiB differs" \
	other import-metadata $K/rec/c1-meta.json --device "$t2"
expect_exit 3 "too small" other import-metadata $K/rec/c1-meta.json --device "$small"
expect_exit 3 "version" other import-metadata <(sed 's/"version": *1/"version": 99/' $K/rec/c1-meta.json) --device "$t1"
[ "$(other -J list shadows | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["shadows"]))')" = 0 ] ||
	fail "a refused import-metadata recorded a copy"
other -J import-metadata $K/rec/c1-meta.json --device "$t1" >"$WORK/import.json"
iid=$(json "$WORK/import.json" 'd["shadow"]["id"]')
other -J list shadows >"$WORK/shadows2.json"
python3 - "$WORK/shadows2.json" "$c1" "$t1" <<'PY' || fail "list shadows: the imported copy"
import json, sys
(s,) = json.load(open(sys.argv[1]))["shadows"]
assert s["clone_state"] == "detached" and s["target"] == sys.argv[3], s
assert s["origin"]["shadow"] == int(sys.argv[2]) and s["origin"]["volume"] == "cv", s
PY
other -J list sets >"$WORK/sets2.json"
python3 - "$WORK/shadows2.json" "$WORK/sets2.json" $K/rec/shadows1.json \
	$K/rec/sets1.json "$c1" <<'PY' || fail "import-metadata did not carry the copy's set"
import json, sys
(s,) = json.load(open(sys.argv[1]))["shadows"]
(o,) = [x for x in json.load(open(sys.argv[3]))["shadows"] if x["id"] == int(sys.argv[5])]
assert s["created"] == o["created"], (s["created"], o["created"])
(st,) = [x for x in json.load(open(sys.argv[2]))["sets"] if x["id"] == s["set"]]
(ot,) = [x for x in json.load(open(sys.argv[4]))["sets"] if x["id"] == o["set"]]
for k in ("created", "freeze_us", "writers"):
    assert st[k] == ot[k], (k, st[k], ot[k])
assert [w["name"] for w in st["writers"]] == ["hook"], st["writers"]
print("imported: created %s, set created %s, freeze %s us, %d writers' records, as exported"
      % (s["created"], st["created"], st["freeze_us"], len(st["writers"])))
PY
expect_exit 3 "already" other import-metadata $K/rec/c1-meta.json --device "$t1"
other expose "$iid" --mount "$WORK/copy"
(cd "$WORK/copy/static" && md5sum -c --quiet <(sed 's|\./||' $K/rec/static.sums)) ||
	fail "static files differ in the imported clone"
load_verify "$WORK/copy/load" "$n1"
other unexpose "$iid"
other delete "$iid"
[ "$(head -c $obytes "$t1" | md5sum | cut -d' ' -f1)" = "$(cat $K/rec/c1.md5)" ] ||
	fail "the imported clone's target changed"
umount $K
echo "ctl-clone: ok"

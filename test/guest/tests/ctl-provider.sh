#!/bin/bash
# Providers: the stock dm-snapshot targets beside dm-shadow.
#  1. dm-shadow.ko loaded, --provider dm-snapshot explicitly, on a loop
#     device with ext4 under write load: one copy, a second create refused
#     with nothing changed, the copy exposed and mounted and equal byte for
#     byte to the volume at the point in time (files overwritten in place
#     afterwards included), adopted back by the repair, deleted.
#  2. A set across that volume and a dm-shadow one (auto picks dm-shadow).
#  3. dm-shadow.ko unloaded and out of reach: list providers says why, auto
#     picks dm-snapshot for a dm linear device taken over in place, the
#     same cycle, and disable gives the device back.  dm-shadow.ko is put
#     back for the harness's unload check.
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

# nothing_changed <tag>: remember (save) or compare (check) the dm devices
# and the catalog.
nothing_changed() {
	{
		state_of_dm
		if [ -e "$SHADOW_STATE_DIR/catalog.json" ]; then md5sum <"$SHADOW_STATE_DIR/catalog.json"; fi
	} >"$WORK/state.$2"
	[ "$1" = save ] && return 0
	cmp -s "$WORK/state.before" "$WORK/state.after" ||
		{ diff "$WORK/state.before" "$WORK/state.after" >&2; fail "a refused command changed something"; }
}

# static_files <dir>: files of random data, their sums in <dir>.sums.
static_files() {
	mkdir -p "$1/static"
	for i in $(seq 1 8); do
		head -c $((i * 13001)) /dev/urandom >"$1/static/s$i"
	done
	sync
	(cd "$1/static" && md5sum s*) >"$WORK/$(basename "$1").sums"
}

# overwrite_static <dir>: new data over the same blocks, after the point in
# time, so that the copy must come from the store; the new sums in
# <dir>.now.
overwrite_static() {
	for f in "$1"/static/s*; do
		head -c "$(stat -c %s "$f")" /dev/urandom | dd of="$f" conv=notrunc,fsync status=none
	done
	(cd "$1/static" && md5sum s*) >"$WORK/$(basename "$1").now"
	! cmp -s "$WORK/$(basename "$1").now" "$WORK/$(basename "$1").sums" ||
		fail "overwriting the static files of $1 changed nothing"
}

# devnum <block device>: "<major>:<minor>", as tables name devices.
devnum() {
	printf '%d:%d' "$(stat -c '0x%t' "$1")" "$(stat -c '0x%T' "$1")"
}

# copy_verify <copy dir> <origin dir name> <load dir> <n0>: the static files
# as they were at the point in time, and the load files (load_files).
copy_verify() {
	(cd "$1/static" && md5sum -c --quiet "$WORK/$2.sums") ||
		fail "the static files in $1 are not those of the point in time"
	echo "$1: static files exact"
	[ -z "$3" ] || load_files "$1/$3" "$4"
}

# The harness unloads dm-shadow after the test: whatever happens, put its
# module back and load it.
KO=$(modinfo -n dm-shadow)
restore_module() {
	if [ -e "$WORK/dm-shadow.ko.away" ]; then
		mv "$WORK/dm-shadow.ko.away" "$KO"
	fi
	grep -q '^dm_shadow ' /proc/modules || modprobe dm-shadow
}
trap restore_module EXIT

mkdir -p "$WORK/snap" "$WORK/sh" "$WORK/copy" "$WORK/copy2"

step "list providers: both usable (libkmod loads dm-snapshot)"
snap_loaded=0
grep -q '^dm_snapshot ' /proc/modules && snap_loaded=1
ctl list providers
ctl -J list providers >"$WORK/prov.json"
python3 - "$WORK/prov.json" <<'PY' || fail "list providers --json"
import json, sys
p = json.load(open(sys.argv[1]))["providers"]
assert [x["name"] for x in p] == ["dm-shadow", "dm-snapshot"], p
assert [x["target"] for x in p] == ["shadow-origin", "snapshot-origin"], p
for x in p:
    assert x["usable"] is True and x["reason"] is None and x["version"] != "-", x
PY
if [ "$snap_loaded" = 0 ]; then
	grep -q '^dm_snapshot ' /proc/modules || fail "dm-snapshot usable but its module is not loaded"
	echo "dm_snapshot was not loaded before list providers, is now"
fi

origin=$(loop_disk 32)
store=$(loop_disk 8)
mkfs.ext4 -q -F "$origin"

step "bad input changes nothing"
ctl list volumes >/dev/null
nothing_changed save before
expect_exit 3 "unknown provider 'lvm'" ctl enable "$origin" --store "$store" --provider lvm
printf 'not a store' | dd of="$store" conv=notrunc status=none
expect_exit 3 "not a dm-snapshot store" ctl enable "$origin" --store "$store" --provider dm-snapshot
nothing_changed check after
dd if=/dev/zero of="$store" bs=512 count=1 conv=notrunc status=none

step "1. enable with --provider dm-snapshot while dm-shadow is loaded"
ctl -J enable "$origin" --store "$store" --name snapvol --provider dm-snapshot >"$WORK/enable.json"
[ "$(json "$WORK/enable.json" 'd["volume"]["provider"]')" = dm-snapshot ] || fail "provider not recorded"
dmsetup table snapvol
[ "$(dmsetup table snapvol | awk '{ print $3 }')" = snapshot-origin ] || fail "snapvol is not a snapshot-origin"
mount /dev/mapper/snapvol "$WORK/snap"
static_files "$WORK/snap"
load_start "$WORK/snap/load"
sleep 2

step "create under write load"
n0=$(load_done)
ctl -J create snapvol >"$WORK/create.json"
id=$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')
overwrite_static "$WORK/snap"
load_stop
echo "shadow $id at load file $n0"
dmsetup table snapvol-snap
read -r _ _ type params <<<"$(dmsetup table snapvol-snap)"
[ "$type" = snapshot ] || fail "snapvol-snap is a $type device"
[ "$params" = "$(devnum "$origin") $(devnum "$store") P 8" ] || fail "snapvol-snap's table: $params"
[ "$(dmsetup info -c --noheadings -o uuid snapvol-snap)" = "SHADOW-DMSNAP-snapvol-$id" ] ||
	fail "snapvol-snap's uuid: $(dmsetup info -c --noheadings -o uuid snapvol-snap)"

step "a second create is refused and changes nothing"
nothing_changed save before
expect_exit 3 "keeps one snapshot per store" ctl create snapvol
nothing_changed check after
ctl list storage
ctl -J list storage >"$WORK/storage.json"
python3 - "$WORK/storage.json" <<'PY' || fail "list storage --json"
import json, sys
s = json.load(open(sys.argv[1]))["storage"][0]
assert s["volume"] == "snapvol" and s["snapshots"] == 1 and s["max_snapshots"] == 1, s
assert s["invalid"] == 0 and s["mode"] == "rw", s
assert 0 < s["used_chunks"] < s["total_chunks"], s
PY

step "expose, mount and compare with the point in time"
ctl -J expose "$id" --mount "$WORK/copy" >"$WORK/expose.json"
dev=$(json "$WORK/expose.json" 'd["shadow"]["device"]')
[ "$dev" = "/dev/mapper/snapvol-shadow-$id" ] || fail "exposed as $dev"
[ "$(dmsetup table "snapvol-shadow-$id" | awk '{ print $3 }')" = linear ] || fail "not a linear device"
[ "$(blockdev --getro "$dev")" = 1 ] || fail "$dev is not read-only"
copy_verify "$WORK/copy" snap load "$n0"
ctl unexpose "$id"
ctl expose "$id"
e2fsck -fn "$dev" || fail "e2fsck found problems in the copy"
ctl unexpose "$id"

step "repair: a copy the catalog lost is adopted from the kernel"
python3 - "$SHADOW_STATE_DIR/catalog.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["shadows"] = []
c["sets"] = []
json.dump(c, open(sys.argv[1], "w"))
PY
ctl -J list shadows >"$WORK/shadows.json" 2>"$WORK/repair.err"
cat "$WORK/repair.err"
grep -q "adopted snapshot $id of volume snapvol as shadow $id" "$WORK/repair.err" || fail "not adopted"
[ "$(json "$WORK/shadows.json" '[(s["id"], s["state"]) for s in d["shadows"]]')" = "[($id, 'valid')]" ] ||
	fail "adopted as $(cat "$WORK/shadows.json")"

step "delete"
ctl delete "$id"
! dmsetup info snapvol-snap >/dev/null 2>&1 || fail "snapvol-snap left behind"
[ "$(ctl -J list storage | python3 -c 'import json,sys; print(json.load(sys.stdin)["storage"][0]["snapshots"])')" = 0 ] ||
	fail "list storage still counts a snapshot"

step "2. a set across a dm-shadow volume and the dm-snapshot one"
origin2=$(loop_disk 16)
store2=$(loop_disk 8)
mkfs.ext4 -q -F "$origin2"
# The choice is said with --verbose only (ctl-names checks the silence).
ctl -v -J enable "$origin2" --store "$store2" --name shvol >"$WORK/enable2.json" 2>"$WORK/enable2.err"
cat "$WORK/enable2.err"
grep -q "provider dm-shadow chosen (auto)" "$WORK/enable2.err" || fail "auto did not say it chose dm-shadow"
[ "$(json "$WORK/enable2.json" 'd["volume"]["provider"]')" = dm-shadow ] || fail "auto did not pick dm-shadow"
mount /dev/mapper/shvol "$WORK/sh"
static_files "$WORK/sh"
(cd "$WORK/snap/static" && md5sum s*) >"$WORK/snap.sums"
load_start "$WORK/snap/load2"
sleep 2
n0=$(load_done)
ctl -J create snapvol shvol >"$WORK/set.json"
set=$(json "$WORK/set.json" 'd["set"]["id"]')
ids=$(json "$WORK/set.json" '" ".join(str(s["id"]) for s in d["set"]["shadows"])')
read -r ida idb <<<"$ids"
overwrite_static "$WORK/snap"
overwrite_static "$WORK/sh"
load_stop
n=$(load_done)
[ "$(dmsetup info -c --noheadings -o uuid snapvol-snap)" = "SHADOW-DMSNAP-snapvol-$ida" ] || fail "no snapvol-snap"
[ "$(snapshots_in_kernel shvol)" = 1 ] || fail "shvol has no snapshot"
nothing_changed save before
expect_exit 3 "keeps one snapshot per store" ctl create shvol snapvol
nothing_changed check after
ctl expose "$ida" --mount "$WORK/copy"
ctl expose "$idb" --mount "$WORK/copy2"
copy_verify "$WORK/copy" snap load2 "$n0"
copy_verify "$WORK/copy2" sh "" 0
ctl unexpose "$ida"
ctl unexpose "$idb"
ctl -J delete --set "$set" >"$WORK/del.json"
[ "$(json "$WORK/del.json" 'sorted(d["deleted"])')" = "[$ida, $idb]" ] || fail "delete --set: $(cat "$WORK/del.json")"
[ "$(snapshots_in_kernel shvol)" = 0 ] && ! dmsetup info snapvol-snap >/dev/null 2>&1 || fail "snapshots left"

step "disable gives both devices back"
umount "$WORK/sh"
ctl disable shvol
umount "$WORK/snap"
ctl disable snapvol
! dmsetup info snapvol >/dev/null 2>&1 && ! dmsetup info shvol >/dev/null 2>&1 || fail "volumes left"
mount -o ro "$origin" "$WORK/snap"
(cd "$WORK/snap/static" && md5sum -c --quiet "$WORK/snap.now") || fail "the origin lost the new static files"
load_files "$WORK/snap/load2" "$n" exact
umount "$WORK/snap"
losetup -d "$origin" "$store" "$origin2" "$store2"

step "3. dm-shadow.ko unloaded and out of reach: auto picks dm-snapshot"
modprobe -r dm-shadow
! grep -q '^dm_shadow ' /proc/modules || fail "dm-shadow is still loaded"
mv "$KO" "$WORK/dm-shadow.ko.away"
ctl list providers
ctl -J list providers >"$WORK/prov.json"
python3 - "$WORK/prov.json" <<'PY' || fail "list providers --json without dm-shadow"
import json, sys
p = {x["name"]: x for x in json.load(open(sys.argv[1]))["providers"]}
s, d = p["dm-shadow"], p["dm-snapshot"]
assert s["usable"] is False and s["version"] == "-", s
assert "shadow-origin" in s["reason"] and "dm-shadow" in s["reason"], s
assert d["usable"] is True and d["reason"] is None, d
PY

disk=$(loop_disk 64)
store=$(loop_disk 8)
dmsetup create lin --table "0 65536 linear $disk 65536"
mkfs.ext4 -q /dev/mapper/lin
mount /dev/mapper/lin "$WORK/snap"
static_files "$WORK/snap"
devno() { dmsetup info -c --noheadings -o major,minor "$1"; }
before_devno=$(devno lin)
before_table=$(dmsetup table lin)
load_start "$WORK/snap/load"
exec 9>>"$WORK/snap/held-open"	# the file system stays busy until the end

nothing_changed save before
expect_exit 3 "provider dm-shadow is not usable" ctl enable /dev/mapper/lin --store "$store" --provider dm-shadow
nothing_changed check after
ctl -v -J enable /dev/mapper/lin --store "$store" >"$WORK/enable3.json" 2>"$WORK/enable3.err"
cat "$WORK/enable3.err"
grep -q "provider dm-snapshot chosen (auto)" "$WORK/enable3.err" || fail "auto did not say it chose dm-snapshot"
grep -q "dm-shadow is not usable: target shadow-origin is not registered" "$WORK/enable3.err" ||
	fail "auto did not say why"
[ "$(json "$WORK/enable3.json" 'd["volume"]["provider"]')" = dm-snapshot ] || fail "auto did not pick dm-snapshot"
[ "$(devno lin)" = "$before_devno" ] || fail "device number changed"
[ "$(dmsetup table lin | awk '{ print $3 }')" = snapshot-origin ] || fail "lin is not a snapshot-origin"
[ "$(dmsetup table lin-real)" = "$before_table" ] || fail "lin-real does not hold the original table"
sleep 2

n0=$(load_done)
ctl -J create lin >"$WORK/create3.json"
id=$(json "$WORK/create3.json" 'd["set"]["shadows"][0]["id"]')
overwrite_static "$WORK/snap"
load_stop
nothing_changed save before
expect_exit 3 "keeps one snapshot per store" ctl create lin
nothing_changed check after
ctl expose "$id" --mount "$WORK/copy"
copy_verify "$WORK/copy" snap load "$n0"
ctl unexpose "$id"
ctl delete "$id"
ctl disable lin
[ "$(devno lin)" = "$before_devno" ] || fail "device number changed: $(devno lin)"
[ "$(dmsetup table lin)" = "$before_table" ] || fail "table not restored: $(dmsetup table lin)"
! dmsetup info lin-real >/dev/null 2>&1 && ! dmsetup info lin-snap >/dev/null 2>&1 || fail "devices left"
grep -q " $WORK/snap ext4 rw" /proc/mounts || fail "the file system is no longer mounted"
exec 9>&-
load_files "$WORK/snap/load" "$(load_done)" exact
(cd "$WORK/snap/static" && md5sum -c --quiet "$WORK/snap.now") || fail "the origin lost the new static files"
umount "$WORK/snap"
e2fsck -fn /dev/mapper/lin >/dev/null || fail "the file system is damaged"
dmsetup remove lin
losetup -d "$disk" "$store"

step "dm-shadow.ko back: usable again"
restore_module
ctl -J list providers >"$WORK/prov.json"
[ "$(json "$WORK/prov.json" 'd["providers"][0]["usable"]')" = True ] || fail "dm-shadow not usable again"
echo "ctl-provider: ok"

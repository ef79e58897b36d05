#!/bin/bash
# shadowctl on a loop device with ext4 under write load: enable, create
# (twice), list in JSON, expose and mount a copy, compare it with what was
# on the volume at the point in time, fsck it, delete (by id and the
# oldest), disable.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

origin=$(loop_disk 64)
store=$(loop_disk 48)
mkfs.ext4 -q -F "$origin"

step "enable"
ctl enable "$origin" --store "$store" --name vol
[ -b /dev/mapper/vol ] || fail "/dev/mapper/vol was not made"
[ "$(dmsetup table vol | awk '{ print $3 }')" = shadow-origin ] || fail "vol is not a shadow-origin"
ctl -J list volumes >"$WORK/vols.json"
[ "$(json "$WORK/vols.json" 'd["volumes"][0]["name"]')" = vol ] || fail "list volumes"

mkdir -p "$WORK/mnt" "$WORK/copy"
mount /dev/mapper/vol "$WORK/mnt"
mkdir "$WORK/mnt/static"
for i in $(seq 1 20); do
	head -c $((i * 7919)) /dev/urandom >"$WORK/mnt/static/s$i"
done
sync
(cd "$WORK/mnt/static" && md5sum s*) >"$WORK/static.sums"

step "create under write load"
load_start "$WORK/mnt/load"
# Rate-limited: a churn that saturates the emulated CPU only slows every
# step down, it does not make the writes any less concurrent.
fio --name=churn --filename="$WORK/mnt/churn" --size=8M --rw=randwrite --bs=4k \
	--time_based --runtime=300 --ioengine=psync --fsync=16 --rate_iops=200 >/dev/null 2>&1 &
fio_pid=$!
sleep 3
n0=$(load_done)
ctl -J create vol >"$WORK/create.json"
cat "$WORK/create.json"
id1=$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')
set1=$(json "$WORK/create.json" 'd["set"]["id"]')
[ "$(json "$WORK/create.json" 'd["set"]["state"]')" = complete ] || fail "set not complete"
freeze=$(json "$WORK/create.json" 'd["set"]["freeze_us"]')
[ "$freeze" -gt 0 ] && [ "$freeze" -lt 10000000 ] || fail "freeze window $freeze us"
echo "shadow $id1 in set $set1 at load file $n0, frozen $freeze us"
sleep 2
ctl create vol >"$WORK/create2.txt"
cat "$WORK/create2.txt"
sleep 1

step "list"
ctl -J list shadows >"$WORK/shadows.json"
cat "$WORK/shadows.json"
python3 - "$WORK/shadows.json" "$id1" "$set1" <<'PY' || fail "list shadows --json"
import json, sys
d = json.load(open(sys.argv[1]))["shadows"]
assert len(d) == 2, d
for s in d:
    for k in ("id", "set", "volume", "method", "created", "state", "device"):
        assert k in s, k
    assert s["volume"] == "vol" and s["method"] == "cow" and s["state"] == "valid"
    assert s["device"] is None
assert d[0]["id"] == int(sys.argv[2]) and d[0]["set"] == int(sys.argv[3])
assert d[0]["created"].endswith("Z")
PY
[ "$(snapshots_in_kernel vol)" = 2 ] || fail "the kernel does not list 2 snapshots"
ctl list sets
ctl -J list sets >"$WORK/sets.json"
[ "$(json "$WORK/sets.json" 'len(d["sets"])')" = 2 ] || fail "list sets"
ctl list storage
ctl -J list storage >"$WORK/storage.json"
[ "$(json "$WORK/storage.json" 'd["storage"][0]["snapshots"]')" = 2 ] || fail "list storage"
ctl -J list providers >"$WORK/prov.json"
[ "$(json "$WORK/prov.json" 'd["providers"][0]["usable"]')" = True ] || fail "list providers"
ctl list

step "expose and mount the first copy while the load goes on"
ctl -J expose "$id1" --mount "$WORK/copy" >"$WORK/expose.json"
dev=$(json "$WORK/expose.json" 'd["shadow"]["device"]')
[ "$dev" = "/dev/mapper/vol-shadow-$id1" ] || fail "exposed as $dev"
[ "$(blockdev --getro "$dev")" = 1 ] || fail "$dev is not read-only"
grep -q " $WORK/copy ext4 ro" /proc/mounts || fail "copy not mounted read-only"
(cd "$WORK/copy/static" && md5sum -c --quiet "$WORK/static.sums") || fail "static files differ in the copy"
load_verify "$WORK/copy/load" "$n0"
n_copy=$(find "$WORK/copy/load" -type f | wc -l)
echo "copy holds $n_copy load files (at least $n0 were done before the snapshot)"
ctl -J list shadows >"$WORK/shadows.json"
[ "$(json "$WORK/shadows.json" 'd["shadows"][0]["device"]')" = "$dev" ] || fail "device not listed"
expect_exit 3 "exposed" ctl delete "$id1"
ctl unexpose "$id1"
[ ! -e "$dev" ] || fail "$dev still exists after unexpose"
! grep -q " $WORK/copy " /proc/mounts || fail "copy still mounted"

step "fsck the copy (read-only device, no mount)"
ctl expose "$id1"
e2fsck -fn "$dev" || fail "e2fsck found problems in the copy"
ctl unexpose "$id1"

step "delete"
load_stop
kill "$fio_pid" 2>/dev/null || true
wait "$fio_pid" 2>/dev/null || true
expect_exit 3 "shadow cop" ctl disable vol
ctl -J delete --oldest vol >"$WORK/del.json"
[ "$(json "$WORK/del.json" 'd["deleted"][0]')" = "$id1" ] || fail "--oldest deleted the wrong copy"
id2=$(ctl -J list shadows | python3 -c 'import json,sys; print(json.load(sys.stdin)["shadows"][0]["id"])')
ctl delete "$id2"
[ "$(snapshots_in_kernel vol)" = 0 ] || fail "snapshots left in the kernel"
ctl -J list sets >"$WORK/sets.json"
[ "$(json "$WORK/sets.json" 'len(d["sets"])')" = 0 ] || fail "empty sets left"

step "disable"
expect_exit 3 "in use" ctl disable vol
umount "$WORK/mnt"
ctl disable vol
[ ! -e /dev/mapper/vol ] && ! dmsetup info vol >/dev/null 2>&1 || fail "vol still exists"
ctl -J list volumes >"$WORK/vols.json"
[ "$(json "$WORK/vols.json" 'len(d["volumes"])')" = 0 ] || fail "volume left in the catalog"
e2fsck -fn "$origin" || fail "the origin's file system is damaged"
losetup -d "$origin" "$store"
echo "ctl-basic: ok"

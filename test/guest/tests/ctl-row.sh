#!/bin/bash
# shadowctl with the redirect-on-write method: a volume enabled with
# --method row carries ext4 and XFS, each under write load; copies taken
# under load hold exactly the files of their point in time and check
# clean (e2fsck; xfs_repair -n once a writable exposure replayed its
# log); a set mixes a row and a cow volume (its ext4 copy checks clean
# too); list shows the method; revert
# to the newest copy is done at once and the file system then holds that
# copy's files and checks clean, while revert to an older copy and an
# unknown method are refused with nothing changed; deleting the copies
# returns before fold-back (throttled) is done, which list storage shows,
# and disable waits for it and gives the device back holding the live
# file system (checked on the bare device).
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

origin=$(loop_disk 64)
store=$(loop_disk 64)
xorigin=$(loop_disk 320)	# xfsprogs 6 makes nothing smaller than 300 MiB
xstore=$(loop_disk 64)
spare=$(loop_disk 16)
corigin=$(loop_disk 16)
cstore=$(loop_disk 16)
mkfs.ext4 -q -F "$origin"
mkdir -p "$WORK/mnt" "$WORK/copy" "$WORK/xmnt" "$WORK/xcopy"

# sums <dir>: every file's md5, relative names, sorted.
sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum)
}

step "enable --method row; an unknown method is refused"
before=$(state_of_dm)
expect_exit 3 "unknown method fow" ctl enable "$spare" --store "$xstore" --method fow
[ "$(state_of_dm)" = "$before" ] || fail "a refused enable changed device-mapper"
ctl enable "$origin" --store "$store" --name vol --method row
[ "$(dmsetup table vol | awk '{ print $6 }')" = row ] || fail "vol's table is not row: $(dmsetup table vol)"
ctl -J list volumes >"$WORK/vols.json"
[ "$(json "$WORK/vols.json" 'd["volumes"][0]["method"]')" = row ] || fail "list volumes: method"

step "ext4 under write load, two copies"
mount /dev/mapper/vol "$WORK/mnt"
mkdir "$WORK/mnt/static"
for i in $(seq 1 20); do
	head -c $((i * 7919)) /dev/urandom >"$WORK/mnt/static/s$i"
done
sync
sums "$WORK/mnt/static" >"$WORK/static.sums"
load_start "$WORK/mnt/load"
sleep 3
n0=$(load_done)
ctl -J create vol >"$WORK/create.json"
id1=$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')
sleep 2
ctl -J create vol >"$WORK/create2.json"
id2=$(json "$WORK/create2.json" 'd["set"]["shadows"][0]["id"]')
for i in $(seq 1 20); do
	head -c $((i * 4099)) /dev/urandom >"$WORK/mnt/static/s$i"	# new data
done
ctl -J list shadows >"$WORK/shadows.json"
python3 - "$WORK/shadows.json" <<'PY' || fail "list shadows: method"
import json, sys
d = json.load(open(sys.argv[1]))["shadows"]
assert len(d) == 2 and all(s["method"] == "row" for s in d), d
PY

step "the first copy: its point in time, e2fsck clean"
ctl expose "$id1" --mount "$WORK/copy"
(cd "$WORK/copy/static" && md5sum -c --quiet <(sed 's|\./||' "$WORK/static.sums")) ||
	fail "static files differ in the copy"
load_verify "$WORK/copy/load" "$n0"
ctl unexpose "$id1"
ctl -J expose "$id1" >"$WORK/expose.json"
e2fsck -fn "$(json "$WORK/expose.json" 'd["shadow"]["device"]')" ||
	fail "e2fsck found problems in the copy"
ctl unexpose "$id1"

step "revert: to an older copy refused, nothing changed; to the newest at once"
load_stop
umount "$WORK/mnt"
before=$(state_of_dm)
expect_exit 3 "which reverts to its newest shadow copy only ($id2)" ctl revert "$id1"
[ "$(state_of_dm)" = "$before" ] || fail "a refused revert changed device-mapper"
ctl -J revert "$id2" >"$WORK/revert.json"
[ "$(json "$WORK/revert.json" 'd["revert"]["state"]')" = done ] ||
	fail "the revert of a row volume is not done at once: $(cat "$WORK/revert.json")"
e2fsck -fn /dev/mapper/vol || fail "e2fsck found problems in the reverted volume"
mount /dev/mapper/vol "$WORK/mnt"
(cd "$WORK/mnt/static" && md5sum -c --quiet <(sed 's|\./||' "$WORK/static.sums")) ||
	fail "after the revert the static files are not those of the second copy's point in time"
sums "$WORK/mnt" >"$WORK/live.sums"

step "XFS under write load on a second row volume, two copies"
ctl enable "$xorigin" --store "$xstore" --name xv --method row
mkfs.xfs -q /dev/mapper/xv
mount /dev/mapper/xv "$WORK/xmnt"
mkdir "$WORK/xmnt/static"
for i in $(seq 1 8); do head -c $((i * 37 * 1024)) /dev/urandom >"$WORK/xmnt/static/a$i"; done
sync
sums "$WORK/xmnt/static" >"$WORK/x1.sums"
load_start "$WORK/xmnt/load"
sleep 2
xn1=$(load_done)
ctl -J create xv >"$WORK/xcreate.json"
xid1=$(json "$WORK/xcreate.json" 'd["set"]["shadows"][0]["id"]')
for i in $(seq 1 8); do head -c $((i * 41 * 1024)) /dev/urandom >"$WORK/xmnt/static/a$i"; done
sync
sums "$WORK/xmnt/static" >"$WORK/x2.sums"
sleep 2
xn2=$(load_done)
ctl -J create xv >"$WORK/xcreate.json"
xid2=$(json "$WORK/xcreate.json" 'd["set"]["shadows"][0]["id"]')
load_stop
# A copy of a mounted XFS has a log to replay: a writable exposure
# (private chunks of the snapshot in the row store) mounts it, which
# replays it; once unmounted, the copy must check clean.
for k in 1 2; do
	eval "xid=\$xid$k xn=\$xn$k"
	ctl expose "$xid" --rw --mount "$WORK/xcopy"
	[ "$(sums "$WORK/xcopy/static")" = "$(cat "$WORK/x$k.sums")" ] ||
		fail "XFS copy $k does not hold the files of its point in time"
	load_verify "$WORK/xcopy/load" "$xn"
	ctl unexpose "$xid"
	ctl -J expose "$xid" --rw >"$WORK/xexpose.json"
	xdev=$(json "$WORK/xexpose.json" 'd["shadow"]["device"]')
	xfs_repair -n "$xdev" >"$WORK/repair.out" 2>&1 ||
		{ cat "$WORK/repair.out"; fail "xfs_repair -n found problems in XFS copy $k"; }
	ctl unexpose "$xid"
done

step "a set of a row and a cow volume"
ctl enable "$corigin" --store "$cstore" --name cv
ctl -J create vol cv >"$WORK/mixed.json"
python3 - "$WORK/mixed.json" <<'PY' || fail "the mixed set"
import json, sys
s = json.load(open(sys.argv[1]))["set"]
assert s["state"] == "complete", s
assert sorted(c["volume"] for c in s["shadows"]) == ["cv", "vol"], s
PY
ctl -J list shadows >"$WORK/shadows.json"
python3 - "$WORK/shadows.json" <<'PY' || fail "list shadows: the mixed set's methods"
import json, sys
m = {(s["volume"], s["method"]) for s in json.load(open(sys.argv[1]))["shadows"]}
assert ("cv", "cow") in m and ("vol", "row") in m, m
PY
mid=$(json "$WORK/mixed.json" '[c["id"] for c in d["set"]["shadows"] if c["volume"] == "vol"][0]')
ctl -J expose "$mid" >"$WORK/expose.json"
e2fsck -fn "$(json "$WORK/expose.json" 'd["shadow"]["device"]')" ||
	fail "e2fsck found problems in the mixed set's ext4 copy"
ctl unexpose "$mid"
ctl disable cv --force

step "delete the copies: they return before fold-back; disable waits for it"
# 8 MiB more in vol's store, and its fold-back throttled to 1 MiB/s: the
# deletes must not wait for it.
head -c 8M /dev/urandom >"$WORK/mnt/fill"
sync
sums "$WORK/mnt" >"$WORK/live.sums"
sums "$WORK/xmnt" >"$WORK/xlive.sums"
umount "$WORK/mnt" "$WORK/xmnt"
echo "vol's store before the deletes: $(used_chunks vol) chunks"
ctl throttle vol 1
ctl delete "$xid1"
ctl delete "$xid2"
ctl delete --oldest vol
ctl delete --oldest vol
ctl delete --oldest vol
ctl -J list storage -o volume,used-chunks,fold >"$WORK/storage.json"
cat "$WORK/storage.json"
python3 - "$WORK/storage.json" <<'PY' || fail "list storage: vol's fold-back after the deletes"
import json, sys
d = {s["volume"]: s for s in json.load(open(sys.argv[1]))["storage"]}
assert d["vol"]["used_chunks"] > 0 and d["vol"]["fold"] is not None, d
PY
ctl disable vol 2>"$WORK/disable.err" || { cat "$WORK/disable.err"; fail "disable vol failed"; }
grep -q "disable vol: waiting for fold-back to move [0-9]* chunks of live data" "$WORK/disable.err" ||
	{ cat "$WORK/disable.err"; fail "disable vol did not say it waited for fold-back"; }
ctl disable xv
e2fsck -fn "$origin" || fail "the device's file system is damaged after disable"
mount -o ro "$origin" "$WORK/mnt"
[ "$(sums "$WORK/mnt")" = "$(cat "$WORK/live.sums")" ] ||
	fail "the device does not hold the volume's files after fold-back"
umount "$WORK/mnt"
xfs_repair -n "$xorigin" >"$WORK/repair.out" 2>&1 ||
	{ cat "$WORK/repair.out"; fail "xfs_repair -n: the XFS device is damaged"; }
mount -o ro "$xorigin" "$WORK/xmnt"
[ "$(sums "$WORK/xmnt")" = "$(cat "$WORK/xlive.sums")" ] ||
	fail "the XFS device does not hold the volume's files after fold-back"
umount "$WORK/xmnt"
echo "ctl-row: ok"

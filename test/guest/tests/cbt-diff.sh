#!/bin/bash
# Changed-block tracking (shadow-dump --diff) against what was written:
# a history of 256 snapshots on a cow origin of 16 KiB chunks, a few
# 4 KiB writes after each (partial chunks), every 7th snapshot after the
# 16th deleted along the way.  After 1, 16 and 256 snapshots a metadata
# snapshot is reserved and, while a second writer keeps writing the
# origin, the diff of sampled snapshot pairs (both orders) and of sampled
# snapshots against the live volume must be exactly the chunks written
# between them (tools/cbtdiff.py): never a missed chunk, never an extra
# one.  Then a writable snapshot's own writes count as changes for it,
# refusals (unknown, deleted snapshot) print nothing and exit 7, and the
# store checks clean.
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

DUMP=$SHADOW_TOP/cmd/shadow-dump/shadow-dump
TOOL=$SHADOW_TOP/test/guest/tools/cbtdiff.py
[ -x "$DUMP" ] || fail "$DUMP is not built: run make first"
origin=$(loop_disk 32)
store=$(loop_disk 64)
dd if=/dev/urandom of="$origin" bs=1M count=32 oflag=direct status=none
origin_load vol "$origin" "$store" 32

step "256 snapshots with writes between, diffs checked after 1, 16 and 256"
python3 "$TOOL" vol "$store" 16384 "$DUMP" 256 4 20261203 ||
	fail "a diff differs from what was written"

# json_ranges <ids>: the diff's chunk numbers, one per line.
diff_chunks() {
	"$DUMP" --metadata-snap --json --diff "$1" "$store" | python3 -c '
import json, sys
for r in json.load(sys.stdin)["ranges"]:
    for c in range(r["first_chunk"], r["first_chunk"] + r["chunks"]):
        print(c)'
}

step "a writable snapshot's own writes are changes for it"
snap_create vol 7001
snap_create vol 7002
snap_open vol 7001 w7001 writable
# Chunks 100 and 101 written through the snapshot, 300 through the origin.
dd if=/dev/urandom of=/dev/mapper/w7001 bs=4k seek=$((100 * 4 + 1)) count=5 \
	oflag=direct status=none
dd if=/dev/urandom of=/dev/mapper/vol bs=4k seek=$((300 * 4)) count=1 \
	oflag=direct status=none
dmsetup message vol 0 reserve_metadata_snap
[ "$(diff_chunks 7001:7002 | paste -sd,)" = "100,101" ] ||
	fail "7001:7002 gives $(diff_chunks 7001:7002 | paste -sd,), expected 100,101"
[ "$(diff_chunks 7002 | paste -sd,)" = "300" ] ||
	fail "7002 to live gives $(diff_chunks 7002 | paste -sd,), expected 300"
[ "$(diff_chunks 7001 | paste -sd,)" = "100,101,300" ] ||
	fail "7001 to live gives $(diff_chunks 7001 | paste -sd,), expected 100,101,300"

step "refusals print nothing and exit 7"
rc=0
"$DUMP" --metadata-snap --diff 7001:424242 "$store" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ $rc = 7 ] || fail "unknown snapshot: exit $rc, expected 7"
[ ! -s "$WORK/out" ] || fail "unknown snapshot: printed $(cat "$WORK/out")"
grep -q "snapshot 424242 does not exist in this store" "$WORK/err" ||
	fail "unknown snapshot: $(cat "$WORK/err")"
dmsetup message vol 0 release_metadata_snap
dmsetup remove w7001
dmsetup message vol 0 delete 7002
rc=0
"$DUMP" --diff 7002 "$store" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ $rc = 7 ] || fail "deleted snapshot: exit $rc, expected 7 ($(cat "$WORK/err"))"

dmsetup remove vol
store_check "$store"
echo "cbt-diff: every diff was exactly the chunks written"

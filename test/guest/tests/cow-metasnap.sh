#!/bin/bash
# A metadata snapshot (reserve_metadata_snap) with dmsetup and shadow-dump:
# held, its block number is in the status and a second reserve is refused;
# while the origin is written and a snapshot deleted, shadow-dump
# --metadata-snap reads exactly the snapshots and records there were at
# the reserve, and the store checks clean (the held trees share blocks
# with the live ones); the data chunks the held trees reach stay in use
# until the release; it survives a table reload; the release frees them,
# a second release is refused, and the store checks clean again.
#
# Snapshot 1; write chunks 0-9; snapshot 2; write chunks 0-9; snapshot 3;
# write chunks 20-29 and 600-899: 330 copies (10 for 1, 10 for 2, 310
# serving all three), enough for an exception tree of several leaves.
# Reserve.  Then a writer copies chunks from 1000 up for snapshot 3 (W of
# them: only the tree's last leaves change, the others stay shared with
# the held tree) while snapshot 2 is deleted: 330 + W chunks in use while
# held (2's copies are still reachable from the held trees), 320 + W once
# released.
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

DUMP=$SHADOW_TOP/cmd/shadow-dump/shadow-dump
[ -x "$DUMP" ] || fail "$DUMP is not built: run make first"
origin=$(loop_disk 16)
store=$(loop_disk 32)
dd if=/dev/urandom of="$origin" bs=1M count=16 oflag=direct status=none

# write_chunks <first> <count>: new random data into 4 KiB chunks.
write_chunks() {
	dd if=/dev/urandom of=/dev/mapper/vol bs=4k seek="$1" count="$2" \
		oflag=direct status=none || fail "origin write failed"
}

held_field() {
	status_field vol 11
}

# same_view <reference.json> <dump.json> <what>: the snapshots and records
# of a --metadata-snap dump are exactly the reference's.
same_view() {
	python3 - "$1" "$2" "$3" <<-'PY' || fail "$3: the metadata snapshot's view changed"
	import json, sys
	ref, got = (json.load(open(f)) for f in sys.argv[1:3])
	bad = [k for k in ("snapshots", "records") if ref[k] != got[k]]
	if got["metadata_snap"]["last_seq"] != ref["superblock"]["last_seq"]:
	    bad.append("last_seq")
	print("%s: %d snapshots, %d records, as at the reserve%s" % (sys.argv[3],
	      len(got["snapshots"]), len(got["records"]),
	      "" if not bad else "; DIFFERENT: " + ", ".join(bad)))
	sys.exit(1 if bad else 0)
	PY
}

# json_get <file> <python expression on d>
json_get() {
	python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"
}

step "without a metadata snapshot"
origin_load vol "$origin" "$store"
[ "$(held_field)" = - ] || fail "a new store shows held_root $(held_field)"
set +e
"$DUMP" --metadata-snap "$store" >"$WORK/none.out" 2>"$WORK/none.err"
rc=$?
set -e
[ $rc = 6 ] || { cat "$WORK/none.err" >&2; fail "--metadata-snap without one: exit $rc, expected 6"; }
grep -q "no metadata snapshot is held" "$WORK/none.err" ||
	fail "--metadata-snap without one: $(cat "$WORK/none.err")"
expect_refused "no metadata snapshot is held" dmsetup message vol 0 release_metadata_snap
grep -q "No data available" "$WORK/refused.out" ||
	fail "release without one: not ENODATA: $(cat "$WORK/refused.out")"

step "three snapshots, 330 copies"
snap_create vol 1
sum1=$(md5_of /dev/mapper/vol)
write_chunks 0 10
snap_create vol 2
write_chunks 0 10
snap_create vol 3
sum3=$(md5_of /dev/mapper/vol)
write_chunks 20 10
write_chunks 600 300
[ "$(used_chunks vol)" = 330 ] || fail "$(used_chunks vol) chunks in use, expected 330"

step "reserve"
dmsetup message vol 0 reserve_metadata_snap
held=$(held_field)
case $held in
- | *[!0-9]* | "") fail "status shows held_root '$held' after the reserve" ;;
esac
echo "held_root $held: $(dmsetup status vol)"
dmesg | matches "metadata snapshot held at block $held" ||
	fail "no kernel log line for the reserve at block $held"
# The reference: the live trees, with nothing written since the reserve.
"$DUMP" --json --records "$store" >"$WORK/ref.json" || fail "shadow-dump of the idle store failed"
[ "$(json_get "$WORK/ref.json" 'd["superblock"]["held_root"]')" = "$held" ] ||
	fail "shadow-dump's superblock does not show held_root $held"
"$DUMP" --metadata-snap --json --records "$store" >"$WORK/held0.json" ||
	fail "shadow-dump --metadata-snap failed"
same_view "$WORK/ref.json" "$WORK/held0.json" "at once"
[ "$(json_get "$WORK/ref.json" 'len(d["records"])')" = 330 ] || fail "expected 330 records"
"$DUMP" --metadata-snap --records "$store" >"$WORK/held0.txt" || fail "text dump failed"
grep -q "^metadata snapshot (snapshots and records below are as of it):" "$WORK/held0.txt" ||
	fail "the text dump does not say it reads the metadata snapshot"
grep -q "^  block  *$held$" "$WORK/held0.txt" || fail "the text dump lacks block $held"
expect_refused "a metadata snapshot is held already" dmsetup message vol 0 reserve_metadata_snap
grep -q "Device or resource busy" "$WORK/refused.out" ||
	fail "second reserve: not EBUSY: $(cat "$WORK/refused.out")"
[ "$(held_field)" = "$held" ] || fail "a refused reserve moved held_root to $(held_field)"

step "the origin written and snapshot 2 deleted while held"
rm -f "$WORK/stop"
(
	i=0
	while [ ! -e "$WORK/stop" ]; do
		dd if=/dev/urandom of=/dev/mapper/vol bs=4k seek=$((1000 + i % 2000)) \
			count=4 oflag=direct status=none || { echo "writer: write failed" >&2; exit 1; }
		i=$((i + 4))
	done
	echo "writer: $i chunk writes"
) &
writer=$!
sleep 2
for pass in 1 2 3; do
	before=$(used_chunks vol)
	"$DUMP" --metadata-snap --json --records "$store" >"$WORK/held$pass.json" ||
		fail "shadow-dump --metadata-snap during writes (pass $pass) failed"
	kill -0 "$writer" 2>/dev/null || fail "the writer stopped before pass $pass ended"
	echo "pass $pass: $before -> $(used_chunks vol) chunks in use around the dump"
	same_view "$WORK/ref.json" "$WORK/held$pass.json" "during writes, pass $pass"
	if [ $pass = 1 ]; then
		dmsetup message vol 0 delete 2
	fi
done
touch "$WORK/stop"
wait "$writer" || fail "the writer failed"
"$DUMP" --metadata-snap --json --records "$store" >"$WORK/held4.json" || fail "shadow-dump after the writes"
same_view "$WORK/ref.json" "$WORK/held4.json" "after the writes"
[ "$(held_field)" = "$held" ] || fail "held_root moved to $(held_field)"
# The live trees have moved on: 2 is gone, 1 and 3 remain, W new copies.
"$DUMP" --json --records "$store" >"$WORK/live.json" || fail "shadow-dump of the live trees"
[ "$(json_get "$WORK/live.json" '" ".join(str(s["id"]) for s in d["snapshots"])')" = "1 3" ] ||
	fail "live snapshots: $(json_get "$WORK/live.json" '[s["id"] for s in d["snapshots"]]')"
# The copies made since the last commit are in the trees of the running
# transaction and, on disk, in the exception journal: the dump lists
# those as pending.
w=$(json_get "$WORK/live.json" 'len([r for r in d["records"] if r["origin_chunk"] >= 1000 and r["seq"] == 3])')
wj=$(json_get "$WORK/live.json" 'len([r for r in d["journal"]["pending"] if r["origin_chunk"] >= 1000 and r["seq"] == 3])')
[ "$((w + wj))" -gt 0 ] || fail "no copies for the writes"
[ "$(json_get "$WORK/live.json" 'd["journal"]["pending_count"]')" = "$wj" ] ||
	fail "pending journal entries other than the writes' copies"
live_records=$(json_get "$WORK/live.json" 'len(d["records"])')
[ "$live_records" = $((320 + w)) ] || fail "$live_records live records, expected 320 + $w"
[ "$(used_chunks vol)" = $((330 + w + wj)) ] ||
	fail "$(used_chunks vol) chunks in use while held, expected 330 + $w + $wj pending (the held trees keep 2's 10)"
echo "$((w + wj)) copies made while held ($wj pending in the journal); $(used_chunks vol) chunks in use"
# Closing the store (below) commits the journal: every copy is in the
# trees from then on.
w=$((w + wj))
verify_snap vol 1 "$sum1"
verify_snap vol 3 "$sum3"

step "check while held, table removed"
dmsetup remove vol
set +e
"$DUMP" --check "$store" >"$WORK/check-held.txt"
rc=$?
set -e
[ $rc = 0 ] || { cat "$WORK/check-held.txt" >&2; fail "shadow-dump --check while held: exit $rc"; }
grep "^  \(result\|metadata used\|data chunks used\)" "$WORK/check-held.txt"
store_check "$store"
[ "$(json_get "$WORK/check.json" 'd["check"]["data_used"]')" = $((330 + w)) ] ||
	fail "check counts $(json_get "$WORK/check.json" 'd["check"]["data_used"]') data chunks used, expected 330 + $w"

step "survives a table reload"
origin_load vol "$origin" "$store"
[ "$(held_field)" = "$held" ] || fail "after re-creating the table, held_root is $(held_field)"
dmsetup reload vol --table "0 $(sectors "$origin") shadow-origin $origin $store cow 8"
dmsetup resume vol
[ "$(held_field)" = "$held" ] || fail "after a reload, held_root is $(held_field)"
"$DUMP" --metadata-snap --json --records "$store" >"$WORK/held5.json" || fail "shadow-dump after the reload"
same_view "$WORK/ref.json" "$WORK/held5.json" "after the reload"
[ "$(used_chunks vol)" = $((330 + w)) ] || fail "$(used_chunks vol) chunks in use after the reload"

step "release"
dmsetup message vol 0 release_metadata_snap
[ "$(held_field)" = - ] || fail "status shows held_root $(held_field) after the release"
expect_refused "no metadata snapshot is held" dmsetup message vol 0 release_metadata_snap
grep -q "No data available" "$WORK/refused.out" ||
	fail "second release: not ENODATA: $(cat "$WORK/refused.out")"
[ "$(used_chunks vol)" = $((320 + w)) ] ||
	fail "$(used_chunks vol) chunks in use after the release, expected 320 + $w"
verify_snap vol 1 "$sum1"
verify_snap vol 3 "$sum3"
dmsetup remove vol
set +e
"$DUMP" --metadata-snap "$store" >/dev/null 2>"$WORK/none.err"
rc=$?
set -e
[ $rc = 6 ] || fail "--metadata-snap after the release: exit $rc, expected 6"
store_check "$store"
[ "$(json_get "$WORK/check.json" 'd["check"]["data_used"]')" = $((320 + w)) ] ||
	fail "check counts $(json_get "$WORK/check.json" 'd["check"]["data_used"]') data chunks used after the release"
[ "$(json_get "$WORK/check.json" 'd["superblock"]["held_root"]')" = 0 ] || fail "held_root not 0 on disk"
echo "cow-metasnap: the metadata snapshot reads as at the reserve, checks clean, and frees what it held"

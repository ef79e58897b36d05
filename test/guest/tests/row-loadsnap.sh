#!/bin/bash
# Snapshots taken during a concurrent write load (not between bursts), on
# a cow and on a row store: 4 threads write whole and partial chunks
# (O_DIRECT, 16 KiB chunks) while 8 snapshots are taken at random
# moments; each snapshot must read, at every 4 KiB block, a whole write
# of that block no older than the last one acknowledged before its
# suspend and no newer than the last one issued before its resume, and
# the volume must hold the last write of every block (tools/loadsnaps.py
# says how).  Then 4096 snapshots of one row origin, a write before each:
# the first, the last and a sample between read exactly their data.
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

tool=$SHADOW_TOP/test/guest/tools/loadsnaps.py

for type in cow row; do
	step "$type: 8 snapshots while 4 threads write"
	origin=$(loop_disk 8)
	store=$(loop_disk 64)
	origin_load vol "$origin" "$store" 32 "$type"
	python3 "$tool" during vol 32 4 100 8 20261205 ||
		fail "$type: a snapshot taken during the load, or the volume, is wrong"
	[ "$(status_field vol 5)" = 0 ] || fail "$type: a snapshot was invalidated"
	dmsetup remove vol
	store_check "$store"
done

step "row: 4096 snapshots of one origin"
origin=$(loop_disk 4)
store=$(loop_disk 64)
origin_load vol "$origin" "$store" 8 row
python3 "$tool" many vol 4096 4096 || fail "a snapshot of 4096 reads wrong data"
[ "$(status_field vol 4 | cut -d/ -f1)" = 4096 ] ||
	fail "status shows $(status_field vol 4) snapshots, expected 4096"
dmsetup remove vol
store_check "$store"
echo "row-loadsnap: snapshots during load and 4096 snapshots exact"

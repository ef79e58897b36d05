#!/bin/bash
# Snapshots taken between bursts of concurrent random writes (4 threads,
# 512 B to 64 KiB, 512-byte aligned: smaller than, equal to and straddling
# 4 KiB chunks) read exactly their point in time, and the origin reads
# exactly what was written; with 1, 8 and 256 snapshots sharing one store.
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

# run_case <snapshots> <ops per thread per burst> <max write bytes>
#          <origin MiB>
run_case() {
	local n=$1 ops=$2 maxlen=$3 mib=$4 origin store
	step "$n snapshot(s) of $mib MiB: bursts of 4 x $ops writes up to $maxlen bytes"
	origin=$(loop_disk "$mib")
	store=$(loop_disk 96)
	dd if=/dev/urandom of="$origin" bs=1M count="$mib" oflag=direct status=none
	origin_load vol "$origin" "$store"
	$STOMPER init /dev/mapper/vol "$WORK/model"
	rm -f "$WORK/sums"
	$STOMPER series /dev/mapper/vol "$WORK/model" "$n" "$n" dm:vol \
		"$WORK/sums" --threads 4 --ops "$ops" --max-len "$maxlen"
	# And a last burst after the newest snapshot.
	$STOMPER burst /dev/mapper/vol "$WORK/model" 999 --ops "$ops" \
		--max-len "$maxlen"
	$STOMPER check /dev/mapper/vol "$WORK/model" ||
		fail "origin does not hold what was written"
	[ "$(status_field vol 4)" = "$n/8190" ] ||
		fail "status shows $(status_field vol 4) snapshots, expected $n"
	[ "$(status_field vol 5)" = 0 ] || fail "snapshots were invalidated"
	dmsetup status vol
	verify_sums vol "$WORK/sums"
	dmsetup remove vol
	losetup -d "$origin" "$store"
}

run_case 1 50 65536 16
run_case 8 25 65536 16
run_case 256 3 16384 2
echo "cow-data: all cases exact"

#!/bin/bash
# Snapshot reads run while the origin is written, to the same chunks: a
# snapshot read of an origin chunk must never see the new data of a write
# that races it, nor half-copied data.  Readers loop over the snapshot
# device with O_DIRECT while 4 writer threads rewrite the whole origin and
# a second snapshot is taken in the middle.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

origin=$(loop_disk 8)
store=$(loop_disk 64)
dd if=/dev/urandom of="$origin" bs=1M count=8 oflag=direct status=none
origin_load vol "$origin" "$store"
$STOMPER init /dev/mapper/vol "$WORK/model"
snap_create vol 1
sum1=$(md5_of /dev/mapper/vol)
snap_open vol 1 s1

# reader <n>: read the snapshot whole, again and again, until told to stop.
reader() {
	local pass=0 got
	while [ ! -e "$WORK/stop" ]; do
		pass=$((pass + 1))
		got=$(dd if=/dev/mapper/s1 bs=64k iflag=direct status=none | md5sum | cut -d' ' -f1)
		echo "$pass $got" >>"$WORK/reader-$1"
	done
}

rm -f "$WORK/stop" "$WORK"/reader-*
reader 1 &
r1=$!
reader 2 &
r2=$!

step "writers rewrite the origin while two readers read snapshot 1"
$STOMPER burst /dev/mapper/vol "$WORK/model" 11 --threads 4 --ops 60 --max-len 32768
snap_create vol 2
sum2=$(md5_of /dev/mapper/vol)
$STOMPER burst /dev/mapper/vol "$WORK/model" 12 --threads 4 --ops 60 --max-len 32768
touch "$WORK/stop"
wait $r1 $r2

passes=$(cat "$WORK"/reader-* | wc -l)
[ "$passes" -ge 2 ] || fail "readers made only $passes passes"
bad=$(awk -v want="$sum1" '$2 != want' "$WORK"/reader-* | wc -l)
[ "$bad" = 0 ] || fail "$bad of $passes snapshot reads saw changed data"
echo "$passes whole-device reads of snapshot 1 during the writes, all exact"
dmsetup remove s1
$STOMPER check /dev/mapper/vol "$WORK/model" || fail "origin lost writes"
verify_snap vol 1 "$sum1"
verify_snap vol 2 "$sum2"
dmsetup remove vol
echo "cow-concurrent: snapshot reads exact under concurrent origin writes"

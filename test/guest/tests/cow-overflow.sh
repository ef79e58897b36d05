#!/bin/bash
# A deliberately tiny store overflows: the oldest snapshots are invalidated
# to make room, a dm event is raised, the status and kernel log say so,
# newer snapshots stay exact, and no origin write fails or is lost.
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

origin=$(loop_disk 16)
# 1.25 MiB: 134 metadata blocks (the last 64 the exception journal's ring),
# room for 186 4-KiB chunks.
store=$(loop_disk 1280K)
dd if=/dev/urandom of="$origin" bs=1M count=16 oflag=direct status=none
cp "$origin" "$WORK/ref"	# what the origin must hold, kept in step below

# write_chunks <first> <count>: the same new data to the origin and ref.
write_chunks() {
	dd if=/dev/urandom of="$WORK/data" bs=4k count="$2" status=none
	dd if="$WORK/data" of=/dev/mapper/vol bs=4k seek="$1" count="$2" \
		oflag=direct status=none || fail "origin write failed"
	dd if="$WORK/data" of="$WORK/ref" bs=4k seek="$1" count="$2" \
		conv=notrunc status=none
}

events() {
	dmsetup info vol | sed -n 's/^Event number: *//p'
}

origin_load vol "$origin" "$store"
total=$(status_field vol 3 | cut -d/ -f2)
echo "store holds $total chunks"
[ "$total" -ge 150 ] && [ "$total" -lt 200 ] || fail "unexpected store size $total"

step "snapshot 1, 100 chunks copied for it"
snap_create vol 1
sum1=$(md5_of /dev/mapper/vol)
write_chunks 0 100
[ "$(used_chunks vol)" = 100 ] || fail "expected 100 chunks in use"

step "snapshot 2, 100 more chunks: the store overflows, 1 is dropped"
snap_create vol 2
sum2=$(md5_of /dev/mapper/vol)
ev=$(events)
before=$(dmesg | wc -l)
write_chunks 200 100
dmesg | tail -n +"$((before + 1))" | matches "store full: invalidating snapshot 1 " ||
	fail "no kernel log line about invalidating snapshot 1"
[ "$(events)" -gt "$ev" ] || fail "no dm event raised on overflow"
[ "$(status_field vol 5)" = 1 ] || fail "status shows $(status_field vol 5) invalid snapshots, expected 1"
dmsetup message vol 0 list | matches '^1 .* invalid ' || fail "snapshot 1 not listed invalid"
expect_refused "snapshot is invalid" snap_open vol 1 s1
verify_snap vol 2 "$sum2"
cmp /dev/mapper/vol "$WORK/ref" || fail "origin lost writes"
[ "$(used_chunks vol)" = 100 ] || fail "snapshot 1's chunks were not freed"

step "snapshot 3, 250 chunks: every snapshot dropped, origin writes go on"
snap_create vol 3
write_chunks 1000 250
[ "$(status_field vol 5)" = 3 ] || fail "expected all 3 snapshots invalid"
cmp /dev/mapper/vol "$WORK/ref" || fail "origin lost writes"
[ "$(status_field vol 6)" = rw ] || fail "store mode $(status_field vol 6)"

step "invalid snapshots can be deleted; the store is empty again"
for id in 1 2 3; do
	dmsetup message vol 0 delete $id
done
[ "$(used_chunks vol)" = 0 ] || fail "$(used_chunks vol) chunks still in use"
[ "$(status_field vol 4)" = "0/8190" ] || fail "snapshots left: $(status_field vol 4)"

step "the store works again after overflow"
snap_create vol 4
sum4=$(md5_of /dev/mapper/vol)
write_chunks 500 50
verify_snap vol 4 "$sum4"

step "reads of a snapshot racing its invalidation: exact data or an error"
# Snapshot 5 gets 100 copied chunks and is opened; a reader loops over them
# while snapshot 6's copies overflow the store, invalidate 5 and reuse the
# chunks it held.  Every read must return 5's data or fail, never 6's.
dmsetup message vol 0 delete 4
snap_create vol 5
dd if=/dev/mapper/vol of="$WORK/ref5" bs=4k count=100 iflag=direct status=none
write_chunks 0 100
snap_open vol 5 s5
snap_create vol 6
python3 - /dev/mapper/s5 "$WORK/ref5" "$WORK/stop" "$WORK/ready" >"$WORK/reader.out" <<'PY' &
import mmap, os, sys
dev, ref_path, stop, ready = sys.argv[1:]
ref = open(ref_path, "rb").read()
fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
ok = errors = bad = 0
while True:
    last = os.path.exists(stop)	# one whole pass after the overflow
    for b in range(len(ref) // 4096):
        try:
            os.preadv(fd, [buf], b * 4096)
        except OSError:
            errors += 1
            continue
        if buf[:] != ref[b * 4096:(b + 1) * 4096]:
            bad += 1
            print("block", b, "holds another snapshot's data")
        else:
            ok += 1
    if not os.path.exists(ready):
        open(ready, "w").close()	# one whole pass before the overflow
    if last:
        break
print("reads ok", ok, "failed", errors, "wrong", bad)
sys.exit(1 if bad else 0)
PY
reader=$!
for _ in $(seq 300); do
	[ -e "$WORK/ready" ] && break
	sleep 0.1
done
[ -e "$WORK/ready" ] || fail "the reader did not start"
write_chunks 200 160
touch "$WORK/stop"
wait "$reader" || { cat "$WORK/reader.out"; fail "a racing read returned wrong data"; }
cat "$WORK/reader.out"
grep -q "reads ok [1-9]" "$WORK/reader.out" || fail "the reader never read snapshot 5"
grep -q "failed [1-9]" "$WORK/reader.out" || fail "the reader never saw snapshot 5 invalid"
dmsetup message vol 0 list | matches '^5 .* invalid ' || fail "snapshot 5 not invalidated"
dmsetup remove s5
for id in 5 6; do
	dmsetup message vol 0 delete $id
done
dmsetup remove vol
echo "cow-overflow: oldest dropped, newer exact, origin complete"

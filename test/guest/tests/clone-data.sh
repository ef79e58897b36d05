#!/bin/bash
# The clone store, byte for byte.  A clone taken while 4 threads write to
# the origin equals the origin at its point in time: read through its
# device while it hydrates (throttled, so that the writes race it), and
# on its target device alone once complete.  Two clones of one origin
# hydrate at once, the second taken while the first is half way.  Then
# detach: the target needs no dm-shadow table, and the origin's table
# drops it.  Refused: a clone with no target in the table, a target
# smaller than the origin, a writable clone device, detach before the
# clone is complete, a table that loses a hydrating clone's target.
# Last, a clone deleted while it hydrates, again and again: the origin and
# the store stay exact, and a clone taken after them is.
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

mib=32
origin=$(loop_disk "$mib")
store=$(loop_disk 4)
t1=$(loop_disk "$mib")
t2=$(loop_disk 40)
# The targets' writes slowed: the clones hydrate past the checks that
# need them hydrating, on a debugging kernel too (slow_target).
d1=$(slow_target d1 "$t1")
d2=$(slow_target d2 "$t2")
small=$(loop_disk 16)
dd if=/dev/urandom of="$origin" bs=1M count="$mib" oflag=direct status=none
size=$(sectors "$origin")
# Clones deleted while they hydrate (each at a random point of it).
deletes=16

# clone_table [<id> <dev>]...: the origin's table with those clone_targets.
clone_table() {
	local feats=""
	while [ $# -ge 2 ]; do
		feats="$feats clone_target $1 $2"
		shift 2
	done
	set -- $feats
	echo "0 $size shadow-origin $origin $store clone 128 $# $feats"
}

# reload_origin <table>: load and resume (a quick swap, nothing frozen).
reload_origin() {
	dmsetup load vol --table "$1"
	dmsetup resume vol
}

# clone_status <id>: "<state> <copied>/<total>" of clone <id>.
clone_status() {
	dmsetup status vol | awk -v id="$1" '{
		n = $20; for (i = 0; i < n; i++)
			if ($(21 + 3 * i) == id) print $(22 + 3 * i), $(23 + 3 * i) }'
}

wait_complete() {
	local i
	for i in $(seq 600); do
		[ "$(clone_status "$1" | cut -d' ' -f1)" = complete ] && return 0
		sleep 0.2
	done
	fail "clone $1 not complete: $(clone_status "$1")"
}

step "a clone store on $store, clone 1 onto $d1"
dmsetup create vol --table "$(clone_table 1 "$d1")"
[ "$(status_field vol 1)" = clone ] || fail "store type $(status_field vol 1), expected clone"
dmsetup table vol | matches "clone_target 1 " || fail "the table line lost its clone_target"
$STOMPER init /dev/mapper/vol "$WORK/model"
# 1 MiB/s or slower: the 32 MiB take a minute, while the writes below run.
dmsetup message vol 0 hydrate_rate 1
snap_create vol 1
cp "$WORK/model" "$WORK/at1"
[ "$(clone_status 1 | cut -d' ' -f1)" = hydrating ] || fail "clone 1: $(clone_status 1)"

step "refused while clone 1 hydrates"
dmsetup suspend vol
expect_refused "names no clone_target for 3" dmsetup message vol 0 create 3
dmsetup resume vol
expect_refused "a clone is read-only" snap_open vol 1 w1 writable
expect_refused "not complete" dmsetup message vol 0 detach 1
expect_refused "no such clone" dmsetup message vol 0 detach 9
expect_refused "hydrating clone's clone_target is missing" \
	dmsetup load vol --table "$(clone_table)"
expect_refused "smaller than the origin" \
	dmsetup load vol --table "$(clone_table 1 "$d1" 3 "$small")"
expect_refused "are features of clone stores" dmsetup create other \
	--table "0 $(sectors "$small") shadow-origin $small $t2 cow 8 3 clone_target 1 $t1"
# An origin has one store: no cow or row snapshots beside the clones.
spare=$(loop_disk 4)
for type in cow row; do
	expect_refused "already has a shadow-origin with another store" \
		dmsetup create other --table "0 $size shadow-origin $origin $spare $type 8"
done

step "writes race hydration; clone 2 onto $d2 half way"
$STOMPER burst /dev/mapper/vol "$WORK/model" 11 --threads 4 --ops 200 \
	--max-len 65536
reload_origin "$(clone_table 1 "$d1" 2 "$d2")"
snap_create vol 2
cp "$WORK/model" "$WORK/at2"
# Few writes: each copies its chunk to clone 2 first, which would
# otherwise be complete before it is read.
$STOMPER burst /dev/mapper/vol "$WORK/model" 12 --threads 4 --ops 20 \
	--max-len 65536
snap_open vol 1 c1
snap_open vol 2 c2
[ "$(clone_status 2 | cut -d' ' -f1)" = hydrating ] ||
	fail "clone 2 is $(clone_status 2) already: its reads while hydrating go untested"
cmp /dev/mapper/c1 "$WORK/at1" || fail "clone 1 does not read its point in time while hydrating"
cmp /dev/mapper/c2 "$WORK/at2" || fail "clone 2 does not read its point in time while hydrating"
echo "hydrating: $(clone_status 1), $(clone_status 2)"

step "hydration at full speed, more writes"
dmsetup message vol 0 hydrate_rate 0
$STOMPER burst /dev/mapper/vol "$WORK/model" 13 --threads 4 --ops 100 \
	--max-len 65536
wait_complete 1
wait_complete 2
[ "$(clone_status 1)" = "complete 512/512" ] || fail "clone 1: $(clone_status 1)"
cmp /dev/mapper/c1 "$WORK/at1" || fail "complete clone 1 does not read its point in time"
cmp /dev/mapper/c2 "$WORK/at2" || fail "complete clone 2 does not read its point in time"
cmp /dev/mapper/vol "$WORK/model" || fail "the origin lost writes"
cmp -n $((mib << 20)) "$t1" "$WORK/at1" || fail "target 1 alone does not hold clone 1"
cmp -n $((mib << 20)) "$t2" "$WORK/at2" || fail "target 2 alone does not hold clone 2"

step "the origin zeroed under a complete clone: the clone reads its target"
dmsetup remove c2
dmsetup suspend vol
dd if=/dev/zero of="$origin" bs=1M count="$mib" oflag=direct status=none
dmsetup resume vol
cmp /dev/mapper/c1 "$WORK/at1" || fail "clone 1 read the origin after it was complete"

step "detach"
expect_refused "still uses it" dmsetup message vol 0 detach 1
dmsetup remove c1
dmsetup message vol 0 detach 1
dmsetup message vol 0 detach 2
[ "$(status_field vol 4 | cut -d/ -f1)" = 0 ] || fail "clones left: $(status_field vol 4)"
reload_origin "$(clone_table)"
dmsetup table vol | matches "clone 128 0\$" || fail "table: $(dmsetup table vol)"
dmsetup remove vol d1 d2
store_check "$store"
cmp -n $((mib << 20)) "$t1" "$WORK/at1" || fail "detached target 1 changed"

# A delete takes the pool's lock, which a hydration batch drops while it
# copies and flushes: the clone must be forgotten at once all the same,
# and the batch in flight must neither touch its slot nor record it.
step "clones deleted while they hydrate, $deletes times"
dd if=/dev/urandom of="$origin" bs=1M count="$mib" oflag=direct status=none
# Its writes delayed, a batch copies long enough for most deletes to come
# while it does: on a loop device the clone was complete before.
dmsetup create slow --table "0 $(sectors "$t2") delay $t2 0 100"
dmsetup create vol --table "$(clone_table 3 /dev/mapper/slow)"
$STOMPER init /dev/mapper/vol "$WORK/model"
before=$(dmesg | wc -l)
# oopsed: a batch that used the deleted slot died, and the next suspend,
# which waits for it, would hang until the harness's timeout.
oopsed() {
	dmesg | tail -n +"$((before + 1))" | matches -e "BUG:" -e "Oops"
}
for i in $(seq "$deletes"); do
	! oopsed || fail "the kernel oopsed after clone 3 was deleted while hydrating (iteration $((i - 1)))"
	snap_create vol 3
	# Some writes race the batches: each copies its chunk to clone 3.
	[ $((i % 4)) -eq 0 ] && $STOMPER burst /dev/mapper/vol \
		"$WORK/model" $((100 + i)) --threads 2 --ops 4 --max-len 65536
	sleep "$(printf 0.%02d $((RANDOM % 50)))"
	dmsetup message vol 0 delete 3
	[ "$(status_field vol 4 | cut -d/ -f1)" = 0 ] ||
		fail "clone 3 was not forgotten at once: $(status_field vol 4)"
done
sleep 1
! oopsed || fail "the kernel oopsed after clone 3 was deleted while hydrating"
cmp /dev/mapper/vol "$WORK/model" || fail "the origin lost writes"
snap_create vol 3
cp "$WORK/model" "$WORK/at3"
wait_complete 3
[ "$(clone_status 3)" = "complete 512/512" ] || fail "clone 3: $(clone_status 3)"
cmp -n $((mib << 20)) "$t2" "$WORK/at3" || fail "target 2 alone does not hold clone 3"
dmsetup message vol 0 detach 3
dmsetup remove vol slow
store_check "$store"
losetup -d "$origin" "$store" "$t1" "$t2" "$small"
echo "clone-data: clones exact"

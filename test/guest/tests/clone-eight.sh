#!/bin/bash
# The clone store at its limit, byte for byte: 8 clones of one origin,
# taken one after the other between bursts of concurrent writes, hydrate
# at once (one copy writes a chunk to every clone that lacks it); a
# ninth clone_target is refused, and so is a target in use (a
# mounted file system).  While they hydrate, a discard of
# the origin's last quarter (chunks hydration has not reached) must first
# copy its old data to every clone that lacks it: once complete, each
# target alone holds exactly the origin at its clone's point in time.
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

mib=32
chunks=$((mib * 16))	# of 64 KiB
origin=$(loop_disk "$mib")
store=$(loop_disk 4)
targets=()
for i in 1 2 3 4 5 6 7 8 9; do
	targets+=("$(loop_disk "$mib")")
done
# The clones write through slow_target: they hydrate past the eighth
# clone's check, on a debugging kernel too.
slow=()
for i in 1 2 3 4 5 6 7 8; do
	slow+=("$(slow_target "slow$i" "${targets[i - 1]}")")
done
dd if=/dev/urandom of="$origin" bs=1M count="$mib" oflag=direct status=none
size=$(sectors "$origin")

# clone_table <n>: the origin's table with the targets of clones 1..n.
clone_table() {
	local feats="" i
	for i in $(seq 1 "$1"); do
		# The ninth (refused) has no slow_target: its plain disk.
		feats="$feats clone_target $i ${slow[i - 1]:-${targets[i - 1]}}"
	done
	set -- $feats
	echo "0 $size shadow-origin $origin $store clone 128 $# $feats"
}

# clone_status <id>: "<state> <copied>/<total>" of clone <id>.
clone_status() {
	dmsetup status vol | awk -v id="$1" '{
		n = $20; for (i = 0; i < n; i++)
			if ($(21 + 3 * i) == id) print $(22 + 3 * i), $(23 + 3 * i) }'
}

step "8 clone_targets in the table; a ninth, and a target in use, refused"
dmsetup create vol --table "$(clone_table 8)"
expect_refused "too many clone_target features (at most 8)" \
	dmsetup load vol --table "$(clone_table 9)"
mkfs.ext4 -q "${targets[8]}"
mkdir -p "$WORK/mnt"
mount "${targets[8]}" "$WORK/mnt"
expect_refused "clone_target: cannot open the device (in use?)" \
	dmsetup load vol --table "$(clone_table 8 | sed "s|${slow[7]}|${targets[8]}|")"
umount "$WORK/mnt"
$STOMPER init /dev/mapper/vol "$WORK/model"
# 1 MiB/s or slower: the first clone's 32 MiB take a minute; the others
# start later and go with it.
dmsetup message vol 0 hydrate_rate 1

step "8 clones, each after a burst of writes"
for i in 1 2 3 4 5 6 7 8; do
	$STOMPER burst /dev/mapper/vol "$WORK/model" "$((100 + i))" --threads 4 \
		--ops 10 --max-len 65536
	snap_create vol "$i"
	cp "$WORK/model" "$WORK/at$i"
done
[ "$(status_field vol 4 | cut -d/ -f1)" = 8 ] || fail "snapshots: $(status_field vol 4)"
for i in 1 2 3 4 5 6 7 8; do
	echo "clone $i: $(clone_status "$i")"
	[ "$(clone_status "$i" | cut -d' ' -f1)" = hydrating ] ||
		fail "clone $i is not hydrating: the discard below would test nothing"
done

step "discard the origin's last quarter while the clones hydrate"
# Hydration walks up from chunk 0; the last clone's walk is far from the
# last 8 MiB (bar the few chunks the bursts copied first).
copied=$(clone_status 8 | awk '{ split($2, a, "/"); print a[1] }')
[ "$copied" -lt $((chunks * 3 / 4)) ] ||
	fail "clone 8 has $copied chunks already: the discard would find its quarter copied"
blkdiscard -o $((24 << 20)) -l $((8 << 20)) /dev/mapper/vol
for i in 1 2 3 4 5 6 7 8; do
	echo "clone $i after the discard: $(clone_status "$i")"
done

step "full speed: every clone completes, each target alone exact"
dmsetup message vol 0 hydrate_rate 0
for i in 1 2 3 4 5 6 7 8; do
	for _ in $(seq 600); do
		[ "$(clone_status "$i")" = "complete $chunks/$chunks" ] && break
		sleep 0.2
	done
	[ "$(clone_status "$i")" = "complete $chunks/$chunks" ] ||
		fail "clone $i: $(clone_status "$i")"
	cmp -n $((mib << 20)) "${targets[i - 1]}" "$WORK/at$i" ||
		fail "target $i alone does not hold clone $i (its discarded quarter?)"
done
# The origin holds the model except where it was discarded, and there
# the discard reached it (a loop disk's discard punches a hole: zeros).
cmp -n $((24 << 20)) /dev/mapper/vol "$WORK/model" || fail "the origin lost writes"
dd if=/dev/mapper/vol bs=1M skip=24 count=8 iflag=direct status=none |
	cmp -n $((8 << 20)) - /dev/zero || fail "the discard did not reach the origin"
for i in 1 2 3 4 5 6 7 8; do
	dmsetup message vol 0 detach "$i"
done
dmsetup remove vol
for i in 1 2 3 4 5 6 7 8; do
	dmsetup remove "slow$i"
done
store_check "$store"
losetup -d "$origin" "$store" "${targets[@]}"
echo "clone-eight: 8 clones exact"

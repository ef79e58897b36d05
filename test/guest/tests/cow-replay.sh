#!/bin/bash
# Crash safety by write-order replay: every write to the origin and to the
# store goes through ONE dm-log-writes device (both are dm-linear slices of
# it), so the log holds them in the order they reached stable storage, with
# their FLUSH/FUA flags.  A workload creates snapshots, writes 4 KiB blocks
# that carry their block number and a generation, flushes, deletes a
# snapshot, and marks the log after each acknowledged flush, create and
# delete.  The log is then replayed onto a scratch copy, point after point:
# to FLUSH/FUA entries (all of them up to REPLAY_FLUSH_POINTS, a seeded
# sample beyond), to the entries of the batches of the table load (the
# format), of each create and of the delete (up to the second flush after
# it: every flush among them, and a seeded sample of the rest up to
# REPLAY_EVENT_POINTS in all), and to REPLAY_RANDOM_POINTS seeded points
# inside other batches; and,
# since a disk's cache may keep any subset of the writes since the last
# flush, not only a prefix, up to REPLAY_SUBSET_POINTS states of those event
# batches (2 to 8 writes) with one write left out.  At each point:
# shadow-dump --check finds no damage and no leaked chunk in the store as
# the power cut left it; the table loads; every snapshot whose create was
# acknowledged exists, with a sequence of its own, and reads its point in
# time block for block; an acknowledged delete stays deleted;
# every origin write acknowledged and flushed is there (its generation or a
# later one); the store keeps working (a new snapshot, copies, a flush),
# every snapshot still reads right, and it checks clean after.
# Snapshots are taken right after a flush, as a freezing file system does,
# so their point in time is durable data.
# Loop devices on tmpfs, not brd: brd has no write cache, so the block layer
# drops every flush before it reaches dm-log-writes.
# Knobs, the defaults below: REPLAY_SEED (the workload and the points),
# REPLAY_FLUSH_POINTS, REPLAY_RANDOM_POINTS, REPLAY_SUBSET_POINTS,
# REPLAY_EVENT_POINTS.  run-one
# passes no environment into the guest: to try another seed, change its
# default here.
# guest-timeout: 1500
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

TOOLS=$SHADOW_TOP/test/guest/tools
LOGTOOL="python3 $TOOLS/logreplay.py"
COWREPLAY="python3 $TOOLS/cowreplay.py"
seed=${REPLAY_SEED:-20261203}
flush_points=${REPLAY_FLUSH_POINTS:-25}
random_points=${REPLAY_RANDOM_POINTS:-15}
subset_points=${REPLAY_SUBSET_POINTS:-20}
event_points=${REPLAY_EVENT_POINTS:-45}
# cowreplay.py's geometry: a 4 MiB origin and an 8 MiB store.
total=24576

modprobe dm-log-writes
[ -x "$SHADOW_TOP/cmd/shadow-dump/shadow-dump" ] || fail "cmd/shadow-dump/shadow-dump is not built: run make first"
disk=$(loop_disk 12)
log=$(loop_disk 96)
base=$(loop_disk 12)
scratch=$(loop_disk 12)
full=$(loop_disk 12)

step "workload on one logged device (seed $seed)"
dmsetup create rlog --table "0 $total log-writes $disk $log"
dmsetup create r-origin --table "0 8192 linear /dev/mapper/rlog 0"
dmsetup create r-store --table "0 16384 linear /dev/mapper/rlog 8192"
$COWREPLAY work "$WORK/state.json" "$seed"
dmsetup remove r-origin
dmsetup remove r-store
echo "log-writes status: $(dmsetup status rlog)"
dmsetup remove rlog
if dmesg | grep -q "Ran out of space on the logdev"; then
	fail "the log device filled up"
fi

step "the log replayed whole equals the disk"
$LOGTOOL summary "$log"
$LOGTOOL list "$log" --marks | tr '\n' ' ' | fold -w 150
echo
$LOGTOOL replay "$log" "$full"
cmp -n $((total * 512)) "$disk" "$full" || fail "the whole log replayed does not give the logged disk"

step "replay to flush/FUA points and points inside batches (REPLAY_SEED=$seed)"
$COWREPLAY check "$log" "$base" "$scratch" "$WORK/state.json" "$seed" \
	"$flush_points" "$random_points" "$subset_points" "$event_points" ||
	fail "crash states of the store are not safe (see FAIL point lines above)"
echo "cow-replay: every replay point is consistent"

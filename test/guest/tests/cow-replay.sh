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
# Loop devices on tmpfs, not brd (lib/replay.sh says why).
# Knobs, the defaults below: REPLAY_SEED (the workload and the points),
# REPLAY_FLUSH_POINTS, REPLAY_RANDOM_POINTS, REPLAY_SUBSET_POINTS,
# REPLAY_EVENT_POINTS.  Checks only this kernel's share of the points
# (GUEST_SHARE, test/guest/README): run-all spreads one sample's worth
# of points over its kernels.
# run-one
# passes no environment into the guest: to try another seed, change its
# default here.
# guest-timeout: 1500
. "$SHADOW_TOP/test/guest/lib/shadow.sh"
. "$SHADOW_TOP/test/guest/lib/replay.sh"

tool=$SHADOW_TOP/test/guest/tools/cowreplay.py
seed=${REPLAY_SEED:-20261203}
flush_points=${REPLAY_FLUSH_POINTS:-25}
random_points=${REPLAY_RANDOM_POINTS:-15}
subset_points=${REPLAY_SUBSET_POINTS:-20}
event_points=${REPLAY_EVENT_POINTS:-45}

replay_workload "$tool" "$seed" "workload"

step "replay to flush/FUA points and points inside batches (REPLAY_SEED=$seed)"
python3 "$tool" check "$log" "$base" "$scratch" "$WORK/state.json" "$seed" \
	"$flush_points" "$random_points" "$subset_points" "$event_points" "$GUEST_SHARE" ||
	fail "crash states of the store are not safe (see FAIL point lines above)"
echo "cow-replay: every replay point is consistent"

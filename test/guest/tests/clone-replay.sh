#!/bin/bash
# Crash safety of the clone store by write-order replay (cow-replay's
# method, tools/clonereplay.py on cowreplay.py's pieces): the origin, the
# store (1 MiB: a clone store holds metadata only) and two clone targets
# are dm-linear slices of ONE dm-log-writes device, so the log holds their
# writes in the order they reached stable storage.  The workload fills the
# origin, loads the store with clone 1's target and hydrate_rate 1 (4 s
# for the 4 MiB origin, so hydration spans the writes), creates clone 1,
# writes 4 KiB blocks with an fsync after every 6 (first writes to chunks
# hydration has not reached, re-writes, writes anywhere), creates clone 2
# while clone 1 hydrates (the table reloaded with its target first),
# writes on until both are complete, then writes with none hydrating; the
# log is marked after every acknowledged fsync and create, and once the
# status shows a clone complete.  The log is replayed onto a scratch copy
# to FLUSH/FUA entries (a seeded sample of REPLAY_FLUSH_POINTS), to
# REPLAY_RANDOM_POINTS points inside batches, to the entries of the
# batches of the table load, the creates and the completions (up to
# REPLAY_EVENT_POINTS, flushes first), to the end of the log, and, since
# a disk's cache may keep any subset of the writes since the last flush,
# to up to REPLAY_SUBSET_POINTS states of a batch of 2 to 8 writes with
# one left out (the events' batches, and batches that write two slices).
# At each point, as the power cut left it: shadow-dump --check finds no
# damage and no leak; every clone whose create was acknowledged exists,
# none that was never created, none failed, one acknowledged complete is
# complete; every chunk the store records as copied holds the clone's
# point in time on its target (a bit is never durable before its copy),
# and every other chunk of a hydrating clone holds it on the origin (no
# origin write reached the disk before its chunk's old data was on the
# target and recorded).  Then the table loads (hydrate_rate 1) and its
# status and clone list agree with the store; the clones' devices read
# their point in time while they hydrate; every acknowledged, flushed
# origin write is on the origin; flushed writes to chunks not yet copied
# go on; with hydrate_rate 0 every clone completes, its target alone and
# its device read its point in time, the origin holds the new writes and
# nothing else changed; the store checks clean after the removal.
# Limits: one disk for all, so a flush of the store also flushes the
# targets: that a target is flushed before the commit that sets its bits
# when it is a disk of its own (clone_flush_copies(), clone_copy_batch())
# is argued, not replayed.  The log's order depends on timing (hydration
# is paced by the clock): a seed picks the writes and the points of the
# log it gets, not one log.
# Knobs, the defaults below: REPLAY_SEED, REPLAY_FLUSH_POINTS,
# REPLAY_RANDOM_POINTS, REPLAY_SUBSET_POINTS, REPLAY_EVENT_POINTS (run-one
# passes no environment: change the defaults here).  Checks only this
# kernel's share of the points (GUEST_SHARE, test/guest/README).
# guest-timeout: 1200
. "$SHADOW_TOP/test/guest/lib/shadow.sh"
. "$SHADOW_TOP/test/guest/lib/replay.sh"

tool=$SHADOW_TOP/test/guest/tools/clonereplay.py
seed=${REPLAY_SEED:-20261207}
flush_points=${REPLAY_FLUSH_POINTS:-18}
random_points=${REPLAY_RANDOM_POINTS:-8}
subset_points=${REPLAY_SUBSET_POINTS:-14}
event_points=${REPLAY_EVENT_POINTS:-26}

# clonereplay.py's geometry: origin, store, two targets.
geometry=$(python3 "$tool" geometry)
eval "$geometry"
echo "geometry: ${geometry//$'\n'/ }"

replay_workload "$tool" "$seed" "clone workload"

step "replay to flush/FUA points, points inside batches and batch subsets (REPLAY_SEED=$seed)"
python3 "$tool" check "$log" "$base" "$scratch" "$WORK/state.json" "$seed" \
	"$flush_points" "$random_points" "$subset_points" "$event_points" "$GUEST_SHARE" ||
	fail "crash states of the clone store are not safe (see FAIL point lines above)"
echo "clone-replay: every replay point is consistent"

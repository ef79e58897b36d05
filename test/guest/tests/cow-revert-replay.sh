#!/bin/bash
# Crash safety of a revert by write-order replay (cow-replay's method and
# tools): origin and store are dm-linear slices of ONE dm-log-writes
# device, so the log holds their writes in the order they reached stable
# storage.  Snapshots 1, 2, 3 with origin writes between them, then a
# revert to 2 while a writer writes (each write fsynced, the log marked
# once it is acknowledged) to chunks merged and not merged yet, until the
# revert has finished.  The log is replayed to FLUSH/FUA points from just
# before the revert on (REPLAY_FLUSH_POINTS, a seeded sample beyond) and
# to REPLAY_RANDOM_POINTS seeded points between them.  At each point:
# shadow-dump --check finds no damage and no leak; the table loads;
# snapshots 1, 2, 3 are valid and read their point in time; the revert
# resumes and finishes; the origin then reads snapshot 2 except the
# blocks written after the revert began, which hold the acknowledged
# write (or a later one); the snapshots still read right, and the store
# checks clean after.
# Limits: origin and store share the log, so a store flush also flushes
# the origin: that the origin is flushed before a batch's commit when it
# is a disk of its own is argued (dm-shadow-revert.c), not replayed here.
# Only prefixes of the log are replayed, not subsets of a batch.  Checks
# only this kernel's share of the points (GUEST_SHARE, test/guest/README).
# Knobs (change the defaults here: run-one passes no environment):
# REPLAY_SEED, REPLAY_FLUSH_POINTS, REPLAY_RANDOM_POINTS.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"
. "$SHADOW_TOP/test/guest/lib/replay.sh"

tool=$SHADOW_TOP/test/guest/tools/revertreplay.py
seed=${REPLAY_SEED:-20261204}

replay_workload "$tool" "$seed" "snapshots, then a revert under writes"

step "replay to points inside the revert (REPLAY_SEED=$seed)"
python3 "$tool" check "$log" "$base" "$scratch" "$WORK/state.json" "$seed" \
	"${REPLAY_FLUSH_POINTS:-16}" "${REPLAY_RANDOM_POINTS:-8}" "$GUEST_SHARE" ||
	fail "crash states of the revert are not safe (see FAIL point lines above)"
echo "cow-revert-replay: every replay point is consistent"

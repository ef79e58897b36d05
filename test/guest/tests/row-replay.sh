#!/bin/bash
# Crash safety of the row store by write-order replay: tests/cow-replay.sh's
# workload and checks (see there) on a store formatted row.  There the
# live volume's writes since the first snapshot live in the store, so
# "every origin write acknowledged and flushed is there" checks that a
# flush makes the versions it covers durable (journal or commit), and the
# delete of a snapshot between two others drops only what it alone needed.
# The row workload ends with two reverts to the newest snapshot, each
# followed by flushed writes: at every point after one is acknowledged the
# volume reads the snapshot or writes made since, never a write the revert
# dropped, and reclaim freeing the dead versions loses nothing.  Then every
# snapshot is deleted, with flushed writes racing the fold-back that
# follows (throttled): at every point the live volume holds its flushed
# writes, whether a chunk's version was folded back or not.  All of it
# twice: at chunks of one 4 KiB block (whole-chunk writes) and of two
# (partial writes).
# Knobs as in cow-replay.sh.
# guest-timeout: 1500
. "$SHADOW_TOP/test/guest/lib/shadow.sh"
. "$SHADOW_TOP/test/guest/lib/replay.sh"

export REPLAY_STORE_TYPE=row
tool=$SHADOW_TOP/test/guest/tools/cowreplay.py
seed=${REPLAY_SEED:-20261205}
flush_points=${REPLAY_FLUSH_POINTS:-25}
random_points=${REPLAY_RANDOM_POINTS:-15}
subset_points=${REPLAY_SUBSET_POINTS:-20}
event_points=${REPLAY_EVENT_POINTS:-55}

# Chunks of 8 sectors: every 4 KiB write covers its chunk and is
# redirected without a read.  Of 16: every one is partial, and its new
# chunk is built from the old one first.
for sectors in 8 16; do
	export REPLAY_CHUNK_SECTORS=$sectors
	replay_workload "$tool" "$seed" "row workload, chunks of $sectors sectors"

	step "replay to flush/FUA points and points inside batches (chunks of $sectors sectors, REPLAY_SEED=$seed)"
	python3 "$tool" check "$log" "$base" "$scratch" "$WORK/state.json" "$seed" \
		"$flush_points" "$random_points" "$subset_points" "$event_points" "$GUEST_SHARE" ||
		fail "crash states of the row store at chunks of $sectors sectors are not safe (see FAIL point lines above)"
	replay_disks_free
done
echo "row-replay: every replay point is consistent, at both chunk sizes"

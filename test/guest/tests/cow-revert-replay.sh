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
# Only prefixes of the log are replayed, not subsets of a batch.
# Knobs (change the defaults here: run-one passes no environment):
# REPLAY_SEED, REPLAY_FLUSH_POINTS, REPLAY_RANDOM_POINTS.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

TOOLS=$SHADOW_TOP/test/guest/tools
LOGTOOL="python3 $TOOLS/logreplay.py"
REVREPLAY="python3 $TOOLS/revertreplay.py"
seed=${REPLAY_SEED:-20261204}
flush_points=${REPLAY_FLUSH_POINTS:-16}
random_points=${REPLAY_RANDOM_POINTS:-8}
# cowreplay.py's geometry: a 4 MiB origin and an 8 MiB store.
total=24576

modprobe dm-log-writes
[ -x "$SHADOW_TOP/cmd/shadow-dump/shadow-dump" ] || fail "cmd/shadow-dump/shadow-dump is not built: run make first"
disk=$(loop_disk 12)
log=$(loop_disk 96)
base=$(loop_disk 12)
scratch=$(loop_disk 12)
full=$(loop_disk 12)

step "snapshots, then a revert under writes, on one logged device (seed $seed)"
dmsetup create rlog --table "0 $total log-writes $disk $log"
dmsetup create r-origin --table "0 8192 linear /dev/mapper/rlog 0"
dmsetup create r-store --table "0 16384 linear /dev/mapper/rlog 8192"
$REVREPLAY work "$WORK/state.json" "$seed"
dmsetup remove r-origin
dmsetup remove r-store
echo "log-writes status: $(dmsetup status rlog)"
dmsetup remove rlog
if dmesg | grep -q "Ran out of space on the logdev"; then
	fail "the log device filled up"
fi

step "the log replayed whole equals the disk"
$LOGTOOL summary "$log"
$LOGTOOL replay "$log" "$full"
cmp -n $((total * 512)) "$disk" "$full" || fail "the whole log replayed does not give the logged disk"

step "replay to points inside the revert (REPLAY_SEED=$seed)"
$REVREPLAY check "$log" "$base" "$scratch" "$WORK/state.json" "$seed" \
	"$flush_points" "$random_points" ||
	fail "crash states of the revert are not safe (see FAIL point lines above)"
echo "cow-revert-replay: every replay point is consistent"

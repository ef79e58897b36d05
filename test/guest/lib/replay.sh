# shellcheck shell=bash
# Helpers for the write-order replay tests (cow-replay, cow-revert-replay);
# source after shadow.sh.  The geometry is cowreplay.py's: a 4 MiB origin
# and an 8 MiB store, dm-linear slices r-origin and r-store of ONE
# dm-log-writes device, rlog, so that the log holds the writes of both in
# the order they reached stable storage.  Loop devices on tmpfs, not brd:
# brd has no write cache, so the block layer drops every flush before it
# reaches dm-log-writes.
# shellcheck disable=SC2034	# the disks are the caller's
REPLAY_SECTORS=24576
LOGTOOL="python3 $SHADOW_TOP/test/guest/tools/logreplay.py"

# replay_disks: sets disk (logged), log, base, scratch and full.
replay_disks() {
	modprobe dm-log-writes
	[ -x "$SHADOW_TOP/cmd/shadow-dump/shadow-dump" ] || fail "cmd/shadow-dump/shadow-dump is not built: run make first"
	disk=$(loop_disk 12)
	log=$(loop_disk 96)
	base=$(loop_disk 12)
	scratch=$(loop_disk 12)
	full=$(loop_disk 12)
}

# replay_record <command...>: runs the workload with r-origin and r-store
# on the logged device, then takes them down.
replay_record() {
	dmsetup create rlog --table "0 $REPLAY_SECTORS log-writes $disk $log"
	dmsetup create r-origin --table "0 8192 linear /dev/mapper/rlog 0"
	dmsetup create r-store --table "0 16384 linear /dev/mapper/rlog 8192"
	"$@"
	dmsetup remove r-origin
	dmsetup remove r-store
	echo "log-writes status: $(dmsetup status rlog)"
	dmsetup remove rlog
	if dmesg | matches "Ran out of space on the logdev"; then
		fail "the log device filled up"
	fi
}

# replay_whole: the log replayed whole must give the logged disk.
replay_whole() {
	step "the log replayed whole equals the disk"
	$LOGTOOL summary "$log"
	$LOGTOOL list "$log" --marks | tr '\n' ' ' | fold -w 150
	echo
	$LOGTOOL replay "$log" "$full"
	cmp -n $((REPLAY_SECTORS * 512)) "$disk" "$full" ||
		fail "the whole log replayed does not give the logged disk"
}

# replay_workload <tool> <seed> <what>: the disks, <tool>'s workload
# recorded (python3 <tool> work $WORK/state.json <seed>), its log checked
# whole.
replay_workload() {
	replay_disks
	step "$3 on one logged device (seed $2)"
	replay_record python3 "$1" work "$WORK/state.json" "$2"
	replay_whole
}

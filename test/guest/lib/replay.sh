# shellcheck shell=bash
# Helpers for the write-order replay tests (cow-replay, cow-revert-replay,
# clone-replay); source after shadow.sh.  The geometry is cowreplay.py's
# unless the test sets its own after sourcing this file (clone-replay
# sets clonereplay.py's): a 4 MiB origin and an 8 MiB store, dm-linear
# slices r-origin and r-store of ONE dm-log-writes device, rlog, so that
# the log holds the writes of both in the order they reached stable
# storage.  Loop devices on tmpfs, not brd: brd has no write cache, so the
# block layer drops every flush before it reaches dm-log-writes.
# shellcheck disable=SC2034	# the disks are the caller's
# REPLAY_SECTORS: the logged device's size; REPLAY_SLICES: its dm-linear
# slices, "<name>:<start sector>:<sectors>" each; REPLAY_DISK_MIB: the size
# of the logged disk and its copies (at least REPLAY_SECTORS);
# REPLAY_LOG_MIB: the log device's.
REPLAY_SECTORS=24576
REPLAY_SLICES="r-origin:0:8192 r-store:8192:16384"
REPLAY_DISK_MIB=12
REPLAY_LOG_MIB=96
LOGTOOL="python3 $SHADOW_TOP/test/guest/tools/logreplay.py"

# replay_disks: sets disk (logged), log, base, scratch and full.
replay_disks() {
	modprobe dm-log-writes
	[ -x "$SHADOW_TOP/cmd/shadow-dump/shadow-dump" ] || fail "cmd/shadow-dump/shadow-dump is not built: run make first"
	disk=$(loop_disk "$REPLAY_DISK_MIB")
	log=$(loop_disk "$REPLAY_LOG_MIB")
	base=$(loop_disk "$REPLAY_DISK_MIB")
	scratch=$(loop_disk "$REPLAY_DISK_MIB")
	full=$(loop_disk "$REPLAY_DISK_MIB")
}

# replay_disks_free: the disks of replay_disks given back, their files
# removed (the next workload makes its own).
replay_disks_free() {
	local dev file
	for dev in "$disk" "$log" "$base" "$scratch" "$full"; do
		file=$(losetup -nO BACK-FILE "$dev")
		losetup -d "$dev"
		rm -f "$file"
	done
}

# replay_record <command...>: runs the workload with the slices (r-origin,
# r-store ...) on the logged device, then takes them down.
replay_record() {
	local slice rest
	dmsetup create rlog --table "0 $REPLAY_SECTORS log-writes $disk $log"
	for slice in $REPLAY_SLICES; do
		rest=${slice#*:}
		dmsetup create "${slice%%:*}" --table \
			"0 ${rest#*:} linear /dev/mapper/rlog ${rest%%:*}"
	done
	"$@"
	for slice in $REPLAY_SLICES; do
		dmsetup remove "${slice%%:*}"
	done
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

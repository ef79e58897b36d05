# shellcheck shell=bash
# Helpers for dm-shadow guest tests.  Source it; it sets -euo pipefail.
#
# Every check that fails calls fail(), which prints why and exits 1; the
# harness also fails the run on any WARNING/BUG/Oops in the kernel log.
set -euo pipefail

STOMPER="python3 $SHADOW_TOP/test/guest/tools/stomper.py"
DMIOCTL="python3 $SHADOW_TOP/test/guest/tools/dmioctl.py"
WORK=${WORK:-/tmp/shadow-test}
mkdir -p "$WORK"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# step <text>: a heading with the seconds since the test started, so a
# slow step shows in every run's output.
step() {
	echo "== [${SECONDS}s] $*"
}

# matches <grep options and pattern>: grep -q for the end of a pipeline.
# It reads all its input: grep -q stops at the first match, and the
# command before it, writing on into the closed pipe, dies of SIGPIPE,
# which pipefail turns into a failed check (browse on 6.1 failed so).
matches() {
	grep "$@" >/dev/null
}

# ram_disks <count> <MiB>: /dev/ram0 .. fresh, zeroed brd disks.
ram_disks() {
	modprobe brd rd_nr="$1" rd_size=$(($2 * 1024))
}

# loop_disk <MiB | size with K/M suffix>: a loop device on a tmpfs file;
# prints its path.  For sizes brd cannot give next to disks of another size.
loop_disk() {
	local f
	# No udev: load loop ourselves, with nodes made up front.
	modprobe loop max_loop=16
	f=$(mktemp "$WORK/loop.XXXXXX")
	case $1 in
	*[KM]) truncate -s "$1" "$f" ;;
	*) truncate -s "$1M" "$f" ;;
	esac
	losetup --find --show "$f"
}

sectors() {
	blockdev --getsz "$1"
}

# slow_target <name> <dev>: <dev> behind dm-delay as /dev/mapper/<name>,
# its writes and flushes held 50 ms times GUEST_SCALE, its reads not; prints
# the path.  A clone onto it at hydrate_rate 1 copies one chunk a batch,
# two delays each: it hydrates for as long on a kernel GUEST_SCALE times
# slower as the steps that need it still hydrating take there.
slow_target() {
	local ms=$((50 * ${GUEST_SCALE:-1}))

	dmsetup create "$1" --table "0 $(sectors "$2") delay $2 0 0 $2 0 $ms"
	echo "/dev/mapper/$1"
}

# origin_load <name> <origin_dev> <store_dev> [chunk_sectors [store_type]]
origin_load() {
	dmsetup create "$1" --table \
		"0 $(sectors "$2") shadow-origin $2 $3 ${5:-cow} ${4:-8}"
}

# snap_create <origin_name> <id>: the point in time is the suspend.  (The
# stomper's "dm:" hook does the same from Python; see tools/dmioctl.py.)
snap_create() {
	dmsetup suspend "$1"
	dmsetup message "$1" 0 create "$2"
	dmsetup resume "$1"
}

# origin_of <origin_name>: the device under a shadow-origin, as the
# major:minor its table names; shadow-snap tables name it.
origin_of() {
	dmsetup table "$1" | awk '{ print $4 }'
}

# snap_open <origin_name> <id> <name> [writable]
snap_open() {
	local table
	table="0 $(sectors "/dev/mapper/$1") shadow-snap $(origin_of "$1") $2"
	if [ "${4:-}" = writable ]; then
		dmsetup create "$3" --table "$table 1 writable"
	else
		dmsetup create "$3" --readonly --table "$table"
	fi
}

# status_field <dm_name> <n>: the n-th word of the status after the target
# name (1 = store type for shadow-origin).
status_field() {
	dmsetup status "$1" | awk -v n="$2" '{ print $(3 + n) }'
}

# status_contents <name>: the status line but for metadata_used and
# transaction_id, which closing the store changes when it commits what
# its exception journal held: what a remove and reload must keep.
status_contents() {
	dmsetup status "$1" | awk '{ $11 = "-"; $12 = "-"; print }'
}

used_chunks() {
	status_field "$1" 3 | cut -d/ -f1
}

# wait_folded <name>: until a row store's background walk (fold-back),
# which a delete or a resume starts, is done; the test's guest-timeout
# bounds it.
wait_folded() {
	while [ "$(status_field "$1" 14)" != - ]; do
		sleep 0.2
	done
}

# check_folded_back <name> <origin device> <md5>: fold-back is done and
# left no chunk in use, the live volume reads <md5>, and with the table
# removed the origin device alone does too: a linear table would do.
check_folded_back() {
	[ "$(used_chunks "$1")" = 0 ] ||
		fail "$(used_chunks "$1") chunks still in use after fold-back: $(dmsetup status "$1")"
	[ "$(md5_direct "/dev/mapper/$1")" = "$3" ] ||
		fail "the live volume changed during fold-back"
	dmsetup remove "$1"
	[ "$(md5_direct "$2")" = "$3" ] ||
		fail "the origin device does not hold the live volume after fold-back"
}

md5_of() {
	md5sum <"$1" | cut -d' ' -f1
}

# md5_direct <dev>: md5 of a device read past the page cache, which a dm
# table above it does not keep up to date.
md5_direct() {
	dd if="$1" bs=1M iflag=direct status=none | md5sum | cut -d' ' -f1
}

# expect_refused <log text> <command...>: the command must fail, and the
# kernel log must gain a line containing <log text>.
expect_refused() {
	local want=$1 before
	shift
	before=$(dmesg | wc -l)
	if "$@" >"$WORK/refused.out" 2>&1; then
		fail "accepted, should be refused: $*"
	fi
	if ! dmesg | tail -n +"$((before + 1))" | matches -F -- "$want"; then
		cat "$WORK/refused.out" >&2
		dmesg | tail -n +"$((before + 1))" >&2
		fail "refused without '$want' in the kernel log: $*"
	fi
	echo "refused as expected ($want): $*"
}

# verify_snap <origin_name> <id> <md5>: open, compare, close.
verify_snap() {
	local got
	snap_open "$1" "$2" "verify-$2"
	got=$(md5_of "/dev/mapper/verify-$2")
	dmsetup remove "verify-$2"
	[ "$got" = "$3" ] || fail "snapshot $2 reads md5 $got, expected $3"
}

# verify_sums <origin_name> <sums_file>: every "<id> <md5>" line.  All
# the snapshots are read through one device, side by side, to spare a
# dmsetup create and remove per snapshot.
verify_sums() {
	local size id sum i=0 n origin
	size=$(sectors "/dev/mapper/$1")
	origin=$(origin_of "$1")
	while read -r id sum; do
		echo "$((i * size)) $size shadow-snap $origin $id"
		i=$((i + 1))
	done <"$2" >"$WORK/verify.table"
	dmsetup create verify-all --readonly <"$WORK/verify.table"
	$STOMPER segsums /dev/mapper/verify-all "$size" >"$WORK/verify.got"
	dmsetup remove verify-all
	n=$(wc -l <"$2")
	paste -d' ' "$2" "$WORK/verify.got" | while read -r id sum idx got; do
		[ "$sum" = "$got" ] ||
			fail "snapshot $id (segment $idx) reads md5 $got, expected $sum"
	done
	echo "all $n snapshots of $1 read exactly their point in time"
}

# json <file> <python expression on d>: print the value.
json() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# dump_json <store_dev> <python expression on d>: a value of what
# shadow-dump --json reads in the store (which must be quiescent), e.g.
# 'd["superblock"]["trans_id"]'.
dump_json() {
	"$SHADOW_TOP/cmd/shadow-dump/shadow-dump" --json "$1" >"$WORK/dump.json" ||
		fail "shadow-dump --json $1 failed"
	json "$WORK/dump.json" "$2"
}

# store_check <store_dev> [leaks-ok]: shadow-dump (built in the tree by
# make) reads the store offline and must find it consistent; after a power
# cut, chunks leaked by a crash window are allowed, nothing else.
store_check() {
	local dump=$SHADOW_TOP/cmd/shadow-dump/shadow-dump
	[ -x "$dump" ] || fail "$dump is not built: run make first"
	"$dump" --json --check "$1" >"$WORK/check.json" && return 0
	[ "${2:-}" = leaks-ok ] || { "$dump" --check "$1" >&2; fail "shadow-dump --check $1 failed"; }
	python3 - "$WORK/check.json" <<-'PY' || fail "store $1 is inconsistent"
	import json, sys
	c = json.load(open(sys.argv[1]))["check"]
	other = [p for p in c["problems"] if "leak" not in json.dumps(p)]
	print("store check: %d leaked chunks, other problems: %s" % (c["leaked"], other))
	sys.exit(1 if other or c["bad_blocks"] else 0)
	PY
}

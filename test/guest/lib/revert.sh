# shellcheck shell=bash
# Helpers for the revert tests (cow-revert, cow-revert-kill); source after
# shadow.sh.  Every volume is read with O_DIRECT (stomper segsums): a
# revert changes what the volume reads under its page cache.

# vol_md5 <dev>: md5 of the whole device, read with O_DIRECT.
vol_md5() {
	$STOMPER segsums "$1" "$(sectors "$1")" | cut -d' ' -f2
}

# chunk_sums <dev> <chunk_sectors>: "<chunk> <md5>" per chunk, O_DIRECT.
chunk_sums() {
	$STOMPER segsums "$1" "$2"
}

# scribble <dev> <chunk_bytes> <first> <count>: random data over chunks
# first .. first + count - 1.
scribble() {
	dd if=/dev/urandom of="$1" bs="$2" seek="$3" count="$4" \
		oflag=direct conv=notrunc status=none
}

# put_pattern <dev> <pattern_file> <chunk>...: the pattern over each chunk,
# O_DIRECT and O_DSYNC: done means on disk.
put_pattern() {
	local dev=$1 pat=$2 c bs
	bs=$(stat -c %s "$pat")
	shift 2
	for c in "$@"; do
		dd if="$pat" of="$dev" bs="$bs" seek="$c" count=1 \
			oflag=direct,dsync conv=notrunc status=none
	done
}

# revert_id <origin_name>, revert_progress <origin_name>: the status
# fields of a revert ("-" when none runs).
revert_id() {
	status_field "$1" 12
}

revert_progress() {
	status_field "$1" 13
}

# check_reverted <got_sums> <snapshot_sums> <pattern_md5> <during> <chunk>...:
# every chunk reads the snapshot's data, except the chunks listed, which
# read the pattern (or, while writes may still be on their way, <during>
# = 1, the snapshot's data).
check_reverted() {
	local got=$1 want=$2 pat=$3 during=$4
	shift 4
	printf '%s\n' "$@" >"$WORK/written"
	awk -v pat="$pat" -v during="$during" '
		FILENAME == ARGV[1] { w[$1] = 1; next }
		FILENAME == ARGV[2] { want[$1] = $2; next }
		{
			if ($1 in w) {
				if ($2 == pat || (during && $2 == want[$1]))
					next
				printf "chunk %d written after the revert began reads %s, expected the pattern %s\n", $1, $2, pat
			} else if ($2 != want[$1]) {
				printf "chunk %d reads %s, expected the snapshot'"'"'s %s\n", $1, $2, want[$1]
			} else {
				next
			}
			bad++
		}
		END { exit bad ? 1 : 0 }' "$WORK/written" "$want" "$got" >"$WORK/mismatch" || {
		head -20 "$WORK/mismatch" >&2
		fail "$(wc -l <"$WORK/mismatch") chunks read wrong data"
	}
}

# wait_reverted <origin_name> <seconds>: until the revert has finished.
wait_reverted() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(revert_id "$1")" = - ] && return 0
		sleep 0.1
	done
	fail "the revert did not finish in $2 s (at $(revert_progress "$1"))"
}

#!/bin/sh
# shadow-dump end to end on a small image: output and exit codes
# (0 ok, 1 usage, 2 cannot read, 3 corrupt, 4 inconsistent).
set -u

dump=${SHADOW_DUMP:-cmd/shadow-dump}
unit=${UNIT_TESTS:-test/unit/unit-tests}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

expect() {	# expect <exit code> <description> <command...>
	want=$1 what=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		echo "ok: $what (exit $got)"
	else
		echo "FAIL: $what: exit $got, expected $want"
		sed 's/^/  out: /' "$tmp/out"
		sed 's/^/  err: /' "$tmp/err"
		fails=$((fails + 1))
	fi
}

grep_out() {	# grep_out <pattern> <file>
	if ! grep -q -- "$1" "$2"; then
		echo "FAIL: '$1' not in $2:"
		sed 's/^/  /' "$2"
		fails=$((fails + 1))
	fi
}

# Overwrite one byte of $1 at offset $2 with $3 (octal escape).
poke() {
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

"$unit" --make-image "$tmp/store.img" || { echo "FAIL: cannot make image"; exit 1; }

expect 1 "no arguments" "$dump"
grep_out "shadow-dump: Failed to parse arguments: no store given" "$tmp/err"
expect 1 "unknown option" "$dump" --bogus "$tmp/store.img"
expect 0 "--help" "$dump" --help
grep_out "Usage:" "$tmp/out"
expect 0 "--version" "$dump" --version
expect 2 "missing file" "$dump" "$tmp/nonexistent"
grep_out "shadow-dump: Failed to read store $tmp/nonexistent: cannot open" "$tmp/err"

expect 0 "dump" "$dump" "$tmp/store.img"
grep_out "dm-shadow format version 1, cow store" "$tmp/out"
grep_out "snapshots: 3 of 16" "$tmp/out"
grep_out "  in use             4" "$tmp/out"
expect 0 "dump --records --check" "$dump" --records --check "$tmp/store.img"
grep_out "result             clean (0 problems)" "$tmp/out"
grep_out "used,private" "$tmp/out"
expect 0 "dump --json --check" "$dump" --json --records --check "$tmp/store.img"
grep_out '"consistent":true' "$(tr -d ' \n' <"$tmp/out" >"$tmp/flat"; echo "$tmp/flat")"
grep_out '"high_water":6' "$tmp/flat"

# Corrupt an index block (block 3, byte 300): the dump still works, the
# check finds it.
cp "$tmp/store.img" "$tmp/index.img"
poke "$tmp/index.img" $((3 * 512 + 300)) '\377'
expect 0 "dump of a store with a bad index block" "$dump" "$tmp/index.img"
expect 4 "check of a store with a bad index block" "$dump" --check "$tmp/index.img"
grep_out "index block 3 has a bad checksum" "$tmp/out"
grep_out "inconsistencies found" "$tmp/err"

# A bad snapshot table block is corruption for a plain dump.
cp "$tmp/store.img" "$tmp/snap.img"
poke "$tmp/snap.img" $((1 * 512 + 100)) '\377'
expect 3 "dump of a store with a bad snapshot table" "$dump" "$tmp/snap.img"
grep_out "snapshot table block 1 has a bad checksum" "$tmp/err"

# A bad superblock is refused with the reason.
cp "$tmp/store.img" "$tmp/sb.img"
poke "$tmp/sb.img" 16 'X'
expect 3 "bad magic" "$dump" "$tmp/sb.img"
grep_out "Failed to validate the superblock of $tmp/sb.img: bad magic" "$tmp/err"

# A truncated device: the store does not fit.
cp "$tmp/store.img" "$tmp/short.img"
truncate -s 100K "$tmp/short.img"
expect 3 "truncated store" "$dump" "$tmp/short.img"
grep_out "does not fit the device" "$tmp/err"

if [ "$fails" -ne 0 ]; then
	echo "shadow-dump.sh: $fails failed"
	exit 1
fi
echo "shadow-dump.sh: all passed"

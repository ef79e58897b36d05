#!/bin/sh
# shadow-dump end to end on a small image: output and exit codes
# (0 ok, 1 usage, 2 cannot read, 3 corrupt, 4 damaged, 5 leaks only,
# 6 no metadata snapshot held), a row store's tags decoded, and a clone
# store's clones.
set -u

dump=${SHADOW_DUMP:-cmd/shadow-dump/shadow-dump}
unit=${UNIT_TESTS:-test/unit/unit-tests}
# The test images come from the unit-test program, which needs Check.
if ! [ -x "$unit" ]; then
	echo "SKIP: $unit not built (configure found no Check): no test images"
	exit 77
fi
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
"$unit" --make-image "$tmp/leak.img" leak || { echo "FAIL: cannot make image"; exit 1; }
"$unit" --make-image "$tmp/held.img" held || { echo "FAIL: cannot make image"; exit 1; }
"$unit" --make-image "$tmp/journal.img" journal || { echo "FAIL: cannot make image"; exit 1; }
"$unit" --make-image "$tmp/old.img" old || { echo "FAIL: cannot make image"; exit 1; }
"$unit" --make-image "$tmp/row.img" row || { echo "FAIL: cannot make image"; exit 1; }
"$unit" --make-image "$tmp/dropped.img" row-dropped || { echo "FAIL: cannot make image"; exit 1; }
"$unit" --make-image "$tmp/clone.img" clone || { echo "FAIL: cannot make image"; exit 1; }

# The sample store's 4 KiB metadata blocks: 0 superblock, 1 snapshot tree,
# 2 exception tree, 3 private tree, 4-6 data space map, 7-9 metadata space map,
# 84-147 the exception journal's ring (of 148 blocks; the old store's area
# is its 84 blocks, without a ring).
B=4096

expect 1 "no arguments" "$dump"
grep_out "shadow-dump: Failed to parse arguments: no store given" "$tmp/err"
expect 1 "unknown option" "$dump" --bogus "$tmp/store.img"
expect 0 "--help" "$dump" --help
grep_out "Usage:" "$tmp/out"
grep_out "5 --check found leaked space only" "$tmp/out"
expect 0 "--version" "$dump" --version
grep_out "format versions 2 to 2" "$tmp/out"
expect 2 "missing file" "$dump" "$tmp/nonexistent"
grep_out "shadow-dump: Failed to read store $tmp/nonexistent: cannot open" "$tmp/err"

expect 0 "dump" "$dump" "$tmp/store.img"
grep_out "dm-shadow format version 2, cow store" "$tmp/out"
grep_out "snapshots: 3 of 8190" "$tmp/out"
grep_out "  in use             4" "$tmp/out"
grep_out "  metadata blocks    [0-9]* of 2048$" "$tmp/out"
expect 0 "dump --records --check" "$dump" --records --check "$tmp/store.img"
grep_out "result             clean (0 problems, 0 leaked)" "$tmp/out"
grep_out "            63          3            2 private" "$tmp/out"
expect 0 "dump --json --check" "$dump" --json --records --check "$tmp/store.img"
grep_out '"consistent":true' "$(tr -d ' \n' <"$tmp/out" >"$tmp/flat"; echo "$tmp/flat")"
grep_out '"in_use":4' "$tmp/flat"
grep_out '"leaks":\[\]' "$tmp/flat"

# A leaked data chunk: its own exit code, its own JSON member.
expect 0 "dump of a store with a leak" "$dump" "$tmp/leak.img"
expect 5 "check of a store with a leak" "$dump" --check "$tmp/leak.img"
grep_out "leak: data chunk 50 is counted 1 times but used 0 times: leaked" "$tmp/out"
grep_out "result             leaks only (0 problems, 1 leaked)" "$tmp/out"
grep_out "leaked blocks found" "$tmp/err"
expect 5 "check --json of a store with a leak" "$dump" --check --json "$tmp/leak.img"
tr -d ' \n' <"$tmp/out" >"$tmp/flat"
grep_out '"leaked":1,' "$tmp/flat"
grep_out '"problems":\[\],"leaks":\["datachunk50' "$tmp/flat"

# Corrupt the leaf of the exception tree: the plain dump does not read it, the
# check finds it, --records cannot list it.
cp "$tmp/store.img" "$tmp/exc.img"
poke "$tmp/exc.img" $((2 * B + 300)) '\377'
expect 0 "dump of a store with a bad exception leaf" "$dump" "$tmp/exc.img"
expect 4 "check of a store with a bad exception leaf" "$dump" --check "$tmp/exc.img"
grep_out "btree node block 2 has a bad checksum" "$tmp/out"
grep_out "inconsistencies found" "$tmp/err"
expect 3 "records of a store with a bad exception leaf" "$dump" --records "$tmp/exc.img"

# A bad snapshot tree is corruption for a plain dump.
cp "$tmp/store.img" "$tmp/snap.img"
poke "$tmp/snap.img" $((1 * B + 100)) '\377'
expect 3 "dump of a store with a bad snapshot tree" "$dump" "$tmp/snap.img"
grep_out "btree node block 1 has a bad checksum" "$tmp/err"

# A bad superblock is refused with the reason.
cp "$tmp/store.img" "$tmp/sb.img"
poke "$tmp/sb.img" 16 'X'
expect 3 "bad magic" "$dump" "$tmp/sb.img"
grep_out "Failed to validate the superblock of $tmp/sb.img: bad magic" "$tmp/err"

# A version 1 store is named as such.
cp "$tmp/store.img" "$tmp/v1.img"
poke "$tmp/v1.img" 24 '\001'
expect 3 "version 1" "$dump" "$tmp/v1.img"
grep_out "format version 1 (512-byte blocks updated in place) is no longer supported" "$tmp/err"

# A truncated device: the store does not fit.
cp "$tmp/store.img" "$tmp/short.img"
truncate -s 100K "$tmp/short.img"
expect 3 "truncated store" "$dump" "$tmp/short.img"
grep_out "store device is smaller than the store it holds: truncated or shrunk (store_sectors " "$tmp/err"

# --metadata-snap: refused without one; with one, the trees as held.  The
# held image (see test-check.c's build_held()): blocks 1-3 the held trees
# (3, the private tree, shared with the live one), 4 the held superblock;
# live: snapshots 100, 102, 103; held: 100, 101, 102 and chunk 63's
# exception for seq 2 in data chunk 3.
expect 6 "--metadata-snap without one" "$dump" --metadata-snap "$tmp/store.img"
grep_out "Failed to read the metadata snapshot of $tmp/store.img: no metadata snapshot is held" "$tmp/err"
expect 0 "check of a store holding a metadata snapshot" "$dump" --check "$tmp/held.img"
grep_out "roots              snapshots 5, exceptions 6, private 3, held 4" "$tmp/out"
grep_out "result             clean (0 problems, 0 leaked)" "$tmp/out"
grep_out "  data chunks used   5" "$tmp/out"
expect 0 "dump -m -r" "$dump" -m -r "$tmp/held.img"
grep_out "^metadata snapshot (snapshots and records below are as of it):" "$tmp/out"
grep_out "^  block              4$" "$tmp/out"
grep_out "^  last seq           3$" "$tmp/out"
grep_out "   101          2 valid    sealed" "$tmp/out"
grep_out "            63          2            3 exception" "$tmp/out"
if grep -q "   103 " "$tmp/out"; then
	echo "FAIL: --metadata-snap lists snapshot 103, created after the hold"
	fails=$((fails + 1))
fi
expect 0 "dump --metadata-snap --json --records" "$dump" --metadata-snap --json --records "$tmp/held.img"
tr -d ' \n' <"$tmp/out" >"$tmp/flat"
grep_out '"metadata_snap":{"block":4,"trans_id":9,"last_seq":3,' "$tmp/flat"
grep_out '"snapshots":\[{"id":100,' "$tmp/flat"
grep_out '{"id":101,"seq":2,' "$tmp/flat"
cp "$tmp/held.img" "$tmp/heldbad.img"
poke "$tmp/heldbad.img" $((4 * B + 500)) '\377'
expect 3 "--metadata-snap with a bad held block" "$dump" --metadata-snap "$tmp/heldbad.img"
grep_out "metadata snapshot at block 4: superblock checksum mismatch (csum 0x" "$tmp/err"
expect 4 "check with a bad held block" "$dump" --check "$tmp/heldbad.img"

# --diff on the sample store: copies (5, tag 1), (5, tag 3), (63, tag 2),
# snapshot 102 (sequence 3) owns chunk 63; snapshots 100, 101, 102 have
# sequences 1, 2, 3.  One chunk is 8 sectors.
diff_is() {	# diff_is <ids> <expected lines, ';'-separated>
	expect 0 "--diff $1" "$dump" --diff "$1" "$tmp/store.img"
	if [ "$(tr '\n' ';' <"$tmp/out")" != "$2" ]; then
		echo "FAIL: --diff $1 printed '$(tr '\n' ';' <"$tmp/out")', expected '$2'"
		fails=$((fails + 1))
	fi
}
diff_is 100:101 "40 8;"
diff_is 101:102 "504 8;"
diff_is 102:101 "504 8;"
diff_is 100:102 "40 8;504 8;"
diff_is 101:101 ""
diff_is 102 "40 8;504 8;"
expect 0 "--diff --json" "$dump" --json --diff 100:101 "$tmp/store.img"
tr -d ' \n' <"$tmp/out" >"$tmp/flat"
grep_out '{"from":100,"to":101,"chunk_sectors":8,"origin_sectors":512,"metadata_snap":false,"ranges":\[{"first_chunk":5,"chunks":1,"sector":40,"sectors":8}\],"changed_chunks":1}' "$tmp/flat"
expect 7 "--diff of a snapshot that does not exist" "$dump" --diff 100:7 "$tmp/store.img"
grep_out "snapshot 7 does not exist in this store" "$tmp/err"
[ -s "$tmp/out" ] && { echo "FAIL: a refused --diff printed something"; fails=$((fails + 1)); }
expect 7 "--diff --json of a snapshot that does not exist" "$dump" --json --diff 9 "$tmp/store.img"
[ -s "$tmp/out" ] && { echo "FAIL: a refused --diff --json printed something"; fails=$((fails + 1)); }
expect 1 "--diff with a bad id" "$dump" --diff 1:x "$tmp/store.img"
grep_out "wants <id> or <id>:<id>" "$tmp/err"
expect 1 "--diff with --records" "$dump" --diff 1 --records "$tmp/store.img"
expect 0 "--diff through the metadata snapshot" "$dump" --metadata-snap --diff 100:101 "$tmp/held.img"

# The exception journal (test-check.c's build_pending()): chunks 9 and 10
# copied for seq 3 into data chunks 40 and 42 (ring blocks 0 and 1), a
# private chunk 20 of seq 3 into 41 (block 0), none of them committed.
expect 0 "dump of a store with pending journal entries" "$dump" "$tmp/journal.img"
grep_out "^  features           compat 0x0, ro_compat 0x0, incompat 0x2 (journal)$" "$tmp/out"
grep_out "^  journal            blocks 84 to 147, 3 pending exceptions in 2 blocks (replayed at the next load)$" "$tmp/out"
expect 0 "dump of a store with nothing pending" "$dump" "$tmp/store.img"
grep_out "^  journal            blocks 84 to 147, nothing pending$" "$tmp/out"
expect 0 "check of a store with pending journal entries" "$dump" --check --records "$tmp/journal.img"
grep_out "^journal: 3 pending$" "$tmp/out"
grep_out "^      0     1           20          3           41 private$" "$tmp/out"
grep_out "^      1     0           10          3           42 exception$" "$tmp/out"
grep_out "^  journal pending    3 in 2 blocks, replayed at the next load$" "$tmp/out"
grep_out "result             clean (0 problems, 0 leaked)" "$tmp/out"
expect 0 "check --json of a store with pending journal entries" "$dump" --check --json "$tmp/journal.img"
tr -d ' \n' <"$tmp/out" >"$tmp/flat"
grep_out '"incompat_flags":2,"incompat_features":\["journal"\],' "$tmp/flat"
grep_out '"journal":{"blocks":64,"start":84,"pending_blocks":2,"pending_count":3,"pending":\[{"index":0,"entry":0,"origin_chunk":9,"seq":3,"data_chunk":40,"tree":0,"private":false},' "$tmp/flat"
grep_out '"journal_pending":3,"journal_blocks":2,' "$tmp/flat"
grep_out '"consistent":true' "$tmp/flat"
# A torn write of ring block 1 ends the journal before it: not damage.
cp "$tmp/journal.img" "$tmp/torn.img"
poke "$tmp/torn.img" $((85 * B + 1000)) '\377'
expect 0 "check of a store with a torn journal block" "$dump" --check "$tmp/torn.img"
grep_out "^  journal            blocks 84 to 147, 2 pending exceptions in 1 blocks (replayed at the next load)$" "$tmp/out"
grep_out "result             clean (0 problems, 0 leaked)" "$tmp/out"

# A store formatted before the journal: no ring, and still clean.
expect 0 "check of a store without the journal" "$dump" --check "$tmp/old.img"
grep_out "^  features           compat 0x0, ro_compat 0x0, incompat 0x0$" "$tmp/out"
grep_out "^  metadata           84 blocks of 4096 bytes$" "$tmp/out"
grep_out "^  journal            none (formatted before the exception journal)$" "$tmp/out"
grep_out "^  journal pending    0 in 0 blocks$" "$tmp/out"
grep_out "result             clean (0 problems, 0 leaked)" "$tmp/out"
expect 0 "dump --json of a store without the journal" "$dump" --json "$tmp/old.img"
tr -d ' \n' <"$tmp/out" >"$tmp/flat"
grep_out '"journal":{"blocks":0,"start":84,"pending_blocks":0,"pending_count":0,"pending":\[\]}' "$tmp/flat"

# A row store (test-check.c's build_row_pending()): versions of chunk 5
# tagged 1, 3, 5 and of chunk 63 tagged 2, their keys holding the tags
# inverted; a private chunk 63 of seq 4; pending versions of chunks 9
# (tag 5) and 10 (tag 3), a pending private chunk 20 of seq 4.  Snapshots
# 100 to 104 have sequences 1 to 5.  Listed with their tags, newest first.
expect 0 "check of a row store" "$dump" --check --records "$tmp/row.img"
grep_out "dm-shadow format version 2, row store" "$tmp/out"
grep_out "^records: 5$" "$tmp/out"
if [ "$(awk 'NF == 4 && $4 == "exception" { printf "%s:%s:%s ", $1, $2, $3 }' "$tmp/out")" != \
     "5:5:2 5:3:1 5:1:0 63:2:3 " ]; then
	echo "FAIL: a row store's versions are not listed with their tags, newest first:"
	sed 's/^/  /' "$tmp/out"
	fails=$((fails + 1))
fi
grep_out "^            63          4            4 private$" "$tmp/out"
grep_out "^      0     0            9          5           40 exception$" "$tmp/out"
grep_out "^      1     0           10          3           42 exception$" "$tmp/out"
grep_out "result             clean (0 problems, 0 leaked)" "$tmp/out"
expect 0 "dump --json --records of a row store" "$dump" --json --records "$tmp/row.img"
tr -d ' \n' <"$tmp/out" >"$tmp/flat"
grep_out '"store_type":"row",' "$tmp/flat"
grep_out '"records":\[{"origin_chunk":5,"seq":5,"data_chunk":2,"private":false},{"origin_chunk":5,"seq":3,' "$tmp/flat"
grep_out '"pending":\[{"index":0,"entry":0,"origin_chunk":9,"seq":5,"data_chunk":40,"tree":0,"private":false},' "$tmp/flat"
diff_row_is() {	# diff_row_is <ids> <expected lines, ';'-separated>
	expect 0 "--diff $1 of a row store" "$dump" --diff "$1" "$tmp/row.img"
	if [ "$(tr '\n' ';' <"$tmp/out")" != "$2" ]; then
		echo "FAIL: --diff $1 of a row store printed '$(tr '\n' ';' <"$tmp/out")', expected '$2'"
		fails=$((fails + 1))
	fi
}
diff_row_is 100:101 "40 8;"
diff_row_is 101:102 "504 8;"
diff_row_is 102:104 "40 8;"
diff_row_is 103:104 "504 8;"
diff_row_is 104 "40 8;"
diff_row_is 100 "40 8;504 8;"

# A row store reverted to snapshot 101 (seq 2; test-check.c's
# build_row_dropped()): versions tagged 2 dead (dropped_from 2,
# dropped_below 3), those of chunks 5, 6, 7 and 9 not freed yet;
# snapshot 102 (seq 4) taken since, and writes tagged 3 and 4.
expect 0 "check of a reverted row store" "$dump" --check "$tmp/dropped.img"
grep_out "incompat 0x6 (journal, row_dropped)$" "$tmp/out"
grep_out "^  dropped            versions tagged 2 to 2 are dead (dropped_from 2, dropped_below 3)$" "$tmp/out"
grep_out "^  dead versions      4 (in use until freed)$" "$tmp/out"
grep_out "result             clean (0 problems, 0 leaked)" "$tmp/out"
expect 0 "check of a row store without a dropped range" "$dump" --check "$tmp/row.img"
if grep -q "^  dropped \|^  dead versions " "$tmp/out"; then
	echo "FAIL: a store without a dropped range prints one"
	fails=$((fails + 1))
fi
expect 0 "dump --json of a row store without a dropped range" "$dump" --json "$tmp/row.img"
tr -d ' \n' <"$tmp/out" >"$tmp/flat"
grep_out '"revert_root":0,"dropped_from":0,"dropped_below":0,' "$tmp/flat"
expect 0 "dump --json --check of a reverted row store" "$dump" --json --check "$tmp/dropped.img"
tr -d ' \n' <"$tmp/out" >"$tmp/flat"
grep_out '"incompat_features":\["journal","row_dropped"\],' "$tmp/flat"
grep_out '"revert_root":0,"dropped_from":2,"dropped_below":3,' "$tmp/flat"
grep_out '"exceptions":9,"dead_versions":4,' "$tmp/flat"
diff_dropped_is() {	# diff_dropped_is <ids> <expected lines, ';'-separated>
	expect 0 "--diff $1 of a reverted row store" "$dump" --diff "$1" "$tmp/dropped.img"
	if [ "$(tr '\n' ';' <"$tmp/out")" != "$2" ]; then
		echo "FAIL: --diff $1 of a reverted row store printed '$(tr '\n' ';' <"$tmp/out")', expected '$2'"
		fails=$((fails + 1))
	fi
}
diff_dropped_is 101:102 "56 8;96 8;"
diff_dropped_is 101 "56 24;"

# A clone store (test-check.c's build_clone()): snapshots 1 and 2, clone
# 1 complete, clone 2 hydrating with chunks 0-799 and 3000-3009 copied.
# Blocks 4 (clone 2's array block), 5 (its array's btree), 6 (the clone
# tree).
expect 0 "dump of a clone store" "$dump" "$tmp/clone.img"
grep_out "dm-shadow format version 2, clone store" "$tmp/out"
grep_out "incompat 0xa (journal, clone)$" "$tmp/out"
grep_out "^  data               none: each clone is a full copy on a target device of its own$" "$tmp/out"
grep_out "^  roots              snapshots 1, clones 6, exceptions 2, private 3, held 0$" "$tmp/out"
grep_out "^snapshots: 2 of 8$" "$tmp/out"
grep_out "^clones: 2 of 8$" "$tmp/out"
grep_out "^                     1 complete               4096/4096           32768$" "$tmp/out"
grep_out "^                     2 hydrating               810/4096           32768$" "$tmp/out"
grep_out "^  data chunks        0 (a clone store keeps no data)$" "$tmp/out"
if grep -q "^  data limit \|^  free \|^  in use " "$tmp/out"; then
	echo "FAIL: a clone store's dump prints data limits it does not have"
	fails=$((fails + 1))
fi
expect 0 "check --records of a clone store" "$dump" --check --records "$tmp/clone.img"
grep_out "^clone 2 copied: 810 chunks in 2 runs$" "$tmp/out"
grep_out "^             0          800$" "$tmp/out"
grep_out "^          3000           10$" "$tmp/out"
grep_out "^  clones             2$" "$tmp/out"
grep_out "result             clean (0 problems, 0 leaked)" "$tmp/out"
expect 0 "dump --json --records --check of a clone store" "$dump" --json --records --check "$tmp/clone.img"
tr -d ' \n' <"$tmp/out" >"$tmp/flat"
grep_out '"store_type":"clone",' "$tmp/flat"
grep_out '"incompat_features":\["journal","clone"\],' "$tmp/flat"
grep_out '"dropped_below":0,"clone_root":6,' "$tmp/flat"
grep_out '"clones":\[{"id":1,"state":"complete","nr_copied":4096,"nr_origin_chunks":4096,"target_sectors":32768,"bitset_root":0,"flags":0},{"id":2,"state":"hydrating","nr_copied":810,"nr_origin_chunks":4096,"target_sectors":32768,"bitset_root":5,"flags":0,"copied":\[{"first_chunk":0,"chunks":800},{"first_chunk":3000,"chunks":10}\],"copied_chunks":810}\]' "$tmp/flat"
grep_out '"snapshots":2,"clones":2,' "$tmp/flat"
grep_out '"consistent":true' "$tmp/flat"
expect 0 "dump --json of a cow store" "$dump" --json "$tmp/store.img"
if grep -q '"clones"' "$tmp/out"; then
	echo "FAIL: a cow store's JSON lists clones"
	fails=$((fails + 1))
fi
expect 1 "--diff of a clone store" "$dump" --diff 1:2 "$tmp/clone.img"
grep_out "Failed to compare snapshots of $tmp/clone.img: a clone store records no writes to compare" "$tmp/err"
# Clone 2's array block corrupt: the plain dump does not read it, the
# check finds it, --records cannot list what it copied.
cp "$tmp/clone.img" "$tmp/clonebits.img"
poke "$tmp/clonebits.img" $((4 * B + 1000)) '\377'
expect 0 "dump of a clone store with a bad array block" "$dump" "$tmp/clonebits.img"
expect 4 "check of a clone store with a bad array block" "$dump" --check --records "$tmp/clonebits.img"
grep_out "problem: clone 2's bitset: array block 4 has a bad checksum" "$tmp/out"
grep_out "^clone 2 copied: unreadable: clone 2's bitset: array block 4 has a bad checksum" "$tmp/out"
expect 3 "records of a clone store with a bad array block" "$dump" --records "$tmp/clonebits.img"
grep_out "Failed to read the bitset of clone 2 of $tmp/clonebits.img: clone 2's bitset: array block 4 has a bad checksum" "$tmp/err"
# The clone tree corrupt: a corrupt store, or with --check a finding.
cp "$tmp/clone.img" "$tmp/clonetree.img"
poke "$tmp/clonetree.img" $((6 * B + 100)) '\377'
expect 3 "dump of a clone store with a bad clone tree" "$dump" "$tmp/clonetree.img"
grep_out "Failed to read the clone tree of $tmp/clonetree.img: btree node block 6 has a bad checksum" "$tmp/err"
expect 4 "check of a clone store with a bad clone tree" "$dump" --check "$tmp/clonetree.img"
grep_out "^clones: unreadable: btree node block 6 has a bad checksum" "$tmp/out"
grep_out "problem: btree node block 6 has a bad checksum: stored 0x[0-9a-f]*, computed 0x[0-9a-f]* (a clone tree node)" "$tmp/out"

if [ "$fails" -ne 0 ]; then
	echo "shadow-dump.sh: $fails failed"
	exit 1
fi
echo "shadow-dump.sh: all passed"

#!/bin/bash
# Stores whose metadata checksums are all valid but whose content is
# inconsistent are refused: a real store made by the module is copied, and
# each copy gets one crafted edit (tools/craftstore.py rewrites a snapshot
# value or a superblock field and recomputes the block's checksum).  Each
# copy's shadow-origin load is refused with a kernel log line naming what is
# wrong (and no checksum complaint), and leaves the copy byte for byte as it
# was; shadow-dump --check does not call any of them clean.  A control copy
# with a consistent edit loads, which shows the crafted checksums are right.
# The original store still loads after all that and its snapshots read what
# they did.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

CRAFT="python3 $SHADOW_TOP/test/guest/tools/craftstore.py"
DUMP=$SHADOW_TOP/cmd/shadow-dump/shadow-dump
[ -x "$DUMP" ] || fail "$DUMP is not built: run make first"

origin=$(loop_disk 16)
store=$(loop_disk 16)

step "a real store: 3 snapshots, writes between them"
dd if=/dev/urandom of="$origin" bs=1M count=16 oflag=direct status=none
origin_load vol "$origin" "$store"
: >"$WORK/sums"
for id in 11 12 13; do
	echo "$id $(md5_of /dev/mapper/vol)" >>"$WORK/sums"
	snap_create vol "$id"
	dd if=/dev/urandom of=/dev/mapper/vol bs=64k seek=$((id * 7)) count=8 \
		oflag=direct status=none
done
[ "$(status_field vol 4)" = "3/8190" ] || fail "expected 3 snapshots, status $(dmsetup status vol)"
dmsetup remove vol
$CRAFT show "$store"
store_sum=$(md5_of "$store")

# crafted <case>: a loop device on a copy of the store with one crafted
# edit; sets copy (the device) and copy_file (its backing file).
crafted() {
	copy_file=$(mktemp "$WORK/crafted-$1.XXXXXX")
	dd if="$store" of="$copy_file" bs=1M iflag=direct status=none
	$CRAFT craft "$copy_file" "$1"
	copy=$(losetup --find --show "$copy_file")
}

# refused <case> <kernel log words...>: a shadow-origin on a crafted copy
# is refused, the kernel log gains every one of the words (and no checksum
# complaint: the refusal is for what the store says), no device is left
# and the copy is unchanged; shadow-dump --check exits 3 (corrupt) or 4
# (damage), not 0 (clean) nor 5 (leaks only: "safe to use").
refused() {
	local c=$1 before sum want rc=0
	shift
	step "crafted store: $c"
	crafted "$c"
	sum=$(md5sum <"$copy_file")
	before=$(dmesg | wc -l)
	if origin_load bad "$origin" "$copy" >"$WORK/refused.out" 2>&1; then
		dmsetup remove bad || true
		fail "$c: the crafted store was accepted"
	fi
	dmesg | tail -n +"$((before + 1))" >"$WORK/refused.log"
	cat "$WORK/refused.log"
	for want in "$@"; do
		grep -qF -- "$want" "$WORK/refused.log" ||
			fail "$c: refused without '$want' in the kernel log"
	done
	if grep -E "node_check failed|bad checksum|checksum is wrong" "$WORK/refused.log"; then
		fail "$c: refused for a checksum: the crafted block is not well formed"
	fi
	if dmsetup info bad >/dev/null 2>&1; then
		fail "$c: device bad exists after a refused load"
	fi
	[ "$(md5sum <"$copy_file")" = "$sum" ] ||
		fail "$c: the refused load changed the store"
	"$DUMP" --check "$copy" >"$WORK/dump.out" 2>&1 || rc=$?
	sed 's/^/  shadow-dump: /' "$WORK/dump.out" | grep -iE "problem|damage|fail|unknown|version|seq|result" || true
	case $rc in
	3 | 4) echo "$c: refused by the kernel; shadow-dump --check exit $rc" ;;
	*) fail "$c: shadow-dump --check exit $rc, expected 3 (corrupt) or 4 (damage)" ;;
	esac
	losetup -d "$copy"
	rm -f "$copy_file"
}

step "control: a consistent crafted edit loads and checks clean"
crafted control
"$DUMP" --check "$copy" >"$WORK/dump.out" 2>&1 ||
	{ cat "$WORK/dump.out"; fail "control: shadow-dump --check failed"; }
origin_load ctl "$origin" "$copy" ||
	fail "control: a store with a recomputed checksum was refused"
[ "$(status_field ctl 4)" = "3/8190" ] || fail "control: status $(dmsetup status ctl)"
dmsetup remove ctl
losetup -d "$copy"
rm -f "$copy_file"

# Snapshot tree (dm-shadow-snapset.c, dm-shadow-metadata.c): each DMERR
# names the snapshot, the table error says the tree is inconsistent.
tree="store's snapshot tree is inconsistent"
refused dup-seq "two snapshots have the same sequence 1" "$tree"
refused seq-zero "snapshot 11 has sequence 0, outside 1..3" "$tree"
refused seq-above-last "snapshot 11 has sequence 4, outside 1..3" "$tree"
refused bad-state "snapshot 11 has unknown state 7" "$tree"
refused bad-flags "snapshot 11 has unknown flags 0x80" "$tree"
refused id-mismatch "snapshot 1013 is filed under id 11" "$tree"
# refused_sb <case> <rule message> [<numbers>]: refused as above, and
# shadow-dump --check refused it by the same rule, in the same words.
refused_sb() {
	refused "$@"
	grep -qF -- "$2" "$WORK/dump.out" ||
		fail "$1: shadow-dump did not refuse it with '$2'"
}

# Superblock (shadow_md_check_sb, shadow_md_probe): the rules of
# dm-shadow-sb-check.h, which shadow-dump applies too (so --check refuses
# each of these stores for the same reason).
# known: revert (bit 0), journal (1), a row store's dead range (2), a
# clone store (3).
refused_sb incompat "store uses an incompatible feature this version does not know" \
	"(incompat_flags 0x22, known 0xf)"
refused_sb revert-state "store's revert state is inconsistent" "(revert_seq 0, at most"
refused_sb row-dropped "store's dropped versions are inconsistent" "(store_type 1, expected 2)"
refused_sb clone-bit "store's clone feature, type and clone tree disagree" "(incompat_flags 0x8, expected 0x0)"
refused_sb store-type "store has an unknown store type, not 1=cow, 2=row or 3=clone" \
	"(store_type 7, at most 3)"
refused_sb version1 "format version 1 (512-byte blocks updated in place) is no longer supported"
refused_sb version3 "store has a format version this version does not know" \
	"(version 3, supported up to 2)"
refused_sb root-outside "store's tree root is outside the metadata area (snapshot_root"
refused_sb data-limit "store's data limit is above its data chunks, or zero while it has some (data_limit"

step "the original store is untouched, loads, and its snapshots read what they did"
[ "$(md5_of "$store")" = "$store_sum" ] || fail "the original store changed"
origin_load vol "$origin" "$store"
[ "$(status_field vol 4)" = "3/8190" ] || fail "status $(dmsetup status vol)"
verify_sums vol "$WORK/sums"
dmsetup remove vol
store_check "$store"
echo "cow-crafted: every crafted store refused and left as it was"

#!/bin/bash
# Every bad input is refused with a kernel log line saying what is wrong,
# and changes nothing: no device is left behind, a formatted store and its
# snapshots are untouched.  The same inputs on a cow store, then on a row
# store (row-refused.sh: what only a row store refuses).
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

origin=$(loop_disk 16)
store=$(loop_disk 16)
# 256 KiB: less than the 614 metadata blocks a 16 MiB origin needs.
tiny=$(loop_disk 256K)
other=$(loop_disk 32)
size=$(sectors "$origin")

create() {	# create <name> <table>
	dmsetup create "$1" --table "$2"
}

no_device() {
	if dmsetup info "$1" >/dev/null 2>&1; then
		fail "device $1 exists after a refused load"
	fi
}

# refused_inputs <store type>: every case below, on a store formatted
# <store type> (the store is zeroed first).
refused_inputs() {
	local type=$1 store_sum garbage corrupt

	dd if=/dev/zero of="$store" bs=1M count=16 oflag=direct status=none
	step "$type: bad shadow-origin table lines"
	expect_refused "expected <origin_dev>" create bad "0 $size shadow-origin $origin $store $type"
	expect_refused "chunk_sectors must be a power of two" create bad "0 $size shadow-origin $origin $store $type 12"
	expect_refused "chunk_sectors must be a power of two" create bad "0 $size shadow-origin $origin $store $type 4"
	expect_refused "chunk_sectors must be a power of two" create bad "0 $size shadow-origin $origin $store $type 4096"
	expect_refused "chunk_sectors must be a power of two" create bad "0 $size shadow-origin $origin $store $type abc"
	expect_refused "unknown store type" create bad "0 $size shadow-origin $origin $store nosuch 8"
	expect_refused "feature count does not match" create bad "0 $size shadow-origin $origin $store $type 8 2 x"
	expect_refused "unknown feature" create bad "0 $size shadow-origin $origin $store $type 8 1 frobnicate"
	expect_refused "a read-only table cannot own a store" dmsetup create bad --readonly --table "0 $size shadow-origin $origin $store $type 8"
	expect_refused "origin and store must be different" create bad "0 $size shadow-origin $origin $origin $type 8"
	expect_refused "cover the whole origin" create bad "0 $((size - 8)) shadow-origin $origin $store $type 8"
	expect_refused "cannot open the store device" create bad "0 $size shadow-origin $origin /dev/nonexistent $type 8"
	expect_refused "store is too small" create bad "0 $size shadow-origin $origin $tiny $type 8"
	no_device bad
	cmp -s "$tiny" /dev/zero -n "$(blockdev --getsize64 "$tiny")" ||
		fail "a refused load wrote to the too-small store"

	step "$type: a formatted store with snapshots"
	origin_load vol "$origin" "$store" 8 "$type"
	snap_create vol 7
	dd if=/dev/urandom of=/dev/mapper/vol bs=64k count=4 oflag=direct status=none
	dmsetup remove vol
	store_sum=$(md5_of "$store")

	step "$type: stores that do not match the table"
	expect_refused "chunk size differs" create bad "0 $size shadow-origin $origin $store $type 16"
	expect_refused "origin size differs" create bad "0 $(sectors "$other") shadow-origin $other $store $type 8"
	no_device bad

	step "$type: a store with garbage and with a corrupted superblock"
	garbage=$(loop_disk 16)
	dd if=/dev/urandom of="$garbage" bs=4k count=1 conv=notrunc status=none
	expect_refused "bad magic" create bad "0 $size shadow-origin $origin $garbage $type 8"
	corrupt=$(loop_disk 16)
	dd if="$store" of="$corrupt" bs=1M status=none
	# Flip one byte inside the superblock's geometry (past magic and version).
	printf '\xff' | dd of="$corrupt" bs=1 seek=100 conv=notrunc status=none
	expect_refused "checksum is wrong" create bad "0 $size shadow-origin $origin $corrupt $type 8"
	no_device bad
	[ "$(md5_of "$store")" = "$store_sum" ] || fail "refused loads changed the store"

	step "$type: bad messages"
	origin_load vol "$origin" "$store" 8 "$type"
	expect_refused "the origin must be suspended" dmsetup message vol 0 create 8
	expect_refused "no such snapshot" dmsetup message vol 0 delete 99
	expect_refused "a snapshot with this id exists" \
		bash -c 'dmsetup suspend vol; r=0; dmsetup message vol 0 create 7 || r=$?; dmsetup resume vol; exit $r'
	expect_refused "unknown message" dmsetup message vol 0 frob 1
	expect_refused "expected 'create <id>'" dmsetup message vol 0 create
	expect_refused "expected 'create <id>'" dmsetup message vol 0 delete notanumber
	[ "$(status_field vol 4)" = "1/8190" ] || fail "refused messages changed the snapshot count"

	step "$type: bad shadow-snap table lines"
	expect_refused "expected <origin_dev> <snapshot_id>" create bad "0 $size shadow-snap $origin"
	expect_refused "no snapshot with this id" create bad "0 $size shadow-snap $origin 99"
	expect_refused "snapshot id must be a decimal" create bad "0 $size shadow-snap $origin x"
	expect_refused "not the origin of a loaded shadow-origin" create bad "0 $size shadow-snap $other 7"
	expect_refused "exactly as long as the origin" create bad "0 $((size / 2)) shadow-snap $origin 7"
	expect_refused "unknown feature" create bad "0 $size shadow-snap $origin 7 1 frob"
	no_device bad
	snap_open vol 7 s7
	expect_refused "still uses it" dmsetup message vol 0 delete 7
	expect_refused "expected 'seal'" dmsetup message s7 0 frob
	dmsetup remove s7
	[ "$(status_field vol 4)" = "1/8190" ] || fail "refused input changed the snapshot count"
	dmsetup message vol 0 delete 7
	dmsetup remove vol
}

refused_inputs cow
refused_inputs row
echo "cow-refused: every bad input refused on cow and row stores, nothing changed"

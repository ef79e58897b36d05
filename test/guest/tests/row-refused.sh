#!/bin/bash
# Bad input around the row store is refused with a kernel log line saying
# what is wrong, and changes nothing: a store of the other type, a revert
# to a snapshot that is not the newest, fold_rate without or with a bad
# rate, fold_rate to a cow store.  The store, its snapshots and the volume
# are untouched.
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

origin=$(loop_disk 16)
store=$(loop_disk 32)
cowstore=$(loop_disk 32)
size=$(sectors "$origin")
dd if=/dev/urandom of="$origin" bs=1M count=16 oflag=direct status=none

create() {	# create <name> <table>
	dmsetup create "$1" --table "$2"
}

no_device() {
	if dmsetup info "$1" >/dev/null 2>&1; then
		fail "device $1 exists after a refused load"
	fi
}

step "a row store with two snapshots and versions"
origin_load vol "$origin" "$store" 8 row
snap_create vol 4
sum4=$(md5_of /dev/mapper/vol)
dd if=/dev/urandom of=/dev/mapper/vol bs=64k count=4 seek=8 oflag=direct status=none
snap_create vol 5
sum5=$(md5_of /dev/mapper/vol)
dd if=/dev/urandom of=/dev/mapper/vol bs=64k count=8 oflag=direct status=none
live=$(md5_of /dev/mapper/vol)

step "messages a row store refuses"
dmsetup suspend vol
list=$(dmsetup message vol 0 list)
status=$(status_contents vol)
expect_refused "revert 4: a row store reverts to its newest snapshot only (5)" \
	dmsetup message vol 0 revert 4
[ "$(status_contents vol)" = "$status" ] && [ "$(dmsetup message vol 0 list)" = "$list" ] ||
	fail "a refused revert changed the store: $(dmsetup status vol)"
dmsetup resume vol
status=$(dmsetup status vol)
expect_refused "fold_rate: expected" dmsetup message vol 0 fold_rate
expect_refused "fold_rate: expected" dmsetup message vol 0 fold_rate fast
expect_refused "fold_rate: expected" dmsetup message vol 0 fold_rate 4294967296
expect_refused "fold_rate: expected" dmsetup message vol 0 fold_rate 1 2
[ "$(dmsetup status vol)" = "$status" ] ||
	fail "a refused message changed the status: $(dmsetup status vol)"
[ "$(status_field vol 15)" = 0 ] || fail "fold_rate is $(status_field vol 15), expected 0"
dmsetup message vol 0 fold_rate 16
[ "$(status_field vol 15)" = 16 ] || fail "fold_rate 16 not taken: $(dmsetup status vol)"
dmsetup message vol 0 fold_rate 0
dmsetup remove vol
store_sum=$(md5_of "$store")

step "a store of the other type"
expect_refused "type differs" create bad "0 $size shadow-origin $origin $store cow 8"
no_device bad
[ "$(md5_of "$store")" = "$store_sum" ] || fail "a refused load changed the row store"
origin_load cvol "$origin" "$cowstore" 8 cow
dmsetup remove cvol
cow_sum=$(md5_of "$cowstore")
expect_refused "type differs" create bad "0 $size shadow-origin $origin $cowstore row 8"
no_device bad
[ "$(md5_of "$cowstore")" = "$cow_sum" ] || fail "a refused load changed the cow store"

step "fold_rate to a cow store"
origin_load cvol "$origin" "$cowstore" 8 cow
expect_refused "unknown message 'fold_rate'" dmsetup message cvol 0 fold_rate 4
[ "$(status_field cvol 14)" = - ] && [ "$(status_field cvol 15)" = - ] ||
	fail "a cow store shows fold fields: $(dmsetup status cvol)"
dmsetup remove cvol

step "the row store is as it was"
origin_load vol "$origin" "$store" 8 row
[ "$(md5_of /dev/mapper/vol)" = "$live" ] || fail "the live volume changed"
verify_snap vol 4 "$sum4"
verify_snap vol 5 "$sum5"
dmsetup remove vol
echo "row-refused: every bad input refused, nothing changed"

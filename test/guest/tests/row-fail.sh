#!/bin/bash
# A row store that fails.  The live volume's newest data is in the store:
# with the store device gone, a read of a redirected chunk fails with EIO
# (the origin's stale data is never returned), a chunk never redirected
# still reads the origin, which holds its live data, and a write that
# needs a new version fails with EIO and fails the store; from then on
# every I/O to the live volume and to its snapshots fails with EIO.  The
# origin device is not written.  With the store device back and the table
# reloaded, every flushed write is there and the snapshot reads its point
# in time.
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

origin=$(loop_disk 16)
sdisk=$(loop_disk 32)
ssz=$(sectors "$sdisk")
dmsetup create fstore --table "0 $ssz linear $sdisk 0"
dd if=/dev/urandom of="$origin" bs=1M count=16 oflag=direct status=none

# must_fail <what> <dd arguments...>: the dd must fail with EIO.
must_fail() {
	local what=$1
	shift
	if dd "$@" status=none 2>"$WORK/err"; then
		fail "$what succeeded with the store gone"
	fi
	matches -i "input/output error" "$WORK/err" ||
		fail "$what failed, but not with EIO: $(cat "$WORK/err")"
	echo "$what: EIO, as it should"
}

step "a row volume with a snapshot and flushed writes in the store"
origin_load vol "$origin" /dev/mapper/fstore 8 row
snap_create vol 1
sum1=$(md5_direct /dev/mapper/vol)
dd if=/dev/urandom of=/dev/mapper/vol bs=64k count=16 oflag=direct conv=fsync status=none
live=$(md5_direct /dev/mapper/vol)
osum=$(md5_direct "$origin")
c100=$(dd if=/dev/mapper/vol bs=64k count=1 skip=100 iflag=direct status=none | md5sum)

step "the store fails: live and snapshot I/O fail with EIO"
dmsetup load fstore --table "0 $ssz error"
dmsetup suspend fstore
dmsetup resume fstore
must_fail "a read of a redirected chunk" if=/dev/mapper/vol of=/dev/null bs=64k count=1 iflag=direct
[ "$(dd if=/dev/mapper/vol bs=64k count=1 skip=100 iflag=direct status=none | md5sum)" = "$c100" ] ||
	fail "a chunk never redirected does not read the origin's data"
must_fail "a write that needs a new version" if=/dev/zero of=/dev/mapper/vol bs=4k count=1 seek=3200 oflag=direct
[ "$(status_field vol 6)" = fail ] || fail "the store is not failed: $(dmsetup status vol)"
must_fail "then a read of a chunk never redirected" if=/dev/mapper/vol of=/dev/null bs=64k count=1 skip=100 iflag=direct
if snap_open vol 1 s1 2>/dev/null; then
	must_fail "a read of the snapshot" if=/dev/mapper/s1 of=/dev/null bs=64k count=1 skip=100 iflag=direct
	dmsetup remove s1
else
	echo "the snapshot device is refused on a failed store"
fi
dmsetup remove vol
[ "$(md5_direct "$origin")" = "$osum" ] || fail "the origin device was written"

step "the store back: every flushed write, the snapshot exact"
dmsetup load fstore --table "0 $ssz linear $sdisk 0"
dmsetup suspend fstore
dmsetup resume fstore
origin_load vol "$origin" /dev/mapper/fstore 8 row
[ "$(md5_direct /dev/mapper/vol)" = "$live" ] || fail "a flushed write was lost"
snap_open vol 1 s1
[ "$(md5_direct /dev/mapper/s1)" = "$sum1" ] || fail "snapshot 1 does not read its point in time"
dmsetup remove s1
dmsetup remove vol
store_check /dev/mapper/fstore leaks-ok
dmsetup remove fstore
echo "row-fail: EIO while the store is gone, nothing lost"

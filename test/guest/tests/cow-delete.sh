#!/bin/bash
# Deleting snapshots frees exactly the store chunks no remaining snapshot
# needs, in any order of deletion, and the remaining snapshots stay exact.
#
# Snapshot A; write chunks 0-9; snapshot B; write chunks 0-9 again;
# snapshot C; write chunks 20-29.  The store then holds 30 copies:
#   chunks 0-9:   one copy for A (serves A only), one for B (serves B only)
#   chunks 20-29: one copy for C, serving A, B and C (none of them had
#                 seen chunks 20-29 change)
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

origin=$(loop_disk 8)
store=$(loop_disk 16)

# write_chunks <first> <count>: new random data into 4 KiB chunks.
write_chunks() {
	dd if=/dev/urandom of=/dev/mapper/vol bs=4k seek="$1" count="$2" \
		oflag=direct status=none
}

expect_used() {
	local got
	got=$(used_chunks vol)
	[ "$got" = "$1" ] || fail "$2: $got chunks in use, expected $1"
	echo "$2: $got chunks in use"
}

# scenario <deletion order...>: expected use after each deletion follows
# from the sharing above; verify the survivors each time.
declare -A sum
scenario() {
	local order="$*" id
	step "delete in the order $order"
	dd if=/dev/zero of="$store" bs=1M count=1 conv=notrunc status=none
	dd if=/dev/urandom of="$origin" bs=1M count=8 oflag=direct status=none
	origin_load vol "$origin" "$store"
	snap_create vol 1
	sum[1]=$(md5_of /dev/mapper/vol)
	write_chunks 0 10
	snap_create vol 2
	sum[2]=$(md5_of /dev/mapper/vol)
	write_chunks 0 10
	snap_create vol 3
	sum[3]=$(md5_of /dev/mapper/vol)
	write_chunks 20 10
	expect_used 30 "three snapshots"
	for id in "$@"; do
		dmsetup message vol 0 delete "$id"
		unset "sum[$id]"
		expect_used "$(expected_after "${!sum[@]}")" "after deleting $id"
		for left in "${!sum[@]}"; do
			verify_snap vol "$left" "${sum[$left]}"
		done
	done
	dmsetup remove vol
}

# expected_after <surviving ids...>: copies still needed.
expected_after() {
	local a=0 b=0 c=0 n=0
	for id in "$@"; do
		case $id in 1) a=1 ;; 2) b=1 ;; 3) c=1 ;; esac
	done
	[ $a = 1 ] && n=$((n + 10))	# chunks 0-9, copy for A
	[ $b = 1 ] && n=$((n + 10))	# chunks 0-9, copy for B
	[ $((a + b + c)) -gt 0 ] && n=$((n + 10))	# chunks 20-29
	echo $n
}

scenario 2 1 3
scenario 1 3 2
scenario 3 2 1
echo "cow-delete: every order frees exactly what is no longer needed"

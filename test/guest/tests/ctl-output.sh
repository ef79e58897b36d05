#!/bin/bash
# shadowctl list output against golden files: a known state (two volumes
# on loop disks, two sets, a copy exposed and mounted, known writes on the
# origins) and every kind of list with and without -o, -O, -n and -J,
# compared with test/guest/golden/ctl-output/<kind>.txt after normalise()
# below.  A difference prints a diff and fails (after all kinds are
# compared).  Also: -n is the table without its heading line.
#
# The normalised output of this run is kept in the run dir,
# .cache/guest/runs/<ver>/ctl-output/boot1/ctl-output/<kind>.txt; after a
# deliberate change of the output, review it and copy it over the golden
# files.
# guest-timeout: 300
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

golden=$SHADOW_TOP/test/guest/golden/ctl-output
got=$RESULTS/ctl-output
mnt=/mnt/ctl-output
mkdir -p "$got"

# normalise: what differs between runs, in forms of the same length so
# that the tables' alignment is still compared:
#  - times (created, enabled)        -> YYYY-MM-DDTHH:MM:SSZ
#  - freeze windows in µs: JSON      -> "freeze_us": F
#    and in a table, the right-aligned field of 10 after a time
#                                    -> "         F"
#  - loop device numbers             -> /dev/loopN (the test's loop
#    devices are the guest's first ones, one digit each)
#  - target versions (list providers) -> each digit N: 1.10.0 -> N.NN.N
normalise() {
	sed -E \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/YYYY-MM-DDTHH:MM:SSZ/g' \
		-e 's/"freeze_us": [0-9]+/"freeze_us": F/' \
		-e 's/SSZ [ 0-9]{9}[0-9] /SSZ          F /' \
		-e 's#/dev/loop[0-9]+#/dev/loopN#g' |
		perl -pe 's/\b(\d+\.\d+\.\d+)\b/$1 =~ tr{0-9}{N}r/ge'
}

# show <file> <args...>: append "$ shadowctl <args>" and the output to
# the transcript <file>.
show() {
	local file=$1
	shift
	echo "\$ shadowctl $*" >>"$file"
	ctl "$@" >>"$file" || fail "shadowctl $* failed"
}

# After a failure, leave nothing that would keep dm-shadow loaded, so the
# verdict names the failure and not a leaked reference.
finished=0
cleanup() {
	[ "$finished" = 1 ] && return
	umount "$mnt" 2>/dev/null || true
	dmsetup remove_all 2>/dev/null || true
	losetup -D 2>/dev/null || true
}
trap cleanup EXIT

step "a known state: two volumes, two sets, one exposed and mounted copy"
a_origin=$(loop_disk 16)
a_store=$(loop_disk 8)
b_origin=$(loop_disk 16)
b_store=$(loop_disk 8)
for d in "$a_origin" "$a_store" "$b_origin" "$b_store"; do
	case $d in /dev/loop[0-9]) ;; *) fail "$d: not one of the first ten loop devices" ;; esac
done
ctl enable "$a_origin" --store "$a_store" --name alpha
ctl enable "$b_origin" --store "$b_store" --name beta --chunk-size 64K
mkfs.ext4 -q -F /dev/mapper/alpha
ctl create alpha beta
# Known copy-outs: 32 chunks of alpha past its file system's metadata,
# 8 chunks (512 KiB) of beta; then a second set of beta alone.
dd if=/dev/urandom of=/dev/mapper/alpha bs=4k seek=3072 count=32 oflag=direct status=none
dd if=/dev/urandom of=/dev/mapper/beta bs=64k count=8 oflag=direct status=none
ctl create beta
mkdir -p "$mnt"	# a fixed path: it is listed
ctl expose 1 --mount "$mnt"

step "list each kind"
kinds="shadows sets volumes providers storage"
declare -A custom=(
	[shadows]="id,volume,state,mountpoint"
	[sets]="id,count,state"
	[volumes]="name,dm-name,chunk"
	[providers]="name,usable"
	[storage]="volume,chunk,used-chunks,total-chunks,use%"
)
declare -A custom_json=(
	[shadows]="id,device,writable"
	[sets]="id,count"
	[volumes]="name,chunk_size"
	[providers]="usable,name"
	[storage]="volume,used_chunks,used_bytes"
)
for k in $kinds; do
	f=$WORK/$k.txt
	: >"$f"
	show "$f" list "$k"
	show "$f" list "$k" -n
	show "$f" list "$k" -O
	show "$f" list "$k" -o "${custom[$k]}"
	show "$f" list "$k" -n -o "${custom[$k]}"
	show "$f" list "$k" -J
	show "$f" list "$k" -J -o "${custom_json[$k]}"
	normalise <"$f" >"$got/$k.txt"

	# -n is the same table without its first line.
	ctl list "$k" | tail -n +2 >"$WORK/headed"
	ctl list "$k" -n >"$WORK/plain"
	cmp -s "$WORK/headed" "$WORK/plain" ||
		fail "list $k -n is not list $k without its heading line"
done
f=$WORK/default.txt
: >"$f"
show "$f" list
show "$f" list -o +snapshot,writable
show "$f" -J list -o id,set,volume,method,created,state,device
normalise <"$f" >"$got/default.txt"

step "compare with $golden"
bad=0
for k in $kinds default; do
	if diff -u "$golden/$k.txt" "$got/$k.txt"; then
		echo "list $k: as golden"
	else
		echo "list $k: differs from golden (above)"
		bad=1
	fi
done
[ "$bad" = 0 ] || fail "shadowctl list output differs from the golden files"

step "clean up"
ctl unexpose 1
ctl delete --set 1
ctl delete --set 2
ctl disable alpha
ctl disable beta
losetup -d "$a_origin" "$a_store" "$b_origin" "$b_store"
finished=1
echo "ctl-output: ok"

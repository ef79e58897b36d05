#!/bin/bash
# Changed-block tracking and export, measured (issue 15), run by hand, not
# by the suite (it is not in LIST):
#   test/guest/run-one 6.1 bench-cbt
# 1. shadowctl diff time on a 64 GiB origin (dm-zero: writes are free, the
#    store still copies each chunk) of 1 MiB chunks with 1% of its chunks
#    changed between two copies, against a 1 GiB origin with the same
#    number of chunks changed and a 64 GiB one with 16 changed: the cost
#    follows the changed chunks, not the volume's size.
# 2. Incremental export size against the changed data: a 256 MiB volume of
#    random data, 4 KiB chunks, 1% of it rewritten with random 4 KiB blocks.
# Each diff must be exactly the chunks written.  Results also go to
# $RESULTS/bench-cbt.txt.
# guest-timeout: 1800
# guest-mem: 3072
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

out=$RESULTS/bench-cbt.txt
: >"$out"
report() {
	echo "$*" | tee -a "$out"
}

# touch_chunks <dev> <chunk bytes> <how many> <of how many>: 4 KiB written
# at the start of that many distinct random chunks.
touch_chunks() {
	python3 - "$@" <<-'PY'
	import mmap, os, random, sys
	dev, chunk, n, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
	buf = mmap.mmap(-1, 4096)
	buf.write(os.urandom(4096))
	for c in random.Random(15).sample(range(total), n):
	    os.pwrite(fd, buf, c * chunk)
	os.close(fd)
	PY
}

new_copy() {
	ctl -J create "$1" --no-writers | python3 -c 'import json,sys; print(json.load(sys.stdin)["set"]["shadows"][0]["id"])'
}

# timed_diff <label> <volume bytes> <a> <b> <expected changed bytes>
timed_diff() {
	local t0 t1 got
	t0=$(date +%s%N)
	ctl -J diff "$3" "$4" >"$WORK/diff.json"
	t1=$(date +%s%N)
	got=$(json "$WORK/diff.json" 'd["changed_bytes"]')
	[ "$got" = "$5" ] || fail "$1: diff says $got bytes changed, $5 were"
	report "diff  $1: $(($2 >> 30)) GiB volume, $(($5 >> 20)) MiB changed in $(json "$WORK/diff.json" 'd["ranges_count"]') ranges: $(((t1 - t0) / 1000000)) ms"
}

# zero_volume <name> <GiB> <store MiB>: a dm-zero origin of 1 MiB chunks,
# taken over in place (it keeps its name).
zero_volume() {
	dmsetup create "$1" --table "0 $(($2 << 21)) zero"
	ctl enable "/dev/mapper/$1" --store "$(loop_disk "$3")" --chunk-size 1M >/dev/null
}

step "diff time against the volume's size and the changed chunks"
zero_volume big 64 800
a=$(new_copy big)
touch_chunks /dev/mapper/big $((1 << 20)) 655 65536
b=$(new_copy big)
touch_chunks /dev/mapper/big $((1 << 20)) 16 65536
c=$(new_copy big)
timed_diff "64 GiB, 1% of the chunks" $((64 << 30)) "$a" "$b" $((655 << 20))
# The 16 chunks of the second round may fall on chunks of the first: count.
n16=$(ctl -J diff "$b" "$c" | python3 -c 'import json,sys; print(json.load(sys.stdin)["changed_bytes"])')
[ "$n16" = $((16 << 20)) ] || fail "16 chunks written, diff says $n16 bytes"
timed_diff "64 GiB, 16 chunks" $((64 << 30)) "$b" "$c" $((16 << 20))
zero_volume small 1 700
a=$(new_copy small)
touch_chunks /dev/mapper/small $((1 << 20)) 655 1024
b=$(new_copy small)
timed_diff "1 GiB, 655 chunks (64%)" $((1 << 30)) "$a" "$b" $((655 << 20))
ctl disable big --force >/dev/null
ctl disable small --force >/dev/null
# Their stores hold 1.3 GiB of tmpfs: give it back.
dmsetup remove big
dmsetup remove small
losetup -D
rm -f "$WORK"/loop.*

step "incremental export size against the changed data"
origin=$(loop_disk 256)
dd if=/dev/urandom of="$origin" bs=1M count=256 oflag=direct status=none
ctl enable "$origin" --store "$(loop_disk 64)" --name vol >/dev/null
a=$(new_copy vol)
touch_chunks /dev/mapper/vol 4096 655 65536
b=$(new_copy vol)
t0=$(date +%s%N)
ctl -J export "$b" --since "$a" -o "$WORK/inc" >"$WORK/export.json"
t1=$(date +%s%N)
data=$(json "$WORK/export.json" 'd["data_bytes"]')
bytes=$(json "$WORK/export.json" 'd["stream_bytes"]')
[ "$data" = $((655 * 4096)) ] || fail "export covers $data bytes, $((655 * 4096)) changed"
report "export 256 MiB volume, $data bytes changed (1%): stream $bytes bytes," \
	"$(python3 -c "print('%.2f' % (100.0 * ($bytes - $data) / $data))")% over the changed data, $(((t1 - t0) / 1000000)) ms"
[ "$bytes" -le $((data + data / 100)) ] || fail "the stream is more than 1% over the changed data"
ctl disable vol --force >/dev/null

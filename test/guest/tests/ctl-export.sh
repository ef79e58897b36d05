#!/bin/bash
# shadowctl export and import, byte for byte: three copies s1, s2, s3 of a
# 16 MiB volume of 4 KiB chunks with random writes between them (and after
# s3), a full stream of s1 and incremental s1->s2 and s2->s3 imported in
# turn into an image file must equal s3's device (sha256); the incremental
# streams carry about the changed data only; a pipe works both ways
# (export -o - | import -).  Refused with nothing written (the target's
# sha256 before and after, exit 9 or 8): an incremental stream applied on
# the wrong base, the stream cut at every 10%, bytes flipped in its header,
# a record, its data and its trailer, a stream of an unknown version; a
# full stream cut short creates no image.  --json of diff, export and
# import is parsed.  The exposed copy is read as it is; others through a
# temporary device, removed afterwards, also when the reader goes away or
# the export is stopped by SIGTERM (and the metadata snapshot released).
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

origin=$(loop_disk 16)
store=$(loop_disk 32)
dd if=/dev/urandom of="$origin" bs=1M count=16 oflag=direct status=none
ctl enable "$origin" --store "$store" --name vol
S=$WORK/streams
mkdir -p "$S"

# scribble <n>: n random 4 KiB writes at random places, and a zeroed 64 KiB.
scribble() {
	python3 - "$1" <<-'PY'
	import os, random, sys
	fd = os.open("/dev/mapper/vol", os.O_WRONLY)
	for _ in range(int(sys.argv[1])):
	    os.pwrite(fd, os.urandom(4096), random.randrange(4096) * 4096)
	os.pwrite(fd, bytes(65536), random.randrange(256) * 65536)
	os.fsync(fd)
	PY
}

new_copy() {
	ctl -J create vol --no-writers | python3 -c 'import json,sys; print(json.load(sys.stdin)["set"]["shadows"][0]["id"])'
}

# sha_of <copy id>: sha256 of the copy's data, read through an exposed device.
sha_of() {
	ctl expose "$1" --name "sha-$1" >/dev/null
	sha256sum <"/dev/mapper/sha-$1" | cut -d' ' -f1
	ctl unexpose "$1" >/dev/null
}

sha() {
	if [ -e "$1" ]; then sha256sum <"$1" | cut -d' ' -f1; else echo absent; fi
}

step "three copies with writes between"
s1=$(new_copy)
scribble 200
s2=$(new_copy)
scribble 100
s3=$(new_copy)
scribble 50
sha1=$(sha_of "$s1")
sha2=$(sha_of "$s2")
sha3=$(sha_of "$s3")
[ "$sha1" != "$sha2" ] && [ "$sha2" != "$sha3" ] || fail "the copies do not differ"

step "export: s1 full, s1->s2 and s2->s3 incremental (s3 exposed, read as it is)"
ctl expose "$s3" --name exposed-s3 >/dev/null
ctl -J export "$s1" -o "$S/full1" >"$WORK/e1.json"
ctl -J export "$s2" --since "$s1" -o "$S/inc12" >"$WORK/e12.json"
ctl -J export "$s3" --since "$s2" -o "$S/inc23" >"$WORK/e23.json"
cat "$WORK/e12.json"
[ "$(json "$WORK/e12.json" 'd["incremental"]')" = True ] || fail "export --json: incremental"
[ "$(json "$WORK/e12.json" 'd["since"]')" = "$s1" ] || fail "export --json: since"
[ "$(json "$WORK/e1.json" 'd["since"]')" = None ] || fail "export --json: since of a full stream"
[ "$(json "$WORK/e1.json" 'd["data_bytes"]')" = $((16 << 20)) ] || fail "a full stream covers the volume"
[ "$(json "$WORK/e12.json" 'd["stream_bytes"]')" = "$(stat -c %s "$S/inc12")" ] ||
	fail "export --json: stream_bytes is not the file's size"
dmsetup ls | matches shadow-export && fail "a temporary export device was left: $(dmsetup ls)"
dmsetup info exposed-s3 >/dev/null || fail "export removed the exposed device"
ctl unexpose "$s3" >/dev/null

step "diff --json: the incremental stream carries the changed data, and little else"
ctl -J diff "$s1" "$s2" >"$WORK/d12.json"
changed=$(json "$WORK/d12.json" 'd["changed_bytes"]')
data=$(json "$WORK/e12.json" 'd["data_bytes"]')
bytes=$(json "$WORK/e12.json" 'd["stream_bytes"]')
[ "$changed" = "$data" ] || fail "diff says $changed bytes changed, the stream covers $data"
echo "s1->s2: $changed bytes changed, stream $bytes bytes"
[ "$bytes" -le $((changed + changed / 100 + 256)) ] || fail "stream of $bytes bytes for $changed changed"
[ "$changed" -lt $((16 << 20)) ] || fail "the diff is the whole volume"

step "import the chain into an image: equals s3"
img=$WORK/img
ctl -J import "$S/full1" --to "$img" >"$WORK/i1.json"
[ "$(json "$WORK/i1.json" 'd["shadow"]')" = "$s1" ] || fail "import --json: shadow"
[ "$(sha "$img")" = "$sha1" ] || fail "the image after the full stream is not s1"
cp "$img" "$WORK/img-s1"
ctl import "$S/inc12" --to "$img"
[ "$(sha "$img")" = "$sha2" ] || fail "the image after s1->s2 is not s2"
cp "$img" "$WORK/img-s2"
ctl import "$S/inc23" --to "$img"
[ "$(sha "$img")" = "$sha3" ] || fail "the image after s2->s3 is not s3"

step "refused: an incremental stream on the wrong base (exit 9, nothing written)"
before=$(sha "$WORK/img-s1")
expect_exit 9 "is not the stream's base" ctl import "$S/inc23" --to "$WORK/img-s1"
[ "$(sha "$WORK/img-s1")" = "$before" ] || fail "a refused import wrote to its target"
expect_exit 9 "is not the stream's base" ctl import "$S/inc12" --to "$img"
[ "$(sha "$img")" = "$sha3" ] || fail "a refused import wrote to its target"

step "refused: a device in use (the volume's own, held by its dm device)"
before=$(sha "$origin")
expect_exit 3 "is in use" ctl import "$S/full1" --to "$origin"
[ "$(sha "$origin")" = "$before" ] || fail "a refused import wrote to a device in use"

step "refused: the stream cut at every 10% (exit 8, nothing written)"
size=$(stat -c %s "$S/inc23")
for pct in 0 10 20 30 40 50 60 70 80 90; do
	head -c $((size * pct / 100)) "$S/inc23" >"$S/cut"
	expect_exit 8 "truncated" ctl import "$S/cut" --to "$WORK/img-s2"
	[ "$(sha "$WORK/img-s2")" = "$sha2" ] || fail "a cut stream ($pct%) wrote to its target"
done
head -c $(($(stat -c %s "$S/full1") / 2)) "$S/full1" >"$S/cut"
expect_exit 8 "truncated" ctl import "$S/cut" --to "$WORK/new-img"
[ ! -e "$WORK/new-img" ] || fail "a cut full stream created its image"

step "refused: flipped bytes (exit 8, nothing written)"
# header, first record's header, its data, the middle, the trailer.
for at in 20 130 200 $((size / 2)) $((size - 10)); do
	cp "$S/inc23" "$S/flip"
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x10]))' "$S/flip" "$at"
	expect_exit 8 "corrupt" ctl import "$S/flip" --to "$WORK/img-s2"
	[ "$(sha "$WORK/img-s2")" = "$sha2" ] || fail "a corrupt stream (byte $at) wrote to its target"
done
cp "$S/inc23" "$S/v2"
python3 -c 'import struct, sys, zlib
f = open(sys.argv[1], "r+b"); h = bytearray(f.read(128)); h[8:12] = struct.pack("<I", 2)
f.seek(0); f.write(h)' "$S/v2"
expect_exit 8 "" ctl import "$S/v2" --to "$WORK/img-s2"
[ "$(sha "$WORK/img-s2")" = "$sha2" ] || fail "a stream of another version wrote to its target"

step "a pipe both ways: export -o - | import -, progress not on a non-terminal"
ctl export "$s3" --since "$s2" -o - 2>"$WORK/export.err" |
	ctl import - --to "$WORK/img-s2" 2>"$WORK/import.err" ||
	fail "export | import: $(cat "$WORK/export.err" "$WORK/import.err")"
[ "$(sha "$WORK/img-s2")" = "$sha3" ] || fail "the piped import is not s3"
grep -q '%' "$WORK/export.err" "$WORK/import.err" && fail "progress printed to a non-terminal"
head -c $((size / 2)) "$S/inc23" | ctl import - --to "$img" 2>"$WORK/err" && fail "a cut piped stream was applied"
[ "$(sha "$img")" = "$sha3" ] || fail "a cut piped stream wrote to its target"

step "a reader that goes away, and SIGTERM: the metadata snapshot released, devices removed"
{ ctl export "$s3" --since "$s1" -o - 2>"$WORK/err" && echo 0 >"$WORK/rc" || echo $? >"$WORK/rc"; } |
	head -c 1000 >/dev/null
rc=$(cat "$WORK/rc")
[ "$rc" = 5 ] || fail "export to a closed pipe: exit $rc ($(cat "$WORK/err"))"
grep -q "Broken pipe" "$WORK/err" || fail "export to a closed pipe: $(cat "$WORK/err")"
dmsetup ls | matches shadow-export && fail "a temporary export device was left: $(dmsetup ls)"
dmsetup message vol 0 reserve_metadata_snap || fail "export left the metadata snapshot held"
dmsetup message vol 0 release_metadata_snap
# A reader that holds the pipe open and never reads: the export blocks
# with the metadata snapshot held, and SIGTERM must still stop it.
mkfifo "$S/fifo"
sleep 600 <"$S/fifo" &
reader=$!
# The binary itself (not the ctl function's subshell), so that $! is its pid.
LD_LIBRARY_PATH=$SHADOW_TOP/lib/.libs "$SHADOW_TOP/cmd/shadowctl/.libs/shadowctl" \
	export "$s3" --since "$s1" -o - >"$S/fifo" 2>"$WORK/err" &
pid=$!
sleep 3
dmsetup message vol 0 reserve_metadata_snap 2>/dev/null &&
	fail "the blocked export holds no metadata snapshot (finished already? $(cat "$WORK/err"))"
kill -TERM "$pid"
# Bounded, so a signal that fails to stop it is this test's failure, not
# the harness's timeout.
for _ in $(seq 60); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 1
done
kill -0 "$pid" 2>/dev/null && fail "export still running 60 s after SIGTERM: $(cat "$WORK/err")"
rc=0
wait "$pid" || rc=$?
kill "$reader"
[ "$rc" = 143 ] || fail "export killed with SIGTERM: exit $rc ($(cat "$WORK/err"))"
dmsetup ls | matches shadow-export && fail "a temporary export device was left: $(dmsetup ls)"
dmsetup message vol 0 reserve_metadata_snap || fail "a stopped export left the metadata snapshot held"
dmsetup message vol 0 release_metadata_snap

ctl disable vol --force
store_check "$store"
echo "ctl-export: the chain equals s3 byte for byte; every bad stream refused, nothing written"

#!/bin/bash
# shadowctl diff against what was written (tools/ctldiff.py): 256 shadow
# copies of a volume of 16 KiB chunks made with shadowctl create, a few
# 4 KiB writes after each, every 7th copy after the 16th deleting an older
# one; after 1, 16 and 256 copies, sampled pairs (both orders, while the
# volume is written) and sampled copies against the live volume must be
# exactly the chunks written between them, in JSON (parsed) and in text.
# The metadata snapshot each diff reserves is released after it, also when
# the diff is refused; a metadata snapshot held by someone else refuses a
# diff (exit 3) and is left alone; copies of two volumes are refused.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

origin=$(loop_disk 16)
store=$(loop_disk 48)
dd if=/dev/urandom of="$origin" bs=1M count=16 oflag=direct status=none
ctl enable "$origin" --store "$store" --name vol --chunk-size 16K

# held: "yes" when vol's store holds a metadata snapshot (a reserve is refused).
held() {
	dmsetup message vol 0 reserve_metadata_snap 2>/dev/null && {
		dmsetup message vol 0 release_metadata_snap
		echo no
		return
	}
	echo yes
}

step "256 copies with writes between, diffs checked after 1, 16 and 256"
python3 "$SHADOW_TOP/test/guest/tools/ctldiff.py" \
	env LD_LIBRARY_PATH="$SHADOW_TOP/lib/.libs" "$SHADOW_TOP/cmd/shadowctl/.libs/shadowctl" \
	-- vol 16384 256 3 20261204 || fail "a diff differs from what was written"
[ "$(held)" = no ] || fail "a diff left its metadata snapshot held"

step "refusals: unknown copy, copies of two volumes, a metadata snapshot already held"
first=$(ctl -J list shadows | python3 -c 'import json,sys; print(json.load(sys.stdin)["shadows"][-1]["id"])')
expect_exit 2 "no such shadow copy" ctl diff 99999
[ ! -s "$WORK/out" ] || fail "a refused diff printed $(cat "$WORK/out")"
dmsetup message vol 0 reserve_metadata_snap
expect_exit 3 "holds a metadata snapshot already" ctl -J diff "$first"
[ ! -s "$WORK/out" ] || fail "a refused diff printed $(cat "$WORK/out")"
[ "$(held)" = yes ] || fail "a refused diff released someone else's metadata snapshot"
dmsetup message vol 0 release_metadata_snap

origin2=$(loop_disk 8)
store2=$(loop_disk 8)
ctl enable "$origin2" --store "$store2" --name vol2
id2=$(ctl -J create vol2 --no-writers | python3 -c 'import json,sys; print(json.load(sys.stdin)["set"]["shadows"][0]["id"])')
expect_exit 3 "copies of different volumes" ctl diff "$first" "$id2"
[ "$(held)" = no ] || fail "a refused diff left a metadata snapshot held"

ctl disable vol2 --force
ctl disable vol --force
store_check "$store"
echo "ctl-diff: every diff was exactly the chunks written"

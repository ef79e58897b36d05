#!/bin/bash
# A three-volume set whose third volume fails mid-create (its store dies:
# reloaded with the error target after enable) leaves nothing behind: no
# snapshot in any volume, no stray dm device, every volume resumed and
# writable, nothing in the catalog; the error names the volume and step.
# guest-timeout: 400
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

for v in a b c; do
	eval "o_$v=\$(loop_disk 32)"
	eval "s_$v=\$(loop_disk 24)"
done
# c's store is a dm device, so it can be made to fail later.
dmsetup create st-c --table "0 $(sectors "$s_c") linear $s_c 0"
ctl enable "$o_a" --store "$s_a" --name a
ctl enable "$o_b" --store "$s_b" --name b
ctl enable "$o_c" --store /dev/mapper/st-c --name c

step "a good set first"
ctl create a b c
ctl -J list shadows >"$WORK/before.json"
[ "$(json "$WORK/before.json" 'len(d["shadows"])')" = 3 ] || fail "good set: 3 shadows expected"

step "c's store dies; create a set of a b c"
dmsetup load st-c --table "0 $(sectors "$s_c") error"
dmsetup suspend st-c
dmsetup resume st-c
cp "$SHADOW_STATE_DIR/catalog.json" "$WORK/catalog.before"
before=$(state_of_dm)
expect_exit 5 "volume c, create snapshot" ctl create a b c
after=$(state_of_dm)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; fail "dm devices changed"; }
for v in a b c; do
	dmsetup info "$v" | matches "State: *ACTIVE" || fail "$v is not active (resumed)"
	[ "$(snapshots_in_kernel "$v")" = 1 ] || fail "$v has a snapshot of the failed set"
	dd if=/dev/urandom of="/dev/mapper/$v" bs=4k count=16 oflag=direct status=none ||
		fail "$v is not writable"
done
ctl -J list shadows >"$WORK/after.json"
python3 - "$WORK/before.json" "$WORK/after.json" <<'PY' || fail "the failed set left catalog entries"
import json, sys
b = json.load(open(sys.argv[1]))["shadows"]
a = json.load(open(sys.argv[2]))["shadows"]
assert [s["id"] for s in a] == [s["id"] for s in b], (a, b)
assert all(s["set"] == b[0]["set"] for s in a)
PY
ctl -J list sets >"$WORK/sets.json"
[ "$(json "$WORK/sets.json" 'len(d["sets"])')" = 1 ] || fail "the failed set is in the catalog"

step "a set of a b (c left out) still works"
ctl create a b
[ "$(snapshots_in_kernel a)" = 2 ] || fail "a: 2 snapshots expected"

step "clean up"
ctl delete 1
ctl delete 2
ctl delete --set 3
# c's store is dead: its snapshot cannot be deleted through the kernel.
expect_exit 5 "volume c, delete snapshot 3" ctl delete 3
dmsetup load st-c --table "0 $(sectors "$s_c") linear $s_c 0"
dmsetup suspend st-c
dmsetup resume st-c
dmsetup remove c
ctl disable --force c
ctl disable a
ctl disable b
dmsetup remove st-c
[ -z "$(dmsetup ls | grep -v 'No devices')" ] || { dmsetup ls; fail "dm devices left"; }
echo "ctl-setfail: ok"

#!/bin/bash
# Two shadowctl create on the same volume at once: without --wait the one
# that does not get the lock fails with exit 4 and "another shadowctl is
# running"; with --wait both succeed.  A held lock stops a changing
# command (exit 4), not a list.  Either way the catalog and the
# kernel agree afterwards.
# guest-timeout: 400
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

origin=$(loop_disk 32)
store=$(loop_disk 32)
ctl enable "$origin" --store "$store" --name vol
ok=0 locked=0
: >"$WORK/all.err"
for round in $(seq 1 6); do
	rc1=0 rc2=0
	ctl create vol >"$WORK/c1.out" 2>"$WORK/c1.err" & p1=$!
	ctl create vol >"$WORK/c2.out" 2>"$WORK/c2.err" & p2=$!
	wait $p1 || rc1=$?
	wait $p2 || rc2=$?
	for rc in $rc1 $rc2; do
		case $rc in
		0) ok=$((ok + 1)) ;;
		4) locked=$((locked + 1)) ;;
		*) cat "$WORK"/c*.err >&2; fail "round $round: exit $rc" ;;
		esac
	done
	cat "$WORK"/c*.err | tee -a "$WORK/all.err"
done
[ "$(grep -c "another shadowctl is running" "$WORK/all.err" || true)" = "$locked" ] ||
	fail "$locked exits 4, not each with the message"
echo "without --wait: $ok created, $locked refused (locked)"
[ "$ok" -ge 6 ] || fail "fewer than one create per round succeeded"

step "with --wait both succeed"
ctl --wait create vol & p1=$!
ctl --wait create vol & p2=$!
wait $p1 || fail "first --wait create failed"
wait $p2 || fail "second --wait create failed"
ok=$((ok + 2))

step "catalog and kernel agree"
ctl -J list shadows >"$WORK/shadows.json"
n=$(json "$WORK/shadows.json" 'len(d["shadows"])')
[ "$n" = "$ok" ] || fail "catalog has $n shadows, $ok creates succeeded"
[ "$(snapshots_in_kernel vol)" = "$ok" ] || fail "kernel has $(snapshots_in_kernel vol) snapshots, $ok expected"
json "$WORK/shadows.json" 'len(set(s["id"] for s in d["shadows"])) == len(d["shadows"])' | matches True ||
	fail "duplicate shadow ids"

step "a held lock: clear error, exit 4, for a command that changes things only"
# Held until told: a fixed sleep let a slow kernel's create come first.
flock "$SHADOW_STATE_DIR/lock" sh -c \
	'touch "$1/held"; while [ ! -e "$1/release" ]; do sleep 0.1; done' sh "$WORK" & fl=$!
while [ ! -e "$WORK/held" ]; do sleep 0.1; done
expect_exit 4 "another shadowctl is running" ctl create vol
# list must not wait for the lock (the holder waits for us): 60 s at most.
ctl list >/dev/null & lp=$!
for _ in $(seq 600); do
	kill -0 "$lp" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$lp" 2>/dev/null; then
	kill "$lp"
	fail "list waits for the command lock"
fi
wait "$lp" || fail "list fails on the command lock"
touch "$WORK/release"
wait $fl
ctl create vol >/dev/null
ok=$((ok + 1))

ctl disable --force vol
[ "$(dmsetup ls | grep -c vol || true)" = 0 ] || fail "vol left"
losetup -d "$origin" "$store"
echo "ctl-concurrent: ok"

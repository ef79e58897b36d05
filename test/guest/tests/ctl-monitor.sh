#!/bin/bash
# shadowctl resize and shadowctl monitor.  Three volumes with small stores
# limited to 100 chunks, one monitor in the background with one policy per
# volume (monitor.conf), writes driven to the origins; vg is a cow volume,
# vd and vw are row volumes (the monitor treats both methods alike):
#   vg  grow:          the limit grows before the store fills, no copy is
#                      invalidated, the copies stay byte-exact;
#   vd  delete-oldest: the monitor deletes the oldest copy before the store
#                      overflows, the newer ones stay exact;
#   vw  warn:          the warning appears; past the limit the kernel drops
#                      the oldest copy and the monitor logs it and marks it
#                      in the catalog.
# resize: grow, shrink, and refusals that change nothing; a shrink that
# puts vd above its threshold has the monitor delete its oldest copy.  The
# monitor does not hold the catalog lock while it waits.
# guest-timeout: 400
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

CHUNK=4096

status_of() {
	dmsetup status "$1" | cut -d' ' -f4-
}

limit_of() {
	status_field "$1" 3 | cut -d/ -f2
}

# write_chunks <volume> <first> <count>: new random data, O_DIRECT.
write_chunks() {
	dd if=/dev/urandom of="/dev/mapper/$1" bs=$CHUNK seek="$2" count="$3" \
		oflag=direct status=none || fail "write to $1 failed"
}

# wait_for <what> <condition>: until the shell condition, evaluated anew
# each time, holds; 30 s at most.
wait_for() {
	local what=$1 i
	for i in $(seq 1 150); do
		eval "$2" && return 0
		sleep 0.2
	done
	cat "$WORK/monitor.log" >&2
	fail "timed out waiting for $what"
}

logged() {
	grep -qF -- "$1" "$WORK/monitor.log"
}

# copy <volume>: a new shadow copy; prints "<id> <md5 at its point in time>".
# (Text output, not JSON: a python per call is slow in the guest.)
copy() {
	local id
	id=$(ctl --wait create "$1" | awk '$1 == "shadow" { print $2 }')
	[ -n "$id" ] || fail "create $1 gave no shadow id"
	echo "$id $(md5_of "/dev/mapper/$1")"
}

# exact <volume> <id> <md5>: the copy, exposed, reads exactly its point in
# time.
exact() {
	local got
	ctl --wait expose "$2" >/dev/null
	got=$(md5_of "/dev/mapper/$1-shadow-$2")
	ctl --wait unexpose "$2" >/dev/null
	[ "$got" = "$3" ] || fail "shadow copy $2 reads md5 $got, expected $3"
	echo "shadow copy $2 is exact"
}

# kernel_state <volume> <id>: valid, invalid, or gone, as the kernel lists
# it (a shadow copy's id is its snapshot id here).
kernel_state() {
	dmsetup message "$1" 0 list | awk -v id="$2" '$1 == id { s = $4 } END { print s ? s : "gone" }'
}

for v in vg:cow vd:row vw:row; do
	o=$(loop_disk 4)
	s=$(loop_disk 2)
	# Old data worth keeping where the writes below go (chunks 0..255).
	dd if=/dev/urandom of="$o" bs=1M count=1 oflag=direct status=none
	ctl enable "$o" --store "$s" --name "${v%:*}" --method "${v#*:}" >/dev/null
done
capacity=$(status_field vw 7)
echo "each store holds $capacity chunks"
[ "$capacity" -gt 300 ] || fail "stores hold only $capacity chunks"

step "resize: bad sizes are refused and change nothing"
before=$(status_of vw)
expect_exit 1 "bad size '0'" ctl resize vw --max-size 0
expect_exit 1 "bad size '101%'" ctl resize vw --max-size 101%
expect_exit 1 "bad size 'lots'" ctl resize vw --max-size lots
expect_exit 1 "'resize' needs --max-size" ctl resize vw
expect_exit 3 "less than one chunk" ctl resize vw --max-size 1K
expect_exit 3 "the store holds at most" ctl resize vw --max-size 1G
expect_exit 2 "no such volume" ctl resize nosuch --max-size 1M
[ "$(status_of vw)" = "$before" ] || fail "a refused resize changed vw: $(status_of vw)"

step "resize: each store limited to 100 chunks (400K)"
for v in vg vd vw; do
	ctl resize $v --max-size 400K
	[ "$(limit_of $v)" = 100 ] || fail "$v limited to $(limit_of $v)"
done
ctl -J resize vw --max-size 400K >"$WORK/resize.json"
python3 - "$WORK/resize.json" "$capacity" <<'PY' || fail "resize --json"
import json, sys
r = json.load(open(sys.argv[1]))["resized"]
assert r["volume"] == "vw" and r["total_chunks"] == 100 and r["used_chunks"] == 0, r
assert r["capacity_chunks"] == int(sys.argv[2]) and r["total_bytes"] == 409600, r
PY
ctl list storage
ctl -J list storage >"$WORK/storage.json"
python3 - "$WORK/storage.json" "$capacity" <<'PY' || fail "list storage: limit and capacity"
import json, sys
for s in json.load(open(sys.argv[1]))["storage"]:
    assert s["total_chunks"] == 100 and s["total_bytes"] == 409600, s
    assert s["capacity_chunks"] == int(sys.argv[2]), s
    assert s["capacity_bytes"] == int(sys.argv[2]) * 4096, s
PY

cat >"$WORK/monitor.conf" <<'EOF'
{
  "defaults": { "policy": "warn", "warn_above": 0 },
  "volumes": {
    "vg": { "policy": "grow", "act_above": 50, "grow_step": "400K" },
    "vd": { "policy": "delete-oldest", "act_above": 60, "delete_until": 45 },
    "vw": { "warn_above": 50 }
  }
}
EOF
step "a bad configuration is refused"
echo '{ "defaults": { "policy": "shrink" } }' >"$WORK/bad.conf"
expect_exit 3 "defaults.policy: \"shrink\" is not" ctl monitor --once --config "$WORK/bad.conf"
expect_exit 2 "no such volume" ctl monitor --once --config "$WORK/monitor.conf" nosuch
ctl monitor --once --config "$WORK/monitor.conf" || fail "monitor --once"

step "the monitor starts and waits without the lock"
# Not through ctl(): a function run in the background is a subshell, and
# $! must be shadowctl itself.  The binary, not libtool's wrapper, as ctl().
bin=$SHADOW_TOP/cmd/shadowctl/.libs/shadowctl
[ -x "$bin" ] || bin=$CTL
LD_LIBRARY_PATH=$SHADOW_TOP/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
	"$bin" monitor --config "$WORK/monitor.conf" >"$WORK/monitor.log" 2>&1 &
monitor_pid=$!
trap 'kill "$monitor_pid" 2>/dev/null || true' EXIT
wait_for "the monitor to start" 'logged "monitoring 3 volumes"'
[ "$(dmsetup message vg 0 thresholds)" = "50" ] || fail "vg thresholds: $(dmsetup message vg 0 thresholds)"
[ "$(dmsetup message vd 0 thresholds)" = "60" ] || fail "vd thresholds"
[ "$(dmsetup message vw 0 thresholds)" = "50" ] || fail "vw thresholds"
sleep 1
ctl list >/dev/null || fail "shadowctl could not take the lock while the monitor waits"

step "grow: the limit grows before the store fills"
read -r g1 g1sum <<<"$(copy vg)"
write_chunks vg 0 40
sleep 1
[ "$(limit_of vg)" = 100 ] || fail "vg grew at 40%"
write_chunks vg 100 20
wait_for "vg to grow to 200 chunks" '[ "$(limit_of vg)" = 200 ]'
read -r g2 g2sum <<<"$(copy vg)"
write_chunks vg 200 45
wait_for "vg to grow to 300 chunks" '[ "$(limit_of vg)" = 300 ]'
[ "$(status_field vg 5)" = 0 ] || fail "vg: a copy was invalidated"
logged "volume vg: store grown from 400K to 800K" || fail "no log of the growth"
exact vg "$g1" "$g1sum"
exact vg "$g2" "$g2sum"

step "delete-oldest: the oldest copy goes before the store overflows"
read -r d1 d1sum <<<"$(copy vd)"
write_chunks vd 0 25
read -r d2 d2sum <<<"$(copy vd)"
write_chunks vd 100 25
read -r d3 d3sum <<<"$(copy vd)"
[ "$(kernel_state vd "$d1")" = valid ] || fail "vd: copy $d1 gone at 50%"
write_chunks vd 200 15
wait_for "copy $d1 of vd to be deleted" '[ "$(kernel_state vd "$d1")" = gone ]'
wait_for "the log of the deletion" 'logged "volume vd: deleted shadow copy $d1"'
# The delete returns before fold-back frees the chunks; the monitor
# waits for it before it reads the use again (d2 must stay).
wait_for "vd's fold-back to be done" '[ "$(status_field vd 14)" = - ]'
[ "$(used_chunks vd)" = 40 ] || fail "vd: $(used_chunks vd) chunks in use, expected 40"
[ "$(kernel_state vd "$d2")" = valid ] || fail "vd: copy $d2 is $(kernel_state vd "$d2")"
[ "$(status_field vd 5)" = 0 ] || fail "vd: a copy was invalidated"
ctl --wait list shadows | awk -v id="$d1" '$1 == id { exit 1 }' ||
	fail "copy $d1 is still in the catalog"
exact vd "$d2" "$d2sum"
exact vd "$d3" "$d3sum"

step "warn: the warning appears; an overflow is logged and marked"
read -r w1 w1sum <<<"$(copy vw)"
write_chunks vw 0 55
# The pass may read usage before the writes are all done: 50% or more.
wait_for "the warning about vw" 'grep -qE "volume vw: store ([5-9][0-9]|100)% full" "$WORK/monitor.log"'
read -r w2 w2sum <<<"$(copy vw)"
write_chunks vw 100 50
wait_for "the log of copy $w1 invalidated" 'logged "volume vw: shadow copy $w1 (created"'
python3 - "$SHADOW_STATE_DIR/catalog.json" "$w1" "$w2" <<'PY' || fail "the monitor did not mark the copy invalid"
import json, sys
c = {s["id"]: s["state"] for s in json.load(open(sys.argv[1]))["shadows"]}
assert c[int(sys.argv[2])] == "invalid" and c[int(sys.argv[3])] == "valid", c
PY
exact vw "$w2" "$w2sum"

step "resize: refused shrinks change nothing, allowed ones work"
before=$(status_of vd)
# vd: 40 chunks in use.
expect_exit 3 "are in use; delete shadow copies first" ctl --wait resize vd --max-size 128K
expect_exit 3 "are in use; delete shadow copies first" ctl --wait resize vd --max-size 156K
[ "$(status_of vd)" = "$before" ] || fail "a refused shrink changed vd: $(status_of vd)"
ctl --wait resize vd --max-size max
[ "$(limit_of vd)" = "$capacity" ] || fail "vd: max gave $(limit_of vd)"
ctl --wait resize vd --max-size 50%
[ "$(limit_of vd)" = $((capacity / 2)) ] || fail "vd: 50% gave $(limit_of vd)"
ctl --wait resize vd --max-size 260K
[ "$(limit_of vd)" = 65 ] || fail "vd: 260K gave $(limit_of vd)"
# 40 of 65 chunks is 61%, above vd's act_above (60): the shrink makes the
# monitor delete the oldest copy, d2, down to delete_until; d3 stays.
wait_for "the monitor to delete copy $d2 after the shrink" \
	'logged "volume vd: deleted shadow copy $d2 (created"'
[ "$(kernel_state vd "$d3")" = valid ] || fail "vd: copy $d3 is $(kernel_state vd "$d3")"
exact vd "$d3" "$d3sum"

step "the monitor stops on SIGTERM"
kill -TERM "$monitor_pid"
wait "$monitor_pid" || fail "the monitor exited with $?"
logged "stopping on signal 15" || fail "no stop logged"
cat "$WORK/monitor.log"
for v in vg vd vw; do
	ctl disable --force "$v" >/dev/null
done
echo "ctl-monitor: grow, delete-oldest, warn and resize behave"

#!/bin/bash
# Signals during "shadowctl create", and read-only reads (shadowctl(8),
# SIGNALS and LOCKING).
#
# strace delivers a signal to shadowctl as it enters its n-th ioctl: the
# first suspend, the one after it (a volume suspended, its file system
# frozen), the snapshot's create message in the middle, and the last
# resume; without and with a writer (the hook writer).  After SIGINT or
# SIGTERM, when shadowctl has ended (killed by the signal: 130, 143):
# no volume of ours is suspended, both file systems take a write, no set
# is left and the catalog and the kernel agree.  After SIGKILL the same
# holds within the documented bound, once the monitor or the next
# shadowctl that changes something has run.
#
# Then the locks: list works (and shows the set "creating") while a
# create is held by a slow thaw hook, where a changing command gets
# exit 4; list on a missing state directory creates nothing; an
# administrator's dmsetup suspend of one volume is not resumed by a
# create or delete of another, and a create of that volume is refused.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/writers.sh"

BOUND=10	# seconds: shadowctl(8), SIGNALS, the bound after a SIGKILL
# The harness runs this script in the background of a non-interactive
# shell, which ignores SIGINT and SIGQUIT: the creates run with the
# default dispositions (env --default-signal), as from a terminal.
command -v strace >/dev/null || fail "strace is not installed on the host"

bin=$SHADOW_TOP/cmd/shadowctl/.libs/shadowctl
[ -x "$bin" ] || bin=$CTL
export LD_LIBRARY_PATH=$SHADOW_TOP/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

volume_up va 32 32 "$WORK/ma"
volume_up vb 32 32 "$WORK/mb"

hooks=$WORK/hooks.d
mkdir -p "$hooks"
chmod 755 "$hooks"
cat >"$hooks/10-log" <<EOF
#!/bin/sh
echo "\$1" >>"$WORK/hooks.log"
[ "\$1" = thaw ] && [ -e "$WORK/slow-thaw" ] && sleep 8
exit 0
EOF
chmod 755 "$hooks/10-log"
writer_conf <<EOF
[hook]
directory = $hooks
timeout = 30
EOF
writers_enable hook
WOPTS=(--writers-dir "$WD" --writer-conf "$SHADOW_WRITER_CONF")

suspended() {
	local v out=""
	for v in va vb; do
		dmsetup info "$v" | matches SUSPENDED && out="$out $v"
	done
	echo "$out"
}

# writable <dir>: a write and its fsync end within 5 s (not frozen).
writable() {
	local pid i
	(echo "$EPOCHREALTIME" >"$1/probe" && sync -f "$1/probe") & pid=$!
	for i in $(seq 1 25); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			return
		fi
		sleep 0.2
	done
	return 1
}

# agree: no set "creating"; the catalog's copies per volume are the
# kernel's snapshots; $1 sets in all.
agree() {
	ctl -J list shadows >"$WORK/shadows.json" || fail "list shadows"
	ctl -J list sets >"$WORK/sets.json" || fail "list sets"
	python3 - "$WORK/shadows.json" "$WORK/sets.json" "$1" \
		"$(snapshots_in_kernel va)" "$(snapshots_in_kernel vb)" <<-'PY' || fail "catalog and kernel disagree"
	import json, sys
	shadows = json.load(open(sys.argv[1]))["shadows"]
	sets = json.load(open(sys.argv[2]))["sets"]
	want, ka, kb = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
	assert all(s["state"] == "complete" for s in sets), sets
	assert len(sets) == want, (len(sets), want)
	ca = sum(1 for c in shadows if c["volume"] == "va")
	cb = sum(1 for c in shadows if c["volume"] == "vb")
	assert (ca, cb) == (ka, kb), ("catalog", ca, cb, "kernel", ka, kb)
	assert all(c["state"] == "valid" for c in shadows), shadows
	PY
}

# clean <sets>: nothing suspended, nothing frozen, catalog = kernel.
clean() {
	[ -z "$(suspended)" ] || fail "left suspended:$(suspended)"
	writable "$WORK/ma" || fail "va's file system is frozen"
	writable "$WORK/mb" || fail "vb's file system is frozen"
	agree "$1"
}

# baseline <name> [create args]: a create traced; the positions of its
# ioctls: FIRST (first suspend), AFTER (the next), MIDDLE (the first
# message after the suspends), LAST (the last resume).
baseline() {
	local t=$WORK/$1.trace
	shift
	strace -qq -o "$t" -e trace=ioctl "$bin" --wait create "$@" >/dev/null 2>&1 ||
		fail "baseline create $*"
	grep '^ioctl(' "$t" | grep -n 'DM_DEV_SUSPEND\|DM_TARGET_MSG' | cut -c 1-100
	grep '^ioctl(' "$t" | awk '
		/DM_DEV_SUSPEND/ && /DM_SUSPEND_FLAG/ && !first { first = NR }
		/DM_TARGET_MSG/ && first && !middle { middle = NR }
		/DM_DEV_SUSPEND/ && !/DM_SUSPEND_FLAG/ && first { last = NR }
		END { print first, middle, last }' >"$t.at"
	read -r FIRST MIDDLE LAST <"$t.at"
	AFTER=$((FIRST + 1))
	[ -n "$LAST" ] && [ "$FIRST" -lt "$MIDDLE" ] && [ "$MIDDLE" -lt "$LAST" ] ||
		fail "could not find the ioctls in the trace"
	echo "ioctls: first suspend $FIRST, next $AFTER, message $MIDDLE, last resume $LAST"
}

# inject <signal> <n> [create args]: shadowctl create, <signal> sent as it
# enters its n-th ioctl; its exit status in $rc.
inject() {
	local sig=$1 n=$2
	shift 2
	rc=0
	rm -f "$WORK/hooks.log"
	strace -qq -o "$WORK/inject.trace" -e trace=ioctl \
		-e inject=ioctl:signal="$sig":when="$n" \
		env --default-signal=INT,TERM,HUP,QUIT \
		"$bin" --wait create "$@" >"$WORK/inject.out" 2>"$WORK/inject.err" || rc=$?
	echo "create $* with $sig at ioctl $n: exit $rc: $(tr '\n' ' ' <"$WORK/inject.err")"
}

# caught <signal> <exit>: ended by the signal after undoing the set.
caught() {
	[ "$rc" = "$2" ] || fail "exit $rc, expected $2 (killed by $1)"
	grep -q "interrupted by $1 in the freeze window" "$WORK/inject.err" ||
		fail "no word of $1 on stderr"
}

# settled <sets>: within $BOUND s, no volume suspended and no set
# "creating"; then clean.
settled() {
	local t0=$SECONDS
	until [ -z "$(suspended)" ] && ! grep -q '"creating"' "$SHADOW_STATE_DIR/catalog.json"; do
		[ $((SECONDS - t0)) -le "$BOUND" ] || fail "still suspended:$(suspended) after $BOUND s"
		sleep 0.2
	done
	echo "settled within $((SECONDS - t0)) s"
	clean "$1"
}

step "baseline, without writers"
baseline plain va vb --no-writers
sets=1
clean $sets

step "SIGINT and SIGTERM at each step: undone when shadowctl ends"
for at in "SIGINT $FIRST" "SIGINT $AFTER" "SIGINT $MIDDLE" "SIGINT $LAST" \
	  "SIGTERM $LAST"; do
	set -- $at
	inject "$1" "$2" va vb --no-writers
	case $1 in SIGINT) caught SIGINT 130 ;; SIGTERM) caught SIGTERM 143 ;; esac
	clean $sets
done

step "an ignored SIGHUP does not cancel (nohup)"
rc=0
strace -qq -o /dev/null -e trace=ioctl -e inject=ioctl:signal=SIGHUP:when="$AFTER" \
	env --ignore-signal=HUP "$bin" --wait create va vb --no-writers >/dev/null 2>"$WORK/inject.err" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/inject.err" >&2; fail "create with an ignored SIGHUP: exit $rc"; }
sets=$((sets + 1))
clean $sets

step "SIGKILL at the last resume: the next shadowctl undoes it"
inject SIGKILL "$LAST" va vb --no-writers
[ "$rc" = 137 ] || fail "exit $rc, expected 137"
[ "$(suspended)" = " va" ] || fail "expected va left suspended by the kill, have:$(suspended)"
ctl delete --oldest vb 2>"$WORK/delete.err" || { cat "$WORK/delete.err" >&2; fail "delete after the kill"; }
grep -q "resumed volume va" "$WORK/delete.err" || fail "the repair did not say it resumed va"
grep -q "undid set" "$WORK/delete.err" || fail "the repair did not say it undid the set"
clean $sets

step "SIGKILL with the monitor running: undone within $BOUND s"
echo '{ "defaults": { "policy": "warn", "warn_above": 0 } }' >"$WORK/monitor.conf"
"$bin" monitor --config "$WORK/monitor.conf" >"$WORK/monitor.log" 2>&1 &
monitor_pid=$!
trap 'kill "$monitor_pid" 2>/dev/null || true; save_logs' EXIT
for i in $(seq 1 50); do grep -q monitoring "$WORK/monitor.log" && break; sleep 0.2; done
for n in "$AFTER" "$MIDDLE"; do
	inject SIGKILL "$n" va vb --no-writers
	[ "$rc" = 137 ] || fail "exit $rc, expected 137"
	settled $sets
done
grep -q "undid set" "$WORK/monitor.log" || { cat "$WORK/monitor.log" >&2; fail "the monitor did not undo the sets"; }

step "with the hook writer"
kill "$monitor_pid"
wait "$monitor_pid" || true
baseline hook va vb "${WOPTS[@]}"
sets=$((sets + 1))
inject SIGINT "$AFTER" va vb "${WOPTS[@]}"
caught SIGINT 130
[ "$(paste -sd, "$WORK/hooks.log")" = "freeze,thaw" ] ||
	fail "hooks: $(paste -sd, "$WORK/hooks.log"), expected freeze,thaw"
clean $sets
inject SIGKILL "$AFTER" va vb "${WOPTS[@]}"
[ "$rc" = 137 ] || fail "exit $rc, expected 137"
ctl create vb --no-writers 2>"$WORK/create.err" || fail "create after the kill"
sets=$((sets + 1))
settled $sets
for i in $(seq 1 25); do grep -q thaw "$WORK/hooks.log" && break; sleep 0.2; done
[ "$(paste -sd, "$WORK/hooks.log")" = "freeze,thaw" ] ||
	fail "the writer did not thaw when shadowctl was killed: $(paste -sd, "$WORK/hooks.log")"

step "list while a create is held in its thaw"
rm -f "$WORK/hooks.log"
touch "$WORK/slow-thaw"
ctl create va "${WOPTS[@]}" >"$WORK/held.out" 2>&1 & held=$!
for i in $(seq 1 100); do grep -q thaw "$WORK/hooks.log" 2>/dev/null && break; sleep 0.2; done
grep -q thaw "$WORK/hooks.log" || fail "the create did not reach its thaw"
ctl -J list sets >"$WORK/during.json" || fail "list failed while a create runs"
json "$WORK/during.json" '[s["state"] for s in d["sets"]]' | matches creating ||
	fail "list did not show the set being created: $(cat "$WORK/during.json")"
expect_exit 4 "another shadowctl is running" ctl delete --oldest vb
wait "$held" || { cat "$WORK/held.out" >&2; fail "the held create failed"; }
rm -f "$WORK/slow-thaw"
sets=$((sets + 1))
clean $sets

step "list on a fresh machine creates nothing"
SHADOW_STATE_DIR=$WORK/fresh/state ctl -J list volumes >"$WORK/fresh.json" ||
	fail "list on a missing state directory"
[ "$(json "$WORK/fresh.json" 'len(d["volumes"])')" = 0 ] || fail "volumes on a fresh machine"
[ ! -e "$WORK/fresh" ] || fail "list created $(find "$WORK/fresh" | paste -sd' ')"

step "an administrator's suspend is not ours to resume"
dmsetup suspend vb
ctl create va --no-writers 2>"$WORK/admin.err" || { cat "$WORK/admin.err" >&2; fail "create va"; }
cat "$WORK/admin.err"
grep -q "volume vb is suspended, not by shadowctl" "$WORK/admin.err" || fail "no warning about vb"
[ "$(suspended)" = " vb" ] || fail "create va resumed vb (suspended:$(suspended))"
sets=$((sets + 1))
expect_exit 3 "volume vb is suspended, not by shadowctl" ctl create vb --no-writers
ctl delete --oldest va 2>/dev/null || fail "delete --oldest va"
sets=$((sets - 1))	# the first set's last copy
[ "$(suspended)" = " vb" ] || fail "delete resumed vb (suspended:$(suspended))"
ctl list >/dev/null 2>&1 || fail "list with vb suspended"
[ "$(suspended)" = " vb" ] || fail "list resumed vb"
dmsetup resume vb
clean $sets

umount "$WORK/ma" "$WORK/mb"
ctl disable --force va
ctl disable --force vb
echo "ctl-signals: ok"

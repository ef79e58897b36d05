#!/bin/bash
# shadowctl schedule over five simulated weeks: a policy
# (shadow-schedule.conf(5)) over an ext4 volume, the clock (SHADOW_NOW)
# stepped by 7 hours from Monday 2026-01-05 00:00 UTC to past 2026-02-09,
# crossing weeks and a month, with 'schedule run' (what the timer runs)
# at each step: a copy when due, then cleanup.  After every step the
# copies left are exactly those an independent model of the retention
# rule (gawk, below) keeps; every deletion is logged with its reason; a
# step before the interval has passed creates and deletes nothing; a copy
# exposed by hand survives every cleanup.  Then min_free on a second
# volume whose copies each own 1 MiB of the store: cleanup deletes the
# oldest deletable copies until the store has the free space asked for,
# never the exposed one nor the newest, logging why, and warns when
# nothing is left to delete.  Bad input (a malformed policy file, an
# unknown volume or policy, a bad SHADOW_NOW) is refused and changes
# nothing.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

T0=1767571200			# Monday 2026-01-05 00:00:00 UTC
STEP=$((7 * 3600))
END=$((T0 + 35 * 86400))
conf=$WORK/schedule.conf
mnt=$WORK/mnt
mkdir -p "$mnt"

# sched <now> <subverb> [<policy>...]: shadowctl schedule at fake time <now>.
sched() {
	local now=$1
	shift
	SHADOW_NOW=$now ctl schedule "$@" --config "$conf"
}

# ids <volume>: the volume's shadow copy ids, ascending.
ids() {
	ctl list -n -o id,volume | awk -v v="$1" '$2 == v { print $1 }' | sort -n
}

# The retention rule modelled apart from the C code (gawk): per period, a
# map from bucket to its newest copy, the buckets sorted, the newest N
# taken.  Run once per step over three files: the model ("<id> <created>
# <exposed>", the copies alive before the step), the step's output (the
# copy created, the deletions and their reasons) and 'list' (what is left).
# It writes the new model and prints how many copies it dropped, or says
# what differs and exits 1.
cat >"$WORK/step.awk" <<'EOF'
function bucket(t, p) {
	if (p == 0) return int(t / 3600)
	if (p == 1) return int(t / 86400)
	if (p == 2) return int((int(t / 86400) + 3) / 7)	# weeks begin on Monday
	return strftime("%Y", t, 1) * 12 + strftime("%m", t, 1)
}
function later(i, j) { return t[i] > t[j] || (t[i] == t[j] && id[i] > id[j]) }
FILENAME == ARGV[1] { n++; id[n] = $1 + 0; t[n] = $2 + 0; ex[n] = $3 + 0; next }
FILENAME == ARGV[2] {
	if ($0 ~ /^policy sv: created set [0-9]+ at .*: shadow [0-9]+$/) {
		n++; id[n] = $NF + 0; t[n] = now; ex[n] = 0; created++
	} else if (match($0, /^policy sv: deleted shadow ([0-9]+) of sv \(created [^)]*\): (.*)$/, m)) {
		logged[m[1] + 0] = m[2]
	} else {
		print "unexpected output: " $0; bad = 1
	}
	next
}
$2 == "sv" { have[$1 + 0] = 1 }
END {
	if (created + 0 != want_created) { print "created " created + 0 " copies, expected " want_created; bad = 1 }
	cnt[0] = H; cnt[1] = D; cnt[2] = W; cnt[3] = M
	nw = 0
	for (i = 1; i <= n; i++) {
		if (ex[i]) keep[i] = 1
		if (!nw || later(i, nw)) nw = i
	}
	if (nw) keep[nw] = 1
	for (p = 0; p < 4; p++) {
		delete best
		for (i = 1; i <= n; i++) {
			b = bucket(t[i], p)
			if (!(b in best) || later(i, best[b])) best[b] = i
		}
		nb = asorti(best, keys, "@ind_num_desc")
		for (k = 1; k <= nb && k <= cnt[p]; k++) keep[best[keys[k]]] = 1
	}
	for (i = 1; i <= n; i++) {
		known[id[i]] = 1
		if (keep[i] && !(id[i] in have)) { print "shadow " id[i] " was deleted, the model keeps it"; bad = 1 }
		if (!keep[i] && (id[i] in have)) { print "shadow " id[i] " is left, the model deletes it"; bad = 1 }
		if (!keep[i] && logged[id[i]] != reason) { print "shadow " id[i] ": deletion logged as '" logged[id[i]] "'"; bad = 1 }
		if (keep[i] && (id[i] in logged)) { print "shadow " id[i] ": deletion logged, but it is kept"; bad = 1 }
		if (!keep[i]) dropped++
	}
	for (x in have)
		if (!(x in known)) { print "shadow " x " is unknown to the model"; bad = 1 }
	if (bad) exit 1
	for (i = 1; i <= n; i++) if (keep[i]) print id[i], t[i], ex[i] > model_out
	print dropped + 0
}
EOF
REASON="kept by none of keep_hourly=3 keep_daily=3 keep_weekly=2 keep_monthly=2"

# check_step <now> <copies created>: the step's output and what is left
# against the model; the model moves on.
check_step() {
	ctl list -n -o id,volume >"$WORK/list.out"
	if ! gawk -v H=3 -v D=3 -v W=2 -v M=2 -v now="$1" -v want_created="$2" \
		-v reason="$REASON" -v model_out="$WORK/model.new" -f "$WORK/step.awk" \
		"$WORK/model" "$WORK/run.out" "$WORK/list.out" >"$WORK/check.out"; then
		cat "$WORK/run.out" "$WORK/check.out" >&2
		fail "step $steps (now $1): the copies differ from the model"
	fi
	: >>"$WORK/model.new"
	mv "$WORK/model.new" "$WORK/model"
	deleted_total=$((deleted_total + $(<"$WORK/check.out")))
}

step "an ext4 volume, mounted, and its policy"
ctl enable "$(loop_disk 16)" --store "$(loop_disk 16)" --name sv >/dev/null
mkfs.ext4 -q /dev/mapper/sv
mount /dev/mapper/sv "$mnt"
cat >"$conf" <<'EOF'
# the retention test's policy
[sv]
interval = 7h
writers = none
keep_hourly = 3
keep_daily = 3
keep_weekly = 2
keep_monthly = 2
EOF

: >"$WORK/model"		# <id> <created> <exposed>, the copies alive
now=$T0
steps=0
deleted_total=0
exposed=
while [ "$now" -lt "$END" ]; do
	steps=$((steps + 1))
	echo "step $steps at $now" >"$mnt/step-$steps"
	sched "$now" run >"$WORK/run.out" 2>"$WORK/run.err" ||
		{ cat "$WORK/run.out" "$WORK/run.err" >&2; fail "schedule run failed at step $steps"; }
	check_step "$now" 1

	# Every 10th step: 3 hours later the interval has not passed: nothing changes.
	if [ $((steps % 10)) = 0 ]; then
		sched $((now + 3 * 3600)) run >"$WORK/run.out"
		check_step $((now + 3 * 3600)) 0
		[ "$(<"$WORK/check.out")" = 0 ] || fail "step $steps: a run before the interval deleted copies"
	fi
	# On day 6, the oldest copy is exposed by hand: it must outlive everything.
	if [ -z "$exposed" ] && [ $((now - T0)) -ge $((5 * 86400)) ]; then
		exposed=$(head -n 1 "$WORK/model" | cut -d' ' -f1)
		ctl expose "$exposed" >/dev/null
		awk -v e="$exposed" '$1 == e { $3 = 1 } { print }' "$WORK/model" >"$WORK/model.new"
		mv "$WORK/model.new" "$WORK/model"
		echo "shadow $exposed exposed by hand at step $steps"
	fi
	if [ "$steps" = 40 ]; then
		step "bad input at step $steps changes nothing"
		before_ids=$(ids sv | tr '\n' ' ')
		before_dm=$(state_of_dm)
		cp "$conf" "$WORK/good.conf"
		printf '[sv]\ninterval = 7h\n\nkeep_daily = 3\nkeep_daily = x\n' >"$conf"
		expect_exit 3 "schedule.conf: line 5: keep_daily given twice in [sv]" sched $((now + STEP)) run
		printf '[sv]\nkeep_hourly = lots\n' >"$conf"
		expect_exit 3 "line 2: keep_hourly: 'lots' is not a count" sched $((now + STEP)) cleanup
		printf '[sv]\nwritres = none\n' >"$conf"
		expect_exit 3 "line 2: unknown key 'writres'" sched $((now + STEP)) run-now
		printf '[sv]\nkeep_hourly = 0\n[other]\nvolumes = nosuch\n' >"$conf"
		expect_exit 2 "policy [other] (line 3): no volume named nosuch" sched $((now + STEP)) cleanup
		cp "$WORK/good.conf" "$conf"
		expect_exit 2 "no policy [nosuch]" sched $((now + STEP)) run-now nosuch
		expect_exit 3 "SHADOW_NOW 'soon'" sched soon run
		expect_exit 2 "read $WORK/none.conf" ctl schedule run --config "$WORK/none.conf"
		expect_exit 1 "unknown schedule command 'prune'" ctl schedule prune
		expect_exit 1 "'schedule run' takes no policy" ctl schedule run sv
		[ "$(ids sv | tr '\n' ' ')" = "$before_ids" ] || fail "bad input changed the copies"
		[ "$(state_of_dm)" = "$before_dm" ] || fail "bad input changed the dm devices"
	fi
	now=$((now + STEP))
done
echo "$steps steps, $deleted_total copies deleted, $(wc -l <"$WORK/model") left: $(cut -d' ' -f1 "$WORK/model" | tr '\n' ' ')"
[ "$deleted_total" -gt 90 ] || fail "only $deleted_total deletions over five weeks"
ids sv | matches -x "$exposed" || fail "the exposed copy $exposed was deleted"
# Months: both January's last copy and February's newest are kept.
[ "$(wc -l <"$WORK/model")" -ge 6 ] || fail "fewer copies left than the counts keep"

step "schedule show agrees with the model"
sched "$((now - STEP))" show
sched "$((now - STEP))" show -J >"$WORK/show.json"
python3 - "$WORK/show.json" "$exposed" <<'PY' || fail "schedule show -J"
import json, sys
p = json.load(open(sys.argv[1]))["policies"]
assert len(p) == 1 and p[0]["name"] == "sv" and p[0]["volumes"] == ["sv"], p
assert p[0]["interval"] == 25200 and p[0]["writers"] == "none" and p[0]["keep_weekly"] == 2, p
# Right after the last run nothing is left to delete, and the exposed copy says why it stays.
for c in p[0]["copies"]:
    assert c["keep"], c
    if c["shadows"] == [int(sys.argv[2])]:
        assert "exposed" in c["keep"], c
assert "newest" in p[0]["copies"][-1]["keep"], p[0]["copies"][-1]
PY
ctl unexpose "$exposed" >/dev/null
sched "$((now - STEP))" cleanup >"$WORK/run.out"
grep -q "deleted shadow $exposed of sv" "$WORK/run.out" || fail "the copy no longer exposed was kept"
umount "$mnt"

step "min_free: the oldest deletable copies go until the store has room"
ctl enable "$(loop_disk 8)" --store "$(loop_disk 8)" --name mv >/dev/null
cat >>"$conf" <<'EOF'
[mv]
interval = 1h
writers = none
keep_hourly = 100
EOF
t=$((END + 86400))
for i in 1 2 3 4 5; do
	sched "$t" run-now mv >/dev/null
	# Each copy alone needs the old data of this rewrite: 256 chunks of its own.
	dd if=/dev/urandom of=/dev/mapper/mv bs=1M count=1 oflag=direct status=none
	t=$((t + 3600))
done
ids mv >"$WORK/mv.ids"
read -r m1 m2 m3 m4 m5 <<<"$(tr '\n' ' ' <"$WORK/mv.ids")"
ctl expose "$m1" >/dev/null
used=$(used_chunks mv)
limit=$(status_field mv 3 | cut -d/ -f2)
free=$((limit - used))
# Room for one and a half copies more: copies 2 and 3 must go, not 4.
pct=$(( ((free + 384) * 100 + limit - 1) / limit ))
echo "store: $used of $limit chunks used; min_free = $pct%"
sed -i '$a min_free = '"$pct"'%' "$conf"
sched "$t" cleanup mv | tee "$WORK/run.out"
[ "$(ids mv | tr '\n' ' ')" = "$m1 $m4 $m5 " ] || fail "min_free left $(ids mv | tr '\n' ' '), expected $m1 $m4 $m5"
[ "$(grep -c 'deleted shadow' "$WORK/run.out")" = 2 ] || fail "min_free deleted other than 2 copies"
grep -q "deleted shadow $m2 of mv (created .*): min_free: the store of mv has .* free, below $pct%; the oldest goes first" "$WORK/run.out" ||
	fail "the deletion of $m2 is not logged with its reason"
[ "$(grep -n "deleted shadow $m2 " "$WORK/run.out" | cut -d: -f1)" -lt "$(grep -n "deleted shadow $m3 " "$WORK/run.out" | cut -d: -f1)" ] ||
	fail "min_free did not delete the oldest first"
used=$(used_chunks mv)
[ $(( (limit - used) * 100 )) -ge $((limit * pct)) ] || fail "cleanup stopped with $((limit - used)) of $limit chunks free, below $pct%"
sed -i 's/^min_free = .*/min_free = 100%/' "$conf"
sched "$t" cleanup mv | tee "$WORK/run.out"
[ "$(ids mv | tr '\n' ' ')" = "$m1 $m5 " ] || fail "min_free 100% left $(ids mv | tr '\n' ' '), expected $m1 $m5"
grep -q "warning: policy mv: the store of mv has .* below min_free 100%, and no copy is left that may be deleted" "$WORK/run.out" ||
	fail "no warning when nothing is left to delete"
ctl unexpose "$m1" >/dev/null
ctl disable --force sv >/dev/null
ctl disable --force mv >/dev/null
echo "sched-retention: the schedule keeps exactly what the rule says"

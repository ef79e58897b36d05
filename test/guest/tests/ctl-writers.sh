#!/bin/bash
# shadowctl create with writers (shadow-writer(7)), run from a root-owned
# writers directory: shell-script writers (test/guest/writers/testwriter,
# installed under the names that say how they behave).
#
# A good writer's metadata and data land in the catalog and in 'list
# writers'; a writer whose component is elsewhere is skipped; the copy
# holds what was written before it.  Then each misbehaviour fails the set
# with exit 7 and a message naming the writer and the event, and leaves
# nothing behind: no snapshot in the kernel, no stray dm device, the
# volume resumed and writable, its file system not frozen, no writer
# process, the catalog as it was but for the writers' last states.
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

TW=$SHADOW_TOP/test/guest/writers/testwriter
WD=$WORK/writers.d
export TESTWRITER_LOG=$WORK/wlog
mkdir -p "$WD" "$TESTWRITER_LOG" /mnt/a
chmod 755 "$WD"

# install <name>...: the test writer under each name, root's, 0755.
install_writer() {
	local n
	for n in "$@"; do
		install -m 755 -o root -g root "$TW" "$WD/$n"
	done
}

# wlog <name>: what writer <name> read, one event per word.
wlog() {
	tr '\n' ' ' <"$TESTWRITER_LOG/$1.log" 2>/dev/null | sed 's/ $//'
}

# json_cat <python expression on c>: evaluated on the catalog file.
json_cat() {
	json "$SHADOW_STATE_DIR/catalog.json" "$1"
}

origin=$(loop_disk 32)
store=$(loop_disk 24)
ctl enable "$origin" --store "$store" --name a
mkfs.ext4 -q -F /dev/mapper/a
mount /dev/mapper/a /mnt/a
head -c 300000 /dev/urandom >/mnt/a/before
sync
sum_before=$(md5_of /mnt/a/before)

step "a good writer and one with nothing on the set"
install_writer good elsewhere
ctl -J create a --writers-dir "$WD" --writer-conf /etc/test-writers.conf >"$WORK/create.json"
cat "$WORK/create.json"
ctl -J list sets >"$WORK/sets.json"
python3 - "$WORK/create.json" "$SHADOW_STATE_DIR/catalog.json" "$WORK/sets.json" <<'PY' || fail "the good writer's metadata and data"
import json, sys
out = json.load(open(sys.argv[1]))["set"]
cat = json.load(open(sys.argv[2]))
s = [x for x in cat["sets"] if x["id"] == out["id"]][0]
listed = [x for x in json.load(open(sys.argv[3]))["sets"] if x["id"] == out["id"]][0]
for ws in (out["writers"], s["writers"], listed["writers"]):
    assert [w["name"] for w in ws] == ["good"], ws
    m = ws[0]["metadata"]
    assert m["writer"] == "test-good" and m["application"] == "test writer 1.0", m
    assert m["components"] == [{"name": "data", "paths": ["/mnt/a"], "exclude": []}], m
    assert ws[0]["data"] == {"by": "good", "set": out["id"]}, ws[0]
st = {w["name"]: w for w in cat["writers"]}
assert st["good"]["state"] == "ok" and st["good"]["event"] == "post-snapshot", st
assert st["elsewhere"]["state"] == "skipped", st
assert st["good"]["path"].endswith("/writers.d/good"), st
PY
[ "$(wlog good)" = "env /etc/test-writers.conf 1 identify prepare freeze thaw post-snapshot eof" ] ||
	fail "good read: $(wlog good)"
[ "$(wlog elsewhere)" = "env /etc/test-writers.conf 1 identify eof" ] ||
	fail "elsewhere read: $(wlog elsewhere)"
ctl -J list writers --writers-dir "$WD" >"$WORK/writers.json"
cat "$WORK/writers.json"
python3 - "$WORK/writers.json" <<'PY' || fail "list writers"
import json, sys
d = json.load(open(sys.argv[1]))
w = {x["name"]: x for x in d["writers"]}
assert list(w) == ["elsewhere", "good"], w
assert w["good"]["state"] == "ready" and w["good"]["last_state"] == "ok"
assert w["good"]["last_event"] == "post-snapshot" and w["good"]["last_time"]
assert w["elsewhere"]["last_state"] == "skipped"
PY
# The copy holds the volume as it was.
mkdir -p "$WORK/copy"
ctl expose "$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')" --mount "$WORK/copy" >/dev/null
[ "$(md5_of "$WORK/copy/before")" = "$sum_before" ] || fail "the copy's file differs"
ctl unexpose "$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')" >/dev/null
rm -f "$WD/good" "$WD/elsewhere"

# The baseline every failure is compared with.
base_snaps=$(snapshots_in_kernel a)
base_dm=$(state_of_dm)
cp "$SHADOW_STATE_DIR/catalog.json" "$WORK/base.json"

# undone <writer> <event> <text> <create options...>: create fails with
# exit 7 naming the writer and the event, and leaves nothing behind.
undone() {
	local w=$1 ev=$2 text=$3 want=failed t0=$SECONDS t1
	shift 3
	[ "$text" != "refused, not run" ] || want=refused
	expect_exit 7 "writer $w, $ev: $text" ctl create a --writers-dir "$WD" "$@"
	t1=$SECONDS
	grep -qF "a writer failed; the set was undone" "$WORK/err" || fail "no exit 7 text"
	[ "$(snapshots_in_kernel a)" = "$base_snaps" ] || fail "$w: a snapshot is left in the kernel"
	[ "$(state_of_dm)" = "$base_dm" ] || {
		diff <(echo "$base_dm") <(state_of_dm) >&2
		fail "$w: dm devices changed"
	}
	dmsetup info a | matches "State: *ACTIVE" || fail "$w: volume a is left suspended"
	# Not frozen, and the volume writable: a write and its fsync complete
	# (a frozen ext4, or a suspended volume, blocks them).
	timeout 20 dd if=/dev/urandom of=/mnt/a/probe bs=4k count=4 conv=fsync status=none ||
		fail "$w: the file system on a is not writable (frozen?)"
	# No writer, and none of the test writers' children (sleep 1000,
	# sleep $TESTWRITER_LATE).
	! pgrep -f "$WD/|^sleep [0-9]+\$" >/dev/null ||
		{ pgrep -af "$WD/|^sleep " >&2; fail "$w: a writer process is left"; }
	# The catalog as it was, but the writers' last states and the id
	# counters (a set undone after its commit has used its ids).
	python3 -S - "$SHADOW_STATE_DIR/catalog.json" "$WORK/base.json" "$w" "$want" <<'PY' ||
import json, sys
cur, base = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
st = {x["name"]: x for x in cur["writers"]}
assert st[sys.argv[3]]["state"] == sys.argv[4], st.get(sys.argv[3])
for d in (cur, base):
    for k in ("writers", "next_id", "next_set"):
        d.pop(k, None)
assert cur == base, (cur, base)
PY
		fail "$w: the catalog changed, or its last state is not $want"
	echo "$w undone: create $((t1 - t0)) s, checks $((SECONDS - t1)) s"
}

step "misbehaving writers"
install_writer hang-freeze crash-prepare early-exit garbage late-freeze error-freeze \
	held-false-once recorder gw
chmod g+w "$WD/gw"

undone hang-freeze freeze "no answer within 4 s" --writer hang-freeze --writer-timeout 4
# The default writers.conf (configure's sysconfdir) and the protocol version.
[[ "$(wlog hang-freeze)" == "env /"*"/dm-shadow/writers.conf 1 identify prepare freeze" ]] ||
	fail "hang-freeze read: $(wlog hang-freeze)"
undone crash-prepare prepare "exited before answering (killed by signal 9" --writer crash-prepare
undone early-exit identify "exited before answering (exit status 3)" --writer early-exit
undone garbage identify "protocol error: not JSON" --writer garbage
TESTWRITER_LATE=8 undone late-freeze freeze "no answer within 4 s" --writer late-freeze \
	--writer-timeout 4
undone error-freeze freeze "status error: the test says no" --writer error-freeze
undone held-false-once thaw "held false" --writer held-false-once
[[ "$(wlog held-false-once)" == *" 1 identify prepare freeze thaw" ]] ||
	fail "held-false-once read: $(wlog held-false-once)"
undone gw identify "refused, not run" --writer gw
grep -qF "$WD/gw is group-writable" "$WORK/err" || fail "gw: no reason given"
[ ! -e "$TESTWRITER_LOG/gw.log" ] || fail "the refused writer ran"

step "two writers, one hangs: the other is aborted"
rm -f "$TESTWRITER_LOG/recorder.log"
undone hang-freeze freeze "no answer within 4 s" --writer recorder --writer hang-freeze \
	--writer-timeout 4
[[ "$(wlog recorder)" == *" identify prepare freeze abort eof" ]] ||
	fail "recorder read: $(wlog recorder)"
[ "$(json_cat "[x for x in d['writers'] if x['name'] == 'recorder'][0]['event']")" = abort ] ||
	fail "recorder's last state is not its abort"

step "list writers shows every state"
ctl list writers --writers-dir "$WD" | tee "$WORK/writers.txt"
grep -q "^gw  *refused .*group-writable" "$WORK/writers.txt" || fail "gw is not listed refused"
grep -q "^crash-prepare  *ready  *failed  *prepare " "$WORK/writers.txt" ||
	fail "crash-prepare's last state is not listed"

step "held false once, --retries 2: the second attempt succeeds"
rm -f "$TESTWRITER_LOG/held-false-once.state" "$TESTWRITER_LOG/held-false-once.log"
ctl create a --writers-dir "$WD" --writer held-false-once --retries 2 >"$WORK/out" 2>"$WORK/err" ||
	{ cat "$WORK/out" "$WORK/err" >&2; fail "create with --retries 2"; }
cat "$WORK/out" "$WORK/err"
grep -q "retrying" "$WORK/err" || fail "no retry was logged"
[[ "$(wlog held-false-once)" == *" identify prepare freeze thaw env "*" identify prepare freeze thaw post-snapshot eof" ]] ||
	fail "held-false-once read: $(wlog held-false-once)"
[ "$(snapshots_in_kernel a)" = $((base_snaps + 1)) ] || fail "not exactly one new snapshot"
[ "$(json_cat "d['sets'][-1]['writers'][0]['name']")" = held-false-once ] ||
	fail "the retried set lacks its writer"
! pgrep -f "$WD/" >/dev/null || fail "a writer process is left"

step "--component runs only the writer named, --no-writers none"
rm -f "$TESTWRITER_LOG"/*.log
ctl -J create a --writers-dir "$WD" --component recorder/data >"$WORK/create.json"
[ "$(json "$WORK/create.json" '[w["name"] for w in d["set"]["writers"]]')" = "['recorder']" ] ||
	fail "--component recorder/data: $(cat "$WORK/create.json")"
[ "$(cd "$TESTWRITER_LOG" && echo *.log)" = recorder.log ] ||
	fail "--component ran other writers: $(ls "$TESTWRITER_LOG")"
rm -f "$TESTWRITER_LOG"/*.log
ctl create a --writers-dir "$WD" --no-writers >/dev/null
[ -z "$(ls "$TESTWRITER_LOG"/*.log 2>/dev/null)" ] || fail "--no-writers ran a writer"
[ "$(snapshots_in_kernel a)" = $((base_snaps + 3)) ] || fail "not exactly three new snapshots"

step "bad input: refused, nothing changed"
cp "$SHADOW_STATE_DIR/catalog.json" "$WORK/before.json"
expect_exit 2 "no writer named nosuch" ctl create a --writers-dir "$WD" --writer nosuch
expect_exit 3 "writer recorder has no component nope" \
	ctl create a --writers-dir "$WD" --component recorder/nope
expect_exit 1 "bad component" ctl create a --writers-dir "$WD" --component recorder
[ "$(snapshots_in_kernel a)" = $((base_snaps + 3)) ] || fail "bad input made a snapshot"
python3 -S - "$WORK/before.json" "$SHADOW_STATE_DIR/catalog.json" <<'PY' || fail "bad input changed the catalog"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
a.pop("writers"); b.pop("writers")
assert a == b, (a, b)
PY
! pgrep -f "$WD/" >/dev/null || fail "a writer process is left"

step "clean up"
umount /mnt/a
ctl disable --force a
[ -z "$(dmsetup ls | grep -v 'No devices')" ] || { dmsetup ls; fail "dm devices left"; }
echo "ctl-writers: ok"

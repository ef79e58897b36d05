#!/bin/bash
# The hook writer runs qemu-ga style fsfreeze-hook.d scripts around a
# set made by "shadowctl create": "freeze" in name order before the
# suspend, "thaw" in reverse order after it.  Each script logs what it was
# called with and when, and writes a marker into the volume; the copy
# holds the freeze markers and not the thaw ones, so the calls were on
# the right side of the snapshot.  Backup leftovers (*.bak) and
# non-executables are not run.  Then a failing freeze hook: shadowctl
# exits 7 naming the writer and the event, the hooks already frozen (and
# the failing one) get thaw in reverse order, the one after it is never
# called, and no set is left.
# guest-timeout: 300
. "$SHADOW_TOP/test/guest/lib/writers.sh"

volume_up vol 32 32 "$WORK/mnt"
hooks=$WORK/hooks.d
mkdir -p "$hooks"
chmod 755 "$hooks"
# hook <name> [fail]: a script that logs "<seconds> <name> <arg>" and
# writes <name>.<arg> into the volume; with "fail", freeze exits 3 while
# $WORK/fail exists.
hook() {
	cat >"$hooks/$1" <<-EOF
	#!/bin/sh
	echo "\$(date +%s.%N) $1 \$1" >>"$WORK/hooks.log"
	echo "$1 \$1" >"$WORK/mnt/$1.\$1"
	if [ "${2:-}" = fail ] && [ "\$1" = freeze ] && [ -e "$WORK/fail" ]; then
		echo "$1: cannot quiesce" >&2
		exit 3
	fi
	exit 0
	EOF
	chmod 755 "$hooks/$1"
}
hook 10-db
hook 20-cache fail
hook 30-queue
hook 40-old.bak
printf '#!/bin/sh\necho ran >%s\n' "$WORK/noexec-ran" >"$hooks/50-noexec"
chmod 644 "$hooks/50-noexec"
writer_conf <<EOF
[hook]
directory = $hooks
timeout = 20
EOF

tstep "a set with the hooks around it"
rm -f "$WORK/hooks.log"
writers_enable hook
t_create=$(date +%s.%N)
ctl_create vol
t_created=$(date +%s.%N)
python3 - "$WORK/create.json" "$WORK/mnt" "$hooks" <<'PY' || fail "the writer's metadata in the set"
import json, sys
[w] = json.load(open(sys.argv[1]))["set"]["writers"]
m = w["metadata"]
assert w["name"] == "hook" and m["writer"] == "hook", w
assert m["components"] == [{"name": "hooks", "paths": [sys.argv[2]], "exclude": []}] or \
	m["components"] == [{"name": "hooks", "paths": [sys.argv[2]]}], m
assert sys.argv[3] in m["application"] and "(3)" in m["application"], m
PY
cat "$WORK/hooks.log"
[ "$(awk '{ print $2, $3 }' "$WORK/hooks.log" | paste -sd,)" = \
	"10-db freeze,20-cache freeze,30-queue freeze,30-queue thaw,20-cache thaw,10-db thaw" ] ||
	fail "hooks called in the wrong order"
awk -v c="$t_create" -v e="$t_created" '
	$1 < c || $1 > e { print "outside shadowctl create: " $0; bad = 1 }
	END { exit bad }' "$WORK/hooks.log" || fail "hooks called outside shadowctl create"
[ ! -e "$WORK/noexec-ran" ] || fail "a non-executable hook ran"
! grep -q 40-old "$WORK/hooks.log" || fail "a .bak hook ran"
echo "freeze in name order, thaw in reverse, within shadowctl create"

id=$(copy_of vol)
mkdir -p "$WORK/copy"
ctl expose "$id" --mount "$WORK/copy"
for h in 10-db 20-cache 30-queue; do
	[ "$(cat "$WORK/copy/$h.freeze")" = "$h freeze" ] || fail "the copy lacks $h's freeze marker"
	[ ! -e "$WORK/copy/$h.thaw" ] || fail "the copy holds $h's thaw marker"
done
echo "the copy holds every freeze marker and no thaw marker"
ctl unexpose "$id"
ctl delete "$id"


tstep "a failing freeze hook"
rm -f "$WORK/hooks.log"
touch "$WORK/fail"
rc=0
ctl create vol --writers-dir "$WD" --writer-conf "$SHADOW_WRITER_CONF" >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/err"
[ "$rc" = 7 ] || fail "shadowctl create exited $rc, expected 7"
grep -q "hook" "$WORK/err" && grep -q "freeze" "$WORK/err" || fail "the message does not name the hook writer at freeze"
grep -q "20-cache freeze: exit status 3" "$WORK/err" || fail "the message does not name the failing hook"
cat "$WORK/hooks.log"
[ "$(awk '{ print $2, $3 }' "$WORK/hooks.log" | paste -sd,)" = \
	"10-db freeze,20-cache freeze,20-cache thaw,10-db thaw" ] ||
	fail "a failing hook was not undone in reverse order"
[ "$(snapshots_in_kernel vol)" = 0 ] || fail "the failed set left a snapshot in the kernel"
[ -z "$(ctl -n list shadows)" ] || fail "the failed set left a shadow copy in the catalog"
ctl -n list writers --writers-dir "$WD" | tee "$WORK/writers.txt"
grep -q "^hook .*failed *freeze" "$WORK/writers.txt" || fail "list writers does not show hook failed at freeze"
touch "$WORK/mnt/writable" || fail "the volume is not writable after the failed set"
rm -f "$WORK/fail"

umount "$WORK/mnt"
ctl disable vol
echo "writer-hook: ok (${SECONDS}s)"

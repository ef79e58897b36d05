#!/bin/sh
# The systemd units we ship: systemd accepts each (systemd-analyze verify:
# syntax, known directives, executables present),
# dm-shadow-activate.service orders what the boot needs: activation before
# local file systems mount (test/guest/tests/boot-systemd.sh boots them),
# and dm-shadow-schedule.timer starts the service that runs 'schedule run'.
set -u

activate=${ACTIVATE_UNIT:-systemd/dm-shadow-activate.service}
monitor=${MONITOR_UNIT:-systemd/dm-shadow-monitor.service}
schedule=${SCHEDULE_UNIT:-systemd/dm-shadow-schedule.service}
timer=${srcdir:-.}/systemd/dm-shadow-schedule.timer
ctl=${SHADOWCTL:-cmd/shadowctl/shadowctl}
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: no systemd-analyze"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# verify <unit file>...: systemd-analyze's verdict, its messages on stdout.
# A unit passes when it exits 0 and says nothing: it exits 0 on an unknown
# key or a key in the wrong section, which it only reports ("Unknown key
# ..., ignoring"), and systemd would ignore the line at boot.
verify() {
	systemd-analyze verify --man=no "$@" >"$tmp/out" 2>&1
	rc=$?
	sed 's/^/  /' "$tmp/out"
	[ "$rc" = 0 ] && [ ! -s "$tmp/out" ]
}

# The installed units name $(sbindir)/shadowctl; check them against the
# one just built.
for unit in "$activate" "$monitor" "$schedule"; do
	name=$(basename "$unit")
	sed "s|^ExecStart=[^ ]*/shadowctl |ExecStart=$ctl |" "$unit" >"$tmp/$name"
	grep -q "^ExecStart=$ctl " "$tmp/$name" || fail "$name: ExecStart does not run shadowctl"
	if verify "$tmp/$name"; then
		echo "ok: systemd-analyze verify accepts $name"
	else
		fail "systemd-analyze verify rejects $name"
	fi
done
grep -q "^ExecStart=$ctl --wait activate --all" "$tmp/$(basename "$activate")" ||
	fail "ExecStart does not run shadowctl --wait activate --all"
grep -q "^ExecStart=$ctl monitor$" "$tmp/$(basename "$monitor")" ||
	fail "ExecStart does not run shadowctl monitor"
grep -q "^ExecStart=$ctl --wait schedule run$" "$tmp/$(basename "$schedule")" ||
	fail "ExecStart does not run shadowctl --wait schedule run"

# The timer, verified beside the service it starts.
cp "$timer" "$tmp/"
grep -q '^OnCalendar=' "$timer" || fail "the timer has no OnCalendar="
if verify "$tmp/$(basename "$timer")" "$tmp/$(basename "$schedule")"; then
	echo "ok: systemd-analyze verify accepts $(basename "$timer")"
else
	fail "systemd-analyze verify rejects $(basename "$timer")"
fi

# The verifier is not a formality: a missing executable is caught.
name=$(basename "$activate")
mkdir "$tmp/broken"
sed "s|^ExecStart=[^ ]*/shadowctl |ExecStart=$tmp/no-such-shadowctl |" "$activate" >"$tmp/broken/$name"
if verify "$tmp/broken/$name" >/dev/null; then
	fail "systemd-analyze verify accepts a unit whose ExecStart does not exist"
else
	echo "ok: systemd-analyze verify rejects a missing ExecStart"
fi

# Nor is a key systemd would ignore.
mkdir "$tmp/ignored"
sed 's/^RemainAfterExit=yes$/&\nRemainAfterExitt=yes/' "$tmp/$name" >"$tmp/ignored/$name"
if verify "$tmp/ignored/$name" >/dev/null; then
	fail "a unit with an unknown key passes"
else
	echo "ok: a unit with an unknown key does not pass"
fi

for want in "DefaultDependencies=no" "Before=local-fs-pre.target" \
	"After=systemd-remount-fs.service" "Type=oneshot" "RemainAfterExit=yes" \
	"WantedBy=local-fs-pre.target"; do
	if grep -qx -- "$want" "$activate"; then
		echo "ok: $want"
	else
		fail "no line '$want' in $activate"
	fi
done

[ "$fails" = 0 ] || exit 1
echo "systemd-unit: all ok"

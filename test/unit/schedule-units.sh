#!/bin/sh
# dm-shadow-schedule.timer and .service: systemd accepts them (systemd-analyze
# verify), the timer starts the service, the service runs 'schedule run'.
set -u

srcdir=${srcdir:-.}
service=${SCHEDULE_UNIT:-systemd/dm-shadow-schedule.service}
timer=$srcdir/systemd/dm-shadow-schedule.timer
ctl=${SHADOWCTL:-cmd/shadowctl/shadowctl}
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: no systemd-analyze"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# The installed unit names $(sbindir)/shadowctl: check it against the one built.
sed "s|^ExecStart=[^ ]*/shadowctl |ExecStart=$ctl |" "$service" >"$tmp/dm-shadow-schedule.service"
cp "$timer" "$tmp/"
grep -q "^ExecStart=$ctl --wait schedule run$" "$tmp/dm-shadow-schedule.service" ||
	{ echo "FAIL: the service does not run shadowctl --wait schedule run"; fails=$((fails + 1)); }
grep -q '^OnCalendar=' "$timer" || { echo "FAIL: the timer has no OnCalendar="; fails=$((fails + 1)); }
if (cd "$tmp" && systemd-analyze verify --man=no ./dm-shadow-schedule.timer ./dm-shadow-schedule.service) \
	>"$tmp/out" 2>&1; then
	echo "ok: systemd-analyze verify accepts dm-shadow-schedule.timer and .service"
else
	sed 's/^/  /' "$tmp/out"
	echo "FAIL: systemd-analyze verify rejects the schedule units"
	fails=$((fails + 1))
fi
[ "$fails" = 0 ]

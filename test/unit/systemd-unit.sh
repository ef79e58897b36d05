#!/bin/sh
# dm-shadow-activate.service: systemd accepts it (systemd-analyze verify:
# syntax, known directives, executables present) and it orders what the
# boot needs: activation before local file systems mount.
set -u

unit=${ACTIVATE_UNIT:-systemd/dm-shadow-activate.service}
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

# verify <unit file>: systemd-analyze's verdict, its messages on stdout.
verify() {
	systemd-analyze verify --man=no "$1" >"$tmp/out" 2>&1
	rc=$?
	sed 's/^/  /' "$tmp/out"
	return $rc
}

# The installed unit names $(sbindir)/shadowctl; check it against the one
# just built.
name=$(basename "$unit")
sed "s|^ExecStart=[^ ]*/shadowctl |ExecStart=$ctl |" "$unit" >"$tmp/$name"
grep -q "^ExecStart=$ctl --wait activate --all" "$tmp/$name" ||
	fail "ExecStart does not run shadowctl --wait activate --all"
if verify "$tmp/$name"; then
	echo "ok: systemd-analyze verify accepts $name"
else
	fail "systemd-analyze verify rejects $name"
fi

# The verifier is not a formality: a missing executable is caught.
mkdir "$tmp/broken"
sed "s|^ExecStart=[^ ]*/shadowctl |ExecStart=$tmp/no-such-shadowctl |" "$unit" >"$tmp/broken/$name"
if verify "$tmp/broken/$name" >/dev/null; then
	fail "systemd-analyze verify accepts a unit whose ExecStart does not exist"
else
	echo "ok: systemd-analyze verify rejects a missing ExecStart"
fi

for want in "DefaultDependencies=no" "Before=local-fs-pre.target" \
	"After=systemd-remount-fs.service" "Type=oneshot" "RemainAfterExit=yes" \
	"WantedBy=local-fs-pre.target"; do
	if grep -qx -- "$want" "$unit"; then
		echo "ok: $want"
	else
		fail "no line '$want' in $unit"
	fi
done

[ "$fails" = 0 ] || exit 1
echo "systemd-unit: all ok"

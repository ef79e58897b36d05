#!/bin/bash
# The README's demonstration (scripts/demo runs it on Debian's 6.1 kernel).
# For now: dm-shadow.ko is loaded by the harness; show that the kernel knows
# its targets.  Later issues grow this into a real snapshot session.
# guest-timeout: 300
set -eu

echo "== kernel"
uname -r
echo "== module"
modinfo -F version dm-shadow 2>/dev/null | sed 's/^/dm-shadow version: /' || true
grep -w '^dm_shadow' /proc/modules || { echo "dm-shadow is not loaded" >&2; exit 1; }
echo "== dmsetup targets"
dmsetup targets
for t in shadow-origin shadow-snap; do
	if ! dmsetup targets | grep -q "^$t "; then
		echo "target $t is missing" >&2
		exit 1
	fi
done
echo "DEMO OK: shadow-origin and shadow-snap are registered"

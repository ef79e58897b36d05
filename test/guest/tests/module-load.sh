#!/bin/bash
# dm-shadow.ko loads (the harness loaded it) and registers both targets;
# the harness unloads it afterwards and fails the run if that fails.
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

dmsetup targets
for t in shadow-origin shadow-snap; do
	dmsetup targets | matches -E "^$t +v[0-9]+\.[0-9]+\.[0-9]+$" ||
		fail "target $t is not registered"
done
grep -q '^dm_shadow ' /proc/modules || fail "dm_shadow is not in /proc/modules"
echo "module-load: both targets registered"

#!/bin/bash
# The benchmark (test/bench/) with tiny sizes: proves that every measure
# still runs on every target and fills its table.  No timing assertions.
# scripts/bench runs the full profile as the test "bench".
# guest-timeout: 600
# guest-mem: 3072
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

step "benchmark, quick profile"
"$SHADOW_TOP/test/bench/bench-guest.sh" quick "$RESULTS" ||
	fail "the quick benchmark failed"

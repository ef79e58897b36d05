#!/bin/bash
# The benchmark (test/bench/) with tiny sizes and two rounds: proves that
# every measure still runs on every kind of target, fills its table and
# gives a median and spread.  No timing assertions.  scripts/bench runs
# the full profile as the test "bench".
# guest-timeout: 600
# guest-mem: 3072
# guest-cmdline: slab_nomerge
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

step "benchmark, quick profile"
"$SHADOW_TOP/test/bench/bench-guest.sh" quick "$RESULTS" ||
	fail "the quick benchmark failed"

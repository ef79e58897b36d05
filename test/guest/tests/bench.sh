#!/bin/bash
# The full benchmark (test/bench/), run by scripts/bench, not by the test
# suite: about 10 minutes per kernel under TCG.  Results go to
# $RESULTS/results.json, which scripts/bench turns into docs/benchmarks.md.
# guest-timeout: 1500
# guest-mem: 3072
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

step "benchmark, full profile"
"$SHADOW_TOP/test/bench/bench-guest.sh" full "$RESULTS" || fail "the benchmark failed"

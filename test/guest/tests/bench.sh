#!/bin/bash
# The full benchmark (test/bench/), run by scripts/bench, not by the test
# suite: three rounds of every measure, about 20 minutes per kernel under TCG
# on an idle host.  Results go to $RESULTS/results.json, which
# scripts/bench turns into docs/benchmarks.md.
# slab_nomerge: every slab cache shows on its own in /proc/slabinfo, so
# the kernel memory measure can name what grew.
# guest-timeout: 14400
# guest-mem: 3072
# guest-cmdline: slab_nomerge
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

step "benchmark, full profile"
# scripts/bench's BENCH_ONLY: the measures to run, or none for all.
only=$(cat "$SHADOW_TOP/.cache/bench/only" 2>/dev/null || true)
# shellcheck disable=SC2086 # one word per measure
"$SHADOW_TOP/test/bench/bench-guest.sh" full "$RESULTS" $only || fail "the benchmark failed"

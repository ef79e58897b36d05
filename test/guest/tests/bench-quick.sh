#!/bin/bash
# The benchmark (test/bench/) with tiny sizes and one round: proves that
# every measure still runs on every kind of target, fills its table and
# gives a median and spread.  No timing assertions.  scripts/bench runs
# the full profile, every measure on both kernels, as the test "bench".
#
# Under run-all each kernel runs its share of the measures (GUEST_SHARE
# i/N: every N-th from the i-th on, on every target), as the replay tests
# share their points: the suite as a whole runs every measure once.
# run-one alone runs them all.
# guest-timeout: 600
# guest-mem: 3072
# guest-cmdline: slab_nomerge
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

share_i=${GUEST_SHARE%/*} share_n=${GUEST_SHARE#*/}
measures=()
if [ "$share_n" -gt 1 ]; then
	mapfile -t all < <(cd "$SHADOW_TOP/test/bench" && PYTHONDONTWRITEBYTECODE=1 python3 -c \
		'import measures; print("\n".join(t for t, fn, _, _ in measures.MEASURES if fn))')
	[ ${#all[@]} -gt 0 ] || fail "no measures listed by test/bench/measures.py"
	for k in "${!all[@]}"; do
		[ $((k % share_n)) = $((share_i - 1)) ] && measures+=("${all[k]}")
	done
fi

step "benchmark, quick profile${measures[*]:+: ${measures[*]} (share $GUEST_SHARE)}"
"$SHADOW_TOP/test/bench/bench-guest.sh" quick "$RESULTS" "${measures[@]}" ||
	fail "the quick benchmark failed"

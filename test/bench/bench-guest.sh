#!/bin/bash
# Guest side of the benchmark: bench-guest.sh <quick|full> <outdir>
# [measure...] (bench.py's: only those).
# Loads the comparison targets, runs bench.py (results.json in outdir),
# prints the tables and checks that every measure has its figures.
set -euo pipefail
mode=$1 out=$2
shift 2
export PYTHONDONTWRITEBYTECODE=1
here=$(cd "$(dirname "$0")" && pwd)
for m in dm-snapshot dm-thin-pool dm-mod; do
	modprobe "$m"
done
modprobe -r brd 2>/dev/null || true
mkdir -p "$out"
(cd "$here" && python3 selftest.py)
python3 "$here/bench.py" "$mode" "$out/results.json" "$@"
python3 "$here/report.py" --text "$out/results.json"
python3 "$here/report.py" --check "$out/results.json"

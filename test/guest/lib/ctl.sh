# shellcheck shell=bash
# Helpers for the shadowctl guest tests (tests/ctl-*.sh); sources shadow.sh.
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

CTL=$SHADOW_TOP/cmd/shadowctl/shadowctl
[ -x "$CTL" ] || fail "$CTL is not built: run make first"
export SHADOW_STATE_DIR=$WORK/state

# cmd/shadowctl/shadowctl is libtool's wrapper script, which costs seconds per run
# in a TCG guest: run the binary it wraps, with the library path it sets.
ctl() {
	if [ -x "$SHADOW_TOP/cmd/shadowctl/.libs/shadowctl" ]; then
		LD_LIBRARY_PATH=$SHADOW_TOP/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
			"$SHADOW_TOP/cmd/shadowctl/.libs/shadowctl" "$@"
	else
		"$CTL" "$@"
	fi
}

# expect_exit <code> <text> <command...>: the command must exit with
# <code> and print <text> on stderr.
expect_exit() {
	local want=$1 text=$2 rc=0
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" = "$want" ] || { cat "$WORK/out" "$WORK/err" >&2; fail "exit $rc, expected $want: $*"; }
	grep -qF -- "$text" "$WORK/err" || { cat "$WORK/err" >&2; fail "no '$text' in the error of: $*"; }
	echo "refused as expected (exit $rc): $(head -n 1 "$WORK/err")"
}

# snapshots_in_kernel <dm name>: number of lines of the list message.
snapshots_in_kernel() {
	dmsetup message "$1" 0 list | grep -c . || true
}

# state_of_dm: every dm device with its table and suspended state, to
# compare before and after a refused command.
state_of_dm() {
	local n
	for n in $(dmsetup ls | awk '$1 != "No" { print $1 }' | sort); do
		echo "$n $(dmsetup info -c --noheadings -o attr,major,minor "$n") $(dmsetup table "$n")"
	done
}

# load_start <dir>: a writer that creates file N (load_content N, fsync)
# and then logs N to $WORK/done.log, until $WORK/stop exists.  A steady
# load, not a saturating one: the guest's two vCPUs share one host core
# (single-threaded TCG), and a writer that never paused took half the
# time of everything the test did meanwhile.
load_start() {
	rm -f "$WORK/stop" "$WORK/done.log"
	mkdir -p "$1"
	(
		i=0
		while [ ! -e "$WORK/stop" ]; do
			i=$((i + 1))
			load_content "$i" | dd of="$1/f$i" bs=64k conv=fsync status=none
			echo "$i" >>"$WORK/done.log"
			sleep 0.2
		done
	) &
	LOAD_PID=$!
}

# load_content <n>: file n's content, "load file <n> <n in 100 digits>"
# lines cut at 4096 + (n % 17) * 1000 bytes; made by the shell alone.
load_content() {
	local line s size=$((4096 + ($1 % 17) * 1000))
	printf -v line 'load file %d %0100d\n' "$1" "$1"
	s=$line
	while [ ${#s} -lt "$size" ]; do s+=$s; done
	printf '%s' "${s:0:size}"
}

load_stop() {
	touch "$WORK/stop"
	wait "$LOAD_PID"
}

load_done() {
	tail -n 1 "$WORK/done.log" 2>/dev/null || echo 0
}

# load_files <dir> <n> [exact]: the load files in <dir>, read in one
# python run (a process per file is slow in the guest).  As a copy holds
# them: no gap, at least the <n> files done before the point in time, each
# exact but the last when it is beyond them (it may have been under way):
# that one a prefix of its content.  With "exact": f1 .. f<n>, all exact.
load_files() {
	python3 - "$@" <<-'PY' || fail "load files in $1"
	import os, sys
	d, n, exact = sys.argv[1], int(sys.argv[2]), len(sys.argv) > 3
	def content(i):
	    line = ("load file %d %0100d\n" % (i, i)).encode()
	    size = 4096 + (i % 17) * 1000
	    return (line * (size // len(line) + 1))[:size]
	have = sorted(int(f[1:]) for f in os.listdir(d) if f.startswith("f"))
	m = have[-1] if have else 0
	assert have == list(range(1, m + 1)), "%s: load files with a gap: %s" % (d, have)
	assert m == n if exact else m >= n, "%s: %d load files, expected %s%d" % (d, m, "" if exact else ">= ", n)
	partial = ""
	for i in have:
	    data = open(os.path.join(d, "f%d" % i), "rb").read()
	    if i < m or i <= n or exact:
	        assert data == content(i), "%s: f%d differs" % (d, i)
	    else:
	        assert content(i).startswith(data), "%s: f%d is not a prefix of its content" % (d, i)
	        partial = ", f%d %d bytes" % (i, len(data))
	print("%s: load files 1..%d exact%s (%d were done before)" % (d, m if not partial else m - 1, partial, n))
	PY
}

# load_verify <dir> <n>: files 1..n hold exactly their content, and what
# follows them is as a copy taken under the load may hold (load_files).
load_verify() {
	load_files "$1" "$2"
}

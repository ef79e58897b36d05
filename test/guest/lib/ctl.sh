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

# json <file> <python expression on d>: print the value.
json() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
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

# load_start <dir>: a writer that creates file N (deterministic content,
# fsync) and then logs N to $WORK/done.log, until $WORK/stop exists.
load_start() {
	rm -f "$WORK/stop" "$WORK/done.log"
	mkdir -p "$1"
	(
		i=0
		while [ ! -e "$WORK/stop" ]; do
			i=$((i + 1))
			load_content "$i" | dd of="$1/f$i" bs=64k conv=fsync status=none
			echo "$i" >>"$WORK/done.log"
		done
	) &
	LOAD_PID=$!
}

load_content() (
	set +o pipefail	# yes(1) ends on SIGPIPE
	yes "load file $1 $(printf '%0100d' "$1")" | head -c $((4096 + ($1 % 17) * 1000))
)

load_stop() {
	touch "$WORK/stop"
	wait "$LOAD_PID"
}

load_done() {
	tail -n 1 "$WORK/done.log" 2>/dev/null || echo 0
}

# load_verify <dir> <n>: files 1..n hold exactly their content.
load_verify() {
	local i
	for i in $(seq 1 "$2"); do
		[ -f "$1/f$i" ] || fail "load file f$i (done before the snapshot) is missing in $1"
		[ "$(md5sum <"$1/f$i")" = "$(load_content "$i" | md5sum)" ] ||
			fail "load file f$i differs in $1"
	done
	echo "load files 1..$2 exact in $1"
}

# shellcheck shell=bash
# Helpers for the writer guest tests (tests/writer-*.sh, demo-postgres.sh);
# sources ctl.sh.
#
# A writer runs as the coordinator runs it: stdin and stdout pipes (here
# FIFOs, so several writers can be held at once), stderr passed through,
# SHADOW_WRITER_CONF naming a root-only writers.conf.  writer_set drives
# the whole protocol by hand around "shadowctl create", so the tests can
# look at the application while it is frozen.
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

WRITERS=$SHADOW_TOP/writers
for w in postgresql mariadb sqlite hook; do
	[ -x "$WRITERS/$w" ] || fail "$WRITERS/$w is not built: run make first"
done
export SHADOW_WRITER_CONF=$WORK/writers.conf

# writer_conf: standard input becomes writers.conf, root's and 0600.
writer_conf() {
	(umask 077 && cat >"$SHADOW_WRITER_CONF")
	chmod 600 "$SHADOW_WRITER_CONF"
}

# volume_up <name> <origin MiB> <store MiB> <mountpoint>: a loop device
# with ext4, made a dm-shadow volume and mounted.
volume_up() {
	local origin store
	origin=$(loop_disk "$2")
	store=$(loop_disk "$3")
	mkfs.ext4 -q -F "$origin"
	ctl enable "$origin" --store "$store" --name "$1"
	mkdir -p "$4"
	mount "/dev/mapper/$1" "$4"
}

# ------------------------------------------------------------------------
# One writer process per id: FIFOs $WORK/w-<id>/{in,out}.

declare -A W_IN W_OUT W_PID

# writer_spawn <id> <kind>
writer_spawn() {
	local d=$WORK/w-$1 fd_in fd_out
	rm -rf "$d"
	mkdir -p "$d"
	mkfifo "$d/in" "$d/out"
	(cd / && exec "$WRITERS/$2" <"$d/in" >"$d/out") &
	W_PID[$1]=$!
	exec {fd_in}>"$d/in"
	exec {fd_out}<"$d/out"
	W_IN[$1]=$fd_in
	W_OUT[$1]=$fd_out
}

# writer_req <id> <json>: send one request; the answer line goes to
# $WORK/w-<id>/answer and is printed.
writer_req() {
	local line
	echo "$2" >&"${W_IN[$1]}"
	IFS= read -r -t 120 line <&"${W_OUT[$1]}" || fail "writer $1: no answer to $2"
	printf '%s\n' "$line" >"$WORK/w-$1/answer"
	printf '%s\n' "$line"
}

# answer <id> <python expression on d>: a value of the last answer.
answer() {
	json "$WORK/w-$1/answer" "$2"
}

# writer_ok <id> <json>: the answer must say ok.
writer_ok() {
	local a
	a=$(writer_req "$1" "$2")
	[ "$(answer "$1" 'd["status"]')" = ok ] || fail "writer $1 answered $a to $2"
	printf '%s\n' "${a:0:300}"
}

# writer_close <id>: close its stdin; it must exit 0.
writer_close() {
	local rc=0
	exec {W_IN[$1]}>&-
	wait "${W_PID[$1]}" || rc=$?
	exec {W_OUT[$1]}<&-
	[ "$rc" = 0 ] || fail "writer $1 exited $rc after stdin closed"
}

# identify_json <set> <volume>...: the identify request for volumes of
# the catalog (mountpoints from /proc/mounts).
identify_json() {
	local set=$1 v mp sep=""
	shift
	printf '{"event":"identify","protocol":1,"set":%s,"volumes":[' "$set"
	for v in "$@"; do
		mp=$(awk -v d="/dev/mapper/$v" '$1 == d { print $2; exit }' /proc/mounts)
		printf '%s{"name":"%s","device":"/dev/mapper/%s","mountpoint":%s}' \
			"$sep" "$v" "$v" "$([ -n "$mp" ] && echo "\"$mp\"" || echo null)"
		sep=,
	done
	printf ']}\n'
}

# component_names <id>: the components of its identify answer, as JSON.
component_names() {
	json "$WORK/w-$1/answer" 'json.dumps([c["name"] for c in d["metadata"]["components"]])'
}

# writer_freeze_all <set> <volumes> <ids...>: identify, prepare (every
# component reported) and freeze each writer, in order.
writer_freeze_all() {
	local set=$1 vols=$2 id
	shift 2
	for id in "$@"; do
		# shellcheck disable=SC2086 # the volume list is words
		writer_ok "$id" "$(identify_json "$set" $vols)" >/dev/null
		cp "$WORK/w-$id/answer" "$WORK/w-$id/identify"
		writer_ok "$id" "{\"event\":\"prepare\",\"components\":$(component_names "$id")}"
		writer_ok "$id" '{"event":"freeze","timeout_ms":10000}'
	done
}

# writer_thaw_all <ids...>: thaw each (held must be true) and send
# post-snapshot; the answers stay in $WORK/w-<id>/{thaw,post}.
writer_thaw_all() {
	local id
	for id in "$@"; do
		writer_ok "$id" '{"event":"thaw"}'
		[ "$(answer "$id" 'd.get("held")')" = True ] || fail "writer $id: held is not true at thaw"
		cp "$WORK/w-$id/answer" "$WORK/w-$id/thaw"
	done
	for id in "$@"; do
		writer_ok "$id" '{"event":"post-snapshot","set":0,"copies":[]}' >/dev/null
		cp "$WORK/w-$id/answer" "$WORK/w-$id/post"
		writer_close "$id"
	done
}

# ------------------------------------------------------------------------
# Load bookkeeping: a load appends each id it saw committed to a log on
# tmpfs (not on the volume); acked <log> is how many.

acked() {
	[ -f "$1" ] || { echo 0; return; }
	wc -l <"$1"
}

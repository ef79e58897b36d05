#!/bin/sh
# shadowctl's command line without a kernel, against a golden transcript
# (test/unit/golden/shadowctl.txt): --help, list --help, --version, every
# usage error (message and exit status 1), -o/-O/-n/-J on an empty
# catalog.  Each case is "$ <args>", its standard output, its standard
# error prefixed with "2> ", and "[exit N]".  A difference prints a diff
# and fails.
#
# After a deliberate change of the help text or a message, regenerate the
# transcript and review it in the diff:
#   GOLDEN_UPDATE=1 SHADOWCTL=cmd/shadowctl/shadowctl test/unit/shadowctl.sh
#
# Also checks that shadowctl(8) documents every column 'list --help'
# names.
set -u

ctl=${SHADOWCTL:-cmd/shadowctl/shadowctl}
version=${SHADOW_VERSION:-}
here=$(dirname "$0")
golden=$here/golden/shadowctl.txt
man=$here/../../man/shadowctl.8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# run <args...>: one case of the transcript.  The state directory is a
# fresh empty one; a usage error never gets as far as reading it.
run() {
	rc=0
	line='$ shadowctl'
	for arg in "$@"; do
		case $arg in
		'' | *' '*) line="$line '$arg'" ;;
		*) line="$line $arg" ;;
		esac
	done
	echo "$line"
	"$ctl" --state-dir "$tmp/state" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	cat "$tmp/out"
	sed 's/^/2> /' "$tmp/err"
	echo "[exit $rc]"
}

cases() {
	# Help and version.
	run --help
	run list --help
	run list storage -h
	run --version

	# Usage errors: exit 1, one line saying why, one pointing to --help.
	run
	run frobnicate
	run --bogus list
	run -x list
	run list --state-dir
	run enable
	run enable /dev/vdb
	run enable /dev/vdb /dev/vdc --store /dev/vdd
	run enable /dev/vdb --store /dev/vdc --chunk-size 4X
	run enable /dev/vdb --store /dev/vdc --set 1
	run disable
	run disable a b
	run create
	run create a --timeout-commit 0
	run create a --timeout-commit 3601
	run create a --timeout-commit 5s
	run create a --rw
	run create a --target a
	run create a --target =/dev/vdh
	run create a --target a=
	run create a --target
	run delete 1 --target a=/dev/vdh
	run enable /dev/vdb --store /dev/vdc --method clone --hydrate-rate fast
	run create a --hydrate-rate 1
	run detach
	run detach 1 2
	run detach x
	run detach 1 --force
	run throttle cv
	run throttle cv fast
	run throttle cv 1 --all
	run list sets volumes
	run list things
	run list --store /dev/vdc
	run delete
	run delete 1 2
	run delete x
	run delete 0
	run delete 1 --set 2
	run delete --set x
	run delete --oldest
	run expose
	run expose 1 2
	run expose one
	run unexpose 1 --rw
	run unexpose 1 --mount /mnt
	run activate
	run activate a --all
	run activate a --force
	run activate --all --device-timeout 0
	run activate --all --device-timeout x
	run activate --all --device-timeout
	run deactivate
	run deactivate a --all
	run deactivate a --device-timeout 5
	run diff
	run diff 1 2 3
	run diff 1 1
	run diff x
	run diff 1 --since 2
	run export 1
	run export 1 -o ''
	run export 1 2 -o f
	run export 1 --since 1 -o f
	run export 1 --since x -o f
	run export 1 --to f
	run import
	run import f
	run import f g --to h
	run import f --since 1 --to h
	run import f --to h --device /dev/vdc
	run export-metadata
	run export-metadata 9
	run export-metadata 9 -o ''
	run export-metadata x -o f
	run export-metadata 9 10 -o f
	run export-metadata 9 --since 3 -o f
	run import-metadata
	run import-metadata f
	run import-metadata f --device ''
	run import-metadata f g --device /dev/vdc
	run import-metadata f --to /dev/vdc
	run schedule
	run schedule prune
	run schedule run data
	run schedule show --stop
	run browse
	run browse a b
	run browse --stop a b
	run browse a --config /etc/x

	# -o/--output and -O/--output-all.
	run list -o bogus
	run list sets -o id,volume
	run list volumes -o name,,state
	run list volumes -o name,
	run list -o ''
	run list -o +
	run list -o id,ID
	run list -o device,+id
	run list -o id -O
	run list storage -J -o volume,use%
	run list -o
	run create a -o id
	run delete 1 -O

	# Lists of an empty catalog: the headings the columns make.
	run list
	run list shadows -n
	run list -O
	run list -o id,volume,state
	run list -o +mountpoint,writable
	run list -o +target,clone
	run list -J -o id,clone
	run list -J -o id,target,clone_state,copied_chunks,total_chunks
	run list -o +origin
	run list -J -o id,origin
	run list -o DEVICE,Id
	run list -J
	run list -J -o id,device
	run list sets
	run list sets -o freeze_us,id
	run -J list sets
	run list volumes
	run list volumes -O
	run list volumes -o +dm-name,enabled
	run list volumes -J
	run list storage
	run list storage -O
	run list storage -J -O

	# activate and deactivate on an empty catalog.
	run activate --all
	run activate --all -J
	run deactivate --all
	run activate nosuch
	run deactivate a b

	# detach and create with a target on an empty catalog.
	run detach 1
	run create nosuch --target nosuch=/dev/null
	run throttle nosuch 0

	# diff and export on an empty catalog; import of what is no stream.
	run diff 1
	run diff 1 2 -J
	run export 1 -o "$tmp/s"
	run import /dev/null --to "$tmp/img"

	# export-metadata and import-metadata on an empty catalog: no copy, no
	# file left behind; an empty document, a missing one, a stream.
	run export-metadata 9 -o "$tmp/m.json"
	run import-metadata /dev/null --device /dev/null
	run import-metadata "$tmp/nosuch.json" --device /dev/null
	printf '{ "format": "dm-shadow-clone-metadata", "version": 2 }' >"$tmp/v2.json"
	run import-metadata "$tmp/v2.json" --device /dev/null
	printf '{ "format": "dm-shadow-clone-metadata", "version": 1, "host": "db1" }' >"$tmp/v1.json"
	run import-metadata "$tmp/v1.json" --device /dev/null
	printf 'DMSHSTRM' >"$tmp/stream"
	run import-metadata "$tmp/stream" --device /dev/null
	if [ -e "$tmp/m.json" ]; then echo "export-metadata left $tmp/m.json"; fi
}

cases | sed "s|$tmp/|@TMP@/|g" |
	if [ -n "$version" ]; then sed "s/ $version\$/ @VERSION@/"; else cat; fi >"$tmp/got"

if [ -n "${GOLDEN_UPDATE:-}" ]; then
	cp "$tmp/got" "$golden"
	echo "wrote $golden"
elif ! diff -u "$golden" "$tmp/got"; then
	echo "FAIL: shadowctl's output differs from $golden (see the diff above)"
	fails=$((fails + 1))
else
	echo "ok: $(grep -c '^\$ ' "$golden") cases match $golden"
fi

# Every column of every list kind has its entry, "\fB<name>\fR (...",
# in its section of shadowctl(8) (.SS "list <kind>"); a '-' in a name is
# written \- there.
"$ctl" list --help | awk '
	/^Columns of / { kind = $4; gsub(/[^a-z]/, "", kind); next }
	/^$/ { kind = "" }
	kind != "" { print kind, $1 }' >"$tmp/columns"
[ -s "$tmp/columns" ] || { echo "FAIL: list --help names no columns"; fails=$((fails + 1)); }
while read -r kind col; do
	# Through the environment: awk -v would take \f for an escape.
	entry="\\fB$(printf '%s' "$col" | sed 's/-/\\-/g')\\fR (" kind=$kind \
	awk '/^\.S[SH]/ { in_kind = $0 == ".SS \"list " ENVIRON["kind"] "\"" }
	     in_kind && index($0, ENVIRON["entry"]) == 1 { found = 1 }
	     END { exit !found }' "$man" || echo "list $kind: $col"
done <"$tmp/columns" >"$tmp/undocumented"
if [ -s "$tmp/undocumented" ]; then
	echo "FAIL: columns not documented in man/shadowctl.8:"
	sed 's/^/  /' "$tmp/undocumented"
	fails=$((fails + 1))
else
	echo "ok: the $(wc -l <"$tmp/columns") columns are in man/shadowctl.8"
fi

# A read on a fresh machine creates nothing: no state directory means
# nothing enabled (shadowctl(8), LOCKING).
fresh=$tmp/fresh/state
for what in "" shadows sets volumes; do
	if ! out=$("$ctl" --state-dir "$fresh" -J list $what 2>&1); then
		echo "FAIL: list $what on a missing state directory: $out"
		fails=$((fails + 1))
	fi
done
if [ -e "$tmp/fresh" ]; then
	echo "FAIL: list created $(find "$tmp/fresh" | head -n 3 | paste -sd' ')"
	fails=$((fails + 1))
else
	echo "ok: list creates no state directory"
fi

# The kinds of list: 'list --help' makes its synopsis from the column
# tables; shadowctl --help and shadowctl(8)'s synopsis must name the same.
kinds() { sed -n 's/.*list \[\([a-z|]*\)\].*/\1/p' | head -n 1; }
want=$("$ctl" list --help | kinds)
for what in "shadowctl --help" "man/shadowctl.8"; do
	case $what in
	man/*) got=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH DESC/p' "$man" | sed 's/\\f[BIR]//g' | kinds) ;;
	*) got=$("$ctl" --help | kinds) ;;
	esac
	if [ -z "$want" ] || [ "$got" != "$want" ]; then
		echo "FAIL: $what lists [$got], list --help [$want]"
		fails=$((fails + 1))
	else
		echo "ok: $what lists [$want]"
	fi
done

[ "$fails" -eq 0 ]

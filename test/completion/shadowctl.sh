#!/bin/bash
# make check: bash completion for shadowctl (completion/shadowctl), pure
# logic.  Sources the script in bash and checks COMPREPLY for verbs, a
# verb's options, option values, volume names and shadow and set ids.
# The verbs and options come from the built shadowctl's --help, as they
# do for a user; the catalog comes from a stub 'shadowctl' first on PATH
# that hands --help to the real one and answers 'list' with canned JSON
# (and records its arguments).
#
# SHADOWCTL: the built shadowctl (set by make check); srcdir: the source
# tree.
set -u

srcdir=${srcdir:-.}
ctl=${SHADOWCTL:-cmd/shadowctl/shadowctl}
[ -x "$ctl" ] || { echo "no $ctl: build first" >&2; exit 99; }
case $ctl in /*) ;; *) ctl=$PWD/$ctl ;; esac

T=$(mktemp -d "${TMPDIR:-/tmp}/completion-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0 passed=0

mkdir "$T/bin"
cat >"$T/bin/shadowctl" <<STUB
#!/bin/bash
case " \$* " in
*" --help "* | *" -h "*) exec "$ctl" "\$@" ;;
esac
echo "\$*" >>"$T/calls"
case " \$* " in
*" list volumes "*) printf '{\n  "volumes": [\n    {\n      "name": "data"\n    },\n    {\n      "name": "vg0-db"\n    }\n  ]\n}\n' ;;
*" list shadows "*) printf '{\n  "shadows": [\n    {\n      "id": 7\n    },\n    {\n      "id": 12\n    }\n  ]\n}\n' ;;
*" list sets "*) printf '{\n  "sets": [\n    {\n      "id": 3\n    }\n  ]\n}\n' ;;
*" list writers "*) printf '{\n  "writers": [\n    {\n      "name": "postgresql"\n    }\n  ]\n}\n' ;;
*) exit 1 ;;
esac
STUB
chmod +x "$T/bin/shadowctl"
PATH=$T/bin:$PATH

# shellcheck source=/dev/null
. "$srcdir/completion/shadowctl" || { echo "FAIL: cannot source completion/shadowctl"; exit 1; }
complete -p shadowctl >/dev/null 2>&1 || { echo "FAIL: no 'complete' for shadowctl"; exit 1; }

# comp <line>: complete the last word of <line> (a trailing space starts
# an empty word), leaving the candidates sorted in $got.
comp() {
	read -r -a COMP_WORDS <<<"$1"
	[[ $1 == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$1
	COMP_POINT=${#1}
	COMPREPLY=()
	_shadowctl shadowctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	got=${got% }
}

# expect <line> <candidates, sorted>: exactly those.
expect() {
	comp "$1"
	if [ "$got" = "$2" ]; then
		passed=$((passed + 1))
		echo "ok $passed - '$1' -> $2"
	else
		echo "FAIL: '$1': got [$got], expected [$2]"
		fails=$((fails + 1))
	fi
}

# expect_has <line> <word>... : those among the candidates.
expect_has() {
	local line=$1 w
	shift
	comp "$line"
	for w in "$@"; do
		case " $got " in
		*" $w "*) ;;
		*) echo "FAIL: '$line': no '$w' in [$got]"; fails=$((fails + 1)); return ;;
		esac
	done
	passed=$((passed + 1))
	echo "ok $passed - '$line' offers $*"
}

# expect_not <line> <word>: that one not among them.
expect_not() {
	comp "$1"
	case " $got " in
	*" $2 "*) echo "FAIL: '$1': '$2' offered: [$got]"; fails=$((fails + 1)) ;;
	*) passed=$((passed + 1)); echo "ok $passed - '$1' does not offer $2" ;;
	esac
}

# Verbs.
expect "shadowctl " "activate browse create deactivate delete detach diff disable enable export export-metadata expose import import-metadata list monitor resize revert schedule throttle unexpose"
expect "shadowctl cr" "create"
expect "shadowctl d" "deactivate delete detach diff disable"
expect "shadowctl -v --state-dir /x de" "deactivate delete detach"
# Options of a verb, and the global ones.
expect "shadowctl create --wri" "--writer --writer-conf --writer-timeout --writers-dir"
expect_has "shadowctl create --" --timeout-commit --no-writers --component --exclude-component --retries --json --verbose
expect_not "shadowctl create --" --store
expect_not "shadowctl list --" --exclude-component
expect_has "shadowctl enable --" --store --method --chunk-size --name --provider
expect_not "shadowctl enable --" --writer
expect_has "shadowctl delete -" --set --oldest --force -f
expect "shadowctl list -" "--help --json --noheadings --output --output-all --state-dir --verbose --version --wait --writers-dir -J -O -V -h -n -o -v"
expect "shadowctl --st" "--state-dir"
# Option values.
expect "shadowctl enable /dev/vdb --provider " "auto dm-shadow dm-snapshot"
expect "shadowctl enable /dev/vdb --provider=dm-sn" "dm-snapshot"
# As bash splits them at '=' (COMP_WORDBREAKS).
expect "shadowctl enable /dev/vdb --provider = dm-sn" "dm-snapshot"
expect "shadowctl enable /dev/vdb --provider =" "auto dm-shadow dm-snapshot"
expect "shadowctl --state-dir = /x cr" "create"
expect "shadowctl enable /dev/vdb --method " "clone cow row"
expect "shadowctl resize data --max-size " "max"
expect "shadowctl create data --retries " ""
expect "shadowctl create data --writer " "postgresql"
expect "shadowctl list volumes -o na" "name"
expect "shadowctl list volumes -o name,st" "name,state name,store"
expect "shadowctl list writers -o +me" "+message"
# Verb arguments: kinds of list, volume names, shadow and set ids.
expect "shadowctl list " "providers sets shadows storage volumes writers"
expect "shadowctl list volumes " ""
expect "shadowctl create " "data vg0-db"
expect "shadowctl create data " "data vg0-db"
expect "shadowctl create v" "vg0-db"
expect "shadowctl resize " "data vg0-db"
expect "shadowctl resize data " ""
expect "shadowctl delete " "12 7"
expect "shadowctl delete --set " "3"
expect "shadowctl delete --oldest " "data vg0-db"
expect "shadowctl expose 1" "12"
expect "shadowctl revert " "12 7"
# detach: a shadow id, and no option of its own.
expect "shadowctl detach " "12 7"
expect_not "shadowctl detach 7 --" --force
# Clones: create's targets, enable's hydrate rate.
expect "shadowctl create cv --tar" "--target"
expect_not "shadowctl enable --" --target
expect "shadowctl enable /dev/vdb --hyd" "--hydrate-rate"
expect_not "shadowctl create --" --hydrate-rate
expect "shadowctl throttle " "data vg0-db"
expect "shadowctl throttle data " ""
expect_has "shadowctl revert 7 --" --wait --force --json
expect_not "shadowctl revert 7 --" --set
expect "shadowctl create -- " "data vg0-db"
expect "shadowctl schedule " "cleanup run run-now show"
expect "shadowctl schedule run-" "run-now"
expect_has "shadowctl schedule show --" --config --json
expect "shadowctl browse " "data vg0-db"
expect_has "shadowctl browse --" --stop
# The catalog is read with list -J, in the state directory given.
: >"$T/calls"
comp "shadowctl --state-dir /srv/state create "
if grep -qx -- "--state-dir /srv/state -J list volumes -o name" "$T/calls"; then
	passed=$((passed + 1))
	echo "ok $passed - volumes read with --state-dir /srv/state -J list volumes -o name"
else
	echo "FAIL: the stub was called as: $(cat "$T/calls")"
	fails=$((fails + 1))
fi
# Files for a device.
: >"$T/vdz"
expect "shadowctl enable $T/vd" "$T/vdz"
expect "shadowctl enable $T/vdz --store $T/v" "$T/vdz"
expect "shadowctl export 1 -o $T/vd" "$T/vdz"
expect "shadowctl export 1 --since " "12 7"
expect "shadowctl import $T/vd" "$T/vdz"
expect "shadowctl import - --to $T/vd" "$T/vdz"
expect "shadowctl list volumes -o na" "name"
expect "shadowctl diff " "12 7"
# Transportable clones: a shadow id and -o's file; a file and --device's device.
expect "shadowctl exp" "export export-metadata expose"
expect "shadowctl export-metadata " "12 7"
expect "shadowctl export-metadata 7 -" "--help --json --output --state-dir --verbose --version --wait -J -V -h -o -v"
expect "shadowctl export-metadata 7 -o $T/vd" "$T/vdz"
expect "shadowctl export-metadata 7 --output $T/vd" "$T/vdz"
expect "shadowctl import-metadata $T/vd" "$T/vdz"
expect "shadowctl import-metadata f --dev" "--device"
expect "shadowctl import-metadata f --device $T/vd" "$T/vdz"
expect_not "shadowctl import-metadata f --" --to
expect_not "shadowctl import f --" --device
expect "shadowctl activate --all --dev" "--device-timeout"

echo "$passed passed, $fails failed"
[ "$fails" -eq 0 ]

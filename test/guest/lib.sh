# shellcheck shell=bash
# Shared paths and helpers of the guest harness; sourced, never run.
#
# Every path is derived from this file's location so the tree can live
# anywhere (and several checkouts can each keep their own cache).

guest_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$guest_dir/../.." && pwd)
cache="$top/.cache/guest"

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# check_share <i/N>: the form of GUEST_SHARE, 1 <= i <= N, or die.
check_share() {
	if ! [[ "$1" =~ ^([1-9][0-9]*)/([1-9][0-9]*)$ ]] ||
		[ "${BASH_REMATCH[1]}" -gt "${BASH_REMATCH[2]}" ]; then
		die "GUEST_SHARE must be i/N with 1 <= i <= N, not '$1'"
	fi
}

# resolve_kver 6.1|6.12|<full ABI version>: print the full ABI version.
# Lines go through kernels.sh (resolved from the archive at run time);
# anything that already looks like a full version is taken as is.
resolve_kver() {
	case "$1" in
	6.1 | 6.12) "$guest_dir/kernels.sh" "$1" ;;
	[0-9]*.[0-9]*.[0-9]*-*) echo "$1" ;;
	*) die "unknown kernel '$1' (want 6.1, 6.12 or a full version)" ;;
	esac
}

# Per-version cache layout.
kdir() { echo "$cache/$1"; }                # everything for one kernel
kroot() { echo "$cache/$1/root"; }          # dpkg -x of linux-image-<ver>
kmods() { echo "$cache/$1/root/lib/modules/$1"; }

# lock_step <ver> <step>: hold an exclusive lock on one preparation step of
# one kernel until the calling script exits, so two engineers preparing the
# same kernel at once do not clobber each other.  Each step has its own lock
# file because the steps call each other (build-module runs fetch-kernel).
lock_step() {
	mkdir -p "$(kdir "$1")"
	exec 9>"$(kdir "$1")/.lock-$2"
	flock 9
}

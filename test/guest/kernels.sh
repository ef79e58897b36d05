#!/bin/sh
# Resolve the Debian kernel versions the guest tests run on, at run time.
#
# Usage: kernels.sh            print one ABI version per line (6.1, then 6.12)
#        kernels.sh 6.1|6.12   print the version of that line only
#
# The ABI number moves with every Debian security update, so nothing in the
# tree names it: 6.1 is whatever linux-image-amd64 depends on, 6.12 is the
# newest linux-image-6.12.*+deb12-amd64 in the archive.
set -eu

resolve_61() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(6\.1\.[0-9]*-[0-9]*-amd64\)$/\1/p' |
		head -n 1
}

resolve_612() {
	apt-cache pkgnames linux-image-6.12 2>/dev/null |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12-amd64\)$/\1/p' |
		sort -V | tail -n 1
}

resolve() {
	case "$1" in
	6.1) v=$(resolve_61) ;;
	6.12) v=$(resolve_612) ;;
	*) echo "kernels.sh: unknown kernel line '$1' (want 6.1 or 6.12)" >&2; exit 2 ;;
	esac
	if [ -z "$v" ]; then
		echo "kernels.sh: no Debian kernel of line $1 found; run apt-get update" >&2
		exit 1
	fi
	echo "$v"
}

if [ $# -gt 0 ]; then
	resolve "$1"
else
	resolve 6.1
	resolve 6.12
fi

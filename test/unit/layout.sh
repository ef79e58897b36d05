#!/bin/sh
# lib/'s layout (README, "Directory layout"): every .c of a library uses
# another file's functions through that file's own header (X.c through
# X.h), so its quoted includes are its calls; those must form no circle,
# and lib/format/ and lib/proto/ must not include a header of another
# library folder (format and proto stand alone; core builds on both).
set -u

top=${srcdir:-.}
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# "X.c Y.c" for each X.c that includes Y.h where Y.c exists: tsort finds
# the circles.
edges=$(
	for c in "$top"/lib/*/*.c; do
		dir=${c%/*}
		from=${c##*/}
		sed -n 's/^#include "\([^"]*\)\.h"$/\1/p' "$c" | while read -r h; do
			for d in "$top"/lib/*/"$h.c"; do
				[ -f "$d" ] && echo "${from%.c} $h"
			done
		done
		echo "${from%.c} ${from%.c}"
	done
)
if ! loops=$(echo "$edges" | tsort 2>&1 >/dev/null) || [ -n "$loops" ]; then
	fail "lib/ files call each other in a circle:"
	echo "$loops"
fi

# format and proto include nothing of core, nor of each other.
for lib in format proto; do
	for f in "$top"/lib/$lib/*.[ch]; do
		sed -n 's/^#include "\([^"]*\)"$/\1/p' "$f" | while read -r h; do
			for other in "$top"/lib/*/"$h"; do
				[ -f "$other" ] || continue
				case $other in
				"$top"/lib/$lib/*) ;;
				*) echo "${f#"$top"/} includes ${other#"$top"/}" ;;
				esac
			done
		done
	done
done >"${TMPDIR:-/tmp}/layout.$$"
if [ -s "${TMPDIR:-/tmp}/layout.$$" ]; then
	fail "a library below core includes another library's header:"
	cat "${TMPDIR:-/tmp}/layout.$$"
fi
rm -f "${TMPDIR:-/tmp}/layout.$$"

[ "$fails" -eq 0 ] || exit 1
echo "PASS: lib/ has no call circle; format and proto stand alone"

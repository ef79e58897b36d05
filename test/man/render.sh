#!/bin/sh
# make check: every man page in man/ renders cleanly at 80 columns.
#
# Each page is rendered the way a reader sees it, with
# 'MANWIDTH=80 man --warnings -l PAGE', and fails the test on:
#  - any groff/tbl warning (man --warnings turns them on);
#  - any rendered line longer than 80 columns;
#  - a word broken by hyphenation in a SYNOPSIS (an option such as
#    --provider dm-snap-/shot cannot be typed from it; use .nh or \%);
#  - a table with text blocks (T{ T}) whose last column has neither a
#    width (w()) nor the expand modifier (x): tbl then gives the text
#    whatever is left of the widest row, which squeezes it into a strip.
#
# srcdir: the source tree (set by make check); MANS: pages to check
# instead of man/*.[1-8].
set -u

srcdir=${srcdir:-.}
if ! command -v man >/dev/null 2>&1 || ! man --help 2>&1 | grep -q -- --warnings; then
	echo "SKIP: no man-db 'man --warnings' to render the pages with"
	exit 77
fi
# Count columns, not bytes: render and measure in a UTF-8 locale.
if locale -a 2>/dev/null | grep -qix 'c\.utf-\{0,1\}8'; then
	LC_ALL=C.UTF-8
else
	LC_ALL=C
fi
export LC_ALL
unset MANROFFOPT MANOPT MAN_KEEP_FORMATTING

tmp=$(mktemp -d "${TMPDIR:-/tmp}/man-render.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0 pages=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

for page in ${MANS:-"$srcdir"/man/*.[1-8]}; do
	pages=$((pages + 1))
	name=$(basename "$page")
	bad=0
	MANWIDTH=80 man --warnings -l "$page" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$name: man exits $rc"
		bad=1
	fi
	if [ -s "$tmp/err" ]; then
		fail "$name: warnings:"
		sed 's/^/  /' "$tmp/err"
		bad=1
	fi
	# col -b: no overstrikes or escapes whatever man does with a pipe.
	col -bx <"$tmp/out" >"$tmp/txt"
	awk -v n="$name" 'length($0) > 80 {
		printf "FAIL: %s: rendered line %d is %d columns:\n  %s\n",
			n, NR, length($0), $0; bad = 1 }
		END { exit bad }' "$tmp/txt" || { fails=$((fails + 1)); bad=1; }
	# In the synopsis: a word broken by hyphenation (a line ending in a
	# letter and a hyphen: U+2010 in UTF-8 output, '-' in ASCII), or an
	# optional group [--option value] broken across lines.
	awk -v n="$name" '
		/^[A-Z]/ { syn = ($0 == "SYNOPSIS") ; next }
		syn && /[[:alpha:]](‐|-)$/ {
			printf "FAIL: %s: hyphenated word in SYNOPSIS, line %d:\n  %s\n",
				n, NR, $0; bad = 1 }
		syn && gsub(/\[/, "[") != gsub(/\]/, "]") {
			printf "FAIL: %s: [...] broken across lines in SYNOPSIS, line %d:\n  %s\n",
				n, NR, $0; bad = 1 }
		END { exit bad }' "$tmp/txt" || { fails=$((fails + 1)); bad=1; }
	# Tables with text blocks: the last column of every format line
	# (from .TS to the line ending in '.') has w() or x.
	awk -v n="$name" '
		/^\.TS/ { fmt = 1; start = NR; last = ""; next }
		fmt {
			line = $0
			sub(/;$/, "", line)	# an options line
			if (line ~ /[(),=]/ && line !~ /w\(/ && line !~ /^[ \t]*[lcrnsa^_=|]/) next
			nf = split(line, col, /[ \t]+/)
			for (i = nf; i > 0 && col[i] == ""; i--)
				;
			last = last " " col[i]
			if ($0 ~ /\.[ \t]*$/) { fmt = 0; body = 1 }
			next
		}
		/^\.TE/ {
			if (tblock && split(last, cols, " ") > 0) {
				split(last, cols, " ")
				for (c in cols)
					if (cols[c] !~ /x|w\(/) {
						printf "FAIL: %s: table at line %d has text blocks but its last column (%s) has no w() or x\n",
							n, start, cols[c]
						bad = 1
						break
					}
			}
			tblock = 0; body = 0; next
		}
		body && /T\{/ { tblock = 1 }
		END { exit bad }' "$page" || { fails=$((fails + 1)); bad=1; }
	[ "$bad" -eq 0 ] && echo "ok: $name"
done

if [ "$pages" -eq 0 ]; then
	echo "FAIL: no man pages found under $srcdir/man"
	exit 1
fi
echo "$pages pages, $fails failures"
[ "$fails" -eq 0 ]

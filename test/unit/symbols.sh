#!/bin/sh
# make check: debian/libshadow0.symbols lists exactly the symbols that
# lib/libshadow.sym exports, each with its version node, and the nodes
# themselves (as dpkg-gensymbols writes them).  A symbol added to
# libshadow.sym without its line in the symbols file (or the reverse)
# fails here, before dpkg-buildpackage would (debian/rules sets
# DPKG_GENSYMBOLS_CHECK_LEVEL=4).
set -eu

srcdir=${srcdir:-.}
sym=$srcdir/lib/libshadow.sym
symbols=$srcdir/debian/libshadow0.symbols
for f in "$sym" "$symbols"; do
	[ -f "$f" ] || { echo "FAIL: $f missing"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The version script: "NODE {" opens a node, "name;" under "global:" is an
# exported symbol, "local:" ends the node's exports.
sed 's|/\*.*\*/||' "$sym" | awk '
	/^[A-Za-z_][A-Za-z0-9_.]* *\{/ { node = $1; scope = ""; print node "@" node; next }
	/^[ \t]*global:/ { scope = "global"; next }
	/^[ \t]*local:/ { scope = "local"; next }
	/^}/ { node = ""; next }
	node != "" && scope == "global" && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*;/ {
		s = $1; sub(/;.*/, "", s); print s "@" node
	}' | sort >"$tmp/sym"
# The symbols file: one " name@NODE minver" line per symbol.
sed -n 's/^ \([^ ]*@[^ ]*\) .*/\1/p' "$symbols" | sort >"$tmp/symbols"

[ -s "$tmp/sym" ] || { echo "FAIL: no symbols read from $sym"; exit 1; }
if ! diff -u "$tmp/sym" "$tmp/symbols" >"$tmp/diff"; then
	echo "FAIL: debian/libshadow0.symbols does not match lib/libshadow.sym"
	echo "(- only in libshadow.sym, + only in the symbols file):"
	tail -n +3 "$tmp/diff" | grep '^[-+]'
	exit 1
fi
echo "ok: debian/libshadow0.symbols matches lib/libshadow.sym ($(wc -l <"$tmp/sym") entries)"
# The header names the library's SONAME and package.
head -n 1 "$symbols" | grep -q '^libshadow\.so\.0 libshadow0 ' ||
	{ echo "FAIL: $symbols: first line is not 'libshadow.so.0 libshadow0 ...'"; exit 1; }

#!/bin/sh
# make check without Check: the unit tests (test/unit/unit-tests) were not
# built, because configure found no Check (or was given --without-check).
# Say so and report SKIP (exit 77), rather than let 'make check' pass as
# if they had run.
echo "SKIP: unit tests not built: configure found no Check" \
	"(Debian package check; see configure's summary)"
exit 77

#!/bin/sh
# Harness self-test: a test that simply succeeds.  test/guest/selftest
# expects PASS, proving a clean run is not flagged.  It also shows that
# modprobe finds the guest kernel's own modules in the bound modules tree.
# guest-dm-shadow: no
set -eu
echo "harness-ok: kernel $(uname -r), boot $GUEST_BOOT of $GUEST_BOOTS, results in $RESULTS"
modprobe dm-mod
dmsetup version
# A daemon left running with our stdout (as a test starting a server might)
# must not keep the harness waiting for the output to close.
sleep 1000 &

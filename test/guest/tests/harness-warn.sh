#!/bin/sh
# Harness self-test: loads harness_warn.ko (test/guest/selftest-warn/,
# built and installed into the cached modules tree by build-module), whose
# init does WARN_ON(1).  The test itself succeeds; test/guest/selftest
# expects the run to FAIL anyway, because the kernel log shows "WARNING:".
# guest-dm-shadow: no
set -eu
modprobe harness_warn
echo "harness-warn: module loaded, a WARNING should be in the kernel log"

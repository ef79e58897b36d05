#!/bin/sh
# Harness self-test: never finishes.  test/guest/selftest expects the run
# to FAIL as "timed out", proving a hung guest is killed and reported.
# guest-timeout: 25
# guest-dm-shadow: no
echo "harness-hang: sleeping forever"
while :; do sleep 60; done

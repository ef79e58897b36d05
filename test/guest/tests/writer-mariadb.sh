#!/bin/bash
# The MariaDB writer on a dm-shadow volume: mariadbd from Debian's
# packages runs on the volume while one client commits ledger rows
# (InnoDB, then the same row in a MyISAM table) and acknowledges each,
# and another moves money between accounts in transactions.
# "shadowctl create" takes a set with the writer enabled (FLUSH TABLES
# WITH READ LOCK held across the snapshot).  The copy, exposed writable,
# starts as a second mariadbd (InnoDB crash recovery), mariadb-check
# --all-databases passes without a warning (the MyISAM table was closed
# cleanly), every row acknowledged before shadowctl create started is
# there and no transfer is torn.  Then, by hand: while frozen nothing
# commits, and abort unlocks; a server that is down fails the set at
# identify, saying so.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/writers.sh"

data=$WORK/mnt/mysql
tstep "MariaDB on a dm-shadow volume"
volume_up vol 128 64 "$WORK/mnt"
my_init "$data"
my_start "$data" main
writer_conf <<EOF
[mariadb]
socket = $MYSOCK/main.sock
user = root
lock-wait-timeout = 20
EOF

tstep "load: ledger and transfers"
my_ledger_start main
for _ in $(seq 1 600); do
	[ "$(acked "$WORK/ledger.acks")" -ge 20 ] && break
	sleep 0.1
done
[ "$(acked "$WORK/ledger.acks")" -ge 20 ] || fail "the ledger client did not get going"

tstep "shadowctl create with the mariadb writer"
writers_enable mariadb
before=$(acked "$WORK/ledger.acks")
ctl_create vol
after=$(acked "$WORK/ledger.acks")
for _ in $(seq 1 100); do
	[ "$(acked "$WORK/ledger.acks")" -gt "$after" ] && break
	sleep 0.1
done
[ "$(acked "$WORK/ledger.acks")" -gt "$after" ] || fail "the load did not go on after the set"
my_ledger_stop
id=$(copy_of vol)
echo "shadow $id: $before ledger rows acknowledged before shadowctl create, $after after it"
python3 - "$WORK/create.json" "$data" <<'PY' || fail "the writer's metadata in the set"
import json, sys
[w] = json.load(open(sys.argv[1]))["set"]["writers"]
m = w["metadata"]
assert w["name"] == "mariadb" and m["writer"] == "mariadb", w
assert m["application"].startswith("MariaDB 10."), m
c = m["components"]
assert len(c) == 1 and c[0]["name"] == "main" and c[0]["paths"] == [sys.argv[2]], c
assert "mariadb-check" in m["restore"]
assert "data" not in w, w	# binary logging is off
print("metadata as expected:", m["application"])
PY

tstep "the copy, writable, as a second mariadbd"
mkdir -p "$WORK/copy"
ctl expose "$id" --rw --mount "$WORK/copy"
my_start "$WORK/copy/mysql" copy
grep -iE 'recovery|crash' "$WORK/mylog/copy.err" || true

tstep "the copy is consistent"
mariadb-check -S "$MYSOCK/copy.sock" -u root --all-databases >"$WORK/check.out" 2>&1 ||
	{ cat "$WORK/check.out"; fail "mariadb-check failed on the copy"; }
grep -E '^app\.' "$WORK/check.out"
! grep -iE 'warning|error|corrupt|crashed' "$WORK/check.out" ||
	fail "mariadb-check has complaints about the copy"
echo "mariadb-check --all-databases: every table OK"
my_ledger_check copy "$before" $((after + 1))
my_stop copy
umount "$WORK/copy"
ctl unexpose "$id"

tstep "by hand: nothing commits while frozen, abort unlocks"
writer_spawn a mariadb
writer_ok a "$(identify_json 2 vol)" >/dev/null
writer_ok a '{"event":"prepare","components":["main"]}'
writer_ok a '{"event":"freeze","timeout_ms":10000}'
timeout 3 mariadb -S "$MYSOCK/main.sock" -u root -e "INSERT INTO app.accounts VALUES (100, 0)" &&
	fail "an insert went through under the lock"
writer_ok a '{"event":"abort"}'
my_sql main "INSERT INTO app.accounts VALUES (101, 0)" || fail "still locked after abort"
writer_close a

tstep "a server that is down fails the set at identify"
my_stop main
rc=0
ctl create vol --writers-dir "$WD" --writer-conf "$SHADOW_WRITER_CONF" >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/err"
[ "$rc" = 7 ] || fail "shadowctl create exited $rc, expected 7"
grep -q "mariadb" "$WORK/err" && grep -q "identify" "$WORK/err" && grep -q "cannot connect" "$WORK/err" ||
	fail "the message does not say the mariadb writer cannot connect"

ctl delete "$id"
umount "$WORK/mnt"
ctl disable vol
echo "writer-mariadb: ok (${SECONDS}s)"

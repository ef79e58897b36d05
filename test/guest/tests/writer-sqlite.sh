#!/bin/bash
# The SQLite writer on a dm-shadow volume: a process commits transactions
# into a WAL database as fast as it can (each one a row and a counter
# update, acknowledged in a log off the volume after COMMIT) while
# "shadowctl create" takes a set with the writer enabled (the database's
# write lock held across the snapshot).  The load goes on after; the
# copy, restored, passes PRAGMA integrity_check and holds every
# transaction acknowledged before shadowctl create started, whole.  A
# second database on the volume, not in the set (--component), is not
# locked.
# guest-timeout: 300
. "$SHADOW_TOP/test/guest/lib/writers.sh"

LOAD="python3 $SHADOW_TOP/test/guest/tools/sqlite_load.py"

volume_up vol 64 64 "$WORK/mnt"
mkdir -p "$WORK/mnt/app"
db=$WORK/mnt/app/app.db
$LOAD init "$db"
$LOAD init "$WORK/mnt/app/other.db"
writer_conf <<EOF
# the test's writers.conf
[sqlite]
database = $db
database = $WORK/mnt/app/other.db
busy-timeout = 20000
EOF

tstep "load: transactions into $db"
rm -f "$WORK/stop" "$WORK/acks"
$LOAD run "$db" "$WORK/acks" "$WORK/stop" &
load=$!
for _ in $(seq 1 300); do
	[ "$(acked "$WORK/acks")" -ge 50 ] && break
	sleep 0.1
done
[ "$(acked "$WORK/acks")" -ge 50 ] || fail "the load did not get going"

tstep "shadowctl create with the sqlite writer"
writers_enable sqlite
before=$(acked "$WORK/acks")
ctl_create vol --component sqlite/app.db
after=$(acked "$WORK/acks")
grep -q "sqlite: $db: write lock held (BEGIN IMMEDIATE)" "$WORK/create.err" || fail "app.db was not locked"
! grep -q "other.db: write lock held" "$WORK/create.err" || fail "other.db, not in the set, was locked"
for _ in $(seq 1 100); do
	[ "$(acked "$WORK/acks")" -gt "$after" ] && break
	sleep 0.1
done
[ "$(acked "$WORK/acks")" -gt "$after" ] || fail "the load did not go on after the set"
touch "$WORK/stop"
wait "$load" || fail "the load failed"
echo "the load went on: $(acked "$WORK/acks") transactions in all"

id=$(copy_of vol)
echo "shadow $id: $before transactions acknowledged before shadowctl create, $after after it"
python3 - "$WORK/create.json" "$db" <<'PY' || fail "the writer's metadata in the set"
import json, sys
[w] = json.load(open(sys.argv[1]))["set"]["writers"]
m = w["metadata"]
db = sys.argv[2]
assert w["name"] == "sqlite" and m["writer"] == "sqlite", w
assert m["application"].startswith("SQLite 3."), m
assert {"name": "app.db", "paths": [db], "exclude": [db + "-shm"]} in m["components"], m
assert "integrity_check" in m["restore"]
PY

tstep "the copy, restored: integrity and every acknowledged transaction"
mkdir -p "$WORK/copy"
ctl expose "$id" --mount "$WORK/copy"
mkdir -p "$WORK/restore"
ls -l "$WORK/copy/app"
for f in app.db app.db-wal; do
	[ -f "$WORK/copy/app/$f" ] && cp "$WORK/copy/app/$f" "$WORK/restore/"
done
$LOAD check "$WORK/restore/app.db" "$before" $((after + 1)) || fail "the copy is not consistent"
ctl unexpose "$id"

tstep "the live database is fine too"
$LOAD check "$db" "$(acked "$WORK/acks")" "$(acked "$WORK/acks")" || fail "the live database"

ctl delete "$id"
umount "$WORK/mnt"
ctl disable vol
echo "writer-sqlite: ok (${SECONDS}s)"

#!/bin/bash
# The SQLite writer on a dm-shadow volume: a process commits transactions
# into a WAL database as fast as it can (each one a row and a counter
# update, acknowledged in a log off the volume after COMMIT) while a set
# is taken with the writer holding the database's write lock across the
# snapshot.  While frozen no commit gets through; after thaw the load
# goes on; the copy passes PRAGMA integrity_check and holds exactly the
# transactions acknowledged before the freeze.
# guest-timeout: 300
. "$SHADOW_TOP/test/guest/lib/writers.sh"

LOAD="python3 $SHADOW_TOP/test/guest/tools/sqlite_load.py"

volume_up vol 64 64 "$WORK/mnt"
mkdir -p "$WORK/mnt/app"
db=$WORK/mnt/app/app.db
$LOAD init "$db"
writer_conf <<EOF
# the test's writers.conf
[sqlite]
database = $db
busy-timeout = 20000
EOF

step "load: transactions into $db"
rm -f "$WORK/stop" "$WORK/acks"
$LOAD run "$db" "$WORK/acks" "$WORK/stop" &
load=$!
for _ in $(seq 1 300); do
	[ "$(acked "$WORK/acks")" -ge 50 ] && break
	sleep 0.1
done
[ "$(acked "$WORK/acks")" -ge 50 ] || fail "the load did not get going"

step "writer: identify, prepare, freeze"
writer_spawn s sqlite
writer_freeze_all 1 vol s
at_freeze=$(acked "$WORK/acks")
python3 - "$WORK/w-s/identify" "$db" <<'PY' || fail "identify metadata"
import json, sys
m = json.load(open(sys.argv[1]))["metadata"]
db = sys.argv[2]
assert m["writer"] == "sqlite" and m["application"].startswith("SQLite 3."), m
assert m["components"] == [{"name": "app.db", "paths": [db], "exclude": [db + "-shm"]}], m
assert "integrity_check" in m["restore"]
PY
echo "frozen with $at_freeze transactions acknowledged"
sleep 1

step "shadowctl create while the writer holds the lock"
ctl -J create vol >"$WORK/create.json"
id=$(json "$WORK/create.json" 'd["set"]["shadows"][0]["id"]')
before_thaw=$(acked "$WORK/acks")
echo "shadow $id; $before_thaw acknowledged at thaw"
[ "$before_thaw" -le $((at_freeze + 1)) ] ||
	fail "commits went on while frozen: $at_freeze at freeze, $before_thaw at thaw"

step "thaw and post-snapshot"
writer_thaw_all s
for _ in $(seq 1 100); do
	[ "$(acked "$WORK/acks")" -gt "$before_thaw" ] && break
	sleep 0.1
done
[ "$(acked "$WORK/acks")" -gt "$before_thaw" ] || fail "the load did not resume after thaw"
touch "$WORK/stop"
wait "$load" || fail "the load failed"
echo "the load resumed: $(acked "$WORK/acks") transactions in all"

step "the copy, restored: integrity and every acknowledged transaction"
mkdir -p "$WORK/copy"
ctl expose "$id" --mount "$WORK/copy"
mkdir -p "$WORK/restore"
ls -l "$WORK/copy/app"
for f in app.db app.db-wal; do
	[ -f "$WORK/copy/app/$f" ] && cp "$WORK/copy/app/$f" "$WORK/restore/"
done
$LOAD check "$WORK/restore/app.db" "$at_freeze" "$before_thaw" || fail "the copy is not consistent"
ctl unexpose "$id"

step "the live database is fine too"
$LOAD check "$db" "$(acked "$WORK/acks")" "$(acked "$WORK/acks")" || fail "the live database"

ctl delete "$id"
umount "$WORK/mnt"
ctl disable vol
echo "writer-sqlite: ok"

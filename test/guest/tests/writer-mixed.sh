#!/bin/bash
# One set across two volumes and two writers: PostgreSQL on one volume
# (under pgbench), an SQLite database on the other (under a process
# committing into it), and a client writing to both in lockstep (a row
# into PostgreSQL, then the same row into SQLite).  "shadowctl create"
# with the postgresql and sqlite writers enabled takes both volumes at
# one instant: the PostgreSQL copy recovers from its backup_label and is
# consistent, the SQLite copy passes integrity_check with every
# transaction acknowledged before the set, and the lockstep client's rows
# in the two copies differ by at most the one in flight.  Then a set of
# the SQLite volume alone: the postgresql writer has nothing on it and is
# skipped.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/writers.sh"

LOAD="python3 $SHADOW_TOP/test/guest/tools/sqlite_load.py"
STEP="python3 $SHADOW_TOP/test/guest/tools/lockstep.py"
data=$WORK/pg/pg/data
db=$WORK/app/app.db

tstep "PostgreSQL on volume pgvol, SQLite on volume appvol"
volume_up pgvol 128 64 "$WORK/pg"
volume_up appvol 48 48 "$WORK/app"
pg_init "$data"
pg_start "$data" 5433
$LOAD init "$db"
$STEP init "$WORK/app/pair.db"
writer_conf <<EOF
[postgresql]
conninfo = host=$PGSOCK port=5433 dbname=postgres user=postgres

[sqlite]
database = $db
database = $WORK/app/pair.db
EOF
writers_enable postgresql sqlite

tstep "load: pgbench, the SQLite process, the lockstep client"
bank_start 5433
rm -f "$WORK/stop" "$WORK/acks" "$WORK/pair.acks"
$LOAD run "$db" "$WORK/acks" "$WORK/stop" &
lite=$!
$STEP run "$PGBIN/psql" "$PGSOCK" 5433 "$WORK/app/pair.db" "$WORK/pair.acks" "$WORK/stop" &
pair=$!
for _ in $(seq 1 600); do
	[ "$(acked "$WORK/acks")" -ge 20 ] && [ "$(acked "$WORK/pair.acks")" -ge 20 ] && break
	sleep 0.1
done
[ "$(acked "$WORK/acks")" -ge 20 ] && [ "$(acked "$WORK/pair.acks")" -ge 20 ] ||
	fail "the loads did not get going"

tstep "one set of both volumes with both writers"
before=$(acked "$WORK/acks")
pair_before=$(acked "$WORK/pair.acks")
ctl_create pgvol appvol
after=$(acked "$WORK/acks")
# The checks run faster without the load (one emulated CPU for all).
touch "$WORK/stop"
wait "$lite" || fail "the SQLite load failed"
wait "$pair" || fail "the lockstep client failed"
bank_stop
python3 - "$WORK/create.json" "$data" "$db" <<'PY' || fail "the set's writers"
import json, sys
s = json.load(open(sys.argv[1]))["set"]
w = {x["name"]: x for x in s["writers"]}
assert sorted(w) == ["postgresql", "sqlite"], list(w)
assert w["postgresql"]["metadata"]["components"][0]["paths"] == [sys.argv[2]]
assert w["postgresql"]["data"]["backup_label"].startswith("START WAL LOCATION")
names = sorted(c["name"] for c in w["sqlite"]["metadata"]["components"])
assert names == ["app.db", "pair.db"], names
assert sorted(x["volume"] for x in s["shadows"]) == ["appvol", "pgvol"], s["shadows"]
print("set", s["id"], "of", len(s["shadows"]), "copies, writers", sorted(w))
PY

tstep "the PostgreSQL copy"
pgid=$(copy_of pgvol)
appid=$(copy_of appvol)
mkdir -p "$WORK/pgcopy" "$WORK/appcopy" "$WORK/restore"
ctl expose "$pgid" --rw --mount "$WORK/pgcopy"
set_data postgresql backup_label >"$WORK/pgcopy/pg/data/backup_label"
chown postgres: "$WORK/pgcopy/pg/data/backup_label"
rm -f "$WORK/pgcopy/pg/data/postmaster.pid"
pg_start "$WORK/pgcopy/pg/data" 5434
grep -q 'consistent recovery state reached' "$WORK/pglog/5434.log" || fail "the copy did not reach consistency"
"$PGBIN/pg_amcheck" -h "$PGSOCK" -p 5434 -U postgres --install-missing --all ||
	fail "pg_amcheck found corruption in the copy"
echo "pg_amcheck: no corruption"
bank_check 5434
pg_pairs=$(pg_sql 5434 "SELECT count(*) FROM pair WHERE n <= (SELECT max(n) FROM pair)")
[ "$pg_pairs" = "$(pg_sql 5434 "SELECT coalesce(max(n), 0) FROM pair")" ] || fail "PostgreSQL pair rows are not 1..n"

tstep "the SQLite copy"
ctl expose "$appid" --mount "$WORK/appcopy"
for f in app.db app.db-wal pair.db pair.db-wal; do
	[ -f "$WORK/appcopy/$f" ] && cp "$WORK/appcopy/$f" "$WORK/restore/"
done
$LOAD check "$WORK/restore/app.db" "$before" $((after + 1)) || fail "the SQLite copy is not consistent"
$STEP check "$WORK/restore/pair.db" "$pg_pairs" "$pair_before" || fail "the two copies are not of one instant"
pg_stop "$WORK/pgcopy/pg/data"
umount "$WORK/pgcopy"
ctl unexpose "$pgid"
ctl unexpose "$appid"

tstep "a set of appvol alone: the postgresql writer is skipped"
ctl_create appvol
[ "$(set_writers)" = sqlite ] || fail "writers of the appvol set: $(set_writers)"
ctl -n list writers --writers-dir "$WD" | tee "$WORK/writers.txt"
grep -q "^postgresql .*skipped" "$WORK/writers.txt" || fail "list writers does not show postgresql skipped"

pg_stop "$data"
ctl delete --set "$(set_id)"
ctl delete "$pgid"
ctl delete "$appid"
umount "$WORK/pg" "$WORK/app"
ctl disable pgvol
ctl disable appvol
echo "writer-mixed: ok (${SECONDS}s)"

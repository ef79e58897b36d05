#!/bin/bash
# The PostgreSQL writer on a dm-shadow volume: PostgreSQL from Debian's
# packages runs on the volume under pgbench and a ledger client that
# records the transaction id of each commit it sees acknowledged.
# "shadowctl create" takes a set with the writer enabled (online backup
# begun at prepare and ended at freeze, before the snapshot); the copy is
# exposed writable, gets the backup_label from the set's writer data, and
# starts as a second server: it runs backup recovery to a consistent
# state, pg_amcheck finds nothing, the bank pgbench moved money in
# balances with its history, and every transaction acknowledged before
# shadowctl create started is there with its transaction id.
# Then: a set failed by another writer aborts this one (its backup ends,
# its WAL reservation goes) and the next set works; a server that is
# down fails the set at identify, saying so.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/writers.sh"

data=$WORK/mnt/pg/data
tstep "PostgreSQL ($PGBIN) on a dm-shadow volume"
volume_up vol 128 64 "$WORK/mnt"
pg_init "$data"
pg_start "$data" 5433
writer_conf <<EOF
[postgresql]
conninfo = host=$PGSOCK port=5433 dbname=postgres user=postgres
system-user = postgres
EOF
writers_enable postgresql

tstep "load: pgbench and the ledger client"
bank_start 5433
ledger_start 5433
for _ in $(seq 1 600); do
	[ "$(acked "$WORK/ledger.acks")" -ge 20 ] && break
	sleep 0.1
done
[ "$(acked "$WORK/ledger.acks")" -ge 20 ] || fail "the ledger client did not get going"

tstep "shadowctl create with the postgresql writer"
before=$(acked "$WORK/ledger.acks")
ctl_create vol
after=$(acked "$WORK/ledger.acks")
# The checks run faster without the load (one emulated CPU for all).
ledger_stop
bank_stop
id=$(copy_of vol)
echo "shadow $id: $before ledger commits acknowledged before shadowctl create, $after after it"
ctl -J list writers --writers-dir "$WD" >"$WORK/writers.json"
python3 - "$WORK/create.json" "$data" "$WORK/writers.json" <<'PY' || fail "the writer's metadata or data in the set"
import json, sys
s = json.load(open(sys.argv[1]))["set"]
data = sys.argv[2]
lw = json.load(open(sys.argv[3]))["writers"]
assert [(x["name"], x["last_state"]) for x in lw] == [("postgresql", "ok")], lw
[w] = s["writers"]
m = w["metadata"]
assert w["name"] == "postgresql" and m["writer"] == "postgresql", w
assert m["application"].startswith("PostgreSQL "), m
c = m["components"]
assert len(c) == 1 and c[0]["name"] == "main" and c[0]["paths"] == [data], c
assert c[0]["exclude"] == [data + "/postmaster.pid", data + "/postmaster.opts"], c
assert "backup_label" in m["restore"]
d = w["data"]
assert d["backup_label"].startswith("START WAL LOCATION: "), d
assert ("LABEL: dm-shadow set %d\n" % s["id"]) in d["backup_label"], d
assert d["tablespace_map"] == "" and d["data_directory"] == data, d
print(m["application"] + ", backup", d["start_lsn"], "to", d["stop_lsn"])
PY

tstep "the copy, writable, with the backup_label, as a second server"
mkdir -p "$WORK/copy"
ctl expose "$id" --rw --mount "$WORK/copy"
copy=$WORK/copy/pg/data
[ ! -e "$copy/backup_label" ] || fail "the copy already has a backup_label"
set_data postgresql backup_label >"$copy/backup_label"
chown postgres: "$copy/backup_label"
rm -f "$copy/postmaster.pid" "$copy/postmaster.opts"
pg_start "$copy" 5434
grep -E 'backup recovery|consistent recovery state|redo done' "$WORK/pglog/5434.log"
grep -q 'starting backup recovery' "$WORK/pglog/5434.log" || fail "the copy did not run backup recovery"
grep -q 'consistent recovery state reached' "$WORK/pglog/5434.log" || fail "the copy did not reach consistency"

tstep "the copy is consistent"
"$PGBIN/pg_amcheck" -h "$PGSOCK" -p 5434 -U postgres --install-missing --all --heapallindexed ||
	fail "pg_amcheck found corruption in the copy"
echo "pg_amcheck: no corruption"
bank_check 5434
ledger_check 5434 "$before" $((after + 1))
pg_stop "$copy"
umount "$WORK/copy"
ctl unexpose "$id"

tstep "a set failed by another writer aborts this one"
# The hook writer, enabled beside, fails at freeze.
mkdir -p "$WORK/hooks.d"
printf '#!/bin/sh\n[ "$1" = freeze ] && exit 1\nexit 0\n' >"$WORK/hooks.d/10-fail"
chmod 755 "$WORK/hooks.d" "$WORK/hooks.d/10-fail"
cat >>"$SHADOW_WRITER_CONF" <<EOF
[hook]
directory = $WORK/hooks.d
EOF
writers_enable hook
rc=0
ctl -J create vol --writers-dir "$WD" --writer-conf "$SHADOW_WRITER_CONF" >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/err"
[ "$rc" = 7 ] || fail "shadowctl create exited $rc, expected 7"
grep -q "hook" "$WORK/err" && grep -q "freeze" "$WORK/err" || fail "the message does not name the hook writer at freeze"
grep -q "postgresql: the set was abandoned" "$WORK/err" ||
	fail "the postgresql writer was not aborted"
[ "$(pg_sql 5433 "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'dm_shadow_%'")" = 0 ] ||
	fail "the writer's slot outlived the set"
[ "$(snapshots_in_kernel vol)" = 1 ] || fail "the failed set left a snapshot"
rm "$WD/hook"
ctl_create vol
[ "$(set_writers)" = postgresql ] || fail "the next set's writers: $(set_writers)"
ctl delete "$(copy_of vol)"

tstep "a server that is down fails the set at identify"
pg_stop "$data"
rc=0
ctl create vol --writers-dir "$WD" --writer-conf "$SHADOW_WRITER_CONF" >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/err"
[ "$rc" = 7 ] || fail "shadowctl create exited $rc, expected 7"
grep -q "postgresql" "$WORK/err" && grep -q "identify" "$WORK/err" && grep -q "cannot connect" "$WORK/err" ||
	fail "the message does not say the postgresql writer cannot connect"

ctl delete "$id"
umount "$WORK/mnt"
ctl disable vol
echo "writer-postgresql: ok (${SECONDS}s)"

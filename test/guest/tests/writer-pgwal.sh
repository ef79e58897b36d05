#!/bin/bash
# A writer's component is copied whole or not at all (shadow-writer(7)):
# PostgreSQL with its data directory on volume data and pg_wal on volume
# wal (initdb --waldir), so the postgresql writer's component main has a
# path on each.
# - A set of data alone is refused before any writer is prepared: exit 3,
#   the message names the writer, the component, the pg_wal path and
#   volume wal; nothing changed: no snapshot, no dm device, the catalog as
#   it was but for the writers' last states, no slot left, the server
#   running and writable.
# - A set of both volumes succeeds.
# - A set of data with --exclude-component postgresql/main succeeds, the
#   writer goes no further than identify, and the set records the
#   exclusion (catalog, create's and list's JSON).
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/writers.sh"

data=$WORK/data/pg/data
tstep "PostgreSQL: data directory on volume data, pg_wal on volume wal"
volume_up data 96 48 "$WORK/data"
volume_up wal 48 32 "$WORK/wal"
pg_init "$data" "$WORK/wal/pg_wal"
wal=$(realpath "$data/pg_wal")
[ "$wal" = "$(realpath "$WORK/wal/pg_wal")" ] || fail "pg_wal is not on the wal volume: $wal"
pg_start "$data" 5433
writer_conf <<EOF
[postgresql]
conninfo = host=$PGSOCK port=5433 dbname=postgres user=postgres
system-user = postgres
EOF
writers_enable postgresql
pg_sql 5433 "CREATE TABLE t (n int)"

tstep "a set of the data volume alone: refused, nothing changed"
cp "$SHADOW_STATE_DIR/catalog.json" "$WORK/before.json"
dm_before=$(state_of_dm)
expect_exit 3 "create the set: writer postgresql, component main is only partly on the set's volumes: $wal is on volume wal, which is not in the set; add that volume to the set, or leave the component out with --exclude-component postgresql/main" \
	ctl create data --writers-dir "$WD" --writer-conf "$SHADOW_WRITER_CONF"
[ "$(snapshots_in_kernel data)" = 0 ] && [ "$(snapshots_in_kernel wal)" = 0 ] ||
	fail "the refused set left a snapshot"
[ "$(state_of_dm)" = "$dm_before" ] || fail "the refused set changed the dm devices"
python3 -S - "$WORK/before.json" "$SHADOW_STATE_DIR/catalog.json" <<'PY' || fail "the refused set changed the catalog"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
a.pop("writers", None); w = b.pop("writers")
assert a == b, (a, b)
# The writer answered identify, and was let go with the set.
assert [(x["name"], x["state"], x["event"]) for x in w] == [("postgresql", "ok", "identify")], w
PY
[ "$(pg_sql 5433 "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'dm_shadow_%'")" = 0 ] ||
	fail "the refused set left the writer's slot (it was prepared)"
pg_sql 5433 "INSERT INTO t VALUES (1)"
[ "$(pg_sql 5433 "SELECT count(*) FROM t")" = 1 ] || fail "the server is not writable"
! pgrep -f "$WD/" >/dev/null || fail "a writer process is left"

tstep "a set of both volumes"
ctl_create data wal
python3 - "$WORK/create.json" "$data" "$wal" <<'PY' || fail "the set of both volumes"
import json, sys
s = json.load(open(sys.argv[1]))["set"]
[w] = s["writers"]
assert w["metadata"]["components"][0]["paths"] == sys.argv[2:], w["metadata"]
assert "excluded" not in w and "backup_label" in w["data"], w
assert sorted(c["volume"] for c in s["shadows"]) == ["data", "wal"], s
PY
ctl delete --set "$(set_id)"

tstep "a set of the data volume, postgresql/main excluded"
ctl_create data --exclude-component postgresql/main
ctl -J list sets >"$WORK/sets.json"
python3 - "$WORK/create.json" "$SHADOW_STATE_DIR/catalog.json" "$WORK/sets.json" <<'PY' || fail "the exclusion is not recorded"
import json, sys
out = json.load(open(sys.argv[1]))["set"]
cat = json.load(open(sys.argv[2]))
s = [x for x in cat["sets"] if x["id"] == out["id"]][0]
listed = [x for x in json.load(open(sys.argv[3]))["sets"] if x["id"] == out["id"]][0]
for ws in (out["writers"], s["writers"], listed["writers"]):
    [w] = ws
    assert w["name"] == "postgresql" and w["excluded"] == ["main"], w
    assert w["metadata"]["components"][0]["name"] == "main" and "data" not in w, w
assert [c["volume"] for c in out["shadows"]] == ["data"], out
st = {w["name"]: w for w in cat["writers"]}["postgresql"]
assert st["state"] == "skipped" and st["message"] == "no component left: excluded", st
PY
[ "$(snapshots_in_kernel data)" = 1 ] && [ "$(snapshots_in_kernel wal)" = 0 ] ||
	fail "the set of data is not one snapshot of data"
pg_sql 5433 "INSERT INTO t VALUES (2)"

pg_stop "$data"
ctl delete --set "$(set_id)"
umount "$WORK/data" "$WORK/wal"
ctl disable data
ctl disable wal
echo "writer-pgwal: ok (${SECONDS}s)"

#!/bin/bash
# The second demonstration (scripts/demo runs it after the first): a
# writer-consistent shadow copy of a busy PostgreSQL, started as a second
# server.  Prints each step and the commands it runs.
#
# PostgreSQL from Debian's packages runs on a dm-shadow volume under
# pgbench; the postgresql writer is enabled; "shadowctl create" takes the
# set (the writer puts an online backup around the snapshot); the copy is
# exposed writable, gets the backup label the writer recorded with the
# set, starts as a second server on another port, recovers, and is shown
# consistent: pg_amcheck, the bank's balances, and every transaction
# acknowledged before the set.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/writers.sh"

# say <text>: a sentence of the demo.  run <command...>: show it, run it.
say() {
	echo
	echo "== $*"
}
run() {
	echo "\$ $*" >&2	# not into a redirection of the command's output
	"$@"
}

data=$WORK/mnt/pg/data
say "PostgreSQL $("$PGBIN/postgres" --version | awk '{ print $3 }') on a dm-shadow volume (kernel $(uname -r))"
origin=$(loop_disk 128)
store=$(loop_disk 64)
run mkfs.ext4 -q -F "$origin"
run "$CTL" enable "$origin" --store "$store" --name pgvol
mkdir -p "$WORK/mnt"
run mount /dev/mapper/pgvol "$WORK/mnt"
echo "(initdb and start the server as the postgres user, data in $data, port 5433)"
pg_init "$data"
pg_start "$data" 5433

say "Enable the postgresql writer: a link in the writers directory, settings in writers.conf"
writer_conf <<EOF
[postgresql]
conninfo = host=$PGSOCK port=5433 dbname=postgres user=postgres
system-user = postgres
EOF
run ls -l "$SHADOW_WRITER_CONF"
sed 's/^/    /' "$SHADOW_WRITER_CONF"
writers_enable postgresql
run ls -l "$WD"

say "Load: pgbench moves money between 100 accounts (two clients); a ledger client commits numbered rows and notes each acknowledged commit"
bank_start 5433
ledger_start 5433
for _ in $(seq 1 600); do
	[ "$(acked "$WORK/ledger.acks")" -ge 20 ] && break
	sleep 0.1
done
sleep 2
before=$(acked "$WORK/ledger.acks")
echo "ledger commits acknowledged so far: $before"

say "Take a shadow copy set with the writer"
set_json=$WORK/set.json
run "$CTL" -J create pgvol --writers-dir "$WD" --writer-conf "$SHADOW_WRITER_CONF" >"$set_json"
after=$(acked "$WORK/ledger.acks")
echo "ledger commits acknowledged when shadowctl create returned: $after"
sleep 2
ledger_stop
bank_stop
echo "the load went on after the set: $(acked "$WORK/ledger.acks") ledger commits in all; stopped now"
echo "the set, as shadowctl -J create gives it (recorded so in the catalog):"
python3 - "$set_json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["set"]
print("  set %d, frozen %d us, copies: %s" % (s["id"], s["freeze_us"],
      ", ".join("%d of %s" % (c["id"], c["volume"]) for c in s["shadows"])))
for w in s["writers"]:
    m = w["metadata"]
    print("  writer %s: %s" % (w["name"], m["application"]))
    for c in m["components"]:
        print("    component %s: %s" % (c["name"], ", ".join(c["paths"])))
    d = w.get("data", {})
    print("    online backup %s to %s; backup_label:" % (d["start_lsn"], d["stop_lsn"]))
    for line in d["backup_label"].splitlines():
        print("      " + line)
PY
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["set"]["shadows"][0]["id"])' "$set_json")

say "Expose the copy writable and start it as a second server"
mkdir -p "$WORK/copy"
run "$CTL" expose "$id" --rw --mount "$WORK/copy"
copy=$WORK/copy/pg/data
echo "\$ (write the set's backup_label into $copy/backup_label; remove postmaster.pid)"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["set"]["writers"][0]["data"]["backup_label"], end="")' \
	"$set_json" >"$copy/backup_label"
chown postgres: "$copy/backup_label"
rm -f "$copy/postmaster.pid"
pg_start "$copy" 5434
echo "server log of the copy:"
grep -E 'backup recovery|consistent recovery state|redo done|ready to accept' "$WORK/pglog/5434.log" | sed 's/^/    /'

say "The copy is consistent"
run "$PGBIN/pg_amcheck" -h "$PGSOCK" -p 5434 -U postgres --install-missing --all
echo "pg_amcheck: no corruption found"
bank_check 5434
ledger_check 5434 "$before" $((after + 1))

say "Clean up"
pg_stop "$copy"
umount "$WORK/copy"
run "$CTL" unexpose "$id"
pg_stop "$data"
run "$CTL" delete "$id"
umount "$WORK/mnt"
run "$CTL" disable pgvol
echo
echo "DEMO OK: a busy PostgreSQL copied with its writer, the copy started as a second server and found consistent"

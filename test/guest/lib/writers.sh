# shellcheck shell=bash
# Helpers for the writer guest tests (tests/writer-*.sh, demo-postgres.sh);
# sources ctl.sh.
#
# Sets are made by "shadowctl create" with the writers enabled the way an
# admin does it: symlinks to the built writers in a root-only writers
# directory ($WD), a root-only writers.conf.  writer_spawn and writer_req
# drive one writer by hand over FIFOs, for what shadowctl does not show
# (the application while it is frozen, abort).
. "$SHADOW_TOP/test/guest/lib/ctl.sh"

WRITERS=$SHADOW_TOP/writers
for w in postgresql mariadb sqlite hook; do
	[ -x "$WRITERS/$w" ] || fail "$WRITERS/$w is not built: run make first"
done
export SHADOW_WRITER_CONF=$WORK/writers.conf

# Keep the servers' logs and the writers' timings with the run's results.
save_logs() {
	[ -d "${RESULTS:-}" ] || return 0
	cp -r "$WORK/pglog" "$RESULTS/" 2>/dev/null || true
	cp -r "$WORK/mylog" "$RESULTS/" 2>/dev/null || true
	cp "$WORK/writer-times" "$RESULTS/" 2>/dev/null || true
}
trap save_logs EXIT

# writer_conf: standard input becomes writers.conf, root's and 0600.
writer_conf() {
	(umask 077 && cat >"$SHADOW_WRITER_CONF")
	chmod 600 "$SHADOW_WRITER_CONF"
}

# volume_up <name> <origin MiB> <store MiB> <mountpoint>: a loop device
# with ext4, made a dm-shadow volume and mounted.
volume_up() {
	local origin store
	origin=$(loop_disk "$2")
	store=$(loop_disk "$3")
	mkfs.ext4 -q -F "$origin"
	ctl enable "$origin" --store "$store" --name "$1"
	mkdir -p "$4"
	mount "/dev/mapper/$1" "$4"
}

# writers_enable <kind>...: symlinks to the built writers in $WD.
WD=$WORK/writers.d
writers_enable() {
	local k
	mkdir -p "$WD"
	chmod 755 "$WD"
	for k in "$@"; do
		ln -sfn "$WRITERS/$k" "$WD/$k"
	done
}

# ctl_create <shadowctl create arguments...>: with the test's writers
# directory and writers.conf; the JSON answer in $WORK/create.json, what
# it (and the writers) said on stderr in $WORK/create.err.
ctl_create() {
	local t0=$EPOCHREALTIME rc=0
	rm -f "$WORK/create.ids"
	ctl -J create "$@" --writers-dir "$WD" --writer-conf "$SHADOW_WRITER_CONF" \
		>"$WORK/create.json" 2>"$WORK/create.err" || rc=$?
	cat "$WORK/create.err" >&2
	[ "$rc" = 0 ] || fail "shadowctl create $* exited $rc"
	echo "shadowctl create $*: $(since "$t0") s"
}

# set_unpack: one python run (slow to start under emulation, so once per
# set, and best with the load stopped) unpacks $WORK/create.json for the
# helpers below: $WORK/create.ids ("set <id>", "copy <volume> <id>",
# "writers <name>...") and $WORK/set-data/<writer>.<key> for each string
# the writers gave as data.
set_unpack() {
	[ -s "$WORK/create.ids" ] && return 0
	rm -rf "$WORK/set-data"
	mkdir -p "$WORK/set-data"
	python3 - "$WORK/create.json" "$WORK/set-data" >"$WORK/create.ids" <<-'PY'
	import json, os, sys
	s = json.load(open(sys.argv[1]))["set"]
	print("set", s["id"])
	for c in s["shadows"]:
	    print("copy", c["volume"], c["id"])
	print("writers", *[w["name"] for w in s["writers"]])
	for w in s["writers"]:
	    for k, v in w.get("data", {}).items():
	        if isinstance(v, str):
	            with open(os.path.join(sys.argv[2], "%s.%s" % (w["name"], k)), "w") as f:
	                f.write(v)
	PY
}

# copy_of <volume>, set_id, set_writers, set_data <writer> <key>: of the
# set of the last ctl_create.
copy_of() {
	set_unpack
	awk -v v="$1" '$1 == "copy" && $2 == v { print $3 }' "$WORK/create.ids"
}
set_id() {
	set_unpack
	awk '$1 == "set" { print $2 }' "$WORK/create.ids"
}
set_writers() {
	set_unpack
	sed -n 's/^writers *//p' "$WORK/create.ids"
}
set_data() {
	set_unpack
	cat "$WORK/set-data/$1.$2"
}

# ------------------------------------------------------------------------
# One writer process per id: FIFOs $WORK/w-<id>/{in,out}.

declare -A W_IN W_OUT W_PID

# writer_spawn <id> <kind>
writer_spawn() {
	local d=$WORK/w-$1 fd_in fd_out
	rm -rf "$d"
	mkdir -p "$d"
	mkfifo "$d/in" "$d/out"
	(cd / && exec "$WRITERS/$2" <"$d/in" >"$d/out") &
	W_PID[$1]=$!
	exec {fd_in}>"$d/in"
	exec {fd_out}<"$d/out"
	W_IN[$1]=$fd_in
	W_OUT[$1]=$fd_out
}

# writer_req <id> <json>: send one request; the answer line goes to
# $WORK/w-<id>/answer and is printed.
writer_req() {
	local line t0=$EPOCHREALTIME
	echo "$2" >&"${W_IN[$1]}"
	IFS= read -r -t 120 line <&"${W_OUT[$1]}" || fail "writer $1: no answer to $2"
	printf '%s\n' "$line" >"$WORK/w-$1/answer"
	printf '%s\n' "$line"
	echo "$1 ${2:10:14} $(since "$t0") s" >>"$WORK/writer-times"
}

# answer <id> <python expression on d>: a value of the last answer.
answer() {
	json "$WORK/w-$1/answer" "$2"
}

# writer_ok <id> <json>: the answer must say ok.
writer_ok() {
	local a
	a=$(writer_req "$1" "$2")
	# The writers' answers are compact JSON, status first.
	case $a in
	'{"status":"ok"'*) printf '%s\n' "${a:0:300}" ;;
	*) fail "writer $1 answered $a to $2" ;;
	esac
}

# writer_close <id>: close its stdin; it must exit 0.
writer_close() {
	local rc=0 fd_in=${W_IN[$1]} fd_out=${W_OUT[$1]}
	exec {fd_in}>&-
	wait "${W_PID[$1]}" || rc=$?
	exec {fd_out}<&-
	[ "$rc" = 0 ] || fail "writer $1 exited $rc after stdin closed"
}

# identify_json <set> <volume>...: the identify request for volumes of
# the catalog (mountpoints from /proc/mounts).
identify_json() {
	local set=$1 v mp sep=""
	shift
	printf '{"event":"identify","protocol":1,"set":%s,"volumes":[' "$set"
	for v in "$@"; do
		mp=$(awk -v d="/dev/mapper/$v" '$1 == d { print $2; exit }' /proc/mounts)
		printf '%s{"name":"%s","device":"/dev/mapper/%s","mountpoint":%s}' \
			"$sep" "$v" "$v" "$([ -n "$mp" ] && echo "\"$mp\"" || echo null)"
		sep=,
	done
	printf ']}\n'
}

# component_names <id>: the components of its identify answer, as JSON.
component_names() {
	json "$WORK/w-$1/answer" 'json.dumps([c["name"] for c in d["metadata"]["components"]])'
}

# ------------------------------------------------------------------------
# Load bookkeeping: a load appends each id it saw committed to a log on
# tmpfs (not on the volume); acked <log> is how many.

acked() {
	[ -f "$1" ] || { echo 0; return; }
	wc -l <"$1"
}

# since <$EPOCHREALTIME of the start>: seconds elapsed, 2 decimals.
since() {
	awk -v a="$EPOCHREALTIME" -v b="$1" 'BEGIN { printf "%.2f", a - b }'
}

# tstep <text>: a step with the seconds since the test started.
tstep() {
	step "$* (at ${SECONDS}s)"
}

# ------------------------------------------------------------------------
# PostgreSQL from Debian's packages, run directly (no systemd): servers
# as the postgres system user, clients as root (trust authentication on
# the socket directory $PGSOCK).

PGBIN=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
PGSOCK=$WORK/pgsock

pg_as() {
	runuser -u postgres -- "$@"
}

# pg_init <datadir> [<waldir>]: initdb with 1 MiB WAL segments (small
# volumes), pg_wal in <waldir> (initdb --waldir) when given.
pg_init() {
	[ -x "$PGBIN/initdb" ] || fail "no PostgreSQL server installed (/usr/lib/postgresql/*/bin)"
	mkdir -p "$1" "$PGSOCK" "$WORK/pglog"
	chown postgres: "$1" "$PGSOCK" "$WORK/pglog"
	chmod 700 "$1"
	if [ -n "${2:-}" ]; then
		mkdir -p "$2"
		chown postgres: "$2"
		chmod 700 "$2"
	fi
	pg_as "$PGBIN/initdb" -D "$1" ${2:+--waldir="$2"} -A trust -U postgres --wal-segsize=1 -N \
		>"$WORK/pglog/initdb.log" ||
		{ cat "$WORK/pglog/initdb.log"; fail "initdb $1"; }
}

# pg_start <datadir> <port>: start and wait until it accepts connections.
pg_start() {
	if ! pg_as "$PGBIN/pg_ctl" -D "$1" -w -t 180 -l "$WORK/pglog/$2.log" \
		-o "-p $2 -k $PGSOCK -c listen_addresses='' -c shared_buffers=16MB -c max_wal_size=32MB -c min_wal_size=4MB -c checkpoint_timeout=30s" \
		start >/dev/null; then
		cat "$WORK/pglog/$2.log"
		fail "PostgreSQL on $1 (port $2) did not start"
	fi
}

pg_stop() {
	pg_as "$PGBIN/pg_ctl" -D "$1" -m fast -w -t 120 stop >/dev/null
}

# pg_sql <port> <sql>: unaligned, tuples only.
pg_sql() {
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PGSOCK" -p "$1" -U postgres -d postgres -c "$2"
}

# ledger_start <port>: one session inserts rows n = 1, 2, ... each in its
# own transaction and, once the commit is acknowledged, appends "n|txid"
# to $WORK/ledger.acks.
ledger_start() {
	pg_sql "$1" "CREATE TABLE IF NOT EXISTS ledger (n int PRIMARY KEY, payload text NOT NULL)"
	rm -f "$WORK/ledger.acks" "$WORK/ledger.stop"
	(
		coproc PSQL { "$PGBIN/psql" -X -q -A -t -h "$PGSOCK" -p "$1" -U postgres -d postgres 2>&1; }
		n=0
		while [ ! -e "$WORK/ledger.stop" ]; do
			n=$((n + 1))
			echo "INSERT INTO ledger VALUES ($n, md5('$n')) RETURNING n, txid_current();" >&"${PSQL[1]}"
			IFS= read -r line <&"${PSQL[0]}" || { echo "ledger: psql ended" >&2; exit 1; }
			case $line in
			"$n|"*) echo "$line" >>"$WORK/ledger.acks" ;;
			*) echo "ledger: $line" >&2; exit 1 ;;
			esac
		done
	) &
	LEDGER_PID=$!
}

ledger_stop() {
	touch "$WORK/ledger.stop"
	wait "$LEDGER_PID" || fail "the ledger client failed"
}

# ledger_check <port> <min> <max>: the server on <port> holds rows 1..k,
# min <= k <= max, each with its payload, and each of the first <min>
# acknowledged rows carries the transaction id acknowledged for it.
ledger_check() {
	pg_sql "$1" "SELECT n, xmin, payload = md5(n::text) FROM ledger ORDER BY n" >"$WORK/ledger.copy"
	python3 - "$WORK/ledger.copy" "$WORK/ledger.acks" "$2" "$3" <<'PY'
import sys
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
acks = [l.strip().split("|") for l in open(sys.argv[2]) if l.strip()]
lo, hi = int(sys.argv[3]), int(sys.argv[4])
k = len(rows)
assert [int(r[0]) for r in rows] == list(range(1, k + 1)), "ledger rows are not 1..%d" % k
assert all(r[2] == "t" for r in rows), "a ledger row holds a wrong payload"
assert lo <= k <= hi, "%d ledger rows; expected %d to %d" % (k, lo, hi)
for (n, txid), r in zip(acks[:lo], rows):
    assert r[0] == n and r[1] == txid, "row %s: xmin %s, acknowledged txid %s" % (n, r[1], txid)
print("ledger: rows 1..%d, the %d acknowledged before the set with their txids" % (k, lo))
PY
}

# bank_start <port>: pgbench as the load, on a bank of its own (100
# accounts holding 1000 each; a transaction moves an amount from one to
# another and records it in the history), two clients, until bank_stop.
# pgbench's own TPC-B tables would take minutes to fill under emulation.
bank_start() {
	pg_sql "$1" "CREATE TABLE acc (id int PRIMARY KEY, bal int NOT NULL);
		INSERT INTO acc SELECT g, 1000 FROM generate_series(0, 99) g;
		CREATE TABLE hist (id bigserial PRIMARY KEY, a int NOT NULL, b int NOT NULL, delta int NOT NULL);"
	cat >"$WORK/transfer.sql" <<-'SQL'
	\set a random(0, 99)
	\set b (:a + random(1, 99)) % 100
	\set d random(1, 50)
	BEGIN;
	UPDATE acc SET bal = bal + CASE WHEN id = :a THEN -:d ELSE :d END WHERE id IN (:a, :b);
	INSERT INTO hist (a, b, delta) VALUES (:a, :b, :d);
	END;
	SQL
	"$PGBIN/pgbench" -h "$PGSOCK" -p "$1" -U postgres -n -c 2 -T 900 -f "$WORK/transfer.sql" postgres \
		>"$WORK/pgbench.out" 2>&1 &
	BANK_PID=$!
}

bank_stop() {
	kill -TERM "$BANK_PID" 2>/dev/null || true
	wait "$BANK_PID" 2>/dev/null || true
}

# bank_check <port>: 100000 in all, and each account's balance is what
# the history says (no transaction torn).
bank_check() {
	local r
	r=$(pg_sql "$1" "SELECT (SELECT sum(bal) FROM acc), (SELECT count(*) FROM hist),
		(SELECT count(*) FROM acc WHERE bal <> 1000
			- coalesce((SELECT sum(delta) FROM hist WHERE a = acc.id), 0)
			+ coalesce((SELECT sum(delta) FROM hist WHERE b = acc.id), 0))")
	echo "bank (total|transfers|accounts off their history): $r"
	IFS='|' read -r total transfers off <<<"$r"
	[ "$total" = 100000 ] && [ "$off" = 0 ] && [ "$transfers" -gt 0 ] ||
		fail "the bank on port $1 is not consistent: $r"
}

# ------------------------------------------------------------------------
# MariaDB from Debian's packages, run directly: mariadbd as the mysql
# system user, clients as root over the socket (unix_socket auth).

MYSOCK=$WORK/mysock

# my_init <datadir>: a small server (8 MiB redo log, 32 MiB buffer pool)
# with the system tables made the way mariadb-install-db makes them
# (mariadbd --bootstrap, root by unix socket), without its help tables
# and sys schema, which take minutes under emulation.
my_init() {
	local sql=/usr/share/mysql
	mkdir -p "$1" "$MYSOCK" "$WORK/mylog"
	chown mysql: "$1" "$MYSOCK" "$WORK/mylog"
	cat >"$WORK/my.cnf" <<-'CNF'
	[mysqld]
	innodb_log_file_size = 8M
	innodb_buffer_pool_size = 32M
	innodb_data_file_path = ibdata1:10M:autoextend
	innodb_temp_data_file_path = ibtmp1:4M:autoextend
	skip-networking
	skip-name-resolve
	performance_schema = off
	CNF
	{
		printf '%s\n' "CREATE DATABASE IF NOT EXISTS mysql;" "USE mysql;" "SET @auth_root_socket='mysql';"
		cat "$sql/mysql_system_tables.sql" "$sql/mysql_performance_tables.sql" \
			"$sql/mysql_system_tables_data.sql"
	} | mariadbd --defaults-file="$WORK/my.cnf" --bootstrap --user=mysql --datadir="$1" \
		--log-warnings=0 --enforce-storage-engine="" --max_allowed_packet=8M \
		>"$WORK/mylog/install.log" 2>&1 ||
		{ cat "$WORK/mylog/install.log"; fail "mariadbd --bootstrap $1"; }
}

# my_start <datadir> <name>: mariadbd on $MYSOCK/<name>.sock; waits.
my_start() {
	mariadbd --defaults-file="$WORK/my.cnf" --user=mysql --datadir="$1" \
		--socket="$MYSOCK/$2.sock" --pid-file="$MYSOCK/$2.pid" \
		--log-error="$WORK/mylog/$2.err" >/dev/null 2>&1 &
	for _ in $(seq 1 600); do
		mariadb-admin -S "$MYSOCK/$2.sock" -u root ping >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	cat "$WORK/mylog/$2.err"
	fail "mariadbd on $1 did not start"
}

my_stop() {
	local pid
	pid=$(cat "$MYSOCK/$1.pid")
	mariadb-admin -S "$MYSOCK/$1.sock" -u root shutdown
	while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}

# my_sql <name> <sql>: batch output, no column names.
my_sql() {
	mariadb -S "$MYSOCK/$1.sock" -u root -B -N -e "$2"
}

# my_ledger_start <name>: one session commits row n of app.ledger
# (InnoDB) and then row n of app.notes (MyISAM, not transactional), and
# appends n to $WORK/ledger.acks once both are done.  A second session
# moves money between the ten rows of app.accounts in transactions.
my_ledger_start() {
	my_sql "$1" "CREATE DATABASE app CHARACTER SET utf8mb4;
		CREATE TABLE app.ledger (n INT PRIMARY KEY, payload CHAR(32) NOT NULL) ENGINE=InnoDB;
		CREATE TABLE app.notes (n INT PRIMARY KEY, payload CHAR(32) NOT NULL) ENGINE=MyISAM;
		CREATE TABLE app.accounts (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB;
		INSERT INTO app.accounts VALUES (0,1000),(1,1000),(2,1000),(3,1000),(4,1000),
			(5,1000),(6,1000),(7,1000),(8,1000),(9,1000);"
	rm -f "$WORK/ledger.acks" "$WORK/ledger.stop"
	(
		coproc MY { mariadb -S "$MYSOCK/$1.sock" -u root -B -N -n 2>&1; }
		n=0
		while [ ! -e "$WORK/ledger.stop" ]; do
			n=$((n + 1))
			echo "INSERT INTO app.ledger VALUES ($n, md5($n)); INSERT INTO app.notes VALUES ($n, md5($n)); SELECT $n;" >&"${MY[1]}"
			IFS= read -r line <&"${MY[0]}" || { echo "ledger: mariadb ended" >&2; exit 1; }
			[ "$line" = "$n" ] || { echo "ledger: $line" >&2; exit 1; }
			echo "$n" >>"$WORK/ledger.acks"
		done
	) &
	LEDGER_PID=$!
	(
		coproc MY { mariadb -S "$MYSOCK/$1.sock" -u root -B -N -n 2>&1; }
		i=0
		while [ ! -e "$WORK/ledger.stop" ]; do
			i=$((i + 1))
			echo "START TRANSACTION; UPDATE app.accounts SET balance = balance - $((i % 7)) WHERE id = $((i % 10));
				UPDATE app.accounts SET balance = balance + $((i % 7)) WHERE id = $(((i * 3 + 1) % 10)); COMMIT; SELECT $i;" >&"${MY[1]}"
			IFS= read -r line <&"${MY[0]}" || { echo "transfers: mariadb ended" >&2; exit 1; }
			[ "$line" = "$i" ] || { echo "transfers: $line" >&2; exit 1; }
		done
	) &
	TRANSFER_PID=$!
}

my_ledger_stop() {
	touch "$WORK/ledger.stop"
	wait "$LEDGER_PID" || fail "the ledger client failed"
	wait "$TRANSFER_PID" || fail "the transfer client failed"
}

# my_ledger_check <name> <min> <max>: ledger and notes hold rows 1..k
# (each table its own k), min <= k <= max, with their payloads; the
# accounts still hold 10000 in all.
my_ledger_check() {
	local t rows bad total
	for t in ledger notes; do
		rows=$(my_sql "$1" "SELECT count(*), coalesce(max(n), 0), coalesce(min(n), 1) FROM app.$t")
		bad=$(my_sql "$1" "SELECT count(*) FROM app.$t WHERE payload <> md5(n)")
		read -r count max min <<<"$rows"
		[ "$count" = "$max" ] && [ "$min" = 1 ] || fail "app.$t in the copy: $count rows, ids $min..$max"
		[ "$bad" = 0 ] || fail "app.$t in the copy: $bad rows with a wrong payload"
		[ "$count" -ge "$2" ] && [ "$count" -le "$3" ] || fail "app.$t in the copy: $count rows; expected $2 to $3"
		echo "app.$t: rows 1..$count exact"
	done
	total=$(my_sql "$1" "SELECT sum(balance) FROM app.accounts")
	[ "$total" = 10000 ] || fail "app.accounts in the copy hold $total, not 10000: a torn transaction"
	echo "app.accounts: 10000 in all"
}

#!/usr/bin/env python3
"""One client writing to PostgreSQL and SQLite in lockstep (tests/writer-mixed.sh).

  lockstep.py init <sqlite db>
  lockstep.py run <psql> <socket dir> <port> <sqlite db> <acklog> <stop>
      until <stop> exists: commit row n into PostgreSQL's table pair, then
      row n into the SQLite database's table pair, then append n to
      <acklog>
  lockstep.py check <sqlite db> <pg rows> <min>
      the SQLite rows are 1..k, k >= min, and the PostgreSQL rows (1..p,
      checked by the caller) are k or k + 1: the two copies are of one
      instant of the client
"""
import os
import sqlite3
import subprocess
import sys


def init(db):
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE pair (n INTEGER PRIMARY KEY)")
    c.close()


def run(psql, sock, port, db, acklog, stop):
    pg = subprocess.Popen(
        [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", sock, "-p", port,
         "-U", "postgres", "-d", "postgres"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    pg.stdin.write("CREATE TABLE IF NOT EXISTS pair (n int PRIMARY KEY);\n")
    lite = sqlite3.connect(db, timeout=300, isolation_level=None)
    n = 0
    with open(acklog, "a") as log:
        while not os.path.exists(stop):
            n += 1
            pg.stdin.write("INSERT INTO pair VALUES (%d) RETURNING n;\n" % n)
            pg.stdin.flush()
            line = pg.stdout.readline().strip()
            if line != str(n):
                sys.exit("lockstep: PostgreSQL answered %r to row %d" % (line, n))
            lite.execute("INSERT INTO pair VALUES (?)", (n,))
            log.write("%d\n" % n)
            log.flush()
    pg.stdin.close()
    pg.wait()


def check(db, pg_rows, lo):
    c = sqlite3.connect(db, isolation_level=None)
    res = c.execute("PRAGMA integrity_check").fetchall()
    if res != [("ok",)]:
        sys.exit("integrity_check: %s" % res)
    ids = [r[0] for r in c.execute("SELECT n FROM pair ORDER BY n")]
    k = len(ids)
    if ids != list(range(1, k + 1)):
        sys.exit("SQLite pair rows are not 1..%d" % k)
    if k < lo:
        sys.exit("SQLite has %d pair rows, %d were acknowledged before the set" % (k, lo))
    if pg_rows not in (k, k + 1):
        sys.exit("PostgreSQL has %d pair rows, SQLite %d: not one instant" % (pg_rows, k))
    print("pair: SQLite rows 1..%d, PostgreSQL %d: one instant of the client" % (k, pg_rows))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "init":
        init(sys.argv[2])
    elif cmd == "run":
        run(*sys.argv[2:8])
    elif cmd == "check":
        check(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("usage: see the docstring")

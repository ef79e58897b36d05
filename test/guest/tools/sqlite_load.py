#!/usr/bin/env python3
"""SQLite load and check for the writer tests (tests/writer-sqlite.sh).

  sqlite_load.py init <db>                  WAL database, tables t, counter
  sqlite_load.py run <db> <acklog> <stop>   commit transactions until <stop>
                                            exists; after each COMMIT append
                                            its id to <acklog>
  sqlite_load.py check <db> <min> <max>     integrity_check is ok, the ids
                                            are exactly 1..n with min <= n
                                            <= max, every row holds its
                                            payload, the counter equals n

Each transaction inserts row i (a payload of 100 to 2100 bytes derived from
i, so many pages change) and increments a single counter row, so a copy
torn inside a transaction, or between two, shows.
"""
import hashlib
import os
import sqlite3
import sys


def payload(i):
    h = hashlib.sha256(str(i).encode()).hexdigest()
    return (h * 40)[: 100 + (i * 7919) % 2000]


def init(db):
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
    c.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
    c.execute("INSERT INTO counter VALUES (0)")
    c.close()


def run(db, acklog, stop):
    # A generous busy timeout: the writer holds the lock across the freeze.
    c = sqlite3.connect(db, timeout=300, isolation_level=None)
    c.execute("PRAGMA synchronous=FULL")
    i = c.execute("SELECT count(*) FROM t").fetchone()[0]
    with open(acklog, "a") as log:
        while not os.path.exists(stop):
            i += 1
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT INTO t VALUES (?, ?)", (i, payload(i)))
            c.execute("UPDATE counter SET n = n + 1")
            c.execute("COMMIT")
            log.write("%d\n" % i)
            log.flush()


def check(db, lo, hi):
    c = sqlite3.connect(db, isolation_level=None)
    res = c.execute("PRAGMA integrity_check").fetchall()
    if res != [("ok",)]:
        sys.exit("integrity_check: %s" % res)
    ids = [r[0] for r in c.execute("SELECT id FROM t ORDER BY id")]
    n = len(ids)
    if ids != list(range(1, n + 1)):
        sys.exit("ids are not 1..%d" % n)
    for i, p in c.execute("SELECT id, payload FROM t"):
        if p != payload(i):
            sys.exit("row %d holds a wrong payload" % i)
    counter = c.execute("SELECT n FROM counter").fetchone()[0]
    if counter != n:
        sys.exit("counter %d but %d rows: a transaction is torn" % (counter, n))
    if not lo <= n <= hi:
        sys.exit("%d rows; expected %d to %d" % (n, lo, hi))
    print("integrity_check ok, rows 1..%d exact, counter %d" % (n, counter))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "init":
        init(sys.argv[2])
    elif cmd == "run":
        run(*sys.argv[2:5])
    elif cmd == "check":
        check(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("usage: see the docstring")

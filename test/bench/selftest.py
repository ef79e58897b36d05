#!/usr/bin/env python3
"""Checks of the benchmark's pure logic on made-up figures: a cell's median
and spread over rounds, errors and 'not applicable' cells, ratios, the
loss list's classification, report.py --check, the delete measure's
latency window, and that the tables, the headline list, the issues'
targets and the report's text agree with the measures and profiles.
Runs anywhere (no kernel, no fio); bench-guest.sh runs it before every
benchmark, since the quick profile has one round only.

  selftest.py        exit 0 and print 'bench selftest: ok', or fail
"""
import bench
import fio
import measures
import report
import stacks
import targets
from profiles import PROFILES

FAILS = []


def expect(what, got, want):
    if got != want:
        FAILS.append("%s: got %r, want %r" % (what, got, want))


def table(rows, better="higher"):
    return {"id": "t", "title": "T", "columns": [["x", "X", "u", better]],
            "rows": rows}


def test_aggregate():
    a = bench.aggregate([3.0, 1.0, {"v": 2.0, "note": "N=5"}])
    expect("median", a["v"], 2.0)
    expect("spread", (a["lo"], a["hi"]), (1.0, 3.0))
    expect("runs", a["runs"], [3.0, 1.0, 2.0])
    expect("note kept", a.get("note"), "N=5")
    expect("error wins", bench.aggregate([1.0, {"error": "boom"}, 2.0]),
           {"error": "boom"})
    expect("na stays", bench.aggregate([{"na": "no"}, {"na": "no"}]),
           {"na": "no"})
    expect("median round", bench.median_round([5.0, 1.0, 3.0]), 2)


def agg(*vals):
    return bench.aggregate(list(vals))


def test_cells_and_losses():
    rows = {"raw": agg(100.0, 110.0, 90.0),
            "dm-snapshot 4K": agg(50.0, 55.0, 45.0),
            "dm-shadow cow 4K": agg(20.0, 25.0, 22.0)}
    t = table({k: {"x": v} for k, v in rows.items()})
    text = report.cell_text(t, "dm-shadow cow 4K", t["columns"][0])
    expect("cell text", text, "22.00 [20.00, 25.00] (0.22x raw, "
           "0.44x dm-snap)")
    # A ratio note comes from one round; the cell shows the medians'.
    fb = {"x": agg({"v": 90.0, "note": "1.40x the raw copy"}, 100.0, 120.0),
          "fb_copy": agg(64.0, 400.0, 410.0)}
    tf = {"id": "f", "title": "F", "rows": {"dm-shadow row 4K": fb},
          "columns": [["fb_mibps", "F", "MiB/s", "higher"],
                      ["fb_copy", "C", "MiB/s", "higher"]]}
    fb["fb_mibps"] = fb.pop("x")
    expect("ratio note from the medians",
           report.cell_text(tf, "dm-shadow row 4K", tf["columns"][0]),
           "100.0 [90.00, 120.0] (0.25x the raw copy)")
    hr = {"hy_rate": agg({"v": 30.0, "note": "0.94x the 32 MiB/s set"},
                         32.0, 33.0)}
    th = {"id": "h", "title": "H", "rows": {"c": hr},
          "columns": [["hy_rate", "R", "MiB/s", None]]}
    expect("set-rate note from the median",
           report.cell_text(th, "c", th["columns"][0]),
           "32.00 [30.00, 33.00] (1.00x the 32 MiB/s set)")
    lone = {"hy_mibps": agg({"v": 5.0, "note": "0.50x the raw copy"})}
    tl = {"id": "l", "title": "L", "rows": {"c": lone},
          "columns": [["hy_mibps", "H", "MiB/s", None]]}
    expect("a ratio note with no reference is one round's",
           report.cell_text(tl, "c", tl["columns"][0]),
           "5.00 (0.50x the raw copy in one round)")
    expect("another note is kept",
           report.cell_text(table({"c": {"x": agg({"v": 1.0, "note": "N=5"})}},
                                  None), "c", ["x", "X", "u", None]),
           "1.00 (N=5)")
    res = {"tables": [t]}
    ls, noisy = report.losses(res)
    expect("one loss", len(ls), 1)
    expect("clear loss", ls[0][2], True)
    expect("loss says so", "every round" in ls[0][0], True)
    # Overlapping rounds: a loss, not a clear one.
    t2 = table({"dm-snapshot 4K": {"x": agg(50.0, 30.0, 60.0)},
                "dm-shadow cow 4K": {"x": agg(40.0, 35.0, 55.0)}})
    ls, _ = report.losses({"tables": [t2]})
    expect("overlap", (len(ls), ls[0][2]), (1, False))
    # Lower is better, and within 10%: a tie, still listed as one.
    t3 = table({"dm-thin 64K": {"x": agg(10.0, 10.0, 10.0)},
                "dm-shadow cow 64K": {"x": agg(10.5, 10.5, 10.5)}}, "lower")
    ls, _ = report.losses({"tables": [t3]})
    expect("tie", "a tie" in ls[0][0], True)
    # Below zero: not compared.
    t4 = table({"dm-snapshot 4K": {"x": agg(-1.0, -2.0, 0.5)},
                "dm-shadow cow 4K": {"x": agg(-5.0, -6.0, -4.0)}})
    ls, noisy = report.losses({"tables": [t4]})
    expect("noisy", (len(ls), len(noisy)), (0, 1))


def test_check():
    good = table({"raw": {"x": {"t": "text"}},
                  "dm-shadow cow 4K": {"x": agg(1.0, 2.0, 3.0)}})
    expect("check passes", report.check({"tables": [good]}), [])
    bad = table({"raw": {"x": {"error": "boom"}}})
    expect("check fails", len(report.check({"tables": [bad]})), 2)
    # A measure that does not apply to a store (row: no revert yet).
    na = table({"dm-shadow cow 4K": {"x": agg(1.0, 2.0, 3.0)},
                "dm-shadow row 4K": {"x": {"na": "no merge"}}})
    expect("not applicable passes", report.check({"tables": [na]}), [])
    blank = table({"dm-shadow cow 4K": {"x": agg(1.0, 2.0, 3.0)},
                   "dm-shadow row 4K": {"x": {"t": "text"}}})
    expect("no figure fails", len(report.check({"tables": [blank]})), 1)


def test_window():
    # (completion ms since the epoch, latency us); the delete from t=10 s
    # to t=12 s.
    samples = [(9000, 50.0), (9990, 60.0), (10000, 70.0), (11000, 900.0),
               (12500, 800000.0), (12600, 40.0), (14000, 30.0)]
    before, during = fio.window(samples, 10.0, 12.0)
    expect("window before", before, [50.0, 60.0])
    # 12500 ms after 800 ms: in flight from 11700 ms, inside the span.
    expect("window during", during, [70.0, 900.0, 800000.0])
    # A span shorter than a write: the write in flight across it.
    _, during = fio.window([(9000, 5.0), (13000, 4000.0), (14000, 6.0)],
                           10.0, 10.001)
    expect("short span", during, [4000.0])
    expect("p99", fio.percentile(range(1, 201), 99), 198)
    expect("p99 of one", fio.percentile([7.0], 99), 7.0)


def tables(p):
    return [(tid, measures.columns(cols, p)) for tid, _, _, cols
            in measures.MEASURES]


def test_tables():
    """Table ids unique; one measure's cells are spread over its tables by
    column key, so the keys of those tables must not repeat; every
    headline names a table and column of the full profile."""
    for mode, p in PROFILES.items():
        ts = tables(p)
        expect("%s: table ids unique" % mode, len({t for t, _ in ts}),
               len(ts))
        owner, keys = None, {}
        for tid, fn, _, cols in measures.MEASURES:
            owner = tid if fn else owner
            for c in measures.columns(cols, p):
                keys.setdefault(owner, []).append(c[0])
        for o, k in keys.items():
            expect("%s: column keys of %s unique" % (mode, o),
                   len(set(k)), len(k))
    full = dict(tables(PROFILES["full"]))
    for tid, col, _, _ in report.HEADLINES:
        expect("headline %s/%s exists" % (tid, col),
               col in [c[0] for c in full.get(tid, [])], True)


def test_report():
    """A made-up run with a figure in every cell goes through --check,
    --text and --markdown."""
    p = PROFILES["full"]
    labels = ["raw", "dm-snapshot 4K", "dm-shadow cow 4K", "dm-thin 64K",
              "dm-shadow cow 64K"]
    res = {"tables": [], "details": {}, "meta": {
        "kernel": "6.1.0-0-amd64", "cpu": "cpu", "vcpus": 2, "mem_mib": 3000,
        "fio": "fio-3.33", "cmdline": ["slab_nomerge"],
        "profile": "full", "params": p, "fio_params": fio.describe(),
        "format": stacks.format_constants(), "secs": 1, "stacks": labels}}
    for tid, fn, title, cols in measures.MEASURES:
        cols = measures.columns(cols, p)
        res["tables"].append({
            "id": tid, "title": title, "columns": [list(c) for c in cols],
            "rows": {l: {c[0]: agg(1.0 + i, 2.0 + i, 3.0 + i)
                         for c in cols} for i, l in enumerate(labels)}})
    expect("made-up run checks", report.check(res), [])
    text = "\n".join(report.tables_text(res))
    for tid, _, title, _ in measures.MEASURES:
        expect("text has %s" % tid, title in text, True)
    host = {"cpu": "cpu", "cores": 2, "mem_mib": 1, "os": "os",
            "qemu": "qemu"}
    md = report.markdown(host, "analysis", [res])
    expect("markdown has the delete measure", "during a delete" in md, True)


def test_targets():
    """Every target reads a table and column of the full profile, and is
    counted met or missed by its own test on made-up figures."""
    p = PROFILES["full"]
    cols = {tid: [c[0] for c in measures.columns(c, p)]
            for tid, _, _, c in measures.MEASURES}
    seen = []

    def value(res, tid, label, col):
        seen.append((tid, col))
        return res.get((tid, label, col))

    for check in targets.checks(p):
        check[4](value, {})
    for tid, col in seen:
        expect("target reads %s/%s" % (tid, col), col in cols.get(tid, []),
               True)
    res = {"meta": {"kernel": "k", "params": p}}
    figures = {("randfirst", "dm-shadow cow 4K", "first_iops"): 3.0,
               ("randfirst", "dm-snapshot 4K", "first_iops"): 2.0,
               ("randfirst_qd1", "dm-shadow cow 4K", "q1_first_iops"): 1.0,
               ("randfirst_qd1", "dm-snapshot 4K", "q1_first_iops"): 2.0,
               ("space", "dm-shadow cow 4K", "meta"): 18.8}
    rows, met, missed = targets.table_md(
        [res], lambda r, tid, label, col: figures.get((tid, label, col)))
    expect("targets met", met, 2)
    expect("targets missed", missed, 1)
    expect("a missed target says so", any(
        "QD1, cow 4K / dm-snapshot | >= 1.5x | 0.50x **missed**" in r
        for r in rows), True)
    expect("a figure is not a ratio", any("| 18.8 met |" in r for r in rows),
           True)


def main():
    test_aggregate()
    test_cells_and_losses()
    test_check()
    test_window()
    test_tables()
    test_report()
    test_targets()
    for f in FAILS:
        print("bench selftest: FAIL " + f)
    if FAILS:
        raise SystemExit(1)
    print("bench selftest: ok")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks of the benchmark's pure logic on made-up figures: a cell's median
and spread over rounds, errors and 'not applicable' cells, ratios, the
loss list's classification, and report.py --check.  Runs anywhere (no
kernel, no fio); bench-guest.sh runs it before every benchmark, since the
quick profile has one round only.

  selftest.py        exit 0 and print 'bench selftest: ok', or fail
"""
import bench
import report

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


def main():
    test_aggregate()
    test_cells_and_losses()
    test_check()
    for f in FAILS:
        print("bench selftest: FAIL " + f)
    if FAILS:
        raise SystemExit(1)
    print("bench selftest: ok")


if __name__ == "__main__":
    main()

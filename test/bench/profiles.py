"""Sizes and counts of a benchmark run.  'full' is sized for TCG (many
times slower than the host); 'quick' runs the same code with tiny sizes
on one row per kind of target, to prove it works (fio's start-up
dominates it)."""

PROFILES = {
    "full": {
        "rounds": 3,             # every figure: the median of this many
        "disk_mib": 1024,        # every brd disk (allocated as written)
        "seq_mib": 16,           # region of the sequential writes
        "snap_counts": [0, 1, 16, 256],
        "dmsnap_max_snaps": 16,  # dm-snapshot: copies once per snapshot
        "rand_ios": 4096,        # 4 KiB chunk writes: one per chunk
        "rand_qd1_ios": 3072,    # the same at QD1, on chunks of their own
        "randread_secs": 3,
        "create_many": 1000,     # existing snapshots for the create time
        "dmsnap_create_many": 50,
        "create_reps": 3,        # creations timed (median reported)
        "freeze_vols": 8,
        "freeze_reps": 3,
        # Chunks copied for the memory measure; their data is real up to
        # half a disk (400 MiB at 4 KiB chunks), discarded (dm-zero) above
        # (6.25 GiB at 64 KiB chunks).
        "mem_chunks": 102400,
        "mem_real_max_mib": 512,
        # The delete measure: chunks copied before the delete (real or
        # discarded data as for the memory measure), seconds of load before
        # it, and how long the space may take to be freed.
        "del_chunks": 102400,
        "del_base_secs": 3,
        "del_timeout": 1800,
        # The revert measure: chunks changed after the snapshot, merged
        # back and checked; more changed chunks that a write load keeps
        # re-writing; seconds of load before the merge; how long the merge
        # may take.
        "rv_chunks": 8192,
        "rv_load_chunks": 1024,
        "rv_base_secs": 3,
        "rv_timeout": 1800,
        # Live reads after many snapshots: how many, and the chunks
        # rewritten among them (a multiple of lr_snaps).  Fold-back: the
        # region folded back, and how long it may take.
        "lr_snaps": 256,
        "lr_writes": 1024,
        "fb_mib": 64,
        "fb_timeout": 1800,
        "fb_rate": 8,            # 40 of the 64 MiB in fb_secs
        "fb_secs": 5,
        # Clones: the throttled hydration's rate and how long it is
        # watched, and how long a hydration may take.
        "hy_mib": 256,           # hydrated origin (RAM: see hydrate())
        "hy_rate": 32,
        "hy_rate_4k": 50,        # 256 chunks a batch: 20 ms at this rate
        "hy_secs": 5,
        "hy_timeout": 1800,
        # Changed-block tracking (cbt.py): the big dm-zero origin, the
        # share of its chunks changed, the export's volume.
        "cbt_gib": 64,
        "cbt_pct": 1,
        "cbt_export_mib": 256,
    },
    "quick": {
        # One round: fio's start-up makes a round cost about a minute even
        # at these sizes.  selftest.py checks the rounds' medians and
        # spreads on made-up figures instead.
        "rounds": 1,
        "disk_mib": 64,
        "seq_mib": 2,
        "snap_counts": [0, 1],
        "dmsnap_max_snaps": 4,
        "rand_ios": 64,
        "rand_qd1_ios": 64,
        "randread_secs": 1,
        "create_many": 20,
        "dmsnap_create_many": 8,
        "create_reps": 2,
        "freeze_vols": 2,
        "freeze_reps": 2,
        # One row per kind of target (64 KiB dm-snapshot is the same code).
        "stacks": ["raw", "dm-snapshot 4K", "dm-shadow cow 4K",
                   "dm-shadow row 4K", "dm-thin 64K", "dm-shadow clone 64K"],
        # Data discarded on every target: the code path that needs
        # checking (real data takes the same path as the other measures).
        "mem_chunks": 1024,
        "mem_real_max_mib": 1,
        "del_chunks": 1024,
        "del_base_secs": 1,
        "del_timeout": 120,
        "rv_chunks": 64,
        "rv_load_chunks": 64,
        "rv_base_secs": 1,
        "rv_timeout": 120,
        "lr_snaps": 4,
        "lr_writes": 64,
        "fb_mib": 4,
        "fb_timeout": 120,
        "fb_rate": 1,
        "fb_secs": 2,
        "hy_mib": 64,
        "hy_rate": 8,
        "hy_rate_4k": 8,         # the disk (64 MiB) lasts 8 s at 8 MiB/s
        "hy_secs": 2,
        "hy_timeout": 120,
        "cbt_gib": 1,
        "cbt_pct": 1,
        "cbt_export_mib": 16,
    },
}

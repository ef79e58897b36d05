"""Sizes and counts of a benchmark run.  'full' is sized for TCG (about
20x slower than the host) to finish in about 15 minutes per kernel;
'quick' runs the same code path with tiny sizes on one row per kind
of target (a few minutes under TCG on a loaded host: fio's start-up
dominates), to prove it works."""

PROFILES = {
    "full": {
        "disk_mib": 1024,        # every brd disk (allocated as written)
        "seq_mib": 16,           # region of the sequential writes
        "snap_counts": [0, 1, 16, 256],
        "dmsnap_max_snaps": 16,  # dm-snapshot: copies once per snapshot
        "rand_ios": 1024,        # 4 KiB random writes: one per chunk
        "randread_secs": 3,
        "create_many": 1000,     # existing snapshots for the create time
        "dmsnap_create_many": 50,
        "create_reps": 3,        # creations timed (median reported)
        "freeze_vols": 8,
        "freeze_reps": 3,
        "mem_chunks": 8192,     # chunks copied for the memory measure
        "mem_max_mib": 128,
    },
    "quick": {
        "disk_mib": 64,
        "seq_mib": 2,
        "snap_counts": [0, 1],
        "dmsnap_max_snaps": 4,
        "rand_ios": 64,
        "randread_secs": 1,
        "create_many": 20,
        "dmsnap_create_many": 8,
        "create_reps": 2,
        "freeze_vols": 2,
        "freeze_reps": 2,
        # One row per kind of target (64 KiB dm-snapshot is the same code).
        "stacks": ["raw", "dm-snapshot 4K", "dm-shadow cow 4K",
                   "dm-thin 64K"],
        "mem_chunks": 256,
        "mem_max_mib": 4,
    },
}

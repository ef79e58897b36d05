#!/usr/bin/env python3
"""Craft inconsistent dm-shadow stores whose metadata checksums are valid.

A format-version-2 store (dm-shadow/dm-shadow-format.h) keeps its metadata
in 4 KiB blocks managed by dm-persistent-data: the superblock at block 0,
the snapshot tree (snapshot_root) a btree of struct shadow_disk_snapshot
{id, seq, ctime, state, flags} values under the snapshot id.  This tool
edits one field of the superblock or of one snapshot value, in place in a
copy of a store (a file or a block device), and writes the block back with
its checksum recomputed, so that what the module and shadow-dump see is a
well-formed block saying something inconsistent.

    craftstore.py show <store>           superblock fields and snapshots
    craftstore.py craft <store> <case>   edit the store (see CASES)

Every block read is checked first (its checksum and its own block number):
a store whose checksums this tool does not reproduce is an error, so a
crafted store is refused for what it says, not for a checksum.
"""
import os
import struct
import sys

BLOCK = 4096
SB_CSUM_XOR = 0x53425348     # SHADOW_SB_CSUM_XOR, "HSBS"
BTREE_CSUM_XOR = 121107      # dm-persistent-data's btree node validator
MAGIC = 0x776f646168737364   # "dsshadow"

# struct shadow_disk_superblock offsets (dm-shadow-format.h, packed).
SB_MAGIC = 16
SB_VERSION = 24
SB_STORE_TYPE = 28
SB_INCOMPAT = 64
SB_METADATA_BLOCKS = 104
SB_NR_DATA_CHUNKS = 120
SB_DATA_LIMIT = 144
SB_LAST_SEQ = 152
SB_SNAPSHOT_ROOT = 184
SB_DROPPED_FROM = 472         # after the space map roots and the revert's

# dm-persistent-data's struct node_header: csum, flags, blocknr,
# nr_entries, max_entries, value_size, padding; then the keys, then values.
NODE_HEADER = struct.Struct("<IIQIIII")
INTERNAL_NODE = 1
LEAF_NODE = 2

# struct shadow_disk_snapshot: id, seq, ctime, state, flags.
SNAP = struct.Struct("<QQQII")
SNAP_SEQ = 8
SNAP_STATE = 24
SNAP_FLAGS = 28
SNAP_VALID, SNAP_INVALID = 1, 2
SNAPF_KNOWN = 0x3            # SEALED | WRITTEN


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(seed, data):
    """CRC-32C without the final inversion, as the kernel's crc32c()."""
    crc = seed
    table = CRC32C_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc


def block_csum(block, xor):
    """dm_bm_checksum(block + 4, 4092, xor)."""
    return crc32c(0xffffffff, block[4:]) ^ xor


class Store:
    def __init__(self, path):
        self.path = path
        self.f = open(path, "r+b")

    def read(self, nr):
        self.f.seek(nr * BLOCK)
        b = bytearray(self.f.read(BLOCK))
        if len(b) != BLOCK:
            sys.exit("%s: short read of block %d" % (self.path, nr))
        return b

    def write(self, nr, block, xor):
        struct.pack_into("<I", block, 0, block_csum(block, xor))
        self.f.seek(nr * BLOCK)
        self.f.write(block)
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self):
        self.f.close()

    def superblock(self):
        sb = self.read(0)
        csum, = struct.unpack_from("<I", sb, 0)
        magic, version = struct.unpack_from("<QI", sb, SB_MAGIC)
        blocknr, = struct.unpack_from("<Q", sb, 8)
        if magic != MAGIC or version != 2:
            sys.exit("%s: not a version-2 store (magic %#x, version %d)" %
                     (self.path, magic, version))
        if csum != block_csum(sb, SB_CSUM_XOR) or blocknr != 0:
            sys.exit("%s: superblock checksum 0x%08x, computed 0x%08x, "
                     "blocknr %d: this tool does not match the format" %
                     (self.path, csum, block_csum(sb, SB_CSUM_XOR), blocknr))
        return sb

    def node(self, nr):
        b = self.read(nr)
        csum, flags, blocknr, n, maxe, vsize, _ = NODE_HEADER.unpack_from(b)
        if csum != block_csum(b, BTREE_CSUM_XOR) or blocknr != nr:
            sys.exit("%s: btree node %d: checksum 0x%08x, computed 0x%08x, "
                     "blocknr %d: this tool does not match the format" %
                     (self.path, nr, csum, block_csum(b, BTREE_CSUM_XOR),
                      blocknr))
        if n > maxe or NODE_HEADER.size + maxe * (8 + vsize) > BLOCK:
            sys.exit("%s: btree node %d: %d entries of %d, value size %d" %
                     (self.path, nr, n, maxe, vsize))
        return b, flags, n, maxe, vsize

    def snapshots(self):
        """Every snapshot as (leaf block, index, key, value offset), in
        key order: the leaves of the snapshot tree, internal nodes
        followed to their children."""
        sb = self.superblock()
        root, = struct.unpack_from("<Q", sb, SB_SNAPSHOT_ROOT)
        out = []
        self._walk(root, out, 0)
        return out

    def _walk(self, nr, out, depth):
        if depth > 8:
            sys.exit("%s: snapshot tree deeper than 8 levels" % self.path)
        b, flags, n, maxe, vsize = self.node(nr)
        keys = struct.unpack_from("<%dQ" % n, b, NODE_HEADER.size)
        values = NODE_HEADER.size + 8 * maxe
        if flags & INTERNAL_NODE:
            assert vsize == 8, "internal node %d: value size %d" % (nr, vsize)
            for i in range(n):
                child, = struct.unpack_from("<Q", b, values + 8 * i)
                self._walk(child, out, depth + 1)
        elif flags & LEAF_NODE:
            assert vsize == SNAP.size, "leaf %d: value size %d" % (nr, vsize)
            for i in range(n):
                out.append((nr, i, keys[i], values + vsize * i))
        else:
            sys.exit("%s: node %d has flags %#x" % (self.path, nr, flags))


def show(st):
    sb = st.superblock()
    version, store_type = struct.unpack_from("<II", sb, SB_VERSION)
    incompat, = struct.unpack_from("<Q", sb, SB_INCOMPAT)
    last_seq, = struct.unpack_from("<Q", sb, SB_LAST_SEQ)
    root, = struct.unpack_from("<Q", sb, SB_SNAPSHOT_ROOT)
    print("version %d store_type %d incompat %#x last_seq %d snapshot_root %d"
          % (version, store_type, incompat, last_seq, root))
    for nr, i, key, off in st.snapshots():
        b = st.read(nr)
        sid, seq, ctime, state, flags = SNAP.unpack_from(b, off)
        print("snapshot key %d: id %d seq %d ctime %d state %d flags %#x "
              "(leaf %d entry %d)" % (key, sid, seq, ctime, state, flags,
                                      nr, i))


def edit_snapshot(st, index, field, fmt, value):
    snaps = st.snapshots()
    if len(snaps) <= index:
        sys.exit("%s: %d snapshots, need at least %d" %
                 (st.path, len(snaps), index + 1))
    nr, _, key, off = snaps[index]
    b = st.read(nr)
    struct.pack_into(fmt, b, off + field, value)
    st.write(nr, b, BTREE_CSUM_XOR)
    return key


def edit_sb(st, offset, fmt, value):
    sb = st.superblock()
    struct.pack_into(fmt, sb, offset, value)
    st.write(0, sb, SB_CSUM_XOR)


def seq_of(st, index):
    nr, _, _, off = st.snapshots()[index]
    return SNAP.unpack_from(st.read(nr), off)[1]


def craft(st, case):
    """Apply one case; returns a line saying what was done."""
    sb = st.superblock()
    incompat, = struct.unpack_from("<Q", sb, SB_INCOMPAT)
    last_seq, = struct.unpack_from("<Q", sb, SB_LAST_SEQ)
    if case == "control":
        # A consistent edit (a snapshot's ctime): the store stays loadable,
        # which shows this tool's checksums are the kernel's.
        key = edit_snapshot(st, 0, 16, "<Q", 1234567890)
        return "snapshot %d: ctime 1234567890" % key
    if case == "dup-seq":
        seq = seq_of(st, 0)
        key = edit_snapshot(st, 1, SNAP_SEQ, "<Q", seq)
        return "snapshot %d: seq %d, the first snapshot's" % (key, seq)
    if case == "seq-zero":
        key = edit_snapshot(st, 0, SNAP_SEQ, "<Q", 0)
        return "snapshot %d: seq 0" % key
    if case == "seq-above-last":
        key = edit_snapshot(st, 0, SNAP_SEQ, "<Q", last_seq + 1)
        return "snapshot %d: seq %d, above last_seq %d" % (
            key, last_seq + 1, last_seq)
    if case == "bad-state":
        key = edit_snapshot(st, 0, SNAP_STATE, "<I", 7)
        return "snapshot %d: state 7" % key
    if case == "bad-flags":
        key = edit_snapshot(st, 0, SNAP_FLAGS, "<I", 0x80)
        return "snapshot %d: flags 0x80" % key
    if case == "id-mismatch":
        keys = {k for _, _, k, _ in st.snapshots()}
        nr, _, key, off = st.snapshots()[0]
        new = max(keys) + 1000
        b = st.read(nr)
        struct.pack_into("<Q", b, off, new)
        st.write(nr, b, BTREE_CSUM_XOR)
        return "snapshot under key %d: id %d" % (key, new)
    if case == "incompat":
        # An unknown bit beside the ones the store has (the journal's).
        edit_sb(st, SB_INCOMPAT, "<Q", incompat | 1 << 5)
        return "superblock: incompat_flags %#x" % (incompat | 1 << 5)
    if case == "revert-state":
        # The revert feature bit, with no revert recorded beside it.
        edit_sb(st, SB_INCOMPAT, "<Q", incompat | 1)
        return "superblock: incompat_flags %#x, revert_seq 0" % (incompat | 1)
    if case == "row-dropped":
        # A row store's dead range on this cow store.
        edit_sb(st, SB_INCOMPAT, "<Q", incompat | 1 << 2)
        edit_sb(st, SB_DROPPED_FROM, "<Q", 1)
        edit_sb(st, SB_DROPPED_FROM + 8, "<Q", 2)
        return "superblock: incompat_flags %#x, dropped 1 to 2, a cow " \
            "store" % (incompat | 1 << 2)
    if case == "clone-bit":
        # A clone store's feature bit on this cow store.
        edit_sb(st, SB_INCOMPAT, "<Q", incompat | 1 << 3)
        return "superblock: incompat_flags %#x, a cow store" % (
            incompat | 1 << 3)
    if case == "store-type":
        edit_sb(st, SB_STORE_TYPE, "<I", 7)
        return "superblock: store_type 7"
    if case == "root-outside":
        blocks, = struct.unpack_from("<Q", sb, SB_METADATA_BLOCKS)
        edit_sb(st, SB_SNAPSHOT_ROOT, "<Q", blocks + 5)
        return "superblock: snapshot_root %d, past the metadata area" % (
            blocks + 5)
    if case == "data-limit":
        chunks, = struct.unpack_from("<Q", sb, SB_NR_DATA_CHUNKS)
        edit_sb(st, SB_DATA_LIMIT, "<Q", chunks + 1)
        return "superblock: data_limit %d, above the data chunks" % (
            chunks + 1)
    if case == "version3":
        edit_sb(st, SB_VERSION, "<I", 3)
        return "superblock: version 3"
    if case == "version1":
        # What a version-1 store shows a version-2 reader: the same first
        # 32 bytes (header, magic, version 1, store type), then a layout
        # of its own (512-byte blocks), here zeroes.
        head = bytes(sb[:32])
        v1 = bytearray(BLOCK)
        v1[:32] = head
        struct.pack_into("<I", v1, SB_VERSION, 1)
        st.write(0, v1, SB_CSUM_XOR)
        return "superblock: a version-1 superblock's first 32 bytes"
    sys.exit("unknown case %r; cases: %s" % (case, " ".join(CASES)))


CASES = ["control", "dup-seq", "seq-zero", "seq-above-last", "bad-state",
         "bad-flags", "id-mismatch", "incompat", "revert-state", "row-dropped",
         "clone-bit",
         "store-type", "version1",
         "version3", "root-outside", "data-limit"]


def main(argv):
    if len(argv) == 3 and argv[1] == "show":
        st = Store(argv[2])
        show(st)
    elif len(argv) == 4 and argv[1] == "craft":
        st = Store(argv[2])
        print("%s: %s" % (argv[3], craft(st, argv[3])))
    else:
        sys.exit(__doc__)
    st.close()


if __name__ == "__main__":
    main(sys.argv)

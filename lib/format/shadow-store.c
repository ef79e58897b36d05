/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shadow-store.h"
#include "shadow-vec.h"

struct shadow_store {
	int fd;
	uint64_t dev_sectors;
	struct shadow_superblock sb;
	struct shadow_superblock held;	/* valid when use_held */
	bool use_held;
};

const struct shadow_superblock *shadow_store_tree_sb(const struct shadow_store *s)
{
	return s->use_held ? &s->held : &s->sb;
}

static int device_sectors(int fd, uint64_t *ret)
{
	struct stat st;
	uint64_t bytes;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return negative_errno();
	} else if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else {
		return -ENOTBLK;
	}
	*ret = bytes >> 9;
	return 0;
}

/* Read @len bytes at @off; a short device reads as -EIO. */
static int read_at(int fd, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, len - done,
				  (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			return -EIO;	/* past the end of the device */
		done += (size_t)n;
	}
	return 0;
}

int shadow_store_open(const char *path, struct shadow_store **ret,
		      struct shadow_error *err)
{
	_cleanup_free_ struct shadow_store *s = NULL;
	_cleanup_close_ int fd = -EBADF;
	uint8_t block[SHADOW_MD_BLOCK_SIZE] = {};
	size_t len;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = negative_errno();
		shadow_error_set(err, SHADOW_ERR_IO, "cannot open %s: %s",
				 path, strerror(-r));
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = fd;
	r = device_sectors(fd, &s->dev_sectors);
	if (r < 0) {
		shadow_error_set(err, SHADOW_ERR_IO,
				 r == -ENOTBLK ? "%s is neither a block device nor a regular file"
					       : "cannot get the size of %s: %s",
				 path, strerror(-r));
		return r;
	}
	if (s->dev_sectors < 1) {
		shadow_error_set(err, SHADOW_ERR_IO,
				 "%s is smaller than one %d-byte sector",
				 path, SHADOW_SECTOR_SIZE);
		return -EIO;
	}
	/*
	 * A loaded table writes the store with bios that go around this
	 * device's page cache: drop what an earlier reader left in it, or we
	 * would read the store as it was then.
	 */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	/*
	 * A device shorter than a metadata block is read as far as it goes
	 * (the rest stays zero), so that a version 1 store or a stray
	 * sector is named for what it is rather than as a short read.
	 */
	len = s->dev_sectors < SHADOW_MD_BLOCK_SECTORS ? s->dev_sectors * 512 :
							 SHADOW_MD_BLOCK_SIZE;
	r = read_at(fd, 0, block, len);
	if (r < 0) {
		shadow_error_set(err, SHADOW_ERR_IO,
				 "cannot read the superblock of %s: %s",
				 path, strerror(-r));
		return r;
	}
	r = shadow_sb_validate(block, s->dev_sectors, &s->sb, err);
	if (r < 0)
		return r;

	TAKE_FD(fd);
	*ret = TAKE_PTR(s);
	return 0;
}

struct shadow_store *shadow_store_free(struct shadow_store *s)
{
	if (!s)
		return NULL;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return NULL;
}

const struct shadow_superblock *shadow_store_sb(const struct shadow_store *s)
{
	return &s->sb;
}

uint64_t shadow_store_dev_sectors(const struct shadow_store *s)
{
	return s->dev_sectors;
}

const struct shadow_superblock *shadow_store_held_sb(const struct shadow_store *s)
{
	return s->use_held ? &s->held : NULL;
}

/* The fields a metadata snapshot copies unchanged from its superblock. */
static const char *held_mismatch(const struct shadow_superblock *sb,
				 const struct shadow_superblock *h)
{
	if (memcmp(h->uuid, sb->uuid, sizeof(sb->uuid)))
		return "uuid";
	if (h->store_type != sb->store_type)
		return "store type";
	if (h->chunk_sectors != sb->chunk_sectors)
		return "chunk size";
	if (h->origin_sectors != sb->origin_sectors ||
	    h->nr_origin_chunks != sb->nr_origin_chunks)
		return "origin size";
	if (h->store_sectors != sb->store_sectors ||
	    h->metadata_blocks != sb->metadata_blocks ||
	    h->data_start != sb->data_start ||
	    h->nr_data_chunks != sb->nr_data_chunks)
		return "store geometry";
	if (h->format_time != sb->format_time)
		return "format time";
	return NULL;
}

int shadow_store_use_held(struct shadow_store *s, struct shadow_error *err)
{
	_cleanup_free_ uint8_t *block = NULL;
	struct shadow_superblock h;
	struct shadow_error e = {};
	uint64_t b = s->sb.held_root;
	/* Trees lie below the journal's ring (the copy has the same geometry). */
	uint64_t end = shadow_journal_start(&s->sb);
	const char *what;
	int r;

	if (!b) {
		shadow_error_set(err, SHADOW_ERR_NONE,
				 "no metadata snapshot is held (held_root is 0): send reserve_metadata_snap first");
		return -ENODATA;
	}
	block = malloc(SHADOW_MD_BLOCK_SIZE);
	if (!block)
		return -ENOMEM;
	r = shadow_store_read_block(s, b, block, err);
	if (r < 0)
		return r == -ERANGE ? -EUCLEAN : r;
	r = shadow_sb_verify_block(block, b, &e);
	if (r < 0) {
		shadow_error_set(err, e.code, "metadata snapshot at block %" PRIu64 ": %s",
				 b, e.msg);
		return r;
	}
	shadow_sb_decode(block, &h);
	what = held_mismatch(&s->sb, &h);
	if (what) {
		shadow_error_set(err, SHADOW_ERR_GEOMETRY,
				 "metadata snapshot at block %" PRIu64 ": its %s differs from the superblock's",
				 b, what);
		return -EUCLEAN;
	}
	if (h.held_root) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "metadata snapshot at block %" PRIu64 " holds a metadata snapshot itself (at %" PRIu64 ")",
				 b, h.held_root);
		return -EUCLEAN;
	}
	if (h.last_seq > s->sb.last_seq || h.trans_id > s->sb.trans_id) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "metadata snapshot at block %" PRIu64 " is newer than the superblock (last seq %" PRIu64 ", transaction %" PRIu64 "; the superblock's %" PRIu64 ", %" PRIu64 ")",
				 b, h.last_seq, h.trans_id, s->sb.last_seq, s->sb.trans_id);
		return -EUCLEAN;
	}
	r = shadow_sb_verify_dropped(block, &e);
	if (r < 0) {
		shadow_error_set(err, e.code, "metadata snapshot at block %" PRIu64 ": %s",
				 b, e.msg);
		return r;
	}
	if (h.exception_root == 0 || h.exception_root >= end ||
	    h.private_root == 0 || h.private_root >= end ||
	    h.snapshot_root == 0 || h.snapshot_root >= end) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "metadata snapshot at block %" PRIu64 " has a root outside the metadata area (snapshots %" PRIu64 ", exceptions %" PRIu64 ", private %" PRIu64 ")",
				 b, h.snapshot_root, h.exception_root, h.private_root);
		return -EUCLEAN;
	}
	s->held = h;
	s->use_held = true;
	return 0;
}

int shadow_store_read_block(struct shadow_store *s, uint64_t blocknr,
			    void *buf, struct shadow_error *err)
{
	int r;

	if (blocknr >= s->sb.metadata_blocks) {
		shadow_error_set(err, SHADOW_ERR_STATE,
				 "block %" PRIu64 " is outside the metadata area of %" PRIu64 " blocks",
				 blocknr, s->sb.metadata_blocks);
		return -ERANGE;
	}
	r = read_at(s->fd, blocknr * SHADOW_MD_BLOCK_SIZE, buf, SHADOW_MD_BLOCK_SIZE);
	if (r < 0)
		shadow_error_set(err, SHADOW_ERR_IO, "cannot read metadata block %" PRIu64 ": %s",
				 blocknr, strerror(-r));
	return r;
}

struct walk {
	struct shadow_store *store;
	uint32_t value_size;
	shadow_btree_fn fn;
	void *userdata;
	struct shadow_error *err;
	uint8_t *seen;		/* one bit per metadata block */
};

/* Walk the subtree at @b whose keys must lie in [lo, hi] (hi inclusive). */
static int walk_node(struct walk *w, uint64_t b, uint64_t lo, uint64_t hi,
		     unsigned int depth)
{
	_cleanup_free_ uint8_t *block = NULL;
	/* The exception journal ends the metadata area: never a tree's. */
	uint64_t end = shadow_journal_start(&w->store->sb);
	struct pd_node_header h;
	int r;

	if (depth >= SHADOW_BTREE_MAX_DEPTH) {
		shadow_error_set(w->err, SHADOW_ERR_BAD_NODE,
				 "btree deeper than %d levels at block %" PRIu64,
				 SHADOW_BTREE_MAX_DEPTH, b);
		return -EBADMSG;
	}
	if (b == 0 || b >= end) {
		shadow_error_set(w->err, SHADOW_ERR_BAD_NODE,
				 "btree points to block %" PRIu64 ", outside the metadata area's tree blocks (1 to %" PRIu64 ")",
				 b, end - 1);
		return -EBADMSG;
	}
	if (w->seen[b / 8] & (1U << (b % 8))) {
		shadow_error_set(w->err, SHADOW_ERR_BAD_NODE,
				 "btree reaches block %" PRIu64 " twice (a loop or a shared node)", b);
		return -EBADMSG;
	}
	w->seen[b / 8] |= 1U << (b % 8);

	block = malloc(SHADOW_MD_BLOCK_SIZE);
	if (!block)
		return -ENOMEM;
	r = shadow_store_read_block(w->store, b, block, w->err);
	if (r < 0)
		return r;
	r = pd_node_verify(block, b, w->value_size, &h, w->err);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < h.nr_entries; i++) {
		uint64_t key = pd_node_key(block, i);

		if (key < lo || key > hi || (i > 0 && key <= pd_node_key(block, i - 1))) {
			shadow_error_set(w->err, SHADOW_ERR_BAD_NODE,
					 "btree node %" PRIu64 ": key %" PRIu64 " out of order", b, key);
			return -EBADMSG;
		}
	}
	for (uint32_t i = 0; i < h.nr_entries; i++) {
		uint64_t key = pd_node_key(block, i);

		if (h.flags == PD_LEAF_NODE) {
			r = w->fn(w->userdata, key, pd_node_value(block, i));
		} else {
			uint64_t next = i + 1 < h.nr_entries ? pd_node_key(block, i + 1) - 1 : hi;

			r = walk_node(w, pd_node_value_u64(block, i), key, next, depth + 1);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int shadow_store_btree_walk(struct shadow_store *s, uint64_t root,
			    uint32_t value_size, shadow_btree_fn fn,
			    void *userdata, struct shadow_error *err)
{
	_cleanup_free_ uint8_t *seen = calloc(s->sb.metadata_blocks / 8 + 1, 1);
	struct walk w = {
		.store = s,
		.value_size = value_size,
		.fn = fn,
		.userdata = userdata,
		.err = err,
		.seen = seen,
	};

	if (!seen)
		return -ENOMEM;
	return walk_node(&w, root, 0, UINT64_MAX, 0);
}

static int collect_snap(void *userdata, uint64_t key, const void *value)
{
	struct shadow_snapshot *snap = shadow_vec_push(userdata);

	if (!snap)
		return -ENOMEM;
	shadow_snap_decode(value, snap);
	return 0;
}

int shadow_store_load_snapshots(struct shadow_store *s,
				struct shadow_snapshot **ret, size_t *ret_n,
				struct shadow_error *err)
{
	struct shadow_vec l = { .size = sizeof(struct shadow_snapshot) };
	int r;

	r = shadow_store_btree_walk(s, shadow_store_tree_sb(s)->snapshot_root,
				    sizeof(struct shadow_disk_snapshot),
				    collect_snap, &l, err);
	if (r < 0) {
		free(l.v);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

static int collect_clone(void *userdata, uint64_t key, const void *value)
{
	struct shadow_clone *c = shadow_vec_push(userdata);

	if (!c)
		return -ENOMEM;
	shadow_clone_decode(value, c);
	return 0;
}

int shadow_store_load_clones(struct shadow_store *s,
			     struct shadow_clone **ret, size_t *ret_n,
			     struct shadow_error *err)
{
	struct shadow_vec l = { .size = sizeof(struct shadow_clone) };
	int r;

	if (s->sb.store_type == SHADOW_STORE_CLONE) {
		r = shadow_store_btree_walk(s, s->sb.clone_root,
					    sizeof(struct shadow_disk_clone),
					    collect_clone, &l, err);
		if (r < 0) {
			free(l.v);
			return r;
		}
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

/* Reading a bitset: the array's blocks in index order, runs as they come. */
struct bitset_read {
	struct shadow_store *store;
	const struct shadow_clone *clone;
	uint64_t nr_bits;
	uint64_t nr_words;
	uint64_t next_index;		/* the array block expected next */
	uint8_t *block;
	shadow_chunks_fn fn;
	void *userdata;
	uint64_t copied;
	uint64_t run_first, run_len;	/* the run being built */
	struct shadow_error *err;
};

/* Chunks @chunk to @chunk + @n - 1 are copied: extend the run, or pass it on. */
static int bitset_add(struct bitset_read *b, uint64_t chunk, unsigned int n)
{
	int r = 0;

	b->copied += n;
	if (b->run_len && b->run_first + b->run_len == chunk) {
		b->run_len += n;
		return 0;
	}
	if (b->run_len && b->fn)
		r = b->fn(b->userdata, b->run_first, b->run_len);
	b->run_first = chunk;
	b->run_len = n;
	return r;
}

/* The set bits of word @w, the set's word number @word, a run at a time. */
static int bitset_word(struct bitset_read *b, uint64_t word, uint64_t w)
{
	uint64_t first = word * PD_BITSET_WORD_BITS;
	int r = 0;

	if (first + PD_BITSET_WORD_BITS > b->nr_bits &&
	    (w >> (b->nr_bits - first))) {
		shadow_error_set(b->err, SHADOW_ERR_BAD_NODE,
				 "clone %" PRIu64 "'s bitset sets a bit past the origin's %" PRIu64 " chunks (word %" PRIu64 " is 0x%016" PRIx64 ")",
				 b->clone->id, b->nr_bits, word, w);
		return -EBADMSG;
	}
	while (w && r >= 0) {
		unsigned int lo = (unsigned int)__builtin_ctzll(w);
		uint64_t rest = ~(w >> lo);
		/* The ones from bit lo up: to the word's end when rest is 0. */
		unsigned int n = rest ? (unsigned int)__builtin_ctzll(rest) : 64 - lo;

		r = bitset_add(b, first + lo, n);
		w = lo + n >= 64 ? 0 : w & (~0ULL << (lo + n));
	}
	return r;
}

static int bitset_block(void *userdata, uint64_t key, const void *value)
{
	struct bitset_read *b = userdata;
	struct pd_array_header h;
	struct shadow_error e = {};
	uint64_t blocknr, first_word;
	int r;

	if (key != b->next_index) {
		shadow_error_set(b->err, SHADOW_ERR_BAD_NODE,
				 "clone %" PRIu64 "'s bitset has array block %" PRIu64 " where block %" PRIu64 " should be",
				 b->clone->id, key, b->next_index);
		return -EBADMSG;
	}
	b->next_index++;
	memcpy(&blocknr, value, sizeof(blocknr));
	blocknr = le64toh(blocknr);
	/* The exception journal ends the metadata area: never an array's. */
	if (blocknr == 0 || blocknr >= shadow_journal_start(&b->store->sb)) {
		shadow_error_set(b->err, SHADOW_ERR_BAD_NODE,
				 "clone %" PRIu64 "'s bitset names array block %" PRIu64 ", outside the metadata area's tree blocks (1 to %" PRIu64 ")",
				 b->clone->id, blocknr, shadow_journal_start(&b->store->sb) - 1);
		return -EBADMSG;
	}
	r = shadow_store_read_block(b->store, blocknr, b->block, b->err);
	if (r < 0)
		return r;
	r = pd_array_verify(b->block, blocknr, sizeof(uint64_t), b->nr_words, key, &h, &e);
	if (r < 0) {
		shadow_error_set(b->err, e.code, "clone %" PRIu64 "'s bitset: %s",
				 b->clone->id, e.msg);
		return r;
	}
	first_word = key * pd_array_max_entries(sizeof(uint64_t));
	for (uint32_t i = 0; i < h.nr_entries && r >= 0; i++)
		r = bitset_word(b, first_word + i, pd_array_value_u64(b->block, i));
	return r;
}

int shadow_store_clone_copied(struct shadow_store *s, const struct shadow_clone *c,
			      shadow_chunks_fn fn, void *userdata,
			      uint64_t *ret_copied, struct shadow_error *err)
{
	_cleanup_free_ uint8_t *block = NULL;
	struct bitset_read b = {
		.store = s,
		.clone = c,
		.nr_bits = s->sb.nr_origin_chunks,
		.nr_words = pd_bitset_words(s->sb.nr_origin_chunks),
		.fn = fn,
		.userdata = userdata,
		.err = err,
	};
	int r;

	if (!c->bitset_root) {
		shadow_error_set(err, SHADOW_ERR_NONE,
				 "clone %" PRIu64 " has no bitset: it is %s", c->id,
				 shadow_clone_state_name(c->state) ?: "in an unknown state");
		return -ENODATA;
	}
	block = malloc(SHADOW_MD_BLOCK_SIZE);
	if (!block)
		return -ENOMEM;
	b.block = block;
	r = shadow_store_btree_walk(s, c->bitset_root, sizeof(uint64_t),
				    bitset_block, &b, err);
	if (r >= 0 && b.next_index != pd_array_nr_blocks(b.nr_words, sizeof(uint64_t))) {
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "clone %" PRIu64 "'s bitset has %" PRIu64 " array blocks, but its %" PRIu64 " chunks need %" PRIu64,
				 c->id, b.next_index, b.nr_bits,
				 pd_array_nr_blocks(b.nr_words, sizeof(uint64_t)));
		r = -EBADMSG;
	}
	if (r >= 0 && b.run_len && fn)
		r = fn(userdata, b.run_first, b.run_len);
	if (r < 0)
		return r;
	if (ret_copied)
		*ret_copied = b.copied;
	return 0;
}

struct map_list {
	struct shadow_vec vec;	/* struct shadow_mapping */
	uint32_t store_type;
	bool private;
};

static int collect_map(void *userdata, uint64_t key, const void *value)
{
	struct map_list *l = userdata;
	struct shadow_mapping *m = shadow_vec_push(&l->vec);
	uint64_t le;

	if (!m)
		return -ENOMEM;
	memcpy(&le, value, sizeof(le));
	*m = (struct shadow_mapping) {
		.origin_chunk = shadow_exc_key_chunk(key),
		.seq = l->private ? shadow_exc_key_seq(key) :
			shadow_shared_key_tag(l->store_type, key),
		.data_chunk = le64toh(le),
		.private = l->private,
	};
	return 0;
}

int shadow_store_load_mappings(struct shadow_store *s,
			       struct shadow_mapping **ret, size_t *ret_n,
			       struct shadow_error *err)
{
	struct map_list l = {
		.vec.size = sizeof(struct shadow_mapping),
		.store_type = s->sb.store_type,
	};
	int r;

	r = shadow_store_btree_walk(s, shadow_store_tree_sb(s)->exception_root, sizeof(uint64_t),
				    collect_map, &l, err);
	if (r >= 0) {
		l.private = true;
		r = shadow_store_btree_walk(s, shadow_store_tree_sb(s)->private_root, sizeof(uint64_t),
					    collect_map, &l, err);
	}
	if (r < 0) {
		free(l.vec.v);
		return r;
	}
	*ret = l.vec.v;
	*ret_n = l.vec.n;
	return 0;
}

/*
 * The first entry with a key at or above @key in the subtree at @b whose
 * values are __le64: 1 with @ret_key and @ret_value (decoded), 0 when
 * there is none.  An internal node's keys are its children's lowest, so
 * the entry lies in the last child whose key is at or below @key, else
 * in the next one (whose first entry it is).
 */
static int lookup_node(struct shadow_store *s, uint64_t b, uint64_t key,
		       unsigned int depth, uint64_t *ret_key, uint64_t *ret_value,
		       struct shadow_error *err)
{
	_cleanup_free_ uint8_t *block = NULL;
	uint64_t end = shadow_journal_start(&s->sb);
	struct pd_node_header h;
	uint32_t i = 0;
	int r;

	if (depth >= SHADOW_BTREE_MAX_DEPTH) {
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "btree deeper than %d levels at block %" PRIu64,
				 SHADOW_BTREE_MAX_DEPTH, b);
		return -EBADMSG;
	}
	if (b == 0 || b >= end) {
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "btree points to block %" PRIu64 ", outside the metadata area's tree blocks (1 to %" PRIu64 ")",
				 b, end - 1);
		return -EBADMSG;
	}
	block = malloc(SHADOW_MD_BLOCK_SIZE);
	if (!block)
		return -ENOMEM;
	r = shadow_store_read_block(s, b, block, err);
	if (r < 0)
		return r;
	r = pd_node_verify(block, b, sizeof(uint64_t), &h, err);
	if (r < 0)
		return r;
	for (uint32_t j = 1; j < h.nr_entries; j++) {
		if (pd_node_key(block, j) > pd_node_key(block, j - 1))
			continue;
		shadow_error_set(err, SHADOW_ERR_BAD_NODE,
				 "btree node %" PRIu64 ": key %" PRIu64 " out of order",
				 b, pd_node_key(block, j));
		return -EBADMSG;
	}
	if (h.flags == PD_LEAF_NODE) {
		while (i < h.nr_entries && pd_node_key(block, i) < key)
			i++;
		if (i == h.nr_entries)
			return 0;
		*ret_key = pd_node_key(block, i);
		*ret_value = pd_node_value_u64(block, i);
		return 1;
	}
	while (i + 1 < h.nr_entries && pd_node_key(block, i + 1) <= key)
		i++;
	for (r = 0; r == 0 && i < h.nr_entries; i++)
		r = lookup_node(s, pd_node_value_u64(block, i), key, depth + 1,
				ret_key, ret_value, err);
	return r;
}

/* The first entry of @chunk at or above key shadow_exc_key(@chunk, @seq). */
static int lookup_chunk(struct shadow_store *s, uint64_t root, uint64_t chunk,
			uint64_t seq, uint64_t *ret_key, uint64_t *ret_value,
			struct shadow_error *err)
{
	uint64_t key, value;
	int r;

	r = lookup_node(s, root, shadow_exc_key(chunk, seq), 0, &key, &value, err);
	if (r <= 0)
		return r;
	if (shadow_exc_key_chunk(key) != chunk)
		return 0;
	*ret_key = key;
	*ret_value = value;
	return 1;
}

/*
 * A row store's newest version of @chunk tagged below @below (any tag
 * for the live volume), stepping over a dead one to the newest below
 * dropped_from.
 */
static int resolve_row(struct shadow_store *s, uint64_t below, uint64_t chunk,
		       struct shadow_read *ret, struct shadow_error *err)
{
	const struct shadow_superblock *sb = shadow_store_tree_sb(s);
	uint64_t key, value, tag;
	int r;

	/* Tags below @below are those whose inverted seq is at or above this. */
	r = lookup_chunk(s, sb->exception_root, chunk,
			 below > SHADOW_MAX_SEQ ? 0 : shadow_row_seq(below - 1),
			 &key, &value, err);
	if (r > 0 && shadow_sb_tag_dead(sb, shadow_row_seq(shadow_exc_key_seq(key))))
		r = lookup_chunk(s, sb->exception_root, chunk,
				 shadow_row_seq(sb->dropped_from - 1), &key, &value, err);
	if (r < 0)
		return r;
	tag = r ? shadow_row_seq(shadow_exc_key_seq(key)) : 0;
	/* Tag 0 is none: the inverted seq SHADOW_MAX_SEQ is no version's. */
	if (r && tag)
		*ret = (struct shadow_read) { .tag = tag, .data_chunk = value };
	else
		*ret = (struct shadow_read) { .origin = true };
	return 0;
}

int shadow_store_resolve(struct shadow_store *s, uint64_t seq, uint64_t chunk,
			 struct shadow_read *ret, struct shadow_error *err)
{
	const struct shadow_superblock *sb = shadow_store_tree_sb(s);
	uint64_t key, value;
	int r;

	if (s->sb.store_type != SHADOW_STORE_COW && s->sb.store_type != SHADOW_STORE_ROW) {
		shadow_error_set(err, SHADOW_ERR_NONE, "a %s store has no versions to resolve",
				 shadow_store_type_name(s->sb.store_type));
		return -EOPNOTSUPP;
	}
	if (chunk >= s->sb.nr_origin_chunks || seq == 0) {
		shadow_error_set(err, SHADOW_ERR_NONE,
				 "chunk %" PRIu64 " of seq %" PRIu64 " is not one a snapshot reads (%" PRIu64 " origin chunks, sequences from 1)",
				 chunk, seq, s->sb.nr_origin_chunks);
		return -EINVAL;
	}
	if (seq != SHADOW_STORE_LIVE && seq <= SHADOW_MAX_SEQ) {
		r = lookup_chunk(s, sb->private_root, chunk, seq, &key, &value, err);
		if (r < 0)
			return r;
		if (r && shadow_exc_key_seq(key) == seq) {
			*ret = (struct shadow_read) { .private = true, .tag = seq,
						      .data_chunk = value };
			return 0;
		}
	}
	if (s->sb.store_type == SHADOW_STORE_ROW)
		return resolve_row(s, seq, chunk, ret, err);
	r = 0;
	if (seq <= SHADOW_MAX_SEQ)
		r = lookup_chunk(s, sb->exception_root, chunk, seq, &key, &value, err);
	if (r < 0)
		return r;
	if (r)
		*ret = (struct shadow_read) { .tag = shadow_exc_key_seq(key), .data_chunk = value };
	else
		*ret = (struct shadow_read) { .origin = true };
	return 0;
}

/* Every entry of a verified journal block, with where it is. */
static int collect_journal(struct shadow_vec *l, uint32_t store_type,
			   const void *block, const struct shadow_journal_header *h)
{
	for (uint32_t i = 0; i < h->nr_entries; i++) {
		struct shadow_pending *p = shadow_vec_push(l);

		if (!p)
			return -ENOMEM;
		shadow_journal_entry_decode(block, i, &p->entry);
		p->tag = shadow_journal_entry_tag(store_type, &p->entry);
		p->index = h->index;
		p->slot = i;
	}
	return 0;
}

int shadow_store_load_journal(struct shadow_store *s,
			      struct shadow_pending **ret, size_t *ret_n,
			      uint32_t *ret_blocks, struct shadow_error *err)
{
	struct shadow_vec l = { .size = sizeof(struct shadow_pending) };
	_cleanup_free_ uint8_t *block = malloc(SHADOW_MD_BLOCK_SIZE);
	uint64_t start = shadow_journal_start(&s->sb);
	uint32_t i;
	int r = 0;

	if (!block)
		return -ENOMEM;
	for (i = 0; i < shadow_journal_blocks(&s->sb); i++) {
		struct shadow_journal_header h;

		r = shadow_store_read_block(s, start + i, block, err);
		if (r < 0)
			break;
		/* The first block not of this commit ends the prefix. */
		if (shadow_journal_verify(block, &s->sb, i, &h, NULL) < 0)
			break;
		r = collect_journal(&l, s->sb.store_type, block, &h);
		if (r < 0)
			break;
	}
	if (r < 0) {
		free(l.v);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	*ret_blocks = i;
	return 0;
}

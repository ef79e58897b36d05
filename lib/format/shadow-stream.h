/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The export stream (shadow-stream(5)): a shadow copy's data, whole or
 * only what changed since an older copy, as one byte stream that an
 * importer can verify completely before it writes anything.  Encoding and
 * decoding only, through read/write callbacks: no I/O of its own, so the
 * unit tests drive it from memory (test/unit/test-stream.c).
 *
 * Layout, every integer little-endian:
 *   header   128 bytes: magic "DMSHSTRM", version, sizes, flags, the
 *            store's uuid, base and target copy ids, snapshots and creation
 *            times, the stream's creation time, a crc32c of the 124 bytes
 *            before it
 *   record   32 bytes + payload, any number: offset and length in bytes on
 *            the volume, flags (zero: no payload, the range reads as
 *            zeroes; base: base_crc is set), crc32c of the base data the
 *            record replaces (incremental streams), crc32c over the 28
 *            header bytes before it and the payload
 *   trailer  48 bytes: record count, data and payload byte counts, the
 *            crc32c of every stream byte before the trailer, and a crc32c
 *            of the trailer's own first 44 bytes
 * So a cut anywhere shows as a missing trailer, and any changed byte as a
 * checksum mismatch (all reserved bytes must be zero).
 */
#ifndef SHADOW_STREAM_H
#define SHADOW_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHADOW_STREAM_MAGIC		"DMSHSTRM"
#define SHADOW_STREAM_VERSION		1
#define SHADOW_STREAM_HEADER_BYTES	128
#define SHADOW_STREAM_RECORD_BYTES	32
#define SHADOW_STREAM_TRAILER_BYTES	48
#define SHADOW_STREAM_RECORD_MAGIC	0x43455253U	/* "SREC" */
#define SHADOW_STREAM_TRAILER_MAGIC	0x444e4553U	/* "SEND" */
/* The largest payload of one record. */
#define SHADOW_STREAM_MAX_RECORD	(1U << 20)

/* Header flags. */
#define SHADOW_STREAM_INCREMENTAL	(1U << 0)
#define SHADOW_STREAM_FLAGS_KNOWN	SHADOW_STREAM_INCREMENTAL

/* Record flags. */
#define SHADOW_STREAM_REC_ZERO		(1U << 0)	/* no payload: zeroes */
#define SHADOW_STREAM_REC_BASE		(1U << 1)	/* base_crc is set */
#define SHADOW_STREAM_REC_KNOWN		(SHADOW_STREAM_REC_ZERO | SHADOW_STREAM_REC_BASE)

struct shadow_stream_header {
	uint32_t version;
	uint32_t flags;
	uint32_t chunk_bytes;
	uint64_t volume_bytes;
	uint8_t store_uuid[16];
	uint64_t base_id;		/* 0 in a full stream */
	uint64_t base_snapshot;
	int64_t base_created;
	uint64_t target_id;
	uint64_t target_snapshot;
	int64_t target_created;
	int64_t created;		/* when the stream was made */
};

struct shadow_stream_record {
	uint32_t flags;
	uint64_t offset;		/* bytes */
	uint32_t length;		/* bytes */
	uint32_t base_crc;		/* crc32c(~0) of the base data replaced */
};

struct shadow_stream_totals {
	uint64_t records;
	uint64_t data_bytes;		/* what the records cover */
	uint64_t payload_bytes;		/* what they carry */
};

/* Write all @len bytes or fail with -errno. */
typedef int (*shadow_stream_write_fn)(void *userdata, const void *buf, size_t len);
/* Read up to @len bytes: how many (0 at the end), or -errno. */
typedef ssize_t (*shadow_stream_read_fn)(void *userdata, void *buf, size_t len);

struct shadow_stream_writer {
	shadow_stream_write_fn write;
	void *userdata;
	uint32_t crc;			/* of everything written so far */
	struct shadow_stream_totals totals;
	uint64_t bytes;			/* written so far */
};

void shadow_stream_writer_init(struct shadow_stream_writer *w,
			       shadow_stream_write_fn fn, void *userdata);
int shadow_stream_write_header(struct shadow_stream_writer *w,
			       const struct shadow_stream_header *h);
/*
 * One record; @data holds rec->length bytes (ignored with
 * SHADOW_STREAM_REC_ZERO).  -EINVAL for a length of 0 or above
 * SHADOW_STREAM_MAX_RECORD, or unknown flags.
 */
int shadow_stream_write_record(struct shadow_stream_writer *w,
			       const struct shadow_stream_record *rec,
			       const void *data);
int shadow_stream_write_trailer(struct shadow_stream_writer *w);

struct shadow_stream_reader {
	shadow_stream_read_fn read;
	void *userdata;
	uint32_t crc;
	uint64_t offset;		/* stream bytes read so far */
	uint64_t next;			/* volume offset the next record may start at */
	struct shadow_stream_header header;
	struct shadow_stream_totals totals;
	bool done;			/* the trailer was read and verified */
	char why[160];			/* what was wrong, after an error */
};

void shadow_stream_reader_init(struct shadow_stream_reader *r,
			       shadow_stream_read_fn fn, void *userdata);
/*
 * Read and verify the header into r->header.  Returns 0, -EMEDIUMTYPE
 * (not a stream: wrong magic), -EPROTONOSUPPORT (a version or flag this
 * code does not know), -EBADMSG (checksum, bad field), -ENODATA (the
 * stream ends early), or -errno from the read callback; r->why says
 * which.
 */
int shadow_stream_read_header(struct shadow_stream_reader *r);
/*
 * Read the next record into @ret and its payload into @buf (room for
 * SHADOW_STREAM_MAX_RECORD bytes; zeroed for a zero record).  Returns 1
 * with a record, 0 once the trailer is read and verified (counts, whole
 * stream checksum, and nothing after it), or the errors of
 * shadow_stream_read_header().  A record is checked against the header:
 * inside the volume, in ascending order without overlap, base_crc present
 * exactly in an incremental stream.
 */
int shadow_stream_read_record(struct shadow_stream_reader *r,
			      struct shadow_stream_record *ret, void *buf);

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A detached clone's metadata document (shadow-clone-metadata(5)): what
 * shadowctl export-metadata writes on one host and import-metadata reads
 * on another, with the clone's disk.  Encoding and strict decoding, pure
 * (no kernel, no context: test/unit/test-clone-doc.c); reading the disk
 * and the catalog is shadow-transport.c's.  Not installed.
 *
 * Document (format "dm-shadow-clone-metadata", version 1):
 *   { "format", "version", "host", "exported",
 *     "shadow": { "id", "snapshot", "created", "method": "clone",
 *                 "volume", "volume_bytes", "chunk_bytes" },
 *     "set":    { "id", "created", "freeze_us", "writers": [...] } or null,
 *     "data":   { "target_bytes",
 *                 "first": { "offset", "length", "crc32c" },
 *                 "last":  { "offset", "length", "crc32c" } } }
 * The set's writers are the catalog's records (shadow-catalog.h).  "data"
 * says which disk holds the clone: the target's size, and the CRC-32C of
 * the first and last CLONE_DOC_SPAN bytes of the clone's data (the
 * volume's size, not the whole target), clone_doc_spans().
 */
#ifndef SHADOW_CLONE_DOC_H
#define SHADOW_CLONE_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "shadow-catalog.h"

#define CLONE_DOC_FORMAT "dm-shadow-clone-metadata"
#define CLONE_DOC_VERSION 1
/* How much of each end of the clone's data is checksummed, at most: 1 MiB. */
#define CLONE_DOC_SPAN (UINT64_C(1) << 20)
/* The longest host name a document may carry (a DNS name's limit). */
#define CLONE_DOC_HOST_MAX 255

/* A range of the target and its CRC-32C (seed ~0, no final inversion). */
struct clone_doc_span {
	uint64_t offset;	/* bytes */
	uint64_t length;	/* bytes */
	uint32_t crc32c;
};

struct clone_doc {
	char *host;		/* where it was exported */
	int64_t exported;	/* when, seconds since the epoch */
	/* the copy, as that host's catalog has it */
	uint64_t id;
	uint64_t snapshot;
	int64_t created;
	char *volume;
	uint64_t volume_bytes;	/* its volume's size: the clone's data */
	uint32_t chunk_bytes;
	struct shadow_set *set;	/* its set (state unused), or NULL: none */
	/* the disk: its size, and its data's two ends */
	uint64_t target_bytes;
	struct clone_doc_span first, last;
};

/*
 * The two spans of a clone of @volume_bytes (whole sectors, not 0): its
 * first and last min(@volume_bytes, CLONE_DOC_SPAN) bytes (the same range
 * for a volume of 1 MiB or less); their crc32c 0.
 */
void clone_doc_spans(uint64_t volume_bytes, struct clone_doc_span *ret_first,
		     struct clone_doc_span *ret_last);

/*
 * The whole logical blocks of @block bytes (a power of two) that hold
 * span @s, for a read with O_DIRECT: @ret_length bytes from @ret_start.
 */
void clone_doc_span_window(const struct clone_doc_span *s, uint32_t block,
			   uint64_t *ret_start, uint64_t *ret_length);

/*
 * Free what clone_doc_decode() allocated.  A document filled in by hand
 * for clone_doc_encode() only borrows its strings and set: not cleared.
 */
void clone_doc_clear(struct clone_doc *d);

/* Encode @d as a JSON text (newly allocated, ending in a newline); -ENOMEM. */
int clone_doc_encode(const struct clone_doc *d, char **ret);

/*
 * Decode a JSON text, strictly: one object, nothing after it; every
 * member there, of its type, none unknown; the values checked (ids not 0,
 * method "clone", a volume name shadowctl takes, whole sectors, a chunk
 * size, a target at least the volume's size, the spans clone_doc_spans()
 * gives).  The set's "state" is "complete".  -EMEDIUMTYPE: not this
 * format (no "format", or another); -EPROTONOSUPPORT: a version not known;
 * -EBADMSG: anything else; each with the reason in @why.
 */
int clone_doc_decode(const char *text, struct clone_doc *ret, char *why, size_t why_size);

#endif

// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The export stream's encoder and decoder (shadow-stream.h,
 * shadow-stream(5)).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "macro.h"
#include "shadow-stream.h"

/* Byte offsets of the fields (shadow-stream(5) has the same tables). */
enum {
	H_MAGIC = 0, H_VERSION = 8, H_HEADER_BYTES = 12, H_FLAGS = 16,
	H_CHUNK = 20, H_VOLUME = 24, H_UUID = 32, H_BASE_ID = 48,
	H_BASE_SNAP = 56, H_BASE_CREATED = 64, H_TARGET_ID = 72,
	H_TARGET_SNAP = 80, H_TARGET_CREATED = 88, H_CREATED = 96,
	H_CRC = 124,
	R_MAGIC = 0, R_FLAGS = 4, R_OFFSET = 8, R_LENGTH = 16, R_BASE_CRC = 20,
	R_CRC = 28,
	T_MAGIC = 0, T_RECORDS = 8, T_DATA = 16, T_PAYLOAD = 24,
	T_STREAM_CRC = 32, T_CRC = 44,
};

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* ------------------------------------------------------------------------
 * Writer
 */

void shadow_stream_writer_init(struct shadow_stream_writer *w,
			       shadow_stream_write_fn fn, void *userdata)
{
	*w = (struct shadow_stream_writer){ .write = fn, .userdata = userdata, .crc = ~0U };
}

static int emit(struct shadow_stream_writer *w, const void *buf, size_t len)
{
	int r = w->write(w->userdata, buf, len);

	if (r < 0)
		return r;
	w->crc = shadow_crc32c(w->crc, buf, len);
	w->bytes += len;
	return 0;
}

int shadow_stream_write_header(struct shadow_stream_writer *w,
			       const struct shadow_stream_header *h)
{
	uint8_t b[SHADOW_STREAM_HEADER_BYTES] = { 0 };

	if (h->flags & ~SHADOW_STREAM_FLAGS_KNOWN || !h->chunk_bytes)
		return -EINVAL;
	memcpy(b + H_MAGIC, SHADOW_STREAM_MAGIC, 8);
	put32(b + H_VERSION, SHADOW_STREAM_VERSION);
	put32(b + H_HEADER_BYTES, SHADOW_STREAM_HEADER_BYTES);
	put32(b + H_FLAGS, h->flags);
	put32(b + H_CHUNK, h->chunk_bytes);
	put64(b + H_VOLUME, h->volume_bytes);
	memcpy(b + H_UUID, h->store_uuid, 16);
	put64(b + H_BASE_ID, h->base_id);
	put64(b + H_BASE_SNAP, h->base_snapshot);
	put64(b + H_BASE_CREATED, (uint64_t)h->base_created);
	put64(b + H_TARGET_ID, h->target_id);
	put64(b + H_TARGET_SNAP, h->target_snapshot);
	put64(b + H_TARGET_CREATED, (uint64_t)h->target_created);
	put64(b + H_CREATED, (uint64_t)h->created);
	put32(b + H_CRC, shadow_crc32c(~0U, b, H_CRC));
	return emit(w, b, sizeof(b));
}

int shadow_stream_write_record(struct shadow_stream_writer *w,
			       const struct shadow_stream_record *rec,
			       const void *data)
{
	uint8_t b[SHADOW_STREAM_RECORD_BYTES] = { 0 };
	bool zero = rec->flags & SHADOW_STREAM_REC_ZERO;
	uint32_t crc;
	int r;

	if (rec->flags & ~SHADOW_STREAM_REC_KNOWN || rec->length == 0 ||
	    rec->length > SHADOW_STREAM_MAX_RECORD)
		return -EINVAL;
	put32(b + R_MAGIC, SHADOW_STREAM_RECORD_MAGIC);
	put32(b + R_FLAGS, rec->flags);
	put64(b + R_OFFSET, rec->offset);
	put32(b + R_LENGTH, rec->length);
	put32(b + R_BASE_CRC, (rec->flags & SHADOW_STREAM_REC_BASE) ? rec->base_crc : 0);
	crc = shadow_crc32c(~0U, b, R_CRC);
	if (!zero)
		crc = shadow_crc32c(crc, data, rec->length);
	put32(b + R_CRC, crc);
	r = emit(w, b, sizeof(b));
	if (r == 0 && !zero)
		r = emit(w, data, rec->length);
	if (r < 0)
		return r;
	w->totals.records++;
	w->totals.data_bytes += rec->length;
	if (!zero)
		w->totals.payload_bytes += rec->length;
	return 0;
}

int shadow_stream_write_trailer(struct shadow_stream_writer *w)
{
	uint8_t b[SHADOW_STREAM_TRAILER_BYTES] = { 0 };

	put32(b + T_MAGIC, SHADOW_STREAM_TRAILER_MAGIC);
	put64(b + T_RECORDS, w->totals.records);
	put64(b + T_DATA, w->totals.data_bytes);
	put64(b + T_PAYLOAD, w->totals.payload_bytes);
	put32(b + T_STREAM_CRC, w->crc);
	put32(b + T_CRC, shadow_crc32c(~0U, b, T_CRC));
	return emit(w, b, sizeof(b));
}

/* ------------------------------------------------------------------------
 * Reader
 */

void shadow_stream_reader_init(struct shadow_stream_reader *r,
			       shadow_stream_read_fn fn, void *userdata)
{
	*r = (struct shadow_stream_reader){ .read = fn, .userdata = userdata, .crc = ~0U };
}

_printf_(3, 4) static int refuse(struct shadow_stream_reader *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return err;
}

/* Exactly @len bytes, or -ENODATA at the end; not yet in the stream crc. */
static int take(struct shadow_stream_reader *r, void *buf, size_t len, const char *what)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = r->read(r->userdata, (uint8_t *)buf + got, len - got);

		if (n < 0)
			return refuse(r, (int)n, "read the stream at byte %" PRIu64 ": %s",
				      r->offset + got, strerror((int)-n));
		if (n == 0)
			return refuse(r, -ENODATA, "the stream is truncated: it ends at byte %" PRIu64
				      " inside %s", r->offset + got, what);
		got += (size_t)n;
	}
	r->offset += len;
	return 0;
}

static void account(struct shadow_stream_reader *r, const void *buf, size_t len)
{
	r->crc = shadow_crc32c(r->crc, buf, len);
}

int shadow_stream_read_header(struct shadow_stream_reader *r)
{
	uint8_t b[SHADOW_STREAM_HEADER_BYTES];
	struct shadow_stream_header *h = &r->header;
	int e;

	e = take(r, b, sizeof(b), "the header");
	if (e < 0)
		return e;
	account(r, b, sizeof(b));
	if (memcmp(b + H_MAGIC, SHADOW_STREAM_MAGIC, 8) != 0)
		return refuse(r, -EMEDIUMTYPE, "not a dm-shadow export stream (no magic)");
	if (get32(b + H_CRC) != shadow_crc32c(~0U, b, H_CRC))
		return refuse(r, -EBADMSG, "the stream's header is corrupt (checksum)");
	h->version = get32(b + H_VERSION);
	if (h->version != SHADOW_STREAM_VERSION)
		return refuse(r, -EPROTONOSUPPORT, "stream version %" PRIu32
			      " is not supported (this one reads version %d)",
			      h->version, SHADOW_STREAM_VERSION);
	h->flags = get32(b + H_FLAGS);
	if (h->flags & ~SHADOW_STREAM_FLAGS_KNOWN)
		return refuse(r, -EPROTONOSUPPORT, "stream flags 0x%" PRIx32 " are not supported",
			      h->flags);
	if (get32(b + H_HEADER_BYTES) != SHADOW_STREAM_HEADER_BYTES ||
	    !all_zero(b + H_CREATED + 8, H_CRC - H_CREATED - 8))
		return refuse(r, -EBADMSG, "the stream's header is malformed");
	h->chunk_bytes = get32(b + H_CHUNK);
	h->volume_bytes = get64(b + H_VOLUME);
	memcpy(h->store_uuid, b + H_UUID, 16);
	h->base_id = get64(b + H_BASE_ID);
	h->base_snapshot = get64(b + H_BASE_SNAP);
	h->base_created = (int64_t)get64(b + H_BASE_CREATED);
	h->target_id = get64(b + H_TARGET_ID);
	h->target_snapshot = get64(b + H_TARGET_SNAP);
	h->target_created = (int64_t)get64(b + H_TARGET_CREATED);
	h->created = (int64_t)get64(b + H_CREATED);
	if (!h->chunk_bytes || h->volume_bytes == 0 || !h->target_id ||
	    !!(h->flags & SHADOW_STREAM_INCREMENTAL) != !!h->base_id)
		return refuse(r, -EBADMSG, "the stream's header is malformed");
	return 0;
}

static int read_trailer(struct shadow_stream_reader *r, const uint8_t *head)
{
	uint8_t b[SHADOW_STREAM_TRAILER_BYTES], extra;
	uint32_t stream_crc = r->crc;
	ssize_t n;
	int e;

	memcpy(b, head, SHADOW_STREAM_RECORD_BYTES);
	e = take(r, b + SHADOW_STREAM_RECORD_BYTES,
		 SHADOW_STREAM_TRAILER_BYTES - SHADOW_STREAM_RECORD_BYTES, "the trailer");
	if (e < 0)
		return e;
	if (get32(b + T_CRC) != shadow_crc32c(~0U, b, T_CRC) || get32(b + 4) ||
	    get32(b + T_STREAM_CRC + 4) || get32(b + T_STREAM_CRC + 8))
		return refuse(r, -EBADMSG, "the stream's trailer is corrupt (checksum)");
	if (get32(b + T_STREAM_CRC) != stream_crc)
		return refuse(r, -EBADMSG, "the stream is corrupt (whole-stream checksum)");
	if (get64(b + T_RECORDS) != r->totals.records ||
	    get64(b + T_DATA) != r->totals.data_bytes ||
	    get64(b + T_PAYLOAD) != r->totals.payload_bytes)
		return refuse(r, -EBADMSG, "the stream's trailer counts %" PRIu64
			      " records, the stream holds %" PRIu64,
			      get64(b + T_RECORDS), r->totals.records);
	n = r->read(r->userdata, &extra, 1);
	if (n < 0)
		return refuse(r, (int)n, "read the stream after its trailer: %s", strerror((int)-n));
	if (n > 0)
		return refuse(r, -EBADMSG, "the stream has bytes after its trailer");
	r->done = true;
	return 0;
}

int shadow_stream_read_record(struct shadow_stream_reader *r,
			      struct shadow_stream_record *ret, void *buf)
{
	const struct shadow_stream_header *h = &r->header;
	uint8_t b[SHADOW_STREAM_RECORD_BYTES];
	struct shadow_stream_record rec;
	uint64_t at = r->offset;
	uint32_t crc;
	bool incremental = h->flags & SHADOW_STREAM_INCREMENTAL;
	int e;

	if (r->done)
		return 0;
	e = take(r, b, sizeof(b), "a record or the trailer");
	if (e < 0)
		return e;
	if (get32(b) == SHADOW_STREAM_TRAILER_MAGIC)
		return read_trailer(r, b);
	if (get32(b + R_MAGIC) != SHADOW_STREAM_RECORD_MAGIC)
		return refuse(r, -EBADMSG, "the stream is corrupt at byte %" PRIu64
			      " (no record or trailer there)", at);
	rec.flags = get32(b + R_FLAGS);
	rec.offset = get64(b + R_OFFSET);
	rec.length = get32(b + R_LENGTH);
	rec.base_crc = get32(b + R_BASE_CRC);
	crc = shadow_crc32c(~0U, b, R_CRC);
	/* Any field may be the flipped one: check the length before using it. */
	if (rec.length == 0 || rec.length > SHADOW_STREAM_MAX_RECORD)
		return refuse(r, -EBADMSG, "the record at stream byte %" PRIu64
			      " is corrupt (length %" PRIu32 ")", at, rec.length);
	if (rec.flags & SHADOW_STREAM_REC_ZERO) {
		memset(buf, 0, rec.length);
	} else {
		e = take(r, buf, rec.length, "a record's data");
		if (e < 0)
			return e;
		crc = shadow_crc32c(crc, buf, rec.length);
	}
	if (crc != get32(b + R_CRC) || get32(b + 24))
		return refuse(r, -EBADMSG, "the record at stream byte %" PRIu64
			      " is corrupt (checksum)", at);
	account(r, b, sizeof(b));
	if (!(rec.flags & SHADOW_STREAM_REC_ZERO))
		account(r, buf, rec.length);
	if (rec.flags & ~SHADOW_STREAM_REC_KNOWN ||
	    !!(rec.flags & SHADOW_STREAM_REC_BASE) != incremental ||
	    (!incremental && rec.base_crc))
		return refuse(r, -EBADMSG, "the record at stream byte %" PRIu64
			      " has flags 0x%" PRIx32 " that do not fit the stream", at, rec.flags);
	if (rec.offset < r->next || rec.offset > h->volume_bytes ||
	    rec.length > h->volume_bytes - rec.offset)
		return refuse(r, -EBADMSG, "the record at stream byte %" PRIu64 " (volume bytes %"
			      PRIu64 "+%" PRIu32 ") is out of order or past the volume's end",
			      at, rec.offset, rec.length);
	r->next = rec.offset + rec.length;
	r->totals.records++;
	r->totals.data_bytes += rec.length;
	if (!(rec.flags & SHADOW_STREAM_REC_ZERO))
		r->totals.payload_bytes += rec.length;
	*ret = rec;
	return 1;
}

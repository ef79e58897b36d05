// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The export stream codec (lib/format/shadow-stream.c): what is written
 * reads back the same; a stream cut at any byte, with any byte flipped,
 * of another version, with bytes after its trailer or with records out of
 * order is refused, and before any record of a bad stream could matter:
 * the whole stream is read before a caller acts (shadowctl import), so
 * every refusal must come by the end at the latest.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "shadow-stream.h"
#include "unit.h"

struct mem {
	uint8_t *buf;
	size_t len, cap, pos;
};

static int mem_write(void *userdata, const void *buf, size_t len)
{
	struct mem *m = userdata;

	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2;
		m->buf = realloc(m->buf, m->cap);
		ck_assert_ptr_nonnull(m->buf);
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

/* Short reads on purpose: a reader must loop. */
static ssize_t mem_read(void *userdata, void *buf, size_t len)
{
	struct mem *m = userdata;
	size_t n = m->len - m->pos;

	if (n > len)
		n = len;
	if (n > 7)
		n = n / 2 + 1;
	memcpy(buf, m->buf + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static const struct shadow_stream_header sample_header = {
	.flags = SHADOW_STREAM_INCREMENTAL, .chunk_bytes = 4096,
	.volume_bytes = 1 << 20, .store_uuid = { 1, 2, 3, 4, 5, 6, 7, 8, 9 },
	.base_id = 3, .base_snapshot = 2, .base_created = 1700000000,
	.target_id = 7, .target_snapshot = 5, .target_created = 1700000100,
	.created = 1700000200,
};

/* An incremental stream of three records: data, zeroes, data. */
static struct mem make_stream(const struct shadow_stream_header *h)
{
	struct shadow_stream_writer w;
	struct shadow_stream_record rec;
	struct mem m = { 0 };
	uint8_t data[8192];
	bool inc = h->flags & SHADOW_STREAM_INCREMENTAL;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	shadow_stream_writer_init(&w, mem_write, &m);
	ck_assert_int_eq(shadow_stream_write_header(&w, h), 0);
	rec = (struct shadow_stream_record){ .flags = inc ? SHADOW_STREAM_REC_BASE : 0,
		.offset = 0, .length = 4096, .base_crc = inc ? 0x1234 : 0 };
	ck_assert_int_eq(shadow_stream_write_record(&w, &rec, data), 0);
	rec = (struct shadow_stream_record){
		.flags = SHADOW_STREAM_REC_ZERO | (inc ? SHADOW_STREAM_REC_BASE : 0),
		.offset = 8192, .length = 8192, .base_crc = inc ? 0x5678 : 0 };
	ck_assert_int_eq(shadow_stream_write_record(&w, &rec, NULL), 0);
	rec = (struct shadow_stream_record){ .flags = inc ? SHADOW_STREAM_REC_BASE : 0,
		.offset = 65536, .length = 8192, .base_crc = inc ? 0x9abc : 0 };
	ck_assert_int_eq(shadow_stream_write_record(&w, &rec, data), 0);
	ck_assert_int_eq(shadow_stream_write_trailer(&w), 0);
	ck_assert_uint_eq(w.bytes, m.len);
	ck_assert_uint_eq(m.len, SHADOW_STREAM_HEADER_BYTES + 3 * SHADOW_STREAM_RECORD_BYTES +
			  4096 + 8192 + SHADOW_STREAM_TRAILER_BYTES);
	return m;
}

/* Read the whole of @m: 0, or the first error. */
static int read_all(struct mem *m, struct shadow_stream_reader *r)
{
	static uint8_t buf[SHADOW_STREAM_MAX_RECORD];
	struct shadow_stream_record rec;
	int e;

	m->pos = 0;
	shadow_stream_reader_init(r, mem_read, m);
	e = shadow_stream_read_header(r);
	while (e >= 0) {
		e = shadow_stream_read_record(r, &rec, buf);
		if (e == 0)
			return 0;
	}
	return e;
}

START_TEST(test_round_trip)
{
	static uint8_t buf[SHADOW_STREAM_MAX_RECORD];
	struct mem m = make_stream(&sample_header);
	struct shadow_stream_reader r;
	struct shadow_stream_record rec;
	const struct shadow_stream_header *h = &r.header;

	shadow_stream_reader_init(&r, mem_read, &m);
	ck_assert_int_eq(shadow_stream_read_header(&r), 0);
	ck_assert_uint_eq(h->version, SHADOW_STREAM_VERSION);
	ck_assert_uint_eq(h->flags, SHADOW_STREAM_INCREMENTAL);
	ck_assert_uint_eq(h->chunk_bytes, 4096);
	ck_assert_uint_eq(h->volume_bytes, 1 << 20);
	ck_assert_mem_eq(h->store_uuid, sample_header.store_uuid, 16);
	ck_assert_uint_eq(h->base_id, 3);
	ck_assert_uint_eq(h->base_snapshot, 2);
	ck_assert_int_eq(h->base_created, 1700000000);
	ck_assert_uint_eq(h->target_id, 7);
	ck_assert_uint_eq(h->target_snapshot, 5);
	ck_assert_int_eq(h->target_created, 1700000100);
	ck_assert_int_eq(h->created, 1700000200);

	ck_assert_int_eq(shadow_stream_read_record(&r, &rec, buf), 1);
	ck_assert_uint_eq(rec.offset, 0);
	ck_assert_uint_eq(rec.length, 4096);
	ck_assert_uint_eq(rec.base_crc, 0x1234);
	ck_assert_uint_eq(rec.flags, SHADOW_STREAM_REC_BASE);
	for (size_t i = 0; i < 4096; i++)
		ck_assert_uint_eq(buf[i], (uint8_t)(i * 7 + 3));
	memset(buf, 0xee, 8192);
	ck_assert_int_eq(shadow_stream_read_record(&r, &rec, buf), 1);
	ck_assert_uint_eq(rec.offset, 8192);
	ck_assert_uint_eq(rec.flags, SHADOW_STREAM_REC_ZERO | SHADOW_STREAM_REC_BASE);
	for (size_t i = 0; i < 8192; i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_int_eq(shadow_stream_read_record(&r, &rec, buf), 1);
	ck_assert_uint_eq(rec.offset, 65536);
	ck_assert_uint_eq(rec.base_crc, 0x9abc);
	ck_assert_int_eq(shadow_stream_read_record(&r, &rec, buf), 0);
	ck_assert(r.done);
	ck_assert_uint_eq(r.totals.records, 3);
	ck_assert_uint_eq(r.totals.data_bytes, 4096 + 8192 + 8192);
	ck_assert_uint_eq(r.totals.payload_bytes, 4096 + 8192);
	free(m.buf);
}
END_TEST

START_TEST(test_full_round_trip)
{
	struct shadow_stream_header h = sample_header;
	struct shadow_stream_reader r;
	struct mem m;

	h.flags = 0;
	h.base_id = h.base_snapshot = 0;
	h.base_created = 0;
	m = make_stream(&h);
	ck_assert_int_eq(read_all(&m, &r), 0);
	ck_assert_uint_eq(r.header.flags, 0);
	ck_assert_uint_eq(r.totals.records, 3);
	free(m.buf);
}
END_TEST

/* Every length short of the whole: refused as truncated. */
START_TEST(test_truncated_everywhere)
{
	struct mem m = make_stream(&sample_header);
	struct shadow_stream_reader r;
	size_t whole = m.len;

	for (size_t cut = 0; cut < whole; cut++) {
		m.len = cut;
		ck_assert_msg(read_all(&m, &r) == -ENODATA,
			      "cut at %zu of %zu: %d (%s)", cut, whole, read_all(&m, &r), r.why);
		ck_assert_ptr_nonnull(strstr(r.why, "truncated"));
	}
	m.len = whole;
	ck_assert_int_eq(read_all(&m, &r), 0);
	free(m.buf);
}
END_TEST

/* Every byte, each of three bit patterns flipped: refused. */
START_TEST(test_flipped_everywhere)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct mem m = make_stream(&sample_header);
	struct shadow_stream_reader r;

	for (size_t i = 0; i < m.len; i++) {
		for (size_t k = 0; k < sizeof(masks); k++) {
			int e;

			m.buf[i] ^= masks[k];
			e = read_all(&m, &r);
			ck_assert_msg(e == -EBADMSG || e == -EMEDIUMTYPE || e == -ENODATA ||
				      e == -EPROTONOSUPPORT,
				      "byte %zu ^ 0x%02x: accepted (%d)", i, masks[k], e);
			m.buf[i] ^= masks[k];
		}
	}
	ck_assert_int_eq(read_all(&m, &r), 0);
	free(m.buf);
}
END_TEST

/* A well-formed header of version 2 (its checksum right): not supported. */
START_TEST(test_wrong_version)
{
	struct mem m = make_stream(&sample_header);
	struct shadow_stream_reader r;
	uint32_t v = htole32(2), crc;

	memcpy(m.buf + 8, &v, 4);
	crc = htole32(shadow_crc32c(~0U, m.buf, 124));
	memcpy(m.buf + 124, &crc, 4);
	ck_assert_int_eq(read_all(&m, &r), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(r.why, "version 2"));
	memcpy(m.buf, "NOTASTRM", 8);
	ck_assert_int_eq(read_all(&m, &r), -EMEDIUMTYPE);
	free(m.buf);
}
END_TEST

START_TEST(test_bytes_after_trailer)
{
	struct mem m = make_stream(&sample_header);
	struct shadow_stream_reader r;
	uint8_t zero = 0;

	mem_write(&m, &zero, 1);
	ck_assert_int_eq(read_all(&m, &r), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(r.why, "after its trailer"));
	free(m.buf);
}
END_TEST

/* Well-formed records that overlap, or pass the volume's end. */
START_TEST(test_bad_ranges)
{
	struct shadow_stream_header h = sample_header;
	struct shadow_stream_record rec = { .flags = SHADOW_STREAM_REC_ZERO | SHADOW_STREAM_REC_BASE,
					    .offset = 4096, .length = 8192 };
	struct shadow_stream_writer w;
	struct shadow_stream_reader r;
	struct mem m = { 0 };

	shadow_stream_writer_init(&w, mem_write, &m);
	ck_assert_int_eq(shadow_stream_write_header(&w, &h), 0);
	ck_assert_int_eq(shadow_stream_write_record(&w, &rec, NULL), 0);
	rec.offset = 8192;
	ck_assert_int_eq(shadow_stream_write_record(&w, &rec, NULL), 0);
	ck_assert_int_eq(shadow_stream_write_trailer(&w), 0);
	ck_assert_int_eq(read_all(&m, &r), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(r.why, "out of order"));
	free(m.buf);

	m = (struct mem){ 0 };
	shadow_stream_writer_init(&w, mem_write, &m);
	ck_assert_int_eq(shadow_stream_write_header(&w, &h), 0);
	rec.offset = h.volume_bytes - 4096;
	ck_assert_int_eq(shadow_stream_write_record(&w, &rec, NULL), 0);
	ck_assert_int_eq(shadow_stream_write_trailer(&w), 0);
	ck_assert_int_eq(read_all(&m, &r), -EBADMSG);
	free(m.buf);

	/* A full stream's record may not claim a base. */
	m = (struct mem){ 0 };
	h.flags = 0;
	h.base_id = 0;
	shadow_stream_writer_init(&w, mem_write, &m);
	ck_assert_int_eq(shadow_stream_write_header(&w, &h), 0);
	rec.offset = 0;
	ck_assert_int_eq(shadow_stream_write_record(&w, &rec, NULL), 0);
	ck_assert_int_eq(shadow_stream_write_trailer(&w), 0);
	ck_assert_int_eq(read_all(&m, &r), -EBADMSG);
	free(m.buf);

	rec.length = 0;
	ck_assert_int_eq(shadow_stream_write_record(&w, &rec, NULL), -EINVAL);
	rec.length = SHADOW_STREAM_MAX_RECORD + 1;
	ck_assert_int_eq(shadow_stream_write_record(&w, &rec, NULL), -EINVAL);
}
END_TEST

Suite *suite_stream(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("codec");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_full_round_trip);
	tcase_add_test(tc, test_truncated_everywhere);
	tcase_add_test(tc, test_flipped_everywhere);
	tcase_add_test(tc, test_wrong_version);
	tcase_add_test(tc, test_bytes_after_trailer);
	tcase_add_test(tc, test_bad_ranges);
	suite_add_tcase(s, tc);
	return s;
}

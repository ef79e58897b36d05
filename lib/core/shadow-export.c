// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Export a shadow copy as a stream (shadow-stream(5)): every byte of it
 * (full), or only the ranges that changed since an older copy of the same
 * volume (incremental), each with the checksum of the older copy's data
 * it replaces.  The data is read from the copies' devices: their exposed
 * ones, or read-only devices made here for the call and removed before it
 * returns (copy_expose_device(), as expose makes them).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "shadow-cbt.h"
#include "shadow-ctx.h"
#include "shadow-expose.h"
#include "shadow-io.h"
#include "shadow-kernel.h"
#include "shadow-stream.h"

/* A copy's device for the length of one export. */
struct export_dev {
	char name[64];		/* made here, to remove; "" if exposed already */
	int fd;
};

static void export_dev_close(struct export_dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -EBADF;
	if (d->name[0])
		(void)shadow_dm_remove(d->name);
	d->name[0] = '\0';
}

static int export_dev_open(shadow_ctx *ctx, const struct shadow_volume *v,
			   const struct shadow_copy *c, struct export_dev *d)
{
	char path[sizeof(DEV_MAPPER) + sizeof(d->name)];
	const char *dev = c->device;
	int r;

	d->fd = -EBADF;
	d->name[0] = '\0';
	if (c->device && c->writable)
		return ctx_fail(ctx, -EBUSY, "export shadow %" PRIu64 ": it is exposed writable as %s "
				"(its data may change: unexpose it first)", c->id, c->device);
	if (!dev) {
		snprintf(d->name, sizeof(d->name), "shadow-export-%d-%" PRIu64, (int)getpid(), c->id);
		r = copy_expose_device(ctx, v, c, d->name, false);
		if (r < 0) {
			d->name[0] = '\0';
			return r;
		}
		snprintf(path, sizeof(path), DEV_MAPPER "%s", d->name);
		dev = path;
	}
	d->fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		r = negative_errno();
		export_dev_close(d);
		return ctx_fail(ctx, r, "export shadow %" PRIu64 ": open %s", c->id, dev);
	}
	return 0;
}

struct export_run {
	shadow_ctx *ctx;
	uint64_t id;
	int out;
	struct export_dev target, base;
	struct shadow_stream_writer w;
	uint8_t *buf, *base_buf;
	shadow_progress_fn progress;
	void *userdata;
	uint64_t done, total;
};

static int write_stream(void *userdata, const void *buf, size_t len)
{
	struct export_run *e = userdata;
	int r = write_all(e->out, buf, len);

	if (r < 0)
		return ctx_fail(e->ctx, r, "export shadow %" PRIu64 ": write the stream", e->id);
	return 0;
}

static int read_at(struct export_run *e, int fd, void *buf, uint32_t len, uint64_t off)
{
	int r = pread_all(fd, buf, len, off);

	if (r < 0)
		return ctx_fail(e->ctx, r, "export shadow %" PRIu64 ": read its data at byte %"
				PRIu64, e->id, off);
	return 0;
}

static bool is_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* One range of the volume, in records of at most SHADOW_STREAM_MAX_RECORD. */
static int export_range(void *userdata, uint64_t offset, uint64_t length)
{
	struct export_run *e = userdata;
	bool incremental = e->base.fd >= 0;

	while (length) {
		struct shadow_stream_record rec = { .offset = offset };
		int r;

		rec.length = length > SHADOW_STREAM_MAX_RECORD ? SHADOW_STREAM_MAX_RECORD :
			     (uint32_t)length;
		r = read_at(e, e->target.fd, e->buf, rec.length, offset);
		if (r == 0 && incremental)
			r = read_at(e, e->base.fd, e->base_buf, rec.length, offset);
		if (r < 0)
			return r;
		if (incremental) {
			rec.flags |= SHADOW_STREAM_REC_BASE;
			rec.base_crc = shadow_crc32c(~0U, e->base_buf, rec.length);
		}
		if (is_zero(e->buf, rec.length))
			rec.flags |= SHADOW_STREAM_REC_ZERO;
		r = shadow_stream_write_record(&e->w, &rec, e->buf);
		if (r < 0)
			return r;
		offset += rec.length;
		length -= rec.length;
		e->done += rec.length;
		if (e->progress) {
			r = e->progress(e->userdata, e->done, e->total);
			if (r < 0)
				return ctx_fail(e->ctx, r, "export shadow %" PRIu64 ": stopped", e->id);
		}
	}
	return 0;
}

static int count_range(void *userdata, uint64_t offset, uint64_t length)
{
	return 0;
}

static int export_header(struct export_run *e, const struct shadow_volume *v,
			 const struct shadow_copy *c, const struct shadow_copy *base)
{
	struct shadow_stream_header h = {
		.target_id = c->id, .target_snapshot = c->snapshot,
		.target_created = c->created, .created = now_realtime(),
	};
	int r;

	r = cbt_store_identity(e->ctx, "export", v, h.store_uuid, &h.chunk_bytes,
			       &h.volume_bytes);
	if (r < 0)
		return r;
	if (base) {
		h.flags = SHADOW_STREAM_INCREMENTAL;
		h.base_id = base->id;
		h.base_snapshot = base->snapshot;
		h.base_created = base->created;
	} else {
		e->total = h.volume_bytes;
	}
	r = shadow_stream_write_header(&e->w, &h);
	if (r < 0)
		return r;
	return 0;
}

static int export_body(struct export_run *e, const struct shadow_volume *v,
		       const struct shadow_copy *c, const struct shadow_copy *base)
{
	uint64_t size = 0;
	int r;

	r = export_dev_open(e->ctx, v, c, &e->target);
	if (r == 0 && base)
		r = export_dev_open(e->ctx, v, base, &e->base);
	if (r < 0)
		return r;
	/* The diff first, for the total a progress meter shows; it reads metadata only. */
	if (base && e->progress) {
		r = cbt_diff(e->ctx, "export", v, base, c, count_range, NULL, &e->total, NULL);
		if (r < 0)
			return r;
	}
	r = export_header(e, v, c, base);
	if (r < 0)
		return r;
	if (base)
		r = cbt_diff(e->ctx, "export", v, base, c, export_range, e, NULL, NULL);
	else if (ioctl(e->target.fd, BLKGETSIZE64, &size) < 0)
		r = ctx_fail(e->ctx, negative_errno(), "export shadow %" PRIu64 ": its size", c->id);
	else
		r = export_range(e, 0, size < e->total ? size : e->total);
	if (r < 0)
		return r;
	return shadow_stream_write_trailer(&e->w);
}

int shadow_copy_export(shadow_ctx *ctx, uint64_t id, uint64_t since_id, int fd,
		       shadow_progress_fn progress, void *userdata,
		       uint64_t *ret_data_bytes, uint64_t *ret_stream_bytes)
{
	struct export_run e = { .ctx = ctx, .id = id, .out = fd, .progress = progress,
				.userdata = userdata,
				.target = { .fd = -EBADF }, .base = { .fd = -EBADF } };
	struct shadow_copy *c, *base = NULL;
	struct shadow_volume *v, *vb;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, fd >= 0, "export shadow %" PRIu64 ": no output", id);
	check_arg(ctx, id != since_id, "export shadow %" PRIu64 ": since itself", id);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "export shadow %" PRIu64 ": the context is not open", id);
	r = cbt_copy(ctx, "export", id, &c, &v);
	if (r == 0 && since_id)
		r = cbt_copy(ctx, "export", since_id, &base, &vb);
	if (r < 0)
		return r;
	if (base && v != vb)
		return ctx_fail(ctx, -EINVAL, "export shadow %" PRIu64 " since %" PRIu64
				": they are copies of different volumes (%s, %s)",
				id, since_id, v->name, vb->name);
	e.buf = malloc(SHADOW_STREAM_MAX_RECORD);
	e.base_buf = malloc(SHADOW_STREAM_MAX_RECORD);
	if (!e.buf || !e.base_buf) {
		r = -ENOMEM;
		goto out;
	}
	shadow_stream_writer_init(&e.w, write_stream, &e);
	r = export_body(&e, v, c, base);
out:
	export_dev_close(&e.target);
	export_dev_close(&e.base);
	free(e.buf);
	free(e.base_buf);
	if (r < 0)
		return r;
	if (ret_data_bytes)
		*ret_data_bytes = e.w.totals.data_bytes;
	if (ret_stream_bytes)
		*ret_stream_bytes = e.w.bytes;
	return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transportable clones, as VSS's transportable shadow copies: a detached
 * clone's catalog entry leaves this host with its disk (export: its
 * metadata as a document, shadow-clone-metadata(5)) and comes into
 * another host's catalog with it (import), once the disk is shown to hold
 * that clone's data.  The document is shadow-clone-doc.c's; this file
 * reads the disk (past the page cache) and the catalog.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "shadow-clone.h"
#include "shadow-clone-doc.h"
#include "shadow-ctx.h"
#include "shadow-io.h"
#include "shadow-kernel.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct shadow_copy *, shadow_copy_free);

/* ------------------------------------------------------------------------
 * The disk, read past the page cache: what is on it, not what was
 */

struct clone_disk {
	int fd;
	uint64_t bytes;
	uint32_t block;		/* its logical block size */
};

static void disk_close(struct clone_disk *disk)
{
	if (disk->fd >= 0)
		close(disk->fd);
	disk->fd = -EBADF;
}

/*
 * Open block device @path to read it with O_DIRECT (where that is
 * refused, after dropping its cached pages: BLKFLSBUF), exclusively with
 * @excl.  -errno, nothing said.
 */
static int disk_open(const char *path, bool excl, struct clone_disk *ret)
{
	int flags = O_RDONLY | O_CLOEXEC | (excl ? O_EXCL : 0), block = 512;
	_cleanup_close_ int fd = -EBADF;
	uint64_t bytes;
	struct stat st;

	if (stat(path, &st) < 0)
		return negative_errno();
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	fd = open(path, flags | O_DIRECT);
	if (fd < 0 && errno == EINVAL) {
		fd = open(path, flags);
		if (fd >= 0 && ioctl(fd, BLKFLSBUF, 0) < 0)
			return negative_errno();
	}
	if (fd < 0)
		return negative_errno();
	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
		return negative_errno();
	if (ioctl(fd, BLKSSZGET, &block) < 0 || block < 512 || (block & (block - 1)))
		block = 512;
	*ret = (struct clone_disk) { .fd = TAKE_FD(fd), .bytes = bytes, .block = (uint32_t)block };
	return 0;
}

/* The CRC-32C of span @s of @disk, read in the whole logical blocks around it. */
static int span_crc(const struct clone_disk *disk, const struct clone_doc_span *s, uint32_t *ret)
{
	_cleanup_free_ void *buf = NULL;
	uint64_t start, len;
	long page = sysconf(_SC_PAGESIZE);
	int r;

	clone_doc_span_window(s, disk->block, &start, &len);
	if (start + len > disk->bytes)
		return -ENOSPC;
	r = posix_memalign(&buf, page > (long)disk->block ? (size_t)page : disk->block, len);
	if (r)
		return -r;
	r = pread_all(disk->fd, buf, len, start);
	if (r < 0)
		return r;
	*ret = shadow_crc32c(~0U, (const uint8_t *)buf + (s->offset - start), s->length);
	return 0;
}

/* "first MiB", "last 1536 bytes": span @s of the clone, for a message. */
static const char *span_name(const struct clone_doc_span *s, bool last, char *buf, size_t size)
{
	if (s->length == CLONE_DOC_SPAN)
		snprintf(buf, size, "%s MiB", last ? "last" : "first");
	else
		snprintf(buf, size, "%s %" PRIu64 " bytes", last ? "last" : "first", s->length);
	return buf;
}

/* ------------------------------------------------------------------------
 * Export
 */

/* Only a detached clone is a disk of its own, which the kernel has let go. */
static int export_check(shadow_ctx *ctx, const struct shadow_copy *c)
{
	if (!shadow_copy_is_clone(c))
		return ctx_fail(ctx, -EOPNOTSUPP, "export the metadata of shadow %" PRIu64 ": it is a "
				"%s copy, not a clone (only a detached clone's data is a disk of its "
				"own)", c->id, c->method);
	if (strcmp(c->state, "invalid") == 0)
		return ctx_fail(ctx, -ESTALE, "export the metadata of shadow %" PRIu64 ": the clone "
				"failed (its target %s does not hold it)", c->id, c->target);
	if (!shadow_copy_detached(c))
		return ctx_fail(ctx, -EBUSY, "export the metadata of shadow %" PRIu64 ": the kernel "
				"still has the clone (%s): detach it first: shadowctl detach %" PRIu64,
				c->id, c->state, c->id);
	return 0;
}

/* The copy's own part of the document: this host, the copy, its volume, its set. */
static int export_copy(shadow_ctx *ctx, const struct shadow_copy *c, char *host, size_t size,
		       struct clone_doc *ret)
{
	const struct shadow_volume *v = c->origin ? NULL : shadow_catalog_volume(&ctx->cat, c->volume);
	uint64_t sectors;
	int r;

	if (gethostname(host, size - 1) < 0)
		return ctx_fail(ctx, negative_errno(), "export the metadata of shadow %" PRIu64
				": this host's name", c->id);
	host[size - 1] = '\0';
	r = clone_volume_sectors(ctx, c, &sectors);
	if (r < 0)
		return ctx_fail(ctx, r, "export the metadata of shadow %" PRIu64 ": the size of its "
				"volume %s%s", c->id, c->volume, r == -ENODATA ? " (not recorded when "
				"it was imported)" : "");
	*ret = (struct clone_doc) {
		.host = host, .exported = now_realtime(),
		.id = c->id, .snapshot = c->snapshot, .created = c->created,
		.volume = c->volume, .volume_bytes = sectors << 9,
		.chunk_bytes = v ? v->chunk_sectors << 9 : c->origin->chunk_bytes,
		.set = c->set ? shadow_catalog_set(&ctx->cat, c->set) : NULL,
	};
	if (!ret->chunk_bytes)
		return ctx_fail(ctx, -ENODATA, "export the metadata of shadow %" PRIu64 ": the chunk "
				"size of its volume %s (not recorded when it was imported)", c->id,
				c->volume);
	return 0;
}

/* The document's "data": the target's size, and its checksums read now. */
static int export_data(shadow_ctx *ctx, const struct shadow_copy *c, struct clone_doc *d)
{
	struct clone_disk disk = { .fd = -EBADF };
	int r;

	r = disk_open(c->target, false, &disk);
	if (r == -ENOENT)
		return ctx_fail(ctx, r, "export the metadata of shadow %" PRIu64 ": its target %s "
				"is not there", c->id, c->target);
	if (r < 0)
		return ctx_fail(ctx, r, "export the metadata of shadow %" PRIu64 ": open its "
				"target %s", c->id, c->target);
	d->target_bytes = disk.bytes;
	clone_doc_spans(d->volume_bytes, &d->first, &d->last);
	if (disk.bytes < d->volume_bytes)
		r = ctx_fail(ctx, -ENOSPC, "export the metadata of shadow %" PRIu64 ": its target %s "
			     "(%" PRIu64 " bytes) is smaller than its volume (%" PRIu64 " bytes): it "
			     "is not the clone's disk", c->id, c->target, disk.bytes, d->volume_bytes);
	if (r == 0 && ((r = span_crc(&disk, &d->first, &d->first.crc32c)) < 0 ||
		       (r = span_crc(&disk, &d->last, &d->last.crc32c)) < 0))
		r = ctx_fail(ctx, r, "export the metadata of shadow %" PRIu64 ": read its target %s",
			     c->id, c->target);
	disk_close(&disk);
	return r;
}

int shadow_copy_export_metadata(shadow_ctx *ctx, uint64_t id, char **ret_json)
{
	char host[HOST_NAME_MAX + 1];
	struct shadow_copy *c;
	struct clone_doc d;
	char *json = NULL;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, ret_json, "export the metadata of shadow %" PRIu64 ": nowhere to put it", id);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "export the metadata of shadow %" PRIu64 ": the context "
				"is not open", id);
	c = shadow_catalog_copy(&ctx->cat, id);
	if (!c)
		return ctx_fail(ctx, -ENOENT, "export the metadata of shadow %" PRIu64 ": no such "
				"shadow copy", id);
	r = export_check(ctx, c);
	if (r == 0)
		r = export_copy(ctx, c, host, sizeof(host), &d);
	if (r == 0)
		r = export_data(ctx, c, &d);
	if (r < 0)
		return r;
	/* The document borrows the catalog's strings and set: nothing to clear. */
	r = clone_doc_encode(&d, &json);
	if (r < 0)
		return ctx_fail(ctx, r, "export the metadata of shadow %" PRIu64 ": make the "
				"document", id);
	ctx_log(ctx, SHADOW_LOG_INFO, "shadow %" PRIu64 ": the metadata of a clone of %s on %s, "
		"exported from %s", id, c->volume, c->target, host);
	*ret_json = json;
	return 0;
}

/* ------------------------------------------------------------------------
 * Import
 */

/* What @device is in this catalog: nothing yet, or it is refused. */
static int import_check_owner(shadow_ctx *ctx, const char *what, const char *device, dev_t t)
{
	struct clone_owner o;

	if (clone_device_owner(&ctx->cat, device, t, &o) == 0)
		return 0;
	if (o.volume)
		return ctx_fail(ctx, -EINVAL, "%s: %s is %s volume %s", what, device,
				o.store ? "the store of" : "the device of", o.volume->name);
	if (o.copy->origin)
		return ctx_fail(ctx, -EEXIST, "%s: %s is the target of shadow %" PRIu64 " already, "
				"imported from %s (its shadow %" PRIu64 ")", what, device, o.copy->id,
				o.copy->origin->host, o.copy->origin->shadow);
	return ctx_fail(ctx, -EEXIST, "%s: %s is the target of shadow %" PRIu64 " already, a%s "
			"clone of %s", what, device, o.copy->id,
			shadow_copy_detached(o.copy) ? " detached" : "", o.copy->volume);
}

/* Does @disk hold the data @d describes, at both ends? */
static int import_check_data(shadow_ctx *ctx, const char *what, const char *device,
			     const struct clone_doc *d, const struct clone_disk *disk)
{
	const struct clone_doc_span *spans[] = { &d->first, &d->last };
	char name[48];
	int r;

	for (size_t i = 0; i < ELEMENTSOF(spans); i++) {
		uint32_t crc;

		r = span_crc(disk, spans[i], &crc);
		if (r < 0)
			return ctx_fail(ctx, r, "%s: read %s", what, device);
		if (crc != spans[i]->crc32c)
			return ctx_fail(ctx, -ESTALE, "%s: %s does not hold this clone: its %s differ%s",
					what, device, span_name(spans[i], i == 1, name, sizeof(name)),
					spans[i]->length == CLONE_DOC_SPAN ? "s" : "");
	}
	return 0;
}

/*
 * Can @device be the disk of the clone @d describes?  A block device, no
 * part of a volume nor any copy's target here, at least as large as its
 * target was, not in use, and holding its data.
 */
static int import_check_device(shadow_ctx *ctx, const char *what, const char *device,
			       const struct clone_doc *d)
{
	struct clone_disk disk = { .fd = -EBADF };
	dev_t t;
	int r;

	r = block_device(device, &t, NULL);
	if (r == -ENOTBLK)
		return ctx_fail(ctx, r, "%s: %s is not a block device", what, device);
	if (r < 0)
		return ctx_fail(ctx, r, "%s: open %s", what, device);
	/* What it is first: a store is never the disk, whatever it holds. */
	r = import_check_owner(ctx, what, device, t);
	if (r < 0)
		return r;
	r = disk_open(device, true, &disk);
	if (r == -EBUSY)
		return ctx_fail(ctx, r, "%s: %s is in use (mounted, or held by another device)",
				what, device);
	if (r < 0)
		return ctx_fail(ctx, r, "%s: open %s exclusively", what, device);
	if (disk.bytes < d->target_bytes)
		r = ctx_fail(ctx, -ENOSPC, "%s: %s is too small (%" PRIu64 " bytes) to be the "
			     "clone's disk (%" PRIu64 " bytes)", what, device, disk.bytes,
			     d->target_bytes);
	else
		r = import_check_data(ctx, what, device, d, &disk);
	disk_close(&disk);
	return r;
}

/* Where the copy comes from, as the catalog keeps it. */
static struct shadow_copy_origin *origin_of(const struct clone_doc *d)
{
	struct shadow_copy_origin *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	*g = (struct shadow_copy_origin) {
		.host = strdup(d->host), .set = d->set ? d->set->id : 0, .shadow = d->id,
		.volume = strdup(d->volume), .volume_bytes = d->volume_bytes,
		.chunk_bytes = d->chunk_bytes,
	};
	if (!g->host || !g->volume) {
		shadow_copy_origin_free(g);
		return NULL;
	}
	return g;
}

/* The new copy: a detached clone on @device, with a new local id. */
static struct shadow_copy *copy_of(shadow_ctx *ctx, const struct clone_doc *d, const char *device)
{
	_cleanup_(shadow_copy_freep) struct shadow_copy *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = ctx->cat.next_id;
	c->snapshot = d->snapshot;
	c->created = d->created;
	c->volume = strdup(d->volume);
	c->method = strdup("clone");
	c->state = strdup("detached");
	c->target = strdup(device);
	c->origin = origin_of(d);
	if (!c->volume || !c->method || !c->state || !c->target || !c->origin)
		return NULL;
	return TAKE_PTR(c);
}

/* A copy of the same one came in before: this is a second copy of its data. */
static void import_note_twin(shadow_ctx *ctx, const char *what, const struct clone_doc *d)
{
	for (size_t i = 0; i < ctx->cat.n_copies; i++) {
		const struct shadow_copy *c = ctx->cat.copies[i];

		if (c->origin && c->origin->shadow == d->id && strcmp(c->origin->host, d->host) == 0)
			ctx_log(ctx, SHADOW_LOG_WARNING, "%s: shadow %" PRIu64 " came from the same copy "
				"(on %s): this is a second copy of it", what, c->id, c->target);
	}
}

/*
 * Add the copy and its set (@d's, taken, with a new local id) in one
 * save; on failure the catalog is left as it was.
 */
static int import_add(shadow_ctx *ctx, const char *what, struct clone_doc *d,
		      const char *device, struct shadow_copy **ret)
{
	uint64_t next_id = ctx->cat.next_id, next_set = ctx->cat.next_set;
	struct shadow_copy *c = copy_of(ctx, d, device);
	struct shadow_set *s = NULL;
	int r;

	if (!c)
		return ctx_fail(ctx, -ENOMEM, "%s: record it", what);
	if (d->set) {
		s = TAKE_PTR(d->set);
		s->id = ctx->cat.next_set;
		c->set = s->id;
		r = shadow_catalog_add_set(&ctx->cat, s);
		if (r < 0) {
			shadow_set_free(s);
			shadow_copy_free(c);
			return ctx_fail(ctx, r, "%s: record its set", what);
		}
	}
	r = shadow_catalog_add_copy(&ctx->cat, c);
	if (r < 0) {
		shadow_copy_free(c);
		c = NULL;
	}
	if (r == 0)
		r = ctx_save(ctx);
	if (r < 0) {
		if (c)
			shadow_catalog_remove_copy(&ctx->cat, c);
		if (s)
			shadow_catalog_remove_set(&ctx->cat, s);
		ctx->cat.next_id = next_id;
		ctx->cat.next_set = next_set;
		return r;
	}
	*ret = c;
	return 0;
}

int shadow_copy_import_metadata(shadow_ctx *ctx, const char *json, const char *device,
				shadow_copy **ret)
{
	struct clone_doc d = { 0 };
	shadow_copy *c = NULL;
	char why[256], what[CLONE_DOC_HOST_MAX + 96];
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, json, "import clone metadata: no document given");
	check_arg(ctx, device && *device, "import clone metadata: no device given");
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "import clone metadata: the context is not open");
	if (ctx->readonly)
		return ctx_fail(ctx, -EROFS, "import clone metadata: the context is open read-only");
	r = clone_doc_decode(json, &d, why, sizeof(why));
	if (r == -ENOMEM)
		return ctx_fail(ctx, r, "import clone metadata: read the document");
	if (r < 0)
		return ctx_fail(ctx, r, "import clone metadata: %s", why);
	snprintf(what, sizeof(what), "import the metadata of shadow %" PRIu64 " of %s", d.id, d.host);
	r = import_check_device(ctx, what, device, &d);
	if (r == 0) {
		import_note_twin(ctx, what, &d);
		r = import_add(ctx, what, &d, device, &c);
	}
	clone_doc_clear(&d);
	if (r < 0)
		return r;
	ctx_log(ctx, SHADOW_LOG_INFO, "shadow %" PRIu64 ": a detached clone of %s on %s, imported "
		"from %s (its shadow %" PRIu64 ")", c->id, c->volume, c->target, c->origin->host,
		c->origin->shadow);
	if (ret)
		*ret = c;
	return 0;
}

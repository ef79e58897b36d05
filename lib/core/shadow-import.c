// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Apply an export stream (shadow-stream(5)) to a device or an image file,
 * in two passes over the stream: the first reads all of it and checks
 * every checksum, the counts, and for an incremental stream that the
 * target holds the base data each record replaces; only then does the
 * second write.  A stream that cannot be read twice (a pipe) is first
 * spooled to an unnamed temporary file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "shadow-ctx.h"
#include "shadow-io.h"
#include "shadow-stream.h"

struct import_run {
	shadow_ctx *ctx;
	int in;
	const char *target;
	shadow_progress_fn progress;
	void *userdata;
	uint64_t done, total;		/* stream bytes, both passes */
	uint8_t *buf, *old;
	bool writing;			/* pass 2: a stop waits for its end */
};

static ssize_t read_some(void *userdata, void *buf, size_t len)
{
	struct import_run *im = userdata;
	ssize_t n;

	do
		n = read(im->in, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return negative_errno();
	im->done += (uint64_t)n;
	if (im->progress && n > 0) {
		int r = im->progress(im->userdata, im->done, im->total);

		if (r < 0 && !im->writing)
			return r;
	}
	return n;
}

/* A copy of a pipe in an unnamed temporary file, at its start. */
static int spool(shadow_ctx *ctx, int in, int *ret_fd)
{
	const char *dir = getenv("TMPDIR");
	_cleanup_close_ int fd = -EBADF;
	static uint8_t buf[65536];
	int r;

	if (!dir || !*dir)
		dir = "/var/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		/* No O_TMPFILE there (overlayfs before 6.6): a named file, unlinked at once. */
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "%s/shadowctl-import.XXXXXX", dir) < 0)
			return -ENOMEM;
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			(void)unlink(path);
	}
	if (fd < 0)
		return ctx_fail(ctx, negative_errno(), "import: make a temporary file in %s "
				"to hold the stream", dir);
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		/* A pipe may block for ever: a signal (EINTR) stops here too. */
		if (n < 0)
			return ctx_fail(ctx, negative_errno(), "import: read the stream");
		if (n == 0)
			break;
		r = write_all(fd, buf, (size_t)n);
		if (r < 0)
			return ctx_fail(ctx, r, "import: spool the stream to a "
					"temporary file (set TMPDIR to a larger place)");
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return ctx_fail(ctx, negative_errno(), "import: rewind the spooled stream");
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int refused(struct import_run *im, int r, const struct shadow_stream_reader *rd)
{
	return ctx_fail(im->ctx, r, "import %s: %s", im->target, rd->why);
}

/* The target's size in bytes; -ENOENT when it does not exist. */
static int target_size(int fd, uint64_t *ret, bool *ret_regular)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	*ret_regular = S_ISREG(st.st_mode);
	if (S_ISREG(st.st_mode)) {
		*ret = (uint64_t)st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	return ioctl(fd, BLKGETSIZE64, ret) < 0 ? negative_errno() : 0;
}

/*
 * Pass 1: read every byte, nothing written.  The target (@tfd, -1 when it
 * does not exist yet) must be able to take the stream and, for an
 * incremental one, hold its base.
 */
static int verify(struct import_run *im, int tfd, struct shadow_stream_header *ret)
{
	struct shadow_stream_reader rd;
	struct shadow_stream_record rec;
	uint64_t size = 0;
	bool regular = true, incremental;
	int r;

	shadow_stream_reader_init(&rd, read_some, im);
	r = shadow_stream_read_header(&rd);
	if (r < 0)
		return refused(im, r, &rd);
	incremental = rd.header.flags & SHADOW_STREAM_INCREMENTAL;
	if (tfd >= 0) {
		r = target_size(tfd, &size, &regular);
		if (r < 0)
			return ctx_fail(im->ctx, r, "import %s: its size", im->target);
	}
	if (incremental && tfd < 0)
		return ctx_fail(im->ctx, -ENOENT, "import %s: it does not exist, and an incremental "
				"stream applies to a copy of shadow %" PRIu64, im->target,
				rd.header.base_id);
	if ((incremental || !regular) && size < rd.header.volume_bytes)
		return ctx_fail(im->ctx, -ENOSPC, "import %s: it holds %" PRIu64 " bytes, the stream's "
				"volume %" PRIu64, im->target, size, rd.header.volume_bytes);
	while ((r = shadow_stream_read_record(&rd, &rec, im->buf)) > 0) {
		if (!incremental)
			continue;
		r = pread_all(tfd, im->old, rec.length, rec.offset);
		if (r < 0)
			return ctx_fail(im->ctx, r, "import %s: read it at byte %" PRIu64,
					im->target, rec.offset);
		if (shadow_crc32c(~0U, im->old, rec.length) != rec.base_crc)
			return ctx_fail(im->ctx, -ESTALE, "import %s: it is not the stream's base: "
					"bytes %" PRIu64 "+%" PRIu32 " differ from shadow %" PRIu64
					"'s (the stream holds the changes from shadow %" PRIu64
					" to %" PRIu64 ")", im->target, rec.offset, rec.length,
					rd.header.base_id, rd.header.base_id, rd.header.target_id);
	}
	if (r < 0)
		return refused(im, r, &rd);
	*ret = rd.header;
	return 0;
}

/* Pass 2: the stream again, written to the target. */
static int apply(struct import_run *im, int tfd)
{
	struct shadow_stream_reader rd;
	struct shadow_stream_record rec;
	int r;

	shadow_stream_reader_init(&rd, read_some, im);
	r = shadow_stream_read_header(&rd);
	while (r >= 0 && (r = shadow_stream_read_record(&rd, &rec, im->buf)) > 0) {
		r = pwrite_all(tfd, im->buf, rec.length, rec.offset);
		if (r < 0)
			return ctx_fail(im->ctx, r, "import %s: write at byte %" PRIu64,
					im->target, rec.offset);
	}
	/* The stream changed between the passes: say so, the target is half written. */
	if (r < 0)
		return ctx_fail(im->ctx, r, "import %s: the stream changed after it was verified, "
				"the target is partly written: %s", im->target, rd.why);
	if (fsync(tfd) < 0)
		return ctx_fail(im->ctx, negative_errno(), "import %s: flush it", im->target);
	return 0;
}

static int import_run(struct import_run *im, uint64_t *ret_target_id, uint64_t *ret_bytes)
{
	_cleanup_close_ int tfd = -EBADF;
	struct shadow_stream_header h = { 0 };
	struct stat st;
	off_t start;
	bool regular;
	int excl, r;

	start = lseek(im->in, 0, SEEK_CUR);
	if (start < 0 || fstat(im->in, &st) < 0)
		return ctx_fail(im->ctx, negative_errno(), "import: the stream");
	im->total = 2 * (uint64_t)(st.st_size - start);
	/* A block device is opened exclusively: refused while mounted or held. */
	excl = stat(im->target, &st) == 0 && S_ISBLK(st.st_mode) ? O_EXCL : 0;
	tfd = open(im->target, O_RDONLY | O_CLOEXEC | excl);
	if (tfd < 0 && errno == EBUSY)
		return ctx_fail(im->ctx, -EBUSY, "import: %s is in use (mounted, or held by "
				"another device)", im->target);
	if (tfd < 0 && errno != ENOENT)
		return ctx_fail(im->ctx, negative_errno(), "import: open %s", im->target);
	r = verify(im, tfd, &h);
	if (r < 0)
		return r;
	if (lseek(im->in, start, SEEK_SET) < 0)
		return ctx_fail(im->ctx, negative_errno(), "import: rewind the stream");
	closep(&tfd);
	/* A full stream makes an image file exactly the volume's size. */
	tfd = open(im->target, O_WRONLY | O_CLOEXEC | excl |
		   ((h.flags & SHADOW_STREAM_INCREMENTAL) || excl ? 0 : O_CREAT), 0600);
	if (tfd < 0)
		return ctx_fail(im->ctx, negative_errno(), "import: open %s to write", im->target);
	r = target_size(tfd, &(uint64_t){ 0 }, &regular);
	if (r == 0 && regular && !(h.flags & SHADOW_STREAM_INCREMENTAL) &&
	    ftruncate(tfd, (off_t)h.volume_bytes) < 0)
		r = negative_errno();
	if (r < 0)
		return ctx_fail(im->ctx, r, "import %s: size it to %" PRIu64 " bytes",
				im->target, h.volume_bytes);
	im->writing = true;
	r = apply(im, tfd);
	if (r < 0)
		return r;
	if (ret_target_id)
		*ret_target_id = h.target_id;
	if (ret_bytes)
		*ret_bytes = h.volume_bytes;
	return 0;
}

int shadow_stream_import(shadow_ctx *ctx, int fd, const char *target,
			 shadow_progress_fn progress, void *userdata,
			 uint64_t *ret_target_id, uint64_t *ret_volume_bytes)
{
	struct import_run im = { .ctx = ctx, .in = fd, .target = target,
				 .progress = progress, .userdata = userdata };
	_cleanup_close_ int spooled = -EBADF;
	int r;

	check_ctx(ctx);
	check_arg(ctx, fd >= 0, "import: no stream");
	check_arg(ctx, target && *target, "import: no target");
	if (lseek(fd, 0, SEEK_CUR) < 0) {
		if (errno != ESPIPE)
			return ctx_fail(ctx, negative_errno(), "import: the stream");
		r = spool(ctx, fd, &spooled);
		if (r < 0)
			return r;
		im.in = spooled;
	}
	im.buf = malloc(SHADOW_STREAM_MAX_RECORD);
	im.old = malloc(SHADOW_STREAM_MAX_RECORD);
	r = im.buf && im.old ? import_run(&im, ret_target_id, ret_volume_bytes) : -ENOMEM;
	free(im.buf);
	free(im.old);
	return r;
}

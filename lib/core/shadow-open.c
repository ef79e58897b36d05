/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The context's life: create, open (state directory, lock, catalog load,
 * then the repair), close and free.  Above shadow-repair.c and
 * shadow-writers.c, which it calls and which use the context's helpers
 * (shadow-ctx.c) but never this file.
 */
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "shadow-ctx.h"
#include "shadow-repair.h"
#include "shadow-writers.h"

int shadow_ctx_new(const char *state_dir, shadow_ctx **ret)
{
	shadow_ctx *ctx;
	const char *dir = state_dir;

	if (!dir || !*dir)
		dir = getenv("SHADOW_STATE_DIR");
	if (!dir || !*dir)
		dir = SHADOW_DEFAULT_STATE_DIR;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->state_dir = strdup(dir);
	if (!ctx->state_dir) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->lock_fd = -EBADF;
	ctx->cat = (struct shadow_catalog) { .next_id = 1, .next_set = 1 };
	*ret = ctx;
	return 0;
}

shadow_ctx *shadow_ctx_free(shadow_ctx *ctx)
{
	if (!ctx)
		return NULL;
	shadow_catalog_clear(&ctx->cat);
	ctx_writers_clear(ctx);
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);	/* drops the flock */
	free(ctx->state_dir);
	free(ctx);
	return NULL;
}

void shadow_ctx_set_log(shadow_ctx *ctx, shadow_log_fn fn, void *userdata)
{
	ctx->log = fn;
	ctx->log_userdata = userdata;
}

static int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return negative_errno();
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}

int shadow_ctx_open(shadow_ctx *ctx, unsigned int flags)
{
	_cleanup_free_ char *lock = NULL;
	_cleanup_close_ int fd = -EBADF;
	char why[256];
	int r;

	if (ctx->opened)
		return ctx_fail(ctx, -EALREADY, "open the context twice");
	ctx->readonly = flags & SHADOW_OPEN_READONLY;
	r = mkdir_p(ctx->state_dir, 0755);
	if (r < 0)
		return ctx_fail(ctx, r, "create the state directory %s", ctx->state_dir);
	if (asprintf(&lock, "%s/lock", ctx->state_dir) < 0)
		return -ENOMEM;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return ctx_fail(ctx, negative_errno(), "open the lock file %s", lock);
	while (flock(fd, LOCK_EX | ((flags & SHADOW_OPEN_WAIT) ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return ctx_fail(ctx, -EWOULDBLOCK,
				    "take the lock: another shadowctl is running (%s)", lock);
		return ctx_fail(ctx, negative_errno(), "lock %s", lock);
	}
	r = shadow_catalog_load(ctx->state_dir, &ctx->cat, why, sizeof(why));
	if (r == -EBADMSG)
		return ctx_fail(ctx, r, "read the catalog %s/catalog.json: %s",
			    ctx->state_dir, why);
	if (r < 0)
		return ctx_fail(ctx, r, "read the catalog %s/catalog.json", ctx->state_dir);
	ctx->lock_fd = TAKE_FD(fd);
	ctx->opened = true;
	shadow_dm_init(dm_log_bridge, ctx);
	return ctx_repair(ctx);
}

void shadow_ctx_close(shadow_ctx *ctx)
{
	if (!ctx->opened)
		return;
	shadow_catalog_clear(&ctx->cat);
	ctx->cat = (struct shadow_catalog) { .next_id = 1, .next_set = 1 };
	close(ctx->lock_fd);	/* drops the flock */
	ctx->lock_fd = -EBADF;
	ctx->opened = false;
}

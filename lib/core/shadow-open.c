/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The context's life: create, open (the locks of shadow-lock.c, catalog load,
 * then the repair), close and free.  Above shadow-repair.c and
 * shadow-writers.c, which it calls and which use the context's helpers
 * (shadow-ctx.c) but never this file.
 */
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "shadow-ctx.h"
#include "shadow-lock.h"
#include "shadow-repair.h"
#include "shadow-writers.h"

int shadow_ctx_new(const char *state_dir, shadow_ctx **ret)
{
	shadow_ctx *ctx;
	const char *dir = state_dir;

	if (!ret)
		return -EINVAL;
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
	shadow_dm_log_hold();
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
	free(ctx->error);
	shadow_dm_log_forget(ctx);
	shadow_dm_log_release();
	free(ctx);
	return NULL;
}

void shadow_ctx_set_log(shadow_ctx *ctx, shadow_log_fn fn, void *userdata)
{
	if (!ctx)
		return;
	ctx->log = fn;
	ctx->log_userdata = userdata;
}

int shadow_ctx_open(shadow_ctx *ctx, unsigned int flags)
{
	char why[256];
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, !(flags & ~(unsigned int)(SHADOW_OPEN_WAIT | SHADOW_OPEN_READONLY)),
		  "open the context: unknown flags 0x%x", flags);
	if (ctx->opened)
		return ctx_fail(ctx, -EALREADY, "open the context twice");
	ctx->readonly = flags & SHADOW_OPEN_READONLY;
	/* shadow-lock.c: a reader creates nothing and waits for no command. */
	if (ctx->readonly)
		r = lock_reader(ctx->state_dir, &ctx->lock_fd, why, sizeof(why));
	else
		r = lock_command(ctx->state_dir, flags & SHADOW_OPEN_WAIT, &ctx->lock_fd,
				 why, sizeof(why));
	if (r < 0)
		return ctx_fail(ctx, r, "%s", why);
	r = lock_catalog(ctx->lock_fd, false);
	if (r < 0)
		snprintf(why, sizeof(why), "lock it: %s", strerror(-r));
	else
		r = shadow_catalog_load(ctx->state_dir, &ctx->cat, why, sizeof(why));
	unlock_catalog(ctx->lock_fd);
	if (r < 0) {
		if (ctx->lock_fd >= 0)
			close(ctx->lock_fd);
		ctx->lock_fd = -EBADF;
	}
	if (r == -EBADMSG)
		return ctx_fail(ctx, r, "read the catalog %s/catalog.json: %s",
			    ctx->state_dir, why);
	if (r < 0)
		return ctx_fail(ctx, r, "read the catalog %s/catalog.json", ctx->state_dir);
	ctx->opened = true;
	return ctx_repair(ctx);
}

void shadow_ctx_close(shadow_ctx *ctx)
{
	if (!ctx || !ctx->opened)
		return;
	shadow_catalog_clear(&ctx->cat);
	ctx->cat = (struct shadow_catalog) { .next_id = 1, .next_set = 1 };
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);	/* drops the flock */
	ctx->lock_fd = -EBADF;
	ctx->opened = false;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The context: logging, the error message every public function leaves
 * behind, the catalog save and the helpers the verbs share.  Opening and
 * freeing it (state directory, lock, catalog load, repair) is
 * shadow-open.c, above the verbs it calls.
 */
#include <stdarg.h>
#include <string.h>

#include "shadow-ctx.h"
#include "shadow-lock.h"

_printf_(3, 4)
void ctx_log(shadow_ctx *ctx, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!ctx->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ctx->log(ctx->log_userdata, level, buf);
}

/* Record what failed; returns @r so callers can "return ctx_fail(ctx, r, ...)". */
_printf_(3, 4)
int ctx_fail(shadow_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	return r;
}

const char *shadow_ctx_error(const shadow_ctx *ctx)
{
	return ctx->error;
}

const char *shadow_ctx_state_dir(const shadow_ctx *ctx)
{
	return ctx->state_dir;
}

const char *shadow_version(void)
{
	return PACKAGE_VERSION;
}

void dm_log_bridge(void *userdata, int level, const char *msg)
{
	shadow_ctx *ctx = userdata;

	if (ctx->log)
		ctx->log(ctx->log_userdata, level, msg);
}

int ctx_save(shadow_ctx *ctx)
{
	int r;

	if (ctx->readonly)
		return ctx_fail(ctx, -EROFS, "change the catalog: the context is open read-only");
	r = catalog_save_locked(ctx->lock_fd, ctx->state_dir, &ctx->cat);
	if (r < 0)
		return ctx_fail(ctx, r, "write the catalog in %s", ctx->state_dir);
	return 0;
}

size_t set_count(const struct shadow_catalog *c, uint64_t set)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_copies; i++)
		if (c->copies[i]->set == set)
			n++;
	return n;
}

/* Drop sets that no longer have any copy. */
int drop_empty_sets(struct shadow_catalog *c)
{
	int n = 0;

	for (size_t i = c->n_sets; i-- > 0;)
		if (set_count(c, c->sets[i]->id) == 0) {
			shadow_catalog_remove_set(c, c->sets[i]);
			n++;
		}
	return n;
}

int replace_str(char **p, const char *s)
{
	char *n = NULL;

	if (s && !(n = strdup(s)))
		return -ENOMEM;
	free(*p);
	*p = n;
	return 0;
}

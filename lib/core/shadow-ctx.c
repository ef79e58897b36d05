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
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int n;

	if (!ctx->log)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	ctx->log(ctx->log_userdata, level, n < 0 ? "(out of memory formatting a message)" : msg);
}

/*
 * Record what failed, whole (a writer's message alone may be 1 KiB);
 * returns @r so callers can "return ctx_fail(ctx, r, ...)".
 */
_printf_(3, 0)
int ctx_vfail(shadow_ctx *ctx, int r, const char *fmt, va_list ap)
{
	char *msg = NULL;

	ctx_error_clear(ctx);
	if (vasprintf(&msg, fmt, ap) < 0)
		ctx->error_lost = true;
	else
		ctx->error = msg;
	return r;
}

_printf_(3, 4)
int ctx_fail(shadow_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctx_vfail(ctx, r, fmt, ap);
	va_end(ap);
	return r;
}

void ctx_error_clear(shadow_ctx *ctx)
{
	free(ctx->error);
	ctx->error = NULL;
	ctx->error_lost = false;
}

char *ctx_error_take(shadow_ctx *ctx)
{
	char *e = ctx->error;

	ctx->error = NULL;
	return e;
}

void ctx_error_put(shadow_ctx *ctx, char *saved)
{
	free(ctx->error);
	ctx->error = saved;
	ctx->error_lost = false;
}

const char *shadow_ctx_error(const shadow_ctx *ctx)
{
	if (!ctx)
		return "";
	if (ctx->error_lost)
		return "(out of memory recording what failed)";
	return ctx->error ? ctx->error : "";
}

const char *shadow_ctx_state_dir(const shadow_ctx *ctx)
{
	return ctx ? ctx->state_dir : NULL;
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

const char *shadow_log_level_to_string(int level)
{
	switch (level) {
	case SHADOW_LOG_ERR:
		return "err";
	case SHADOW_LOG_WARNING:
		return "warning";
	case SHADOW_LOG_NOTICE:
		return "notice";
	case SHADOW_LOG_INFO:
		return "info";
	case SHADOW_LOG_DEBUG:
		return "debug";
	default:
		return NULL;
	}
}

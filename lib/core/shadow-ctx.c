/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The context: state directory, lock, catalog load and save, logging and
 * the error message every public function leaves behind.
 */
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "shadow-ctx.h"
#include "shadow-writers.h"

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

/* ------------------------------------------------------------------------
 * Context
 */

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

int ctx_save(shadow_ctx *ctx)
{
	int r;

	if (ctx->readonly)
		return 0;
	r = shadow_catalog_save(ctx->state_dir, &ctx->cat);
	if (r < 0)
		return ctx_fail(ctx, r, "write the catalog in %s", ctx->state_dir);
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

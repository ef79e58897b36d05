/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The context (shadow-ctx.c): its state, its log and the error message
 * every public function leaves behind, and the catalog helpers every
 * verb uses.  Opening and freeing it is shadow-open.c.  Not installed.
 */
#ifndef SHADOW_CTX_H
#define SHADOW_CTX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libshadow.h"
#include "macro.h"
#include "shadow-catalog.h"
#include "shadow-dm.h"
#include "shadow-provider.h"

struct shadow_ctx {
	char *state_dir;
	shadow_log_fn log;
	void *log_userdata;
	char *error;		/* what the last failure was doing; NULL: nothing */
	bool error_lost;	/* out of memory while recording it */
	int lock_fd;
	bool opened;
	bool readonly;
	struct shadow_catalog cat;
	/* writers (shadow-writers.c): NULL means the configured default */
	char *writers_dir;
	char *writer_conf;
	struct shadow_writer **writer_list;	/* shadow_ctx_writers() */
	size_t n_writer_list;
	struct shadow_provider_probe probes[SHADOW_N_PROVIDERS];
};

/*
 * The argument checks of every public entry point (libshadow(3)): a NULL
 * context is -EINVAL alone; any other bad argument is -EINVAL with the
 * context's error saying which.
 */
#define check_ctx(ctx) do { if (!(ctx)) return -EINVAL; } while (0)
#define check_arg(ctx, expr, ...) \
	do { if (!(expr)) return ctx_fail((ctx), -EINVAL, __VA_ARGS__); } while (0)

_printf_(3, 4) void ctx_log(shadow_ctx *ctx, int level, const char *fmt, ...);
/* Record what failed; returns @r so callers can "return ctx_fail(ctx, r, ...)". */
_printf_(3, 4) int ctx_fail(shadow_ctx *ctx, int r, const char *fmt, ...);
_printf_(3, 0) int ctx_vfail(shadow_ctx *ctx, int r, const char *fmt, va_list ap);
/* Undo steps may fail too: keep the first error across them. */
char *ctx_error_take(shadow_ctx *ctx);
void ctx_error_put(shadow_ctx *ctx, char *saved);
void ctx_error_clear(shadow_ctx *ctx);
void dm_log_bridge(void *userdata, int level, const char *msg);
/*
 * At the top of each public entry point that may run libdevmapper: this
 * thread's libdevmapper messages go to @ctx's log until it returns.
 */
#define CTX_DM_LOG(ctx) \
	_cleanup_(shadow_dm_log_leave) _unused_ struct shadow_dm_log_scope dm_log_scope_ = \
		shadow_dm_log_enter(dm_log_bridge, (ctx))
int ctx_save(shadow_ctx *ctx);
size_t set_count(const struct shadow_catalog *c, uint64_t set);
int drop_empty_sets(struct shadow_catalog *c);
int replace_str(char **p, const char *s);

#endif

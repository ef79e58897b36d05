/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files behind libshadow.h share: the context and the small
 * helpers every verb uses.  Not installed.
 */
#ifndef SHADOW_CTX_H
#define SHADOW_CTX_H

#include <blkid.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libshadow.h"
#include "macro.h"
#include "shadow-catalog.h"
#include "shadow-dm.h"
#include "shadow-provider.h"
#include "shadow-status.h"

#define SHADOW_UUID_PREFIX "SHADOW-"
#define DEV_MAPPER "/dev/mapper/"

struct shadow_ctx {
	char *state_dir;
	shadow_log_fn log;
	void *log_userdata;
	char error[512];
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

static inline void table_clearp(struct shadow_dm_table *t)
{
	shadow_dm_table_clear(t);
}
#define _cleanup_table_ _cleanup_(table_clearp)

DEFINE_TRIVIAL_CLEANUP_FUNC(blkid_probe, blkid_free_probe);

/* shadow-ctx.c */
_printf_(3, 4) void ctx_log(shadow_ctx *ctx, int level, const char *fmt, ...);
/* Record what failed; returns @r so callers can "return ctx_fail(ctx, r, ...)". */
_printf_(3, 4) int ctx_fail(shadow_ctx *ctx, int r, const char *fmt, ...);
void dm_log_bridge(void *userdata, int level, const char *msg);
int ctx_save(shadow_ctx *ctx);
size_t set_count(const struct shadow_catalog *c, uint64_t set);
int drop_empty_sets(struct shadow_catalog *c);
int replace_str(char **p, const char *s);

/* shadow-kernel.c */
const char *dm_name_of_path(const char *path);
int64_t now_realtime(void);
uint64_t now_us(void);
int block_device(const char *path, dev_t *ret_rdev, uint64_t *ret_sectors);
bool valid_dm_name(const char *name);
bool volume_loaded(const struct shadow_volume *v);

/*
 * shadow-provider-dmshadow.c: questions to the dm-shadow targets.  The
 * verbs go through the volume's provider (shadow-provider.h) instead.
 */
int origin_status(const char *name, struct shadow_origin_status *ret,
		  uint64_t *ret_sectors);
int kernel_list(const char *name, struct shadow_list_entry **ret,
		unsigned int *ret_n);
int snap_message(const char *name, const char *verb, uint64_t id);

/* shadow-repair.c */
int ctx_repair(shadow_ctx *ctx);

/* shadow-copy.c, shadow-expose.c: with the catalog already locked */
int copy_delete_locked(shadow_ctx *ctx, struct shadow_copy *c, bool force);
int copy_unexpose(shadow_ctx *ctx, struct shadow_copy *c);
int copy_expose_device(shadow_ctx *ctx, const struct shadow_volume *v,
		       const struct shadow_copy *c, const char *name, bool rw);

/* shadow-volume.c: the steps enable and disable share with (de)activate */
int wrap_device(shadow_ctx *ctx, const struct shadow_provider_ops *p, const char *verb,
		const char *name, const char *device, uint64_t sectors, dev_t rdev,
		dev_t store, const char *method, uint32_t chunk_sectors);
int takeover(shadow_ctx *ctx, const struct shadow_provider_ops *p,
	     const char *name, const char *real, uint64_t sectors,
	     dev_t store, const char *method, uint32_t chunk_sectors);
int giveback(shadow_ctx *ctx, const char *verb, const struct shadow_volume *v);

#endif

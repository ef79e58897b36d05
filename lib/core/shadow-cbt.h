/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Changed-block tracking for the library (shadow-cbt.c): the checks every
 * diff and export makes of the copies named, and the diff itself, run on
 * the store's metadata snapshot (reserve_metadata_snap) held for the
 * length of one call.  Not installed.
 */
#ifndef SHADOW_CBT_H
#define SHADOW_CBT_H

#include <stdint.h>

#include "libshadow.h"
#include "shadow-catalog.h"

/*
 * Copy @id, valid, of an active dm-shadow volume (diff and export need
 * the store's metadata).  -ENOENT, -ESTALE (invalid), -ENODEV (volume
 * not active), -EOPNOTSUPP (another provider), with the context's error
 * saying "@verb shadow @id: ...".
 */
int cbt_copy(shadow_ctx *ctx, const char *verb, uint64_t id,
	     struct shadow_copy **ret_c, struct shadow_volume **ret_v);

/*
 * Diff copies @a and @b of volume @v (@b NULL: @a and the live volume)
 * through a metadata snapshot reserved here and released before return,
 * whatever happens.  @fn gets byte ranges, in ascending order, clamped to
 * the volume's end; @ret_uuid (may be NULL) the store's uuid.
 */
int cbt_diff(shadow_ctx *ctx, const char *verb, const struct shadow_volume *v,
	     const struct shadow_copy *a, const struct shadow_copy *b,
	     shadow_range_fn fn, void *userdata, uint64_t *ret_changed_bytes,
	     uint8_t ret_uuid[16]);

/* The store's uuid, chunk size and volume size from its superblock. */
int cbt_store_identity(shadow_ctx *ctx, const char *verb, const struct shadow_volume *v,
		       uint8_t ret_uuid[16], uint32_t *ret_chunk_bytes,
		       uint64_t *ret_volume_bytes);

#endif

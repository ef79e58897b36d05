/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl resize <volume> --max-size <size>|<percent>%|max: how much of
 * its store device a volume's shadow copies may use, in the spirit of
 * vssadmin's "resize shadowstorage /maxsize".
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#include "ctl-storage.h"

static void print_resized(shadow_ctx *ctx, const shadow_volume *v, bool json)
{
	uint64_t used = 0, limit = 0, capacity = 0, chunk = shadow_volume_chunk_bytes(v);

	/* Read back what the kernel now says, not what was asked. */
	if (shadow_volume_storage(ctx, v, &used, &limit, NULL, NULL, NULL, NULL) < 0 ||
	    shadow_volume_storage_capacity(ctx, v, &capacity) < 0)
		capacity = limit;
	if (json) {
		json_object *o = json_object_new_object(), *s = json_object_new_object();

		json_object_object_add(s, "volume", json_object_new_string(shadow_volume_name(v)));
		json_object_object_add(s, "chunk_size", json_object_new_uint64(chunk));
		json_object_object_add(s, "used_chunks", json_object_new_uint64(used));
		json_object_object_add(s, "total_chunks", json_object_new_uint64(limit));
		json_object_object_add(s, "capacity_chunks", json_object_new_uint64(capacity));
		json_object_object_add(s, "used_bytes", json_object_new_uint64(used * chunk));
		json_object_object_add(s, "total_bytes", json_object_new_uint64(limit * chunk));
		json_object_object_add(s, "capacity_bytes", json_object_new_uint64(capacity * chunk));
		json_object_object_add(o, "resized", s);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return;
	}
	printf("store of volume %s resized: max size %" PRIu64 "K of %" PRIu64 "K (%" PRIu64
	       " of %" PRIu64 " chunks), %" PRIu64 "K in use\n", shadow_volume_name(v),
	       limit * chunk >> 10, capacity * chunk >> 10, limit, capacity, used * chunk >> 10);
}

int ctl_resize(shadow_ctx *ctx, const struct ctl_args *a)
{
	const struct ctl_max_size *m = &a->max_size;
	shadow_volume *v;
	int r;

	r = shadow_volume_resize(ctx, a->args[0], m->max ? SHADOW_SIZE_MAX : m->bytes, m->percent);
	if (r < 0)
		return r;
	v = shadow_ctx_find_volume(ctx, a->args[0]);
	if (v)
		print_resized(ctx, v, a->json);
	return 0;
}

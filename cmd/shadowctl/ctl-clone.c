/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl detach <shadow-id>: a complete clone becomes a plain device,
 * its target, that needs no dm-shadow (libshadow's shadow_copy_detach());
 * throttle <volume> <MiB/s>: how fast a clone volume hydrates (or a row
 * volume folds back).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl-clone.h"
#include "ctl-columns.h"
#include "ctl-list.h"

int ctl_detach(shadow_ctx *ctx, const struct ctl_args *a, json_object *o)
{
	char created[CTL_TIME_LEN];
	shadow_copy *c;
	int r;

	r = shadow_copy_detach(ctx, a->id, 0);
	if (r < 0)
		return r;
	c = shadow_ctx_find_copy(ctx, a->id);
	if (a->json) {
		json_object_object_add(o, "shadow", ctl_copy_json(ctx, c));
		ctl_print_json(o, stdout);
		return 0;
	}
	ctl_iso_time(shadow_copy_created(c), created);
	printf("shadow %" PRIu64 " detached: %s holds volume %s as it was at %s, "
	       "and needs no dm-shadow\n", a->id, shadow_copy_target(c), shadow_copy_volume(c),
	       created);
	return 0;
}

int ctl_throttle(shadow_ctx *ctx, const struct ctl_args *a, json_object *o)
{
	const char *volume = a->args[0], *method;
	json_object *t;
	char rate[32];
	int r;

	r = shadow_volume_throttle(ctx, volume, a->rate);
	if (r < 0)
		return r;
	method = shadow_volume_method(shadow_ctx_find_volume(ctx, volume));
	if (a->json) {
		t = json_object_new_object();
		json_object_object_add(t, "volume", json_object_new_string(volume));
		json_object_object_add(t, "method", json_object_new_string(method));
		json_object_object_add(t, "rate", json_object_new_int64(a->rate));
		json_object_object_add(o, "throttle", t);
		ctl_print_json(o, stdout);
		return 0;
	}
	if (a->rate)
		snprintf(rate, sizeof(rate), "at %" PRIu32 " MiB/s", a->rate);
	else
		snprintf(rate, sizeof(rate), "with no limit");
	if (strcmp(method, "clone") == 0)
		printf("volume %s: its clones hydrate %s\n", volume, rate);
	else
		printf("volume %s: fold-back runs %s until its last table goes\n", volume, rate);
	return 0;
}

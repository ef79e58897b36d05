/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl-activate.h"
#include "ctl-columns.h"
#include "ctl-list.h"

static uint64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* The volumes named, or with --all every volume of the catalog (copied). */
static char **volume_names(shadow_ctx *ctx, const struct ctl_args *a, size_t *ret_n)
{
	shadow_volume *const *v;
	size_t n = (a->opts & OPT_ALL) ? shadow_ctx_volumes(ctx, &v) : (size_t)a->nargs;
	char **names = calloc(n + 1, sizeof(*names));

	if (!names)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		names[i] = strdup((a->opts & OPT_ALL) ? shadow_volume_name(v[i]) : a->args[i]);
		if (!names[i]) {
			for (size_t j = 0; j < i; j++)
				free(names[j]);
			free(names);
			return NULL;
		}
	}
	*ret_n = n;
	return names;
}

static void print_activated(shadow_ctx *ctx, const char *name)
{
	shadow_volume *v = shadow_ctx_find_volume(ctx, name);
	shadow_copy *const *c;
	size_t n = shadow_ctx_copies(ctx, &c);

	printf("volume %s activated: /dev/mapper/%s%s\n", name, shadow_volume_dm_name(v),
	       shadow_volume_real_name(v) ? " (taken over in place)" : "");
	/*
	 * Those activation exposed again: a detached clone's device (one
	 * imported from another host's volume of this name too) is over its
	 * target, no part of the volume.
	 */
	for (size_t i = 0; i < n; i++)
		if (strcmp(shadow_copy_volume(c[i]), name) == 0 && shadow_copy_device(c[i]) &&
		    shadow_copy_state(c[i]) != SHADOW_COPY_DETACHED)
			printf("  shadow %" PRIu64 " exposed again as %s\n", shadow_copy_id(c[i]),
			       shadow_copy_device(c[i]));
}

int ctl_activate(shadow_ctx *ctx, const struct ctl_args *a, json_object *o)
{
	bool activate = a->verb == VERB_ACTIVATE;
	json_object *done = json_object_new_array(), *already = json_object_new_array();
	uint64_t deadline = monotonic_us() + a->device_timeout_us;
	char *pending = NULL;	/* the last failure, whole (a writer's may be long) */
	char **names;
	size_t n = 0;
	int failed = 0, r;

	json_object_object_add(o, activate ? "activated" : "deactivated", done);
	json_object_object_add(o, activate ? "already_active" : "already_inactive", already);
	names = volume_names(ctx, a, &n);
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (activate) {
			uint64_t now = monotonic_us();

			/* One bound for the whole run, not one per volume. */
			r = shadow_volume_activate(ctx, names[i], deadline > now ? deadline - now : 0);
		} else {
			r = shadow_volume_deactivate(ctx, names[i],
						     (a->opts & OPT_FORCE) ? SHADOW_FORCE : 0);
		}
		if (r < 0) {
			if (failed)
				fprintf(stderr, "shadowctl: Failed to %s\n", pending);
			free(pending);
			if (asprintf(&pending, "%s: %s", shadow_ctx_error(ctx), strerror(-r)) < 0)
				pending = NULL;
			failed = r;
			continue;
		}
		json_object_array_add(r == 0 ? done : already, json_object_new_string(names[i]));
		if (a->json)
			continue;
		if (r > 0)
			printf("volume %s is already %s\n", names[i], activate ? "active" : "inactive");
		else if (activate)
			print_activated(ctx, names[i]);
		else
			printf("volume %s deactivated\n", names[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(pending);
	return failed;
}

static void enable_opts_freep(shadow_enable_opts **o)
{
	shadow_enable_opts_free(*o);
}

int ctl_enable(shadow_ctx *ctx, const struct ctl_args *a, json_object *o)
{
	__attribute__((cleanup(enable_opts_freep))) shadow_enable_opts *opts = NULL;
	shadow_volume *v;
	int r;

	r = shadow_enable_opts_new(&opts);
	if (r == 0)
		r = shadow_enable_opts_set_method(opts, a->method);
	if (r == 0)
		r = shadow_enable_opts_set_chunk_size(opts, a->chunk_bytes);
	if (r == 0)
		r = shadow_enable_opts_set_name(opts, a->name);
	if (r == 0)
		r = shadow_enable_opts_set_provider(opts, a->provider);
	if (r == 0)
		r = shadow_enable_opts_set_hydrate_rate(opts, a->hydrate_rate);
	if (r < 0) {
		fprintf(stderr, "shadowctl: Failed to set the enable options: %s\n", strerror(-r));
		return r;
	}
	r = shadow_volume_enable_with(ctx, a->args[0], a->store, opts, &v);
	if (r < 0)
		return r;
	if (a->json) {
		json_object_object_add(o, "volume", ctl_volume_json(ctx, v));
		ctl_print_json(o, stdout);
	} else {
		printf("volume %s enabled with %s: /dev/mapper/%s%s\n", shadow_volume_name(v),
		       shadow_volume_provider(v), shadow_volume_dm_name(v),
		       shadow_volume_real_name(v) ? " (taken over in place)" : "");
	}
	return 0;
}

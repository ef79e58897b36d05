/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Choosing the writers' components for a set.  See shadow-choose.h.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shadow-choose.h"
#include "shadow-ctx.h"
#include "shadow-kernel.h"

static bool dev_listed(dev_t dev, const dev_t *devs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (devs[i] == dev)
			return true;
	return false;
}

enum coverage component_coverage(const struct path_place *places, size_t n,
				 const dev_t *set_devs, size_t n_set, bool *ret_missing)
{
	size_t on = 0, off = 0;

	for (size_t i = 0; i < n; i++) {
		bool missing = false;

		if (places[i].err == -ENOENT)
			;	/* holds nothing: neither side */
		else if (places[i].err == 0 && dev_listed(places[i].dev, set_devs, n_set))
			on++;
		else
			missing = true;
		off += missing;
		if (ret_missing)
			ret_missing[i] = missing;
	}
	if (on == 0)
		return COVERAGE_NONE;
	return off ? COVERAGE_PARTIAL : COVERAGE_FULL;
}

struct path_place path_place_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return (struct path_place) { .err = negative_errno() };
	return (struct path_place) { .dev = st.st_dev };
}

/* Name the device @dev for a message: the volume on it, or its kernel name. */
static void device_text(shadow_ctx *ctx, dev_t dev, char *buf, size_t size)
{
	char link[64], target[PATH_MAX];
	const char *base;
	ssize_t len;

	for (size_t i = 0; i < ctx->cat.n_volumes; i++) {
		const struct shadow_volume *v = ctx->cat.volumes[i];
		_cleanup_free_ char *node = NULL;
		dev_t rdev;

		if (!v->active || asprintf(&node, DEV_MAPPER "%s", v->dm_name) < 0)
			continue;
		if (block_device(node, &rdev, NULL) == 0 && rdev == dev) {
			snprintf(buf, size, "volume %s, which is not in the set", v->name);
			return;
		}
	}
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(dev), minor(dev));
	len = readlink(link, target, sizeof(target) - 1);
	if (len > 0) {
		target[len] = '\0';
		base = strrchr(target, '/');
		snprintf(buf, size, "/dev/%.64s, which is not a dm-shadow volume",
			 base ? base + 1 : target);
	} else {
		snprintf(buf, size, "device %u:%u, which is not a dm-shadow volume",
			 major(dev), minor(dev));
	}
}

/* @c's first path off the set: "<path> is on volume x, which is not in the set". */
static void missing_text(shadow_ctx *ctx, const struct shadow_proto_component *c,
			 const struct path_place *places, const bool *missing,
			 char *buf, size_t size)
{
	size_t more = 0, first = c->n_paths;
	char where[160];

	for (size_t i = 0; i < c->n_paths; i++)
		if (missing[i]) {
			if (first == c->n_paths)
				first = i;
			else
				more++;
		}
	if (first == c->n_paths) {
		snprintf(buf, size, "none of its paths is on the set's volumes");
		return;
	}
	if (places[first].err)
		snprintf(where, sizeof(where), "cannot be looked at (%s)",
			 strerror(-places[first].err));
	else {
		char dev[128];

		device_text(ctx, places[first].dev, dev, sizeof(dev));
		snprintf(where, sizeof(where), "is on %s", dev);
	}
	if (more)
		snprintf(buf, size, "%s %s (and %zu more path%s elsewhere)",
			 c->paths[first], where, more, more == 1 ? "" : "s");
	else
		snprintf(buf, size, "%s %s", c->paths[first], where);
}

static int add_name(struct json_object **a, const char *name)
{
	struct json_object *s;

	if (!*a && !(*a = json_object_new_array()))
		return -ENOMEM;
	s = json_object_new_string(name);
	if (!s || json_object_array_add(*a, s) < 0) {
		json_object_put(s);
		return -ENOMEM;
	}
	return 0;
}

int writer_choose_components(shadow_ctx *ctx, struct writer_proc *w,
			     const struct shadow_create_opts *o, const dev_t *devs,
			     size_t n, char *why, size_t why_len)
{
	const struct shadow_proto_metadata *m = &w->meta;
	const char *name = w->entry->name;

	w->components = calloc(m->n_components ? m->n_components : 1, sizeof(*w->components));
	if (!w->components)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_components; i++) {
		const struct shadow_proto_component *c = &m->components[i];
		_cleanup_free_ struct path_place *places = NULL;
		_cleanup_free_ bool *missing = NULL;
		bool named = create_opts_component_named(o, name, c->name);
		enum coverage cov;
		char text[512];

		if (create_opts_component_excluded(o, name, c->name)) {
			if (add_name(&w->excluded, c->name) < 0)
				return -ENOMEM;
			ctx_log(ctx, SHADOW_LOG_INFO, "writer %s: component %s excluded",
				name, c->name);
			continue;
		}
		if (o->n_components && !named)
			continue;
		places = calloc(c->n_paths ? c->n_paths : 1, sizeof(*places));
		missing = calloc(c->n_paths ? c->n_paths : 1, sizeof(*missing));
		if (!places || !missing)
			return -ENOMEM;
		for (size_t p = 0; p < c->n_paths; p++)
			places[p] = path_place_of(c->paths[p]);
		cov = component_coverage(places, c->n_paths, devs, n, missing);
		if (cov == COVERAGE_NONE && !named)
			continue;
		if (cov != COVERAGE_FULL) {
			missing_text(ctx, c, places, missing, text, sizeof(text));
			snprintf(why, why_len,
				 "writer %s, component %s is %s on the set's volumes: %s; add that volume to the set, or leave the component out with --exclude-component %s/%s",
				 name, c->name, cov == COVERAGE_PARTIAL ? "only partly" : "not",
				 text, name, c->name);
			return -EXDEV;
		}
		w->components[w->n_components] = strdup(c->name);
		if (!w->components[w->n_components])
			return -ENOMEM;
		w->n_components++;
	}
	return 0;
}

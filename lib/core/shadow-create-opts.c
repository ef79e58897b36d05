/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The options of a set creation.  See shadow-create-opts.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shadow-create-opts.h"
#include "shadow-writers.h"

int shadow_create_opts_new(shadow_create_opts **ret)
{
	shadow_create_opts *o;

	if (!ret)
		return -EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

shadow_create_opts *shadow_create_opts_free(shadow_create_opts *o)
{
	if (!o)
		return NULL;
	strv_free(o->writers, o->n_writers);
	strv_free(o->components, o->n_components);
	strv_free(o->excluded, o->n_excluded);
	strv_free(o->target_volumes, o->n_targets);
	strv_free(o->target_devices, o->n_targets);
	free(o);
	return NULL;
}

int shadow_create_opts_set_commit_timeout(shadow_create_opts *o, uint64_t us)
{
	if (!o)
		return -EINVAL;
	o->commit_timeout_us = us;
	return 0;
}

int shadow_create_opts_set_writer_timeout(shadow_create_opts *o, uint64_t us)
{
	if (!o)
		return -EINVAL;
	o->writer_timeout_us = us;
	return 0;
}

int shadow_create_opts_set_retries(shadow_create_opts *o, unsigned int n)
{
	if (!o)
		return -EINVAL;
	if (n > SHADOW_MAX_RETRIES)
		return -EINVAL;
	o->retries = n;
	return 0;
}

int shadow_create_opts_set_no_writers(shadow_create_opts *o, bool no_writers)
{
	if (!o)
		return -EINVAL;
	o->no_writers = no_writers;
	return 0;
}

static int strv_add(char ***v, size_t *n, const char *s)
{
	char **t;
	char *d;

	if (*n >= SHADOW_MAX_SELECTED)
		return -E2BIG;
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	t = realloc(*v, (*n + 1) * sizeof(**v));
	if (!t) {
		free(d);
		return -ENOMEM;
	}
	t[(*n)++] = d;
	*v = t;
	return 0;
}

int shadow_create_opts_add_writer(shadow_create_opts *o, const char *name)
{
	if (!o)
		return -EINVAL;
	if (!writer_name_valid(name))
		return -EINVAL;
	return strv_add(&o->writers, &o->n_writers, name);
}

/* "<writer>/<component>", with a writer name run-parts would run. */
static bool writer_component_valid(const char *writer_component)
{
	const char *slash = writer_component ? strchr(writer_component, '/') : NULL;
	size_t wlen;
	char name[256];

	if (!slash || slash == writer_component || !slash[1])
		return false;
	wlen = (size_t)(slash - writer_component);
	if (wlen >= sizeof(name))
		return false;
	memcpy(name, writer_component, wlen);
	name[wlen] = '\0';
	return writer_name_valid(name);
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

int shadow_create_opts_add_component(shadow_create_opts *o, const char *writer_component)
{
	if (!o || !writer_component_valid(writer_component))
		return -EINVAL;
	/* Kept and left out at once: say so rather than pick one. */
	if (strv_has(o->excluded, o->n_excluded, writer_component))
		return -EINVAL;
	return strv_add(&o->components, &o->n_components, writer_component);
}

int shadow_create_opts_exclude_component(shadow_create_opts *o, const char *writer_component)
{
	if (!o || !writer_component_valid(writer_component))
		return -EINVAL;
	if (strv_has(o->components, o->n_components, writer_component))
		return -EINVAL;
	if (strv_has(o->excluded, o->n_excluded, writer_component))
		return 0;
	return strv_add(&o->excluded, &o->n_excluded, writer_component);
}

/*
 * Kept as given: a volume named twice, a device given twice, a volume not
 * in the set or not a clone volume are refused by the creation, which can
 * say which (shadow_ctx_error()).
 */
int shadow_create_opts_add_target(shadow_create_opts *o, const char *volume, const char *device)
{
	size_t n;
	int r;

	if (!o || !volume || !*volume || !device || !*device)
		return -EINVAL;
	n = o->n_targets;
	r = strv_add(&o->target_volumes, &n, volume);
	if (r < 0)
		return r;
	r = strv_add(&o->target_devices, &o->n_targets, device);
	if (r < 0) {
		free(o->target_volumes[n - 1]);
		return r;
	}
	return 0;
}

/* Is "<writer>/<component>" one of @v? */
static bool strv_has_pair(char *const *v, size_t n, const char *writer, const char *component)
{
	size_t wlen = strlen(writer);

	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i], writer, wlen) == 0 && v[i][wlen] == '/' &&
		    strcmp(v[i] + wlen + 1, component) == 0)
			return true;
	return false;
}

bool create_opts_component_excluded(const struct shadow_create_opts *o,
				    const char *writer, const char *component)
{
	return strv_has_pair(o->excluded, o->n_excluded, writer, component);
}

bool create_opts_component_named(const struct shadow_create_opts *o,
				 const char *writer, const char *component)
{
	return strv_has_pair(o->components, o->n_components, writer, component);
}

bool create_opts_writer_has_components(const struct shadow_create_opts *o,
				       const char *writer)
{
	size_t wlen = strlen(writer);

	for (size_t i = 0; i < o->n_components; i++)
		if (strncmp(o->components[i], writer, wlen) == 0 &&
		    o->components[i][wlen] == '/')
			return true;
	return false;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Providers: which exist, whether each can be used, and which one a new
 * volume gets.  See shadow-provider.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "shadow-ctx.h"
#include "shadow-kernel.h"
#include "shadow-module.h"

static const struct shadow_provider_ops *const providers[SHADOW_N_PROVIDERS] = {
	&shadow_provider_dmshadow,
	&shadow_provider_dmsnap,
};

const struct shadow_provider_ops *provider_by_index(unsigned int i)
{
	return i < SHADOW_N_PROVIDERS ? providers[i] : NULL;
}

const struct shadow_provider_ops *provider_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (unsigned int i = 0; i < SHADOW_N_PROVIDERS; i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

const struct shadow_provider_ops *provider_of(const struct shadow_volume *v)
{
	const struct shadow_provider_ops *p = provider_by_name(v->provider);

	/* The catalog refuses unknown names; a volume made in memory has one too. */
	return p ? p : &shadow_provider_dmshadow;
}

/* The first of @p's targets the kernel does not have, or NULL. */
static const char *missing_target(const struct shadow_provider_ops *p, char version[32])
{
	char other[32];

	if (shadow_dm_target_version(p->origin_target, version) < 0)
		return p->origin_target;
	if (shadow_dm_target_version(p->copy_target, other) < 0)
		return p->copy_target;
	return NULL;
}

const struct shadow_provider_probe *provider_probe(shadow_ctx *ctx, unsigned int i)
{
	const struct shadow_provider_ops *p = provider_by_index(i);
	struct shadow_provider_probe *pr = &ctx->probes[i];
	const char *missing;
	char loading[200];

	if (!p)
		return NULL;
	if (pr->done)
		return pr;
	*pr = (struct shadow_provider_probe) { .done = true };
	missing = missing_target(p, pr->version);
	if (missing) {
		ctx_log(ctx, SHADOW_LOG_DEBUG, "provider %s: target %s is not registered; loading module %s",
			p->name, missing, p->module);
		if (module_load(p->module, loading, sizeof(loading)) < 0) {
			snprintf(pr->why, sizeof(pr->why), "target %s is not registered and %s",
				 missing, loading);
		} else {
			missing = missing_target(p, pr->version);
			if (missing)
				snprintf(pr->why, sizeof(pr->why),
					 "module %s is loaded but target %s is not registered",
					 p->module, missing);
		}
	}
	pr->usable = !missing;
	if (!pr->usable)
		snprintf(pr->version, sizeof(pr->version), "-");
	return pr;
}

bool provider_has_method(const struct shadow_provider_ops *p, const char *method)
{
	size_t n = strlen(method);

	for (const char *m = p->methods; *m; m += strcspn(m, ", "), m += strspn(m, ", "))
		if (strncmp(m, method, n) == 0 && (m[n] == '\0' || m[n] == ','))
			return true;
	return false;
}

int provider_check_name(shadow_ctx *ctx, const char *device, const char *name)
{
	if (!name || strcmp(name, "auto") == 0 || provider_by_name(name))
		return 0;
	return ctx_fail(ctx, -EINVAL, "enable %s: unknown provider '%s' (dm-shadow, dm-snapshot or auto)",
			device, name);
}

int provider_choose(shadow_ctx *ctx, const char *device, const char *name,
		    const struct shadow_provider_ops **ret)
{
	const struct shadow_provider_probe *pr, *first = NULL;
	int r;

	r = provider_check_name(ctx, device, name);
	if (r < 0)
		return r;
	if (name && strcmp(name, "auto") != 0) {
		unsigned int i = 0;

		while (strcmp(providers[i]->name, name) != 0)
			i++;
		pr = provider_probe(ctx, i);
		if (!pr->usable)
			return ctx_fail(ctx, -EOPNOTSUPP, "enable %s: provider %s is not usable: %s",
					device, name, pr->why);
		*ret = providers[i];
		return 0;
	}
	for (unsigned int i = 0; i < SHADOW_N_PROVIDERS; i++) {
		pr = provider_probe(ctx, i);
		if (!pr->usable) {
			if (!first)
				first = pr;
			continue;
		}
		/* Info, not notice: the answer names the provider (shadowctl -v says why). */
		if (i == 0)
			ctx_log(ctx, SHADOW_LOG_INFO,
				"enable %s: provider %s chosen (auto): its targets are registered (%s %s)",
				device, providers[i]->name, providers[i]->origin_target, pr->version);
		else
			ctx_log(ctx, SHADOW_LOG_INFO,
				"enable %s: provider %s chosen (auto), one shadow copy per store: %s is not usable: %s",
				device, providers[i]->name, providers[0]->name, first->why);
		*ret = providers[i];
		return 0;
	}
	return ctx_fail(ctx, -EOPNOTSUPP, "enable %s: no provider is usable: %s: %s; %s: %s",
			device, providers[0]->name, ctx->probes[0].why,
			providers[1]->name, ctx->probes[1].why);
}

int shadow_provider(shadow_ctx *ctx, unsigned int i, const char **ret_name,
		    const char **ret_target, bool *ret_usable,
		    const char **ret_version)
{
	const struct shadow_provider_probe *pr;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, ret_name && ret_target && ret_usable && ret_version,
		  "probe provider %u: nowhere to put what it is", i);
	if (i >= SHADOW_N_PROVIDERS)
		return 0;
	pr = provider_probe(ctx, i);
	*ret_name = providers[i]->name;
	*ret_target = providers[i]->origin_target;
	*ret_usable = pr->usable;
	*ret_version = pr->version;
	return 1;
}

const char *shadow_provider_why(shadow_ctx *ctx, unsigned int i)
{
	const struct shadow_provider_probe *pr;
	CTX_DM_LOG(ctx);

	if (!ctx || i >= SHADOW_N_PROVIDERS)
		return NULL;
	pr = provider_probe(ctx, i);
	return pr->usable ? NULL : pr->why;
}

int provider_read_store_head(shadow_ctx *ctx, const char *store, uint8_t block[512],
			     uint64_t *ret_sectors)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = block_device(store, NULL, ret_sectors);
	if (r < 0)
		return ctx_fail(ctx, r, "open the store %s", store);
	fd = open(store, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0)
		return ctx_fail(ctx, negative_errno(), "open the store %s exclusively (in use?)", store);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (pread(fd, block, 512, 0) != 512)
		return ctx_fail(ctx, -EIO, "read the store %s", store);
	return 0;
}

/* Whether @v's device is loaded with its provider's origin table. */
bool volume_loaded(const struct shadow_volume *v)
{
	_cleanup_table_ struct shadow_dm_table t = { 0 };

	if (shadow_dm_get_table(v->dm_name, false, &t) < 0)
		return false;
	return t.n == 1 && strcmp(t.targets[0].type, provider_of(v)->origin_target) == 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How fast a volume's store copies in the background: a clone volume's
 * hydration (message hydrate_rate, kept in the catalog and so in every
 * table loaded from it), a row volume's fold-back (message fold_rate,
 * which the kernel keeps with the running store, across a reload that
 * keeps the store, and loses with the volume's last table: a row table
 * has no such feature and the catalog does not keep it).  dm-shadow(7),
 * MESSAGES.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "shadow-ctx.h"
#include "shadow-origin.h"

/* The message that sets @v's rate: "hydrate_rate" or "fold_rate". */
static int rate_message(shadow_ctx *ctx, const struct shadow_volume *v, const char **ret)
{
	if (strcmp(provider_of(v)->name, "dm-shadow") == 0 && strcmp(v->method, "clone") == 0)
		*ret = "hydrate_rate";
	else if (strcmp(provider_of(v)->name, "dm-shadow") == 0 && strcmp(v->method, "row") == 0)
		*ret = "fold_rate";
	else
		return ctx_fail(ctx, -EOPNOTSUPP, "throttle %s: it uses method %s (%s), which copies "
				"nothing in the background (clone and row volumes do)", v->name,
				v->method, v->provider);
	return 0;
}

int shadow_volume_throttle(shadow_ctx *ctx, const char *volume, uint32_t mib_per_s)
{
	struct shadow_volume *v;
	const char *verb = NULL;
	char msg[48];
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, volume && *volume, "throttle: no volume given");
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "throttle %s: the context is not open", volume);
	if (ctx->readonly)
		return ctx_fail(ctx, -EROFS, "throttle %s: the context is open read-only", volume);
	v = shadow_catalog_volume(&ctx->cat, volume);
	if (!v)
		return ctx_fail(ctx, -ENOENT, "throttle %s: no such volume", volume);
	r = rate_message(ctx, v, &verb);
	if (r < 0)
		return r;
	if (!v->active)
		return ctx_fail(ctx, -ENODEV, "throttle %s: it is not active", volume);
	snprintf(msg, sizeof(msg), "%s %" PRIu32, verb, mib_per_s);
	r = shadow_dm_message(v->dm_name, msg, NULL);
	if (r < 0)
		return ctx_fail(ctx, r, "throttle %s: send '%s' (see the kernel log)", volume, msg);
	if (strcmp(verb, "fold_rate") == 0)
		return 0;
	/* The next table loaded (a create, a delete, activate) keeps it. */
	v->has_hydrate_rate = mib_per_s > 0;
	v->hydrate_rate = mib_per_s;
	return ctx_save(ctx);
}

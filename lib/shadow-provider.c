/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Providers: what makes the point-in-time image.
 */

#include "shadow-ctx.h"

int shadow_provider(shadow_ctx *ctx, unsigned int i, const char **ret_name,
		    const char **ret_target, bool *ret_usable,
		    const char **ret_version)
{
	static char version[32];

	if (i > 0)
		return 0;
	if (!ctx->opened)
		shadow_dm_init(dm_log_bridge, ctx);
	if (shadow_dm_target_version("shadow-origin", version) < 0) {
		snprintf(version, sizeof(version), "-");
		*ret_usable = false;
	} else {
		*ret_usable = true;
	}
	*ret_name = "dm-shadow";
	*ret_target = "shadow-origin";
	*ret_version = version;
	return 1;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl revert <shadow-id> [--wait] [--force]: roll the copy's volume
 * back to it, as vssadmin's "revert shadow" does.  The kernel merges in
 * the background; --wait waits for the merge to finish, with its progress
 * on a terminal.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "ctl-revert.h"

/* How often --wait reads the merge's progress. */
#define REVERT_POLL_NS	(200 * 1000 * 1000L)

/*
 * Wait until the merge of @volume has finished, with its progress on a
 * terminal; *@merged and *@total are then the final counts.
 */
static int revert_wait(shadow_ctx *ctx, const char *volume, uint64_t id, uint64_t *merged,
		       uint64_t *total)
{
	const struct timespec tick = { .tv_nsec = REVERT_POLL_NS };
	bool tty = isatty(STDERR_FILENO), shown = false;
	int r;

	while ((r = shadow_volume_revert_progress(ctx, volume, NULL, merged, total)) > 0) {
		if (tty)
			fprintf(stderr, "\rreverting %s to shadow %" PRIu64 ": %" PRIu64 "/%" PRIu64
				" chunks (%" PRIu64 "%%)", volume, id, *merged, *total,
				*total ? *merged * 100 / *total : 0);
		shown = tty;
		nanosleep(&tick, NULL);
	}
	if (shown)
		fputc('\n', stderr);
	return r;
}

static void print_reverted(const struct ctl_args *a, const char *volume, bool done,
			   uint64_t merged, uint64_t total)
{
	json_object *o, *s;

	if (!a->json) {
		if (done)
			printf("volume %s reverted to shadow %" PRIu64 "\n", volume, a->id);
		else
			printf("volume %s is reverting to shadow %" PRIu64 " (%" PRIu64 "/%" PRIu64
			       " chunks merged); it reads the shadow copy's data already\n",
			       volume, a->id, merged, total);
		return;
	}
	o = json_object_new_object();
	s = json_object_new_object();
	json_object_object_add(s, "shadow", json_object_new_uint64(a->id));
	json_object_object_add(s, "volume", json_object_new_string(volume));
	json_object_object_add(s, "state", json_object_new_string(done ? "done" : "merging"));
	json_object_object_add(s, "merged_chunks", json_object_new_uint64(merged));
	json_object_object_add(s, "total_chunks", json_object_new_uint64(total));
	json_object_object_add(o, "revert", s);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int ctl_revert(shadow_ctx *ctx, const struct ctl_args *a)
{
	uint64_t merged = 0, total = 0;
	const char *volume;
	shadow_copy *c;
	int r;

	r = shadow_copy_revert(ctx, a->id, (a->opts & OPT_FORCE) ? SHADOW_FORCE : 0);
	if (r < 0)
		return r;
	c = shadow_ctx_find_copy(ctx, a->id);
	volume = shadow_copy_volume(c);
	if (a->wait)
		r = revert_wait(ctx, volume, a->id, &merged, &total);
	else
		r = shadow_volume_revert_progress(ctx, volume, NULL, &merged, &total);
	if (r < 0)
		return r;
	print_reverted(a, volume, r == 0, merged, total);
	return 0;
}

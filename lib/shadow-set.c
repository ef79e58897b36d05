/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shadow copy sets: snapshot several volumes at one instant, all or none.
 */
#include <inttypes.h>
#include <string.h>

#include "shadow-ctx.h"

size_t shadow_ctx_sets(shadow_ctx *ctx, shadow_set *const **ret)
{
	*ret = ctx->cat.sets;
	return ctx->cat.n_sets;
}

shadow_set *shadow_ctx_find_set(shadow_ctx *ctx, uint64_t id)
{
	return shadow_catalog_set(&ctx->cat, id);
}

uint64_t shadow_set_id(const shadow_set *s) { return s->id; }
int64_t shadow_set_created(const shadow_set *s) { return s->created; }
uint64_t shadow_set_freeze_us(const shadow_set *s) { return s->freeze_us; }
const char *shadow_set_state(const shadow_set *s) { return s->state; }
size_t shadow_set_count(shadow_ctx *ctx, const shadow_set *s) { return set_count(&ctx->cat, s->id); }

/* Where one volume of a set creation is. */
struct member {
	struct shadow_volume *v;
	const struct shadow_provider_ops *p;
	struct shadow_copy *c;
	bool suspended;
	bool created;
};

static int new_copy(shadow_ctx *ctx, struct shadow_volume *v, uint64_t set,
		    struct shadow_copy **ret)
{
	struct shadow_copy *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->id = ctx->cat.next_id;
	c->snapshot = c->id;
	c->set = set;
	c->created = now_realtime();
	c->volume = strdup(v->name);
	c->method = strdup(v->method);
	c->state = strdup("creating");
	if (!c->volume || !c->method || !c->state) {
		shadow_copy_free(c);
		return -ENOMEM;
	}
	r = shadow_catalog_add_copy(&ctx->cat, c);
	if (r < 0) {
		shadow_copy_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

/* Undo a set creation: resume every suspended volume, delete every snapshot. */
static void set_rollback(shadow_ctx *ctx, struct member *m, size_t n, struct shadow_set *s)
{
	for (size_t i = n; i-- > 0;)
		if (m[i].suspended) {
			int r = shadow_dm_resume(m[i].v->dm_name);

			if (r < 0)
				ctx_log(ctx, SHADOW_LOG_ERR, "rollback: resume volume %s failed: %s",
				       m[i].v->name, strerror(-r));
			else
				m[i].suspended = false;
		}
	for (size_t i = 0; i < n; i++)
		if (m[i].created) {
			int r = m[i].p->remove(ctx, m[i].v, m[i].c->snapshot);

			if (r < 0 && r != -ENOENT)
				ctx_log(ctx, SHADOW_LOG_ERR,
				       "rollback: delete snapshot %" PRIu64 " of volume %s failed: %s",
				       m[i].c->snapshot, m[i].v->name, strerror(-r));
			else
				m[i].created = false;
		}
	for (size_t i = 0; i < n; i++)
		if (m[i].c)
			shadow_catalog_remove_copy(&ctx->cat, m[i].c);
	shadow_catalog_remove_set(&ctx->cat, s);
	(void)shadow_catalog_save(ctx->state_dir, &ctx->cat);
}

static int commit_step_late(shadow_ctx *ctx, uint64_t t0, uint64_t timeout,
			    const char *vol, const char *step)
{
	uint64_t spent = now_us() - t0;

	if (spent <= timeout)
		return 0;
	return ctx_fail(ctx, -ETIMEDOUT,
		    "create the set: volume %s, %s: the commit took %" PRIu64 " ms, more than the %" PRIu64 " ms allowed",
		    vol, step, spent / 1000, timeout / 1000);
}

int shadow_set_create(shadow_ctx *ctx, const char *const *volumes, size_t n,
		      uint64_t commit_timeout_us, shadow_set **ret)
{
	_cleanup_free_ struct member *m = NULL;
	struct shadow_set *s;
	uint64_t t0, t1;
	int r;

	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "create the set: the context is not open");
	if (n == 0)
		return ctx_fail(ctx, -EINVAL, "create the set: no volume given");
	if (!commit_timeout_us)
		commit_timeout_us = SHADOW_DEFAULT_COMMIT_TIMEOUT_US;
	m = calloc(n, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		m[i].v = shadow_catalog_volume(&ctx->cat, volumes[i]);
		if (!m[i].v)
			return ctx_fail(ctx, -ENOENT, "create the set: no volume named %s", volumes[i]);
		for (size_t j = 0; j < i; j++)
			if (m[j].v == m[i].v)
				return ctx_fail(ctx, -EINVAL, "create the set: volume %s given twice",
					    volumes[i]);
		if (!m[i].v->active)
			return ctx_fail(ctx, -ENODEV, "create the set: volume %s is not active", volumes[i]);
		m[i].p = provider_of(m[i].v);
		r = m[i].p->can_create(ctx, m[i].v);
		if (r < 0)
			return r;
	}

	/* Record the set as "creating" first: a crash from here on is undone by ctx_repair(). */
	s = calloc(1, sizeof(*s));
	if (!s || !(s->state = strdup("creating"))) {
		free(s);
		return -ENOMEM;
	}
	s->id = ctx->cat.next_set;
	s->created = now_realtime();
	r = shadow_catalog_add_set(&ctx->cat, s);
	if (r < 0) {
		shadow_set_free(s);
		return r;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = new_copy(ctx, m[i].v, s->id, &m[i].c);
	if (r == 0)
		r = shadow_catalog_save(ctx->state_dir, &ctx->cat);
	if (r < 0) {
		ctx_fail(ctx, r, "create the set: record it in the catalog");
		set_rollback(ctx, m, n, s);
		return r;
	}
	/* What can be done before the freeze is: it keeps the window short. */
	for (size_t i = 0; i < n; i++) {
		if (!m[i].p->prepare)
			continue;
		r = m[i].p->prepare(ctx, m[i].v, m[i].c);
		if (r < 0) {
			set_rollback(ctx, m, n, s);
			return r;
		}
	}

	/* The freeze window: first suspend to last resume. */
	t0 = now_us();
	for (size_t i = 0; i < n; i++) {
		r = shadow_dm_suspend(m[i].v->dm_name, true);
		if (r < 0) {
			ctx_fail(ctx, r, "create the set: volume %s, suspend (freeze)", m[i].v->name);
			break;
		}
		m[i].suspended = true;
		r = commit_step_late(ctx, t0, commit_timeout_us, m[i].v->name, "suspend");
		if (r < 0)
			break;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		r = m[i].p->create(ctx, m[i].v, m[i].c);
		if (r < 0) {
			ctx_fail(ctx, r, "create the set: volume %s, create snapshot %" PRIu64 " (%s)",
				 m[i].v->name, m[i].c->snapshot, m[i].p->name);
			break;
		}
		m[i].created = true;
		r = commit_step_late(ctx, t0, commit_timeout_us, m[i].v->name, "create snapshot");
	}
	for (size_t i = n; i-- > 0 && r == 0;) {
		r = shadow_dm_resume(m[i].v->dm_name);
		if (r < 0) {
			ctx_fail(ctx, r, "create the set: volume %s, resume", m[i].v->name);
			break;
		}
		m[i].suspended = false;
	}
	t1 = now_us();
	if (r == 0)
		r = commit_step_late(ctx, t0, commit_timeout_us, m[0].v->name, "resume");
	if (r < 0) {
		set_rollback(ctx, m, n, s);
		return r;
	}

	s->freeze_us = t1 - t0;
	if (replace_str(&s->state, "complete") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (replace_str(&m[i].c->state, "valid") < 0)
			return -ENOMEM;
	r = ctx_save(ctx);
	if (r < 0) {
		/* All or none: a set the catalog does not hold is undone. */
		set_rollback(ctx, m, n, s);
		return r;
	}
	ctx_log(ctx, SHADOW_LOG_INFO, "set %" PRIu64 ": %zu volume(s), frozen %" PRIu64 " µs",
	       s->id, n, s->freeze_us);
	if (ret)
		*ret = s;
	return 0;
}

int shadow_set_delete(shadow_ctx *ctx, uint64_t id, unsigned int flags)
{
	struct shadow_set *s;
	int r;

	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "delete set %" PRIu64 ": the context is not open", id);
	s = shadow_catalog_set(&ctx->cat, id);
	if (!s)
		return ctx_fail(ctx, -ENOENT, "delete set %" PRIu64 ": no such set", id);
	if (!(flags & SHADOW_FORCE))
		for (size_t i = 0; i < ctx->cat.n_copies; i++)
			if (ctx->cat.copies[i]->set == id && ctx->cat.copies[i]->device)
				return ctx_fail(ctx, -EBUSY,
					    "delete set %" PRIu64 ": shadow %" PRIu64 " is exposed as %s (unexpose it first)",
					    id, ctx->cat.copies[i]->id, ctx->cat.copies[i]->device);
	for (size_t i = ctx->cat.n_copies; i-- > 0;)
		if (ctx->cat.copies[i]->set == id) {
			r = copy_delete_locked(ctx, ctx->cat.copies[i], flags & SHADOW_FORCE);
			if (r < 0) {
				drop_empty_sets(&ctx->cat);
				(void)ctx_save(ctx);
				return r;
			}
		}
	drop_empty_sets(&ctx->cat);
	return ctx_save(ctx);
}

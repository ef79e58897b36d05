/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shadow copy sets: snapshot several volumes at one instant, all or none,
 * with the writers quiescing their applications around the instant.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>

#include "shadow-choose.h"
#include "shadow-copy.h"
#include "shadow-create-opts.h"
#include "shadow-ctx.h"
#include "shadow-lock.h"
#include "shadow-kernel.h"
#include "shadow-repair.h"
#include "shadow-set-machine.h"
#include "shadow-states.h"
#include "shadow-writers.h"

size_t shadow_ctx_sets(shadow_ctx *ctx, shadow_set *const **ret)
{
	if (!ctx || !ret)
		return 0;
	*ret = ctx->cat.sets;
	return ctx->cat.n_sets;
}

shadow_set *shadow_ctx_find_set(shadow_ctx *ctx, uint64_t id)
{
	if (!ctx)
		return NULL;
	return shadow_catalog_set(&ctx->cat, id);
}

uint64_t shadow_set_id(const shadow_set *s) { return s ? s->id : 0; }
int64_t shadow_set_created(const shadow_set *s) { return s ? s->created : 0; }
uint64_t shadow_set_freeze_us(const shadow_set *s) { return s ? s->freeze_us : 0; }
enum shadow_set_state shadow_set_state(const shadow_set *s)
{
	return s ? set_state_from_string(s->state) : _SHADOW_SET_STATE_INVALID;
}
size_t shadow_set_count(shadow_ctx *ctx, const shadow_set *s) { return ctx && s ? set_count(&ctx->cat, s->id) : 0; }

size_t shadow_set_writers(const shadow_set *s) { return s ? s->n_writers : 0; }

const char *shadow_set_writer_name(const shadow_set *s, size_t i)
{
	return s && i < s->n_writers ? s->writers[i].name : NULL;
}

static const char *json_text(struct json_object *o)
{
	return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
}

const char *shadow_set_writer_metadata(const shadow_set *s, size_t i)
{
	return s && i < s->n_writers ? json_text(s->writers[i].metadata) : NULL;
}

const char *shadow_set_writer_data(const shadow_set *s, size_t i)
{
	return s && i < s->n_writers ? json_text(s->writers[i].data) : NULL;
}

const char *shadow_set_writer_excluded(const shadow_set *s, size_t i)
{
	return s && i < s->n_writers ? json_text(s->writers[i].excluded) : NULL;
}

/* ------------------------------------------------------------------------
 * Creation: the steps of shadow-set-machine.h, driven by
 * shadow_set_create_with().  Each step returns its outcome and, on
 * failure, has said why with ctx_fail(); the actions undo.  Nothing here
 * but the steps calls ctx_fail(), so the first failure is what the caller
 * reads in shadow_ctx_error().
 */

/* Where one volume of a set creation is. */
struct member {
	struct shadow_volume *v;
	dev_t dev;		/* its device's number */
	const struct shadow_provider_ops *p;
	const char *target;	/* a clone volume's: its new clone's target */
	struct shadow_copy *c;
	bool prepared;		/* the provider's prepare ran (release undoes it) */
	bool suspended;
	bool created;
};

/* One creation, across its attempts. */
struct creation {
	shadow_ctx *ctx;
	const struct shadow_create_opts *o;
	struct member *m;
	size_t n;
	uint64_t commit_timeout_us;
	uint64_t writer_timeout_us;
	/* this attempt */
	struct shadow_set *s;		/* in the catalog from COMMIT on */
	struct shadow_writer **dir;	/* the writers directory's entries */
	size_t n_dir;
	struct shadow_writer **refused;	/* those selected but refused (in dir) */
	size_t n_refused;
	struct writer_run run;
	int r;				/* the first failure's error */
	/* the freeze window's signals (window_enter()) */
	bool blocked;
	sigset_t saved_mask;		/* the caller's mask, given back */
	int interrupted;		/* the signal that cancelled, or 0 */
};

/* Record a step's failure (the first one of an attempt wins). */
_printf_(3, 4)
static enum set_outcome step_fail(struct creation *cr, int r, const char *fmt, ...)
{
	va_list ap;

	if (cr->r == 0) {
		cr->r = r;
		va_start(ap, fmt);
		ctx_vfail(cr->ctx, r, fmt, ap);
		va_end(ap);
	}
	return SET_FAIL;
}

/* The first writer that failed, as the reason of the attempt's failure. */
static enum set_outcome writer_failed(struct creation *cr)
{
	struct writer_proc *w = cr->run.culprit;

	step_fail(cr, -ECANCELED, "create the set: writer %s, %s: %s", w->entry->name,
		  shadow_proto_event_name(w->fail_event),
		  w->message ? w->message : "failed");
	return SET_FAIL_WRITER;
}

/* Save the catalog without touching the error message (undo paths). */
static void save_quietly(shadow_ctx *ctx)
{
	int r;

	if (ctx->readonly)
		return;
	r = catalog_save_locked(ctx->lock_fd, ctx->state_dir, &ctx->cat);
	if (r < 0)
		ctx_log(ctx, SHADOW_LOG_ERR, "write the catalog in %s: %s", ctx->state_dir,
			strerror(-r));
}

static int new_copy(shadow_ctx *ctx, struct shadow_volume *v, uint64_t set, const char *target,
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
	c->target = target ? strdup(target) : NULL;
	if (!c->volume || !c->method || !c->state || (target && !c->target)) {
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

/* --- IDENTIFY ----------------------------------------------------------- */

static bool listed(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/*
 * The writers to run: all of the directory, or those named with
 * --writer, and with --component only those a component is named for.
 */
static enum set_outcome select_writers(struct creation *cr, struct shadow_writer ***ret,
				       size_t *ret_n)
{
	const struct shadow_create_opts *o = cr->o;
	_cleanup_free_ struct shadow_writer **run = calloc(cr->n_dir ? cr->n_dir : 1, sizeof(*run));
	size_t n = 0;

	if (!run || !(cr->refused = calloc(cr->n_dir ? cr->n_dir : 1, sizeof(*cr->refused))))
		return step_fail(cr, -ENOMEM, "create the set: select the writers");
	for (size_t i = 0; i < o->n_writers; i++) {
		bool found = false;

		for (size_t j = 0; j < cr->n_dir; j++)
			found = found || strcmp(cr->dir[j]->name, o->writers[i]) == 0;
		if (!found)
			return step_fail(cr, -ENOENT, "create the set: no writer named %s in %s",
					 o->writers[i], ctx_writers_dir(cr->ctx));
	}
	for (size_t i = 0; i < o->n_components; i++) {
		const char *wc = o->components[i], *slash = strchr(wc, '/');
		size_t len = slash ? (size_t)(slash - wc) : strlen(wc);
		bool found = false;

		for (size_t j = 0; j < cr->n_dir; j++)
			found = found || (strlen(cr->dir[j]->name) == len &&
					  strncmp(cr->dir[j]->name, wc, len) == 0);
		if (!found)
			return step_fail(cr, -ENOENT, "create the set: no writer named %.*s in %s (component %s)",
					 (int)len, wc, ctx_writers_dir(cr->ctx), wc);
	}
	for (size_t j = 0; j < cr->n_dir; j++) {
		struct shadow_writer *e = cr->dir[j];

		if (o->n_writers && !listed(o->writers, o->n_writers, e->name))
			continue;
		if (o->n_components && !create_opts_writer_has_components(o, e->name))
			continue;
		if (e->refused)
			cr->refused[cr->n_refused++] = e;
		else
			run[n++] = e;
	}
	if (cr->n_refused) {
		struct shadow_writer *e = cr->refused[0];

		/* An application the admin set up a writer for would go unprotected. */
		return step_fail(cr, -ECANCELED, "create the set: writer %s, identify: refused, not run: %s",
				 e->name, e->refused);
	}
	*ret = TAKE_PTR(run);
	*ret_n = n;
	return SET_OK;
}

static enum set_outcome step_identify(struct creation *cr)
{
	_cleanup_free_ struct shadow_writer **run = NULL;
	_cleanup_free_ struct shadow_proto_volume *vols = NULL;
	struct shadow_proto_request req = { .event = SHADOW_EVENT_IDENTIFY };
	enum set_outcome out;
	size_t n = 0;
	int r;

	if (cr->o->no_writers)
		return SET_OK;
	r = writers_scan(ctx_writers_dir(cr->ctx), &cr->dir, &cr->n_dir);
	if (r < 0)
		return step_fail(cr, r, "create the set: read the writers directory %s",
				 ctx_writers_dir(cr->ctx));
	out = select_writers(cr, &run, &n);
	if (out != SET_OK || n == 0)
		return out;
	r = writers_start(cr->ctx, &cr->run, run, n, ctx_writer_conf(cr->ctx),
			  cr->writer_timeout_us);
	if (r == -ECANCELED)
		return writer_failed(cr);
	if (r < 0)
		return step_fail(cr, r, "create the set: start the writers");

	vols = calloc(cr->n, sizeof(*vols));
	if (!vols)
		return step_fail(cr, -ENOMEM, "create the set: identify");
	for (size_t i = 0; i < cr->n && r == 0; i++) {
		vols[i].name = cr->m[i].v->name;
		if (asprintf(&vols[i].device, DEV_MAPPER "%s", cr->m[i].v->dm_name) < 0) {
			vols[i].device = NULL;
			r = -ENOMEM;
		} else {
			r = mountpoint_of(cr->m[i].dev, &vols[i].mountpoint);
		}
	}
	req.protocol = SHADOW_PROTO_VERSION;
	req.set = cr->ctx->cat.next_set;
	req.volumes = vols;
	req.n_volumes = cr->n;
	if (r == 0)
		r = writers_exchange(&cr->run, &req);
	for (size_t i = 0; i < cr->n; i++) {
		free(vols[i].device);
		free(vols[i].mountpoint);
	}
	if (r == -ECANCELED)
		return writer_failed(cr);
	if (r < 0)
		return step_fail(cr, r, "create the set: identify");
	return SET_OK;
}

/* --- CHOOSE ------------------------------------------------------------- */

static struct writer_proc *running_writer(struct creation *cr, const char *name)
{
	for (size_t i = 0; i < cr->run.n; i++)
		if (strcmp(cr->run.w[i].entry->name, name) == 0)
			return &cr->run.w[i];
	return NULL;
}

static bool has_component(const struct writer_proc *w, const char *name)
{
	for (size_t i = 0; i < w->meta.n_components; i++)
		if (strcmp(w->meta.components[i].name, name) == 0)
			return true;
	return false;
}

static enum set_outcome step_choose(struct creation *cr)
{
	_cleanup_free_ dev_t *devs = calloc(cr->n, sizeof(*devs));

	if (!devs)
		return step_fail(cr, -ENOMEM, "create the set: choose the components");
	for (size_t i = 0; i < cr->n; i++)
		devs[i] = cr->m[i].dev;
	/* Every component named must exist: a typo must not go unnoticed. */
	for (size_t i = 0; i < cr->o->n_components; i++) {
		const char *wc = cr->o->components[i], *slash = strchr(wc, '/');
		char name[256];
		struct writer_proc *w;

		snprintf(name, sizeof(name), "%.*s", (int)(slash - wc), wc);
		w = running_writer(cr, name);
		if (!w || !has_component(w, slash + 1))
			return step_fail(cr, -EINVAL, "create the set: writer %s has no component %s",
					 name, slash + 1);
	}
	/* So must every component excluded, of a writer that runs. */
	for (size_t i = 0; i < cr->o->n_excluded; i++) {
		const char *wc = cr->o->excluded[i], *slash = strchr(wc, '/');
		char name[256];
		struct writer_proc *w;
		bool found = false;

		snprintf(name, sizeof(name), "%.*s", (int)(slash - wc), wc);
		for (size_t j = 0; j < cr->n_dir; j++)
			found = found || strcmp(cr->dir[j]->name, name) == 0;
		if (!found)
			return step_fail(cr, -ENOENT, "create the set: no writer named %s in %s (--exclude-component %s)",
					 name, ctx_writers_dir(cr->ctx), wc);
		w = running_writer(cr, name);
		if (w && w->metadata && !has_component(w, slash + 1))
			return step_fail(cr, -EINVAL, "create the set: writer %s has no component %s",
					 name, slash + 1);
	}
	for (size_t i = 0; i < cr->run.n; i++) {
		struct writer_proc *w = &cr->run.w[i];
		char why[1024];
		int r;

		if (!w->metadata || w->failed)
			continue;
		r = writer_choose_components(cr->ctx, w, cr->o, devs, cr->n, why, sizeof(why));
		if (r == -EXDEV)
			return step_fail(cr, r, "create the set: %s", why);
		if (r < 0)
			return step_fail(cr, r, "create the set: choose the components");
		if (w->n_components == 0)
			writers_skip(&cr->run, w);
	}
	return SET_OK;
}

/* --- PREPARE, FREEZE, THAW, POST_SNAPSHOT -------------------------------- */

static enum set_outcome exchange(struct creation *cr, const struct shadow_proto_request *req)
{
	int r;

	if (writers_active(&cr->run) == 0)
		return SET_OK;
	r = writers_exchange(&cr->run, req);
	if (r == -ECANCELED)
		return writer_failed(cr);
	if (r < 0)
		return step_fail(cr, r, "create the set: %s", shadow_proto_event_name(req->event));
	return SET_OK;
}

static enum set_outcome step_post_snapshot(struct creation *cr)
{
	_cleanup_free_ struct shadow_proto_copy *copies = calloc(cr->n, sizeof(*copies));
	struct shadow_proto_request req = {
		.event = SHADOW_EVENT_POST_SNAPSHOT, .set = cr->s->id,
		.copies = copies, .n_copies = cr->n,
	};

	if (!copies)
		return step_fail(cr, -ENOMEM, "create the set: post-snapshot");
	for (size_t i = 0; i < cr->n; i++)
		copies[i] = (struct shadow_proto_copy) { .id = cr->m[i].c->id, .volume = cr->m[i].v->name };
	return exchange(cr, &req);
}

/* --- The freeze window's signals ----------------------------------------
 *
 * From the set's record as "creating" (COMMIT) to its end (recorded
 * complete, or undone), the signals that end or stop a process are
 * blocked in the calling thread, as LVM blocks them around its critical
 * sections: a Ctrl-C there would leave volumes suspended, file systems
 * frozen and a half-made set.  No handler is installed (a library must
 * not change the process's dispositions): the caller's mask is saved and
 * given back.  A signal that ends a process and that the caller neither
 * blocks nor ignores, held pending meanwhile, cancels the creation at the
 * next step (or the next suspend): the set is undone like any failure,
 * then the mask is given back and the signal takes its course.  SIGTSTP
 * only waits for the window's end.
 */

static const int window_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
static const int cancel_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	case SIGQUIT: return "SIGQUIT";
	default: return "a signal";
	}
}

static void window_enter(struct creation *cr)
{
	sigset_t set;

	if (cr->blocked)
		return;
	sigemptyset(&set);
	for (size_t i = 0; i < ELEMENTSOF(window_signals); i++)
		sigaddset(&set, window_signals[i]);
	if (pthread_sigmask(SIG_BLOCK, &set, &cr->saved_mask) == 0)
		cr->blocked = true;
}

static void window_leave(struct creation *cr)
{
	if (!cr->blocked)
		return;
	cr->blocked = false;
	(void)pthread_sigmask(SIG_SETMASK, &cr->saved_mask, NULL);
}

/* A pending signal that cancels the creation: its number, or 0. */
static int window_signal_pending(struct creation *cr)
{
	sigset_t pending;

	if (cr->interrupted)
		return cr->interrupted;
	if (!cr->blocked || sigpending(&pending) < 0)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(cancel_signals); i++) {
		int sig = cancel_signals[i];
		struct sigaction sa;

		if (!sigismember(&pending, sig) || sigismember(&cr->saved_mask, sig))
			continue;
		/* Blocked signals are kept pending even when ignored: not ours to act on. */
		if (sigaction(sig, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) &&
		    sa.sa_handler == SIG_IGN)
			continue;
		cr->interrupted = sig;
		return sig;
	}
	return 0;
}

/* Cancel on a pending signal: SET_FAIL (final, undone), or SET_OK. */
static enum set_outcome window_check(struct creation *cr)
{
	int sig = window_signal_pending(cr);

	if (!sig)
		return SET_OK;
	return step_fail(cr, -EINTR, "create the set: interrupted by %s in the freeze window",
			 signal_name(sig));
}

/* --- COMMIT ------------------------------------------------------------- */

static int commit_step_late(struct creation *cr, uint64_t t0, const char *vol, const char *step)
{
	uint64_t spent = now_us() - t0;

	if (spent <= cr->commit_timeout_us)
		return 0;
	step_fail(cr, -ETIMEDOUT,
		  "create the set: volume %s, %s: the commit took %" PRIu64 " ms, more than the %" PRIu64 " ms allowed",
		  vol, step, spent / 1000, cr->commit_timeout_us / 1000);
	return -ETIMEDOUT;
}

static enum set_outcome step_commit(struct creation *cr)
{
	shadow_ctx *ctx = cr->ctx;
	struct member *m = cr->m;
	size_t n = cr->n;
	struct shadow_set *s;
	uint64_t t0, t1;
	int r;

	/* Record the set as "creating" first: a crash from here on is undone by ctx_repair(). */
	s = calloc(1, sizeof(*s));
	if (!s || !(s->state = strdup("creating"))) {
		free(s);
		return step_fail(cr, -ENOMEM, "create the set: record it in the catalog");
	}
	s->id = ctx->cat.next_set;
	s->created = now_realtime();
	r = shadow_catalog_add_set(&ctx->cat, s);
	if (r < 0) {
		shadow_set_free(s);
		return step_fail(cr, r, "create the set: record it in the catalog");
	}
	cr->s = s;
	for (size_t i = 0; i < n && r == 0; i++)
		r = new_copy(ctx, m[i].v, s->id, m[i].target, &m[i].c);
	if (r == 0)
		r = catalog_save_locked(ctx->lock_fd, ctx->state_dir, &ctx->cat);
	if (r < 0)
		return step_fail(cr, r, "create the set: record it in the catalog");
	/* What can be done before the freeze is: it keeps the window short. */
	for (size_t i = 0; i < n; i++) {
		if (!m[i].p->prepare)
			continue;
		r = m[i].p->prepare(ctx, m[i].v, m[i].c);
		if (r < 0) {
			cr->r = cr->r ?: r;	/* the provider said what failed */
			return SET_FAIL;
		}
		m[i].prepared = true;
	}

	/* The freeze window: first suspend to last resume. */
	t0 = now_us();
	for (size_t i = 0; i < n; i++) {
		if (window_check(cr) != SET_OK)
			return SET_FAIL;
		r = shadow_dm_suspend(m[i].v->dm_name, true);
		if (r < 0)
			return step_fail(cr, r, "create the set: volume %s, suspend (freeze)", m[i].v->name);
		m[i].suspended = true;
		if (commit_step_late(cr, t0, m[i].v->name, "suspend") < 0)
			return SET_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		if (window_check(cr) != SET_OK)
			return SET_FAIL;
		r = m[i].p->create(ctx, m[i].v, m[i].c);
		if (r < 0)
			return step_fail(cr, r, "create the set: volume %s, create snapshot %" PRIu64 " (%s)",
					 m[i].v->name, m[i].c->snapshot, m[i].p->name);
		m[i].created = true;
		if (commit_step_late(cr, t0, m[i].v->name, "create snapshot") < 0)
			return SET_FAIL;
	}
	for (size_t i = n; i-- > 0;) {
		r = shadow_dm_resume(m[i].v->dm_name);
		if (r < 0)
			return step_fail(cr, r, "create the set: volume %s, resume", m[i].v->name);
		m[i].suspended = false;
	}
	t1 = now_us();
	if (commit_step_late(cr, t0, m[0].v->name, "resume") < 0)
		return SET_FAIL;
	s->freeze_us = t1 - t0;
	return SET_OK;
}

/* --- RECORD ------------------------------------------------------------- */

static enum set_outcome step_record(struct creation *cr)
{
	struct shadow_set *s = cr->s;
	int r;

	for (size_t i = 0; i < cr->run.n; i++) {
		struct writer_proc *w = &cr->run.w[i];

		/* A writer whose components were all excluded: the set says so. */
		if ((w->skipped && !w->excluded) || w->failed || !w->metadata)
			continue;
		r = shadow_set_add_writer(s, w->entry->name, w->metadata, w->data);
		if (r < 0)
			return step_fail(cr, r, "create the set: record the writers' metadata");
		shadow_set_last_writer_excluded(s, w->excluded);
	}
	if (replace_str(&s->state, "complete") < 0)
		return step_fail(cr, -ENOMEM, "create the set: record it");
	for (size_t i = 0; i < cr->n; i++)
		if (replace_str(&cr->m[i].c->state, "valid") < 0)
			return step_fail(cr, -ENOMEM, "create the set: record it");
	r = ctx_save(cr->ctx);
	if (r < 0) {
		/* All or none: a set the catalog does not hold is undone. */
		if (cr->r == 0)
			cr->r = r;	/* ctx_save() said why */
		return SET_FAIL;
	}
	return SET_OK;
}

static enum set_outcome run_step(struct creation *cr, enum set_step step)
{
	struct shadow_proto_request req = { .event = SHADOW_EVENT_PREPARE };

	switch (step) {
	case SET_IDENTIFY:
		return step_identify(cr);
	case SET_CHOOSE:
		return step_choose(cr);
	case SET_PREPARE:
		return exchange(cr, &req);
	case SET_FREEZE:
		req.event = SHADOW_EVENT_FREEZE;
		req.timeout_ms = cr->commit_timeout_us / 1000;
		return exchange(cr, &req);
	case SET_COMMIT:
		return step_commit(cr);
	case SET_THAW:
		req.event = SHADOW_EVENT_THAW;
		return exchange(cr, &req);
	case SET_POST_SNAPSHOT:
		return step_post_snapshot(cr);
	case SET_RECORD:
		return step_record(cr);
	default:
		return step_fail(cr, -EINVAL, "create the set: internal error: step %d", step);
	}
}

/* --- Actions (undo, and the end of every attempt) ------------------------- */

static void act_resume(struct creation *cr)
{
	for (size_t i = cr->n; i-- > 0;) {
		int r;

		if (!cr->m[i].suspended)
			continue;
		r = shadow_dm_resume(cr->m[i].v->dm_name);
		if (r < 0)
			ctx_log(cr->ctx, SHADOW_LOG_ERR, "rollback: resume volume %s failed: %s",
				cr->m[i].v->name, strerror(-r));
		else
			cr->m[i].suspended = false;
	}
}

/*
 * Undo prepare (a clone's target out of the volume's table again) once the
 * kernel has no snapshot: on a volume left suspended it would resume it.
 */
static void act_release(struct creation *cr, struct member *m)
{
	int r;

	if (!m->prepared || m->created || m->suspended || !m->p->release)
		return;
	r = m->p->release(cr->ctx, m->v, m->c->snapshot);
	if (r < 0)
		ctx_log(cr->ctx, SHADOW_LOG_ERR,
			"rollback: load the table of volume %s again without what shadow %" PRIu64
			" needed failed: %s", m->v->name, m->c->id, strerror(-r));
	else
		m->prepared = false;
}

static void act_delete(struct creation *cr)
{
	for (size_t i = 0; i < cr->n; i++) {
		int r;

		if (cr->m[i].created) {
			r = cr->m[i].p->remove(cr->ctx, cr->m[i].v, cr->m[i].c->snapshot);
			if (r < 0 && r != -ENOENT)
				ctx_log(cr->ctx, SHADOW_LOG_ERR,
					"rollback: delete snapshot %" PRIu64 " of volume %s failed: %s",
					cr->m[i].c->snapshot, cr->m[i].v->name, strerror(-r));
			else
				cr->m[i].created = false;
		}
		act_release(cr, &cr->m[i]);
	}
}

static void act_forget(struct creation *cr)
{
	for (size_t i = 0; i < cr->n; i++)
		if (cr->m[i].c) {
			shadow_catalog_remove_copy(&cr->ctx->cat, cr->m[i].c);
			cr->m[i].c = NULL;
		}
	if (cr->s) {
		shadow_catalog_remove_set(&cr->ctx->cat, cr->s);
		cr->s = NULL;
	}
	save_quietly(cr->ctx);
}

static int record_state(struct creation *cr, const struct shadow_writer *e, const char *state,
			const char *event, const char *message)
{
	return shadow_catalog_record_writer(&cr->ctx->cat, e->name, e->path, state, event,
					    message, now_realtime());
}

/* Each writer's last state: what it did in this attempt. */
static void act_states(struct creation *cr, bool undone)
{
	_cleanup_free_ char *note = NULL;
	int r = 0;

	if (undone && asprintf(&note, "the set was undone: %s", shadow_ctx_error(cr->ctx)) < 0)
		note = NULL;
	for (size_t i = 0; i < cr->n_refused && r == 0; i++)
		r = record_state(cr, cr->refused[i], "refused", NULL, cr->refused[i]->refused);
	for (size_t i = 0; i < cr->run.n && r == 0; i++) {
		struct writer_proc *w = &cr->run.w[i];

		if (w->failed)
			r = record_state(cr, w->entry, "failed", shadow_proto_event_name(w->fail_event),
					 w->message);
		else if (w->skipped)
			r = record_state(cr, w->entry, "skipped", "identify",
					 w->excluded ? "no component left: excluded" :
					 cr->o->n_components ? "no component named"
							     : "no component on the set's volumes");
		else
			r = record_state(cr, w->entry, "ok",
					 w->answered >= 0 ? shadow_proto_event_name(w->answered) : NULL,
					 undone ? note : NULL);
	}
	if (r < 0)
		ctx_log(cr->ctx, SHADOW_LOG_ERR, "record the writers' states: %s", strerror(-r));
	save_quietly(cr->ctx);
}

static void run_actions(struct creation *cr, unsigned int actions, bool undone)
{
	if (actions & SET_ACT_RESUME)
		act_resume(cr);
	if ((actions & SET_ACT_ABORT) && cr->run.w)
		writers_abort(&cr->run);
	if (actions & SET_ACT_DELETE)
		act_delete(cr);
	if (actions & SET_ACT_FORGET)
		act_forget(cr);
	if ((actions & SET_ACT_STOP) && cr->run.w)
		writers_stop(&cr->run);
	if (actions & SET_ACT_STATES)
		act_states(cr, undone);
}

/* Forget this attempt's writers and copies: the next starts afresh. */
static void attempt_clear(struct creation *cr)
{
	writers_run_clear(&cr->run);
	writers_list_free(cr->dir, cr->n_dir);
	free(cr->refused);
	cr->dir = cr->refused = NULL;
	cr->n_dir = cr->n_refused = 0;
	for (size_t i = 0; i < cr->n; i++)
		cr->m[i] = (struct member) { .v = cr->m[i].v, .dev = cr->m[i].dev, .p = cr->m[i].p,
					     .target = cr->m[i].target };
	cr->s = NULL;
}

/* The volume @volumes[i] names: there, given once, active and not suspended by another. */
static int find_volume(shadow_ctx *ctx, const char *const *volumes, struct member *m, size_t i)
{
	check_arg(ctx, volumes[i] && *volumes[i], "create the set: volume %zu has no name", i + 1);
	m[i].v = shadow_catalog_volume(&ctx->cat, volumes[i]);
	if (!m[i].v)
		return ctx_fail(ctx, -ENOENT, "create the set: no volume named %s", volumes[i]);
	for (size_t j = 0; j < i; j++)
		if (m[j].v == m[i].v)
			return ctx_fail(ctx, -EINVAL, "create the set: volume %s given twice",
				    volumes[i]);
	if (!m[i].v->active)
		return ctx_fail(ctx, -ENODEV, "create the set: volume %s is not active", volumes[i]);
	/* Resuming it at the end would undo someone else's suspend. */
	if (m[i].v->suspended_foreign)
		return ctx_fail(ctx, -EBUSY,
			    "create the set: volume %s is suspended, not by shadowctl (resume it first: dmsetup resume %s)",
			    volumes[i], m[i].v->dm_name);
	m[i].p = provider_of(m[i].v);
	return 0;
}

/* Two names of one device: the same path, or the same block device. */
static bool same_device(const char *a, const char *b)
{
	dev_t da, db;

	return strcmp(a, b) == 0 ||
	       (block_device(a, &da, NULL) == 0 && block_device(b, &db, NULL) == 0 && da == db);
}

/* One --target's volume, of the set and a clone volume, not given one yet. */
static int match_target(shadow_ctx *ctx, struct member *m, size_t n, const char *vol,
			const char *dev)
{
	size_t i;

	for (i = 0; i < n && strcmp(m[i].v->name, vol) != 0; i++)
		;
	if (i == n)
		return ctx_fail(ctx, -EINVAL, "create the set: --target %s=%s: volume %s is not in the set",
				vol, dev, vol);
	if (strcmp(m[i].v->method, "clone") != 0)
		return ctx_fail(ctx, -EINVAL, "create the set: --target %s=%s: volume %s is not a clone "
				"volume (its method is %s)", vol, dev, vol, m[i].v->method);
	if (m[i].target)
		return ctx_fail(ctx, -EINVAL, "create the set: volume %s is given two targets, %s and %s",
				vol, m[i].target, dev);
	for (size_t j = 0; j < n; j++)
		if (m[j].target && same_device(m[j].target, dev))
			return ctx_fail(ctx, -EINVAL, "create the set: %s is given as the target of both "
					"%s and %s (one device per clone)", dev, m[j].v->name, vol);
	m[i].target = dev;
	return 0;
}

/*
 * The targets (shadow_create_opts_add_target()): one for each clone volume
 * of the set, for no other volume, one device per clone.
 */
static int match_targets(shadow_ctx *ctx, const struct shadow_create_opts *o, struct member *m,
			 size_t n)
{
	int r;

	for (size_t t = 0; t < o->n_targets; t++) {
		r = match_target(ctx, m, n, o->target_volumes[t], o->target_devices[t]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].v->method, "clone") == 0 && !m[i].target)
			return ctx_fail(ctx, -EINVAL, "create the set: volume %s is a clone volume: name "
					"the device its clone is copied to (--target %s=<device>)",
					m[i].v->name, m[i].v->name);
	return 0;
}

/*
 * The volumes must be there, distinct, active and able to take a
 * snapshot, the clone volumes each with its target: all checked before
 * any writer runs, so that a refusal changes nothing.
 */
static int check_volumes(shadow_ctx *ctx, const char *const *volumes,
			 const struct shadow_create_opts *o, struct member *m, size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		r = find_volume(ctx, volumes, m, i);
		if (r < 0)
			return r;
	}
	r = match_targets(ctx, o, m, n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *dev = NULL;

		r = m[i].p->can_create(ctx, m[i].v, m[i].target);
		if (r < 0)
			return r;
		if (asprintf(&dev, DEV_MAPPER "%s", m[i].v->dm_name) < 0)
			return -ENOMEM;
		r = block_device(dev, &m[i].dev, NULL);
		if (r < 0)
			return ctx_fail(ctx, r, "create the set: volume %s, find its device %s",
				    volumes[i], dev);
	}
	return 0;
}

int shadow_set_create_with(shadow_ctx *ctx, const char *const *volumes, size_t n,
			   const shadow_create_opts *o, shadow_set **ret)
{
	static const struct shadow_create_opts defaults = { .retries = 0 };
	_cleanup_free_ struct member *m = NULL;
	struct creation cr;
	enum set_step step = SET_IDENTIFY;
	unsigned int retries;
	uint64_t set_id = 0;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, volumes || n == 0, "create the set: no volume list given");
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "create the set: the context is not open");
	if (ctx->readonly)
		return ctx_fail(ctx, -EROFS, "create the set: the context is open read-only");
	if (n == 0)
		return ctx_fail(ctx, -EINVAL, "create the set: no volume given");
	if (!o)
		o = &defaults;
	m = calloc(n, sizeof(*m));
	if (!m)
		return -ENOMEM;
	r = check_volumes(ctx, volumes, o, m, n);
	if (r < 0)
		return r;

	cr = (struct creation) {
		.ctx = ctx, .o = o, .m = m, .n = n,
		.commit_timeout_us = o->commit_timeout_us ? o->commit_timeout_us
							  : SHADOW_DEFAULT_COMMIT_TIMEOUT_US,
		.writer_timeout_us = o->writer_timeout_us ? o->writer_timeout_us
							  : SHADOW_DEFAULT_WRITER_TIMEOUT_US,
	};
	retries = o->retries;
	while (step != SET_DONE && step != SET_UNDONE) {
		enum set_outcome out;
		struct set_transition t;

		if (set_step_blocks_signals(step))
			window_enter(&cr);
		out = run_step(&cr, step);
		/* A signal in the window cancels: undone, never retried. */
		if (cr.blocked && window_check(&cr) != SET_OK)
			out = SET_FAIL;
		t = set_machine_next(step, out, retries);

		ctx_log(ctx, SHADOW_LOG_DEBUG, "create the set: %s %s", set_step_name(step),
			out == SET_OK ? "done" : "failed");
		if (t.next == SET_DONE)
			set_id = cr.s->id;
		run_actions(&cr, t.actions, t.next != SET_DONE);
		if (t.retry) {
			retries--;
			ctx_log(ctx, SHADOW_LOG_WARNING, "%s; retrying (%u more %s left)",
				shadow_ctx_error(ctx), retries, retries == 1 ? "retry" : "retries");
			/* The writers blocked SIGPIPE before the window: unblock in reverse. */
			window_leave(&cr);
			attempt_clear(&cr);
			cr.r = 0;
		}
		step = t.next;
	}
	if (cr.interrupted)
		ctx_log(ctx, SHADOW_LOG_WARNING, "%s: the set was undone; %s is delivered now",
			shadow_ctx_error(ctx), signal_name(cr.interrupted));
	window_leave(&cr);
	attempt_clear(&cr);
	if (step == SET_UNDONE)
		return cr.r ? cr.r : -EIO;
	ctx_error_clear(ctx);
	ctx_log(ctx, SHADOW_LOG_INFO, "set %" PRIu64 ": %zu volume(s), frozen %" PRIu64 " µs",
		set_id, n, shadow_catalog_set(&ctx->cat, set_id)->freeze_us);
	if (ret)
		*ret = shadow_catalog_set(&ctx->cat, set_id);
	return 0;
}

int shadow_set_create(shadow_ctx *ctx, const char *const *volumes, size_t n,
		      uint64_t commit_timeout_us, shadow_set **ret)
{
	struct shadow_create_opts o = { .commit_timeout_us = commit_timeout_us };

	return shadow_set_create_with(ctx, volumes, n, &o, ret);
}

int shadow_set_delete(shadow_ctx *ctx, uint64_t id, unsigned int flags)
{
	struct shadow_set *s;
	int r;
	CTX_DM_LOG(ctx);

	check_ctx(ctx);
	check_arg(ctx, !(flags & ~(unsigned int)SHADOW_FORCE), "delete set %" PRIu64 ": unknown flags 0x%x",
		  id, flags);
	if (!ctx->opened)
		return ctx_fail(ctx, -EBADFD, "delete set %" PRIu64 ": the context is not open", id);
	if (ctx->readonly)
		return ctx_fail(ctx, -EROFS, "delete set %" PRIu64 ": the context is open read-only", id);
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

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl monitor [--once] [--config <file>] [<volume>...]: watch the
 * stores of the volumes and apply each one's policy (monitor.conf(5)):
 * warn when a store fills up, delete its oldest shadow copies, or raise
 * its limit, and log the copies the kernel invalidated when one overflowed.
 *
 * Waiting costs nothing: one thread per volume blocks in the device's
 * DM_DEVICE_WAITEVENT (libdevmapper, through shadow_event_wait()); the
 * target raises an event when usage passes a threshold (set from the
 * policy) and when it drops a snapshot.  A thread only wakes the main
 * thread, through a pipe.  The main thread also wakes when the catalog
 * changes (inotify: a volume enabled or disabled) and on signals (SIGHUP
 * reloads the configuration, SIGTERM/SIGINT stop).  Then it runs a pass:
 * take the catalog lock, look at every volume, act, release the lock.
 * The lock is never held while waiting, so shadowctl keeps working.
 *
 * Everything is logged on standard error, with sd-daemon(3) priority
 * prefixes when it goes to the journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ctl-columns.h"
#include "ctl-monitor.h"
#include "monitor-policy.h"

/*
 * How often to look again while a volume is not active (after a reboot,
 * before something loads it): loading a table changes nothing the monitor
 * could wait on.  Once every volume is active, nothing is polled.
 */
#define RESCAN_MS	60000

/*
 * How often to look again while a row volume's fold-back runs: the usage
 * it leaves is what the next delete, if any, is decided on.
 */
#define FOLD_RESCAN_MS	1000

/* One thread waiting for the events of one device. */
struct watcher {
	char *dm_name;
	uint32_t event_nr;		/* the counter when the thread started */
	atomic_bool gone;		/* the thread has ended */
	int wake_fd;
};

/* What the monitor remembers of a volume between passes. */
struct volume_state {
	char *name;
	bool warned;			/* usage above warn_above, said so */
	bool stuck_warned;		/* cannot act any more, said so */
	bool threshold_failed;		/* could not set thresholds, said so */
};

struct monitor {
	shadow_ctx *ctx;
	const char *config_path;
	struct monitor_conf conf;
	bool once;			/* one pass, no threads */
	bool verbose;
	char *const *only;		/* volumes named on the command line */
	int n_only;
	int wake[2];
	struct watcher **watchers;
	size_t n_watchers;
	struct volume_state *vols;
	size_t n_vols;
	bool inactive;			/* a watched volume was not active */
	bool folding;			/* a fold-back held up deletes */
	uint64_t *invalid_seen;		/* ids of invalid copies already logged */
	size_t n_invalid_seen;
};

static bool to_journal;

/* The journal reads "<N>" priority prefixes (sd-daemon(3)). */
static void detect_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	to_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		     fstat(STDERR_FILENO, &st) == 0 &&
		     (unsigned long long)st.st_dev == dev &&
		     (unsigned long long)st.st_ino == ino;
}

__attribute__((format(printf, 2, 3)))
static void mlog(int level, const char *fmt, ...)
{
	static const char *const words[] = {
		[LOG_ERR] = "error", [LOG_WARNING] = "warning",
		[LOG_NOTICE] = "notice", [LOG_INFO] = "info",
	};
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (to_journal)
		fprintf(stderr, "<%d>%s\n", level, msg);
	else
		fprintf(stderr, "shadowctl monitor: %s: %s\n",
			level >= 0 && level <= LOG_INFO && words[level] ? words[level] : "debug",
			msg);
}

/* The library's messages: repairs (an invalid copy marked, say) and errors. */
static void library_log(void *userdata, int level, const char *msg)
{
	const struct monitor *m = userdata;

	if (level <= SHADOW_LOG_WARNING || m->verbose)
		mlog(level, "%s", msg);
}

static void wake_main(int fd)
{
	/* A byte already in the pipe is enough: EAGAIN is fine. */
	(void)!write(fd, "e", 1);
}

static void *watch_events(void *p)
{
	struct watcher *w = p;
	uint32_t nr = w->event_nr;
	int fd = w->wake_fd, r;

	for (;;) {
		r = shadow_event_wait(w->dm_name, nr, &nr);
		if (r == -EINTR)
			continue;
		if (r < 0)
			break;		/* the device is gone */
		wake_main(fd);
	}
	/* From here on the main thread may start another thread on @w. */
	atomic_store(&w->gone, true);
	wake_main(fd);
	return NULL;
}

/*
 * A thread waiting on @dm_name, started unless one still runs.  The event
 * counter is read here, before the pass reads the store's status: any
 * event after that wakes the next pass.
 */
static int watch(struct monitor *m, const char *dm_name)
{
	struct watcher *w = NULL, **t;
	pthread_attr_t attr;
	pthread_t thread;
	int r;

	for (size_t i = 0; i < m->n_watchers; i++) {
		if (strcmp(m->watchers[i]->dm_name, dm_name) != 0)
			continue;
		if (!atomic_load(&m->watchers[i]->gone))
			return 0;
		w = m->watchers[i];	/* ended: reuse the slot */
	}
	if (!w) {
		t = realloc(m->watchers, (m->n_watchers + 1) * sizeof(*t));
		if (!t)
			return -ENOMEM;
		m->watchers = t;
		w = calloc(1, sizeof(*w));
		if (!w || !(w->dm_name = strdup(dm_name))) {
			free(w);
			return -ENOMEM;
		}
		w->wake_fd = m->wake[1];
		atomic_init(&w->gone, true);	/* until a thread runs */
		m->watchers[m->n_watchers++] = w;
	}
	r = shadow_event_counter(dm_name, &w->event_nr);
	if (r < 0)
		return r;
	atomic_store(&w->gone, false);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	r = -pthread_create(&thread, &attr, watch_events, w);
	pthread_attr_destroy(&attr);
	if (r < 0)
		atomic_store(&w->gone, true);
	return r;
}

static struct volume_state *volume_state(struct monitor *m, const char *name)
{
	struct volume_state *t;

	for (size_t i = 0; i < m->n_vols; i++)
		if (strcmp(m->vols[i].name, name) == 0)
			return &m->vols[i];
	t = realloc(m->vols, (m->n_vols + 1) * sizeof(*t));
	if (!t)
		return NULL;
	m->vols = t;
	t = &m->vols[m->n_vols];
	*t = (struct volume_state) { .name = strdup(name) };
	if (!t->name)
		return NULL;
	m->n_vols++;
	return t;
}

static bool watched(const struct monitor *m, const char *name)
{
	if (!m->n_only)
		return true;
	for (int i = 0; i < m->n_only; i++)
		if (strcmp(m->only[i], name) == 0)
			return true;
	return false;
}

static int read_usage(shadow_ctx *ctx, const shadow_volume *v, struct monitor_usage *ret,
		      bool *ret_failed)
{
	struct monitor_usage u = { .chunk_bytes = shadow_volume_chunk_bytes(v) };
	int r;

	r = shadow_volume_storage(ctx, v, &u.used, &u.limit, NULL, NULL, NULL, ret_failed);
	if (r >= 0)
		r = shadow_volume_storage_capacity(ctx, v, &u.capacity);
	if (r < 0)
		return r;
	*ret = u;
	return 0;
}

/* The oldest valid copy of @volume that no one has exposed, or NULL. */
static const shadow_copy *oldest_deletable(shadow_ctx *ctx, const char *volume)
{
	shadow_copy *const *c;
	const shadow_copy *oldest = NULL;
	size_t n = shadow_ctx_copies(ctx, &c);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(shadow_copy_volume(c[i]), volume) != 0 ||
		    shadow_copy_state(c[i]) != SHADOW_COPY_VALID ||
		    shadow_copy_device(c[i]))
			continue;
		if (!oldest || shadow_copy_created(c[i]) < shadow_copy_created(oldest) ||
		    (shadow_copy_created(c[i]) == shadow_copy_created(oldest) &&
		     shadow_copy_snapshot(c[i]) < shadow_copy_snapshot(oldest)))
			oldest = c[i];
	}
	return oldest;
}

/*
 * The usage to decide a delete on: 0 and @ret filled, 1 while the
 * volume's fold-back walk runs (or waits to), or a negative errno.  A row
 * store frees what a delete released only as that walk goes, and the
 * delete returns before it: until the walk is done the usage overstates,
 * and deleting on would take copies that need not go.  The walk is looked
 * at first, and the usage read after it is seen done: read the other way
 * round, a walk ending between the two reads leaves a usage from before it.
 */
static int settled_usage(shadow_ctx *ctx, const char *name, struct monitor_usage *ret)
{
	const shadow_volume *v = shadow_ctx_find_volume(ctx, name);
	bool failed;
	int r;

	if (!v)
		return -ENOENT;
	r = shadow_volume_fold_progress(ctx, v, NULL, NULL);
	if (r != 0)
		return r > 0 ? 1 : r;
	return read_usage(ctx, v, ret, &failed);
}

/*
 * Log a delete with the usage it left, read into @u.  A row store's
 * chunks are freed as its fold-back walk goes, after this: its figure
 * still counts them.  Returns the read's error (the delete is logged
 * without a figure then).
 */
static int log_deleted(shadow_ctx *ctx, const char *name, uint64_t id, const char *created,
		       struct monitor_usage *u)
{
	/* The catalog changed: look the volume up again. */
	const shadow_volume *v = shadow_ctx_find_volume(ctx, name);
	bool failed;
	int r = v ? read_usage(ctx, v, u, &failed) : -ENOENT;

	if (r == 0)
		mlog(LOG_NOTICE, "volume %s: deleted shadow copy %" PRIu64 " (created %s), the oldest: store now %u%% full",
		     name, id, created, monitor_percent(u));
	else
		mlog(LOG_NOTICE, "volume %s: deleted shadow copy %" PRIu64 " (created %s), the oldest",
		     name, id, created);
	return r;
}

/*
 * delete-oldest: from act_above, delete copies until at delete_until.
 * Each delete is decided on a settled usage: @u, or the last delete's,
 * may be from before a fold-back walk ended, and a walk that runs holds
 * the deletes up (the monitor looks again soon: m->folding).
 */
static void delete_oldest(struct monitor *m, struct volume_state *st,
			  const struct monitor_policy *p, struct monitor_usage u)
{
	bool deleting = false;

	while (monitor_should_delete(p, &u, deleting)) {
		const shadow_copy *c;
		char created[32];
		uint64_t id;
		int r;

		r = settled_usage(m->ctx, st->name, &u);
		if (r > 0)
			m->folding = true;
		if (r != 0)
			return;
		if (!monitor_should_delete(p, &u, deleting))
			break;
		c = oldest_deletable(m->ctx, st->name);
		if (!c) {
			if (!st->stuck_warned)
				mlog(LOG_WARNING, "volume %s: store %u%% full and no shadow copy left that can be deleted (exposed copies are kept)",
				     st->name, monitor_percent(&u));
			st->stuck_warned = true;
			return;
		}
		id = shadow_copy_id(c);
		ctl_iso_time(shadow_copy_created(c), created);
		r = shadow_copy_delete(m->ctx, id, 0);
		if (r < 0) {
			mlog(LOG_ERR, "volume %s: failed to delete shadow copy %" PRIu64 ": %s: %s",
			     st->name, id, shadow_ctx_error(m->ctx), strerror(-r));
			return;
		}
		if (log_deleted(m->ctx, st->name, id, created, &u) < 0)
			return;
		deleting = true;
	}
	st->stuck_warned = false;
}

/* grow: raise the limit by steps while usage is at or above act_above. */
static void grow(struct monitor *m, struct volume_state *st,
		 const struct monitor_policy *p, const struct monitor_usage *u)
{
	bool capped;
	uint64_t limit = monitor_grow_limit(p, u, &capped);
	int r;

	if (limit) {
		r = shadow_volume_resize(m->ctx, st->name, limit * u->chunk_bytes, 0);
		if (r < 0) {
			mlog(LOG_ERR, "volume %s: failed to %s: %s", st->name,
			     shadow_ctx_error(m->ctx), strerror(-r));
			return;
		}
		mlog(LOG_NOTICE, "volume %s: store grown from %" PRIu64 "K to %" PRIu64 "K of %" PRIu64 "K (it was %u%% full)",
		     st->name, u->limit * u->chunk_bytes >> 10, limit * u->chunk_bytes >> 10,
		     u->capacity * u->chunk_bytes >> 10, monitor_percent(u));
	}
	if (capped && !st->stuck_warned)
		mlog(LOG_WARNING, "volume %s: store cannot grow past %" PRIu64 "K (grow_max or its device): the oldest shadow copies will be dropped when it fills",
		     st->name, (limit ? limit : u->limit) * u->chunk_bytes >> 10);
	st->stuck_warned = capped;
}

static void check_volume(struct monitor *m, const shadow_volume *v)
{
	const char *name = shadow_volume_name(v);
	const struct monitor_policy *p = monitor_conf_policy(&m->conf, name);
	struct volume_state *st = volume_state(m, name);
	struct monitor_usage u;
	unsigned int t[2];
	bool failed = false;
	size_t n;
	int r;

	if (!st)
		return;
	/* A clone's failure raises an event too: log_invalid() says so. */
	r = m->once ? 0 : watch(m, shadow_volume_dm_name(v));
	if (r < 0)
		mlog(LOG_ERR, "volume %s: failed to wait for its events: %s", name, strerror(-r));
	/* A clone store keeps metadata only: no data to fill, nothing to delete or grow. */
	if (strcmp(shadow_volume_method(v), "clone") == 0)
		return;
	/* Thresholds before usage: a crossing in between is then an event. */
	n = monitor_thresholds(p, t);
	r = shadow_volume_set_thresholds(m->ctx, name, t, n);
	if (r < 0 && !st->threshold_failed)
		mlog(LOG_WARNING, "volume %s: failed to %s: %s", name,
		     shadow_ctx_error(m->ctx), strerror(-r));
	st->threshold_failed = r < 0;
	r = read_usage(m->ctx, v, &u, &failed);
	if (r < 0) {
		mlog(LOG_ERR, "volume %s: failed to %s: %s", name, shadow_ctx_error(m->ctx),
		     strerror(-r));
		return;
	}
	if (failed) {
		if (!st->stuck_warned)
			mlog(LOG_ERR, "volume %s: its store failed: every shadow copy is invalid (see the kernel log)",
			     name);
		st->stuck_warned = true;
		return;
	}
	if (monitor_above(&u, p->warn_above)) {
		if (!st->warned)
			mlog(LOG_WARNING, "volume %s: store %u%% full: %" PRIu64 "K of %" PRIu64 "K in use",
			     name, monitor_percent(&u), u.used * u.chunk_bytes >> 10,
			     u.limit * u.chunk_bytes >> 10);
		st->warned = true;
	} else {
		st->warned = false;
	}
	if (p->action == MONITOR_DELETE_OLDEST)
		delete_oldest(m, st, p, u);
	else if (p->action == MONITOR_GROW)
		grow(m, st, p, &u);
}

static bool invalid_seen(struct monitor *m, uint64_t id)
{
	for (size_t i = 0; i < m->n_invalid_seen; i++)
		if (m->invalid_seen[i] == id)
			return true;
	return false;
}

/* Log each copy the kernel invalidated (the catalog's repair marked it). */
static void log_invalid(struct monitor *m)
{
	shadow_copy *const *c;
	size_t n = shadow_ctx_copies(m->ctx, &c), k = 0;
	uint64_t *seen = calloc(n ? n : 1, sizeof(*seen));

	if (!seen)
		return;
	for (size_t i = 0; i < n; i++) {
		char created[32];

		if (shadow_copy_state(c[i]) != SHADOW_COPY_INVALID ||
		    !watched(m, shadow_copy_volume(c[i])))
			continue;
		seen[k++] = shadow_copy_id(c[i]);
		if (invalid_seen(m, shadow_copy_id(c[i])))
			continue;
		ctl_iso_time(shadow_copy_created(c[i]), created);
		if (strcmp(shadow_copy_method(c[i]), "clone") == 0)
			mlog(LOG_WARNING, "volume %s: clone %" PRIu64 " (created %s) failed: a write to its target %s failed (see the kernel log); delete it",
			     shadow_copy_volume(c[i]), shadow_copy_id(c[i]), created,
			     shadow_copy_target(c[i]) ? shadow_copy_target(c[i]) : "-");
		else
			mlog(LOG_WARNING, "volume %s: shadow copy %" PRIu64 " (created %s) is invalid: its store overflowed and the kernel dropped it",
			     shadow_copy_volume(c[i]), shadow_copy_id(c[i]), created);
	}
	/* Forget the deleted ones. */
	free(m->invalid_seen);
	m->invalid_seen = seen;
	m->n_invalid_seen = k;
}

/* One pass: lock, look at every volume, act, unlock.  Only opening fails. */
static int pass(struct monitor *m)
{
	shadow_volume *const *v;
	size_t n;
	int r;

	r = shadow_ctx_open(m->ctx, SHADOW_OPEN_WAIT);
	if (r < 0) {
		shadow_ctx_close(m->ctx);
		return r;
	}
	log_invalid(m);
	m->inactive = false;
	m->folding = false;
	n = shadow_ctx_volumes(m->ctx, &v);
	for (size_t i = 0; i < n; i++) {
		/* Acting changes the catalog: take the array again each time. */
		n = shadow_ctx_volumes(m->ctx, &v);
		if (i >= n)
			break;
		if (!watched(m, shadow_volume_name(v[i])))
			continue;
		if (shadow_volume_state(v[i]) == SHADOW_VOLUME_ACTIVE)
			check_volume(m, v[i]);
		else
			m->inactive = true;
	}
	shadow_ctx_close(m->ctx);
	return 0;
}

static int check_named_volumes(struct monitor *m, char *what, size_t len)
{
	int r = shadow_ctx_open(m->ctx, SHADOW_OPEN_WAIT);

	if (r < 0)
		return r;
	for (int i = 0; i < m->n_only; i++)
		if (!shadow_ctx_find_volume(m->ctx, m->only[i])) {
			snprintf(what, len, "monitor volume %s: no such volume", m->only[i]);
			r = -ENOENT;
			break;
		}
	shadow_ctx_close(m->ctx);
	return r;
}

static int load_conf(struct monitor *m, char *what, size_t len)
{
	char why[512];
	int r;

	r = monitor_conf_load(m->config_path, &m->conf, why, sizeof(why));
	if (r < 0 && what)
		snprintf(what, len, "read the monitor configuration %s: %s", m->config_path, why);
	else if (r < 0)
		mlog(LOG_ERR, "failed to read the monitor configuration %s: %s; keeping the previous one",
		     m->config_path, why);
	return r;
}

/* SIGTERM/SIGINT stop, SIGHUP reloads: read through a signalfd. */
static int signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Before any thread starts, so that they all inherit the mask. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Wake on a change of the catalog file (a volume enabled or disabled). */
static int catalog_watch(shadow_ctx *ctx)
{
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, shadow_ctx_state_dir(ctx),
			      IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static bool catalog_changed(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t len;

	while ((len = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *e = (const struct inotify_event *)p;

			if (e->len && strcmp(e->name, "catalog.json") == 0)
				changed = true;
			p += sizeof(*e) + e->len;
		}
	}
	return changed;
}

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* How long to wait for an event before a pass of its own (-1: none). */
static int poll_timeout(const struct monitor *m)
{
	if (m->folding)
		return FOLD_RESCAN_MS;
	return m->inactive ? RESCAN_MS : -1;
}

/* Returns only on SIGTERM or SIGINT. */
static int run_loop(struct monitor *m, int sfd, int ifd)
{
	struct pollfd fds[3] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = m->wake[0], .events = POLLIN },
		{ .fd = ifd, .events = POLLIN },
	};

	for (;;) {
		bool run = false;
		int r;

		r = poll(fds, ifd >= 0 ? 3 : 2, poll_timeout(m));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			run = true;
		if (fds[0].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo != SIGHUP) {
					mlog(LOG_INFO, "stopping on signal %u", si.ssi_signo);
					return 0;
				}
				if (load_conf(m, NULL, 0) == 0)
					mlog(LOG_INFO, "configuration %s reloaded", m->config_path);
				run = true;
			}
		}
		if (fds[1].revents) {
			drain(m->wake[0]);
			run = true;
		}
		if (ifd >= 0 && fds[2].revents && catalog_changed(ifd))
			run = true;
		if (run && (r = pass(m)) < 0)
			mlog(LOG_ERR, "failed to %s: %s", shadow_ctx_error(m->ctx), strerror(-r));
	}
}

int ctl_monitor(shadow_ctx *ctx, const struct ctl_args *a, char *what, size_t what_len)
{
	struct monitor m = {
		.ctx = ctx,
		.config_path = a->config ? a->config : MONITOR_DEFAULT_CONFIG,
		.once = a->opts & OPT_ONCE,
		.verbose = a->verbose,
		.only = a->args,
		.n_only = a->nargs,
		.wake = { -1, -1 },
	};
	int sfd, ifd, r;

	detect_journal();
	shadow_ctx_set_log(ctx, library_log, &m);
	monitor_conf_init(&m.conf);
	r = load_conf(&m, what, what_len);
	if (r < 0)
		return r;
	r = check_named_volumes(&m, what, what_len);
	if (r < 0)
		return r;
	if (m.once) {
		/* No threads: a pass, and an exit status that says how it went. */
		r = pass(&m);
		shadow_ctx_set_log(ctx, NULL, NULL);
		monitor_conf_clear(&m.conf);
		return r < 0 ? r : 0;
	}
	sfd = signals_fd();
	if (sfd < 0)
		return sfd;
	if (pipe2(m.wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	r = pass(&m);
	if (r < 0)
		return r;
	ifd = catalog_watch(ctx);
	if (ifd < 0)
		mlog(LOG_WARNING, "cannot watch the catalog (%s): volumes enabled from now on are seen at their next event only",
		     strerror(-ifd));
	mlog(LOG_INFO, "monitoring %zu volume%s (configuration %s)", m.n_vols,
	     m.n_vols == 1 ? "" : "s", m.config_path);
	r = run_loop(&m, sfd, ifd);
	/*
	 * The watcher threads stay in an ioctl that only an event ends, until
	 * the process exits: they touch their struct watcher (left allocated
	 * for them) and libdevmapper, never @ctx, which the caller frees.
	 */
	shadow_ctx_set_log(ctx, NULL, NULL);
	monitor_conf_clear(&m.conf);
	return r < 0 ? r : 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The writer runtime: the event loop, the order of events, the answers,
 * writers.conf, logging and the undo paths.  See writer.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "writer.h"

#ifndef WRITERS_CONF
#error "WRITERS_CONF (the default writers.conf path) must be defined by the build"
#endif

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

void writer_log(struct writer *w, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	fprintf(stderr, "%s: ", w->name);
	va_start(ap, fmt);
	errno = saved;
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	errno = saved;
}

int writer_fail(struct writer *w, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->message, sizeof(w->message), fmt, ap);
	va_end(ap);
	return r < 0 ? r : -EIO;
}

void writer_note(struct writer *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->message, sizeof(w->message), fmt, ap);
	va_end(ap);
}

int set_strf(char **p, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	free(*p);
	*p = s;
	return 0;
}

bool writer_component_selected(const struct writer *w, const char *name)
{
	for (size_t i = 0; i < w->n_components; i++)
		if (!strcmp(w->components[i], name))
			return true;
	return false;
}

static int strv_add(char ***v, size_t *n, const char *s)
{
	char **t = realloc(*v, (*n + 1) * sizeof(**v));

	if (!t)
		return -ENOMEM;
	*v = t;
	t[*n] = strdup(s);
	if (!t[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int metadata_add_component(struct shadow_proto_metadata *m, const char *name)
{
	struct shadow_proto_component *t;

	t = realloc(m->components, (m->n_components + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	m->components = t;
	t[m->n_components] = (struct shadow_proto_component) { .name = strdup(name) };
	if (!t[m->n_components].name)
		return -ENOMEM;
	m->n_components++;
	return 0;
}

int metadata_add_path(struct shadow_proto_metadata *m, const char *path)
{
	struct shadow_proto_component *c = &m->components[m->n_components - 1];

	for (size_t i = 0; i < c->n_paths; i++)
		if (!strcmp(c->paths[i], path))
			return 0;
	return strv_add(&c->paths, &c->n_paths, path);
}

int metadata_add_exclude(struct shadow_proto_metadata *m, const char *path)
{
	struct shadow_proto_component *c = &m->components[m->n_components - 1];

	return strv_add(&c->exclude, &c->n_exclude, path);
}

/* ------------------------------------------------------------------------
 * Events
 */

/* The phase an event needs, and the one it leads to. */
static const struct {
	enum writer_phase from;
	enum writer_phase to;
	const char *after;	/* for the message when out of order */
} order[_SHADOW_EVENT_MAX] = {
	[SHADOW_EVENT_IDENTIFY]      = { WRITER_START, WRITER_IDENTIFIED, NULL },
	[SHADOW_EVENT_PREPARE]       = { WRITER_IDENTIFIED, WRITER_PREPARED, "identify" },
	[SHADOW_EVENT_FREEZE]        = { WRITER_PREPARED, WRITER_FROZEN, "prepare" },
	[SHADOW_EVENT_THAW]          = { WRITER_FROZEN, WRITER_THAWED, "freeze" },
	[SHADOW_EVENT_POST_SNAPSHOT] = { WRITER_THAWED, WRITER_DONE, "thaw" },
};

static void release(struct writer *w)
{
	if (w->ops->release)
		w->ops->release(w);
}

static int do_identify(struct writer *w, struct shadow_proto_request *req,
		       struct shadow_proto_answer *a)
{
	struct shadow_proto_metadata *m = &w->metadata;
	int r;

	if (req->protocol != SHADOW_PROTO_VERSION)
		return writer_fail(w, -EPROTONOSUPPORT,
				   "protocol version %d is not supported (this writer speaks %d)",
				   req->protocol, SHADOW_PROTO_VERSION);
	/* Keep the volumes: writers look at them (the hook writer does). */
	w->set = req->set;
	w->volumes = TAKE_PTR(req->volumes);
	w->n_volumes = req->n_volumes;
	req->n_volumes = 0;

	m->writer = strdup(w->ops->kind);
	m->application = strdup("");
	if (!m->writer || !m->application)
		return writer_fail(w, -ENOMEM, "out of memory");
	if (w->ops->identify) {
		r = w->ops->identify(w, m);
		if (r < 0)
			return r;
	}
	r = shadow_proto_metadata_encode(m, &a->metadata);
	if (r < 0)
		return writer_fail(w, r, "the writer's metadata is not valid (a bug)");
	return 0;
}

static int do_prepare(struct writer *w, struct shadow_proto_request *req)
{
	for (size_t i = 0; i < req->n_components; i++) {
		bool known = false;

		for (size_t j = 0; j < w->metadata.n_components; j++)
			known |= !strcmp(w->metadata.components[j].name,
					 req->components[i]);
		if (!known)
			return writer_fail(w, -EINVAL, "prepare names component '%s', which identify did not report",
					   req->components[i]);
	}
	w->components = TAKE_PTR(req->components);
	w->n_components = req->n_components;
	req->n_components = 0;
	if (w->n_components == 0)
		return writer_fail(w, -EINVAL, "prepare names no component");
	return w->ops->prepare ? w->ops->prepare(w) : 0;
}

static int dispatch(struct writer *w, struct shadow_proto_request *req,
		    struct shadow_proto_answer *a)
{
	enum shadow_proto_event e = req->event;
	int r = 0;

	if (w->conf_r < 0)
		return writer_fail(w, w->conf_r, "%s", w->conf.error);

	if (e == SHADOW_EVENT_ABORT) {
		/* Before prepare there is nothing to undo but connections. */
		if (w->phase >= WRITER_PREPARED && w->phase <= WRITER_DONE &&
		    w->ops->abort)
			r = w->ops->abort(w);
		release(w);
		w->phase = WRITER_ABORTED;
		return r;
	}
	if (w->phase != order[e].from) {
		if (w->phase == WRITER_ABORTED || w->phase == WRITER_FAILED ||
		    w->phase == WRITER_DONE)
			return writer_fail(w, -EPROTO, "'%s' after the set was %s",
					   shadow_proto_event_name(e),
					   w->phase == WRITER_DONE ? "completed" :
					   w->phase == WRITER_ABORTED ? "aborted" :
					   "failed by this writer");
		if (!order[e].after)
			return writer_fail(w, -EPROTO, "'identify' again");
		return writer_fail(w, -EPROTO, "'%s' out of order: it comes only right after '%s'",
				   shadow_proto_event_name(e), order[e].after);
	}

	switch (e) {
	case SHADOW_EVENT_IDENTIFY:
		r = do_identify(w, req, a);
		break;
	case SHADOW_EVENT_PREPARE:
		r = do_prepare(w, req);
		break;
	case SHADOW_EVENT_FREEZE:
		if (w->ops->freeze)
			r = w->ops->freeze(w, req->timeout_ms);
		break;
	case SHADOW_EVENT_THAW:
		a->held = true;
		if (w->ops->thaw)
			r = w->ops->thaw(w, &a->held);
		break;
	case SHADOW_EVENT_POST_SNAPSHOT:
		if (w->ops->post_snapshot)
			r = w->ops->post_snapshot(w, req, &a->data);
		break;
	default:
		return writer_fail(w, -EPROTO, "unknown event");
	}
	if (r >= 0)
		w->phase = order[e].to;
	return r;
}

static int answer(struct writer *w, enum shadow_proto_event e,
		  struct shadow_proto_answer *a)
{
	_cleanup_free_ char *line = NULL;
	size_t len;
	int r;

	a->message = w->message[0] ? w->message : NULL;
	r = shadow_proto_answer_encode(e, a, &line, &len);
	a->message = NULL;
	if (r == -EMSGSIZE) {
		/* Only "data" can be that long: say so instead. */
		writer_log(w, "answer to '%s' longer than %d bytes; answering error",
			   shadow_proto_event_name(e), SHADOW_PROTO_LINE_MAX);
		shadow_proto_answer_clear(a);
		*a = (struct shadow_proto_answer) {
			.message = (char *)"answer too long for the protocol",
		};
		r = shadow_proto_answer_encode(e, a, &line, &len);
		a->message = NULL;
	}
	if (r < 0)
		return r;
	return shadow_proto_write_line(STDOUT_FILENO, line, len);
}

/* Handle one request line; < 0: stop (answer could not be written). */
static int handle_line(struct writer *w, const char *line)
{
	struct shadow_proto_request req = {};
	struct shadow_proto_answer a = {};
	enum shadow_proto_event e;
	char why[256];
	int r;

	w->message[0] = '\0';
	r = shadow_proto_request_decode(line, &req, why, sizeof(why));
	if (r == -EOPNOTSUPP) {
		/* An event of a later version: say no, and go on. */
		writer_fail(w, r, "%s (this writer speaks protocol %d)", why, SHADOW_PROTO_VERSION);
		writer_log(w, "%s", w->message);
		return answer(w, SHADOW_EVENT_ABORT, &a);
	}
	if (r < 0) {
		writer_log(w, "protocol error: %s; giving up", why);
		return -EBADMSG;
	}

	e = req.event;
	r = dispatch(w, &req, &a);
	if (r < 0) {
		a.ok = false;
		writer_log(w, "%s failed: %s", shadow_proto_event_name(e),
			   w->message[0] ? w->message : strerror(-r));
		if (e != SHADOW_EVENT_ABORT && w->phase != WRITER_FAILED &&
		    w->phase != WRITER_ABORTED && w->phase != WRITER_DONE) {
			/* The coordinator kills a failed writer: undo now. */
			release(w);
			w->phase = WRITER_FAILED;
		}
	} else {
		a.ok = true;
	}
	r = answer(w, e, &a);
	shadow_proto_answer_clear(&a);
	shadow_proto_request_clear(&req);
	return r;
}

/* ------------------------------------------------------------------------
 * Setup and the loop
 */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void setup_signals(sigset_t *ret_waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	sigset_t block;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/*
	 * Blocked except while waiting for a request: an operation is never
	 * cut in half, and the signal is seen at the next wait.
	 */
	sigprocmask(SIG_BLOCK, &block, ret_waitmask);
	sigdelset(ret_waitmask, SIGTERM);
	sigdelset(ret_waitmask, SIGINT);
	sigdelset(ret_waitmask, SIGHUP);
}

static void writer_clear(struct writer *w)
{
	for (size_t i = 0; i < w->n_volumes; i++) {
		free(w->volumes[i].name);
		free(w->volumes[i].device);
		free(w->volumes[i].mountpoint);
	}
	free(w->volumes);
	for (size_t i = 0; i < w->n_components; i++)
		free(w->components[i]);
	free(w->components);
	shadow_proto_metadata_clear(&w->metadata);
	writer_conf_clear(&w->conf);
	free(w->priv);
}

/* Wait for, read and handle requests until EOF: the exit status. */
static int loop(struct writer *w, const sigset_t *waitmask)
{
	struct shadow_proto_reader *rd;
	char why[256];
	int r;

	rd = malloc(sizeof(*rd));
	if (!rd) {
		writer_log(w, "out of memory");
		return 1;
	}
	shadow_proto_reader_init(rd, STDIN_FILENO);
	for (;;) {
		_cleanup_free_ char *line = NULL;
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

		r = shadow_proto_read_line(rd, &line, why, sizeof(why));
		if (r == -EAGAIN) {
			if (ppoll(&p, 1, NULL, waitmask) < 0 && errno != EINTR) {
				writer_log(w, "poll: %m");
				r = 1;
				break;
			}
			if (got_signal) {
				writer_log(w, "%s: undoing what is held and exiting",
					   strsignal(got_signal));
				r = 128 + got_signal;
				break;
			}
			continue;
		}
		if (r == 0) {
			r = 0;	/* EOF: the coordinator is done with us */
			break;
		}
		if (r < 0) {
			writer_log(w, "protocol error reading a request: %s; giving up",
				   why[0] ? why : strerror(-r));
			r = 2;
			break;
		}
		r = handle_line(w, line);
		if (r == -EBADMSG) {
			r = 2;
			break;
		}
		if (r < 0) {
			writer_log(w, "cannot answer: %s; giving up", strerror(-r));
			r = 1;
			break;
		}
	}
	free(rd);
	release(w);
	return r;
}

int writer_main(const struct writer_ops *ops, int argc, char **argv)
{
	struct writer w = { .ops = ops, .name = ops->kind };
	const char *conf = getenv("SHADOW_WRITER_CONF");
	sigset_t waitmask;
	int flags, r;

	if (argc > 0 && argv[0] && *base_name(argv[0]))
		w.name = base_name(argv[0]);
	if (argc > 1) {
		fprintf(stderr, "%s: a dm-shadow writer takes no arguments; it speaks the protocol of shadow-writer(7) on stdin and stdout (see shadow-writers(8))\n",
			w.name);
		return 2;
	}
	w.priv = calloc(1, ops->priv_size ? ops->priv_size : 1);
	if (!w.priv) {
		writer_log(&w, "out of memory");
		return 1;
	}

	w.conf_r = writer_conf_load(&w.conf, conf && *conf ? conf : WRITERS_CONF,
				    w.name, ops->kind, ops->keys);
	if (w.conf_r < 0)
		writer_log(&w, "%s", w.conf.error);

	setup_signals(&waitmask);
	flags = fcntl(STDIN_FILENO, F_GETFL);
	if (flags < 0 || fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK) < 0) {
		writer_log(&w, "stdin: %m");
		writer_clear(&w);
		return 1;
	}
	r = loop(&w, &waitmask);
	fcntl(STDIN_FILENO, F_SETFL, flags);
	writer_clear(&w);
	return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The coordinator's side of the writer protocol: the writers directory,
 * the writer processes, one request and answer at a time with all of them
 * under one deadline, abort, stop.  See shadow-writers.h and
 * shadow-writer(7).
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include "shadow-ctx.h"
#include "shadow-kernel.h"
#include "shadow-states.h"
#include "shadow-writers.h"

extern char **environ;

/* ------------------------------------------------------------------------
 * The writers directory
 */

void shadow_writer_free(struct shadow_writer *w)
{
	if (!w)
		return;
	free(w->name);
	free(w->path);
	free(w->refused);
	free(w);
}

void writers_list_free(struct shadow_writer **w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		shadow_writer_free(w[i]);
	free(w);
}

bool writer_name_valid(const char *name)
{
	if (!name || !*name)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

/*
 * Why @st (of @what) may not be trusted to hold a writer, or NULL: it must
 * be owned by root and writable by root only.
 */
static int untrusted(const struct stat *st, const char *what, char **ret)
{
	const char *why = NULL;
	char uid[48];

	if (st->st_uid != 0) {
		snprintf(uid, sizeof(uid), "owned by uid %u, not root", (unsigned int)st->st_uid);
		why = uid;
	} else if (st->st_mode & S_IWGRP) {
		why = "group-writable";
	} else if (st->st_mode & S_IWOTH) {
		why = "world-writable";
	}
	*ret = NULL;
	if (why && asprintf(ret, "%s is %s", what, why) < 0)
		return -ENOMEM;
	return 0;
}

static int dir_untrusted(const char *dir, char **ret)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return asprintf(ret, "%s: %s", dir, strerror(errno)) < 0 ? -ENOMEM : 0;
	if (!S_ISDIR(st.st_mode))
		return asprintf(ret, "%s is not a directory", dir) < 0 ? -ENOMEM : 0;
	return untrusted(&st, dir, ret);
}

/* Why the entry @path may not run, or NULL. */
static int entry_refused(const char *path, char **ret)
{
	_cleanup_free_ char *target = NULL;
	struct stat st;
	char *slash;

	*ret = NULL;
	if (lstat(path, &st) < 0)
		return asprintf(ret, "%s: %s", path, strerror(errno)) < 0 ? -ENOMEM : 0;
	if (S_ISLNK(st.st_mode)) {
		target = realpath(path, NULL);
		if (!target)
			return asprintf(ret, "%s: its symlink leads nowhere: %s", path,
					strerror(errno)) < 0 ? -ENOMEM : 0;
		if (stat(target, &st) < 0)
			return asprintf(ret, "%s: %s", target, strerror(errno)) < 0 ? -ENOMEM : 0;
	} else {
		target = strdup(path);
		if (!target)
			return -ENOMEM;
	}
	if (!S_ISREG(st.st_mode))
		return asprintf(ret, "%s is not a regular file", target) < 0 ? -ENOMEM : 0;
	if (!(st.st_mode & 0111))
		return asprintf(ret, "%s is not executable", target) < 0 ? -ENOMEM : 0;
	if (untrusted(&st, target, ret) < 0)
		return -ENOMEM;
	if (*ret)
		return 0;
	/* The directory holding the file (for a plain entry: the writers dir). */
	slash = strrchr(target, '/');
	if (slash && slash != target)
		*slash = '\0';
	else
		strcpy(target, "/");
	return dir_untrusted(target, ret);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp((*(struct shadow_writer *const *)a)->name,
		      (*(struct shadow_writer *const *)b)->name);
}

int writers_scan(const char *dir, struct shadow_writer ***ret, size_t *ret_n)
{
	_cleanup_free_ char *dir_bad = NULL;
	struct shadow_writer **list = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT) {
			*ret = NULL;
			*ret_n = 0;
			return 0;
		}
		return negative_errno();
	}
	if (dir_untrusted(dir, &dir_bad) < 0) {
		closedir(d);
		return -ENOMEM;
	}
	while ((errno = 0, de = readdir(d))) {
		struct shadow_writer *w, **t;

		if (!writer_name_valid(de->d_name))
			continue;	/* dots, backups: ignored, as run-parts does */
		w = calloc(1, sizeof(*w));
		t = realloc(list, (n + 1) * sizeof(*list));
		if (!w || !t) {
			free(w);
			if (t)
				list = t;
			r = -ENOMEM;
			break;
		}
		list = t;
		list[n++] = w;
		w->name = strdup(de->d_name);
		if (!w->name || asprintf(&w->path, "%s/%s", dir, de->d_name) < 0) {
			w->path = NULL;
			r = -ENOMEM;
			break;
		}
		if (dir_bad)
			w->refused = strdup(dir_bad);
		else if (entry_refused(w->path, &w->refused) < 0)
			w->refused = NULL, r = -ENOMEM;
		if (r < 0 || (dir_bad && !w->refused)) {
			r = -ENOMEM;
			break;
		}
	}
	if (r == 0 && errno)
		r = negative_errno();
	closedir(d);
	if (r < 0) {
		writers_list_free(list, n);
		return r;
	}
	if (n)
		qsort(list, n, sizeof(*list), cmp_names);
	*ret = list;
	*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------------------
 * Processes
 */

static uint64_t deadline_in(uint64_t us)
{
	return now_us() + us;
}

static int ms_until(uint64_t deadline)
{
	uint64_t now = now_us();

	if (now >= deadline)
		return 0;
	return (int)((deadline - now + 999) / 1000);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The environment of a writer: ours, with the protocol's two variables. */
static int build_envp(const char *conf, char ***ret)
{
	size_t n = 0, k = 0;
	char **envp;

	while (environ && environ[n])
		n++;
	envp = calloc(n + 3, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "SHADOW_WRITER_CONF=", 19) == 0 ||
		    strncmp(environ[i], "SHADOW_PROTOCOL=", 16) == 0)
			continue;
		envp[k] = strdup(environ[i]);
		if (!envp[k])
			goto oom;
		k++;
	}
	if (asprintf(&envp[k], "SHADOW_WRITER_CONF=%s", conf) < 0) {
		envp[k] = NULL;
		goto oom;
	}
	k++;
	if (asprintf(&envp[k], "SHADOW_PROTOCOL=%d", SHADOW_PROTO_VERSION) < 0) {
		envp[k] = NULL;
		goto oom;
	}
	*ret = envp;
	return 0;
oom:
	for (size_t i = 0; envp[i]; i++)
		free(envp[i]);
	free(envp);
	return -ENOMEM;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A pipe whose two ends are above stdin/stdout/stderr, close-on-exec. */
static int pipe_high(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return negative_errno();
	for (int i = 0; i < 2; i++)
		if (fds[i] < 3) {
			int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);

			if (fd < 0) {
				int r = negative_errno();

				close(fds[0]);
				close(fds[1]);
				return r;
			}
			close(fds[i]);
			fds[i] = fd;
		}
	return 0;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
_Noreturn static void exec_writer(const char *path, char **envp, int in, int out)
{
	char *const argv[] = { (char *)path, NULL };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	/* Its own process group: a kill reaches whatever it started. */
	(void)setpgid(0, 0);
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
		_exit(127);
	/* Nothing of ours leaks into it: not the lock, not /dev/mapper/control. */
	if (close_range(3, ~0U, 0) < 0)
		for (int fd = 3; fd < 1024; fd++)
			(void)close(fd);
	if (chdir("/") < 0)
		_exit(127);
	(void)sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, envp);
	_exit(127);
}

static int spawn(struct writer_run *run, struct writer_proc *w)
{
	int in[2], out[2], r;
	pid_t pid;

	r = pipe_high(in);
	if (r < 0)
		return r;
	r = pipe_high(out);
	if (r < 0) {
		close(in[0]);
		close(in[1]);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = negative_errno();
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return r;
	}
	if (pid == 0)
		exec_writer(w->entry->path, run->envp, in[0], out[1]);
	/* Both sides set the group, so a kill right after fork reaches it. */
	(void)setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	w->pid = pid;
	w->in_fd = in[1];
	w->out_fd = out[0];
	/* Both of our ends: poll() decides, nothing blocks past a deadline. */
	if (fcntl(w->out_fd, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(w->in_fd, F_SETFL, O_NONBLOCK) < 0)
		return negative_errno();
	shadow_proto_reader_init(w->reader, w->out_fd);
	ctx_log(run->ctx, SHADOW_LOG_DEBUG, "writer %s: started %s, pid %d",
		w->entry->name, w->entry->path, (int)pid);
	return 0;
}

/* Describe how @status ended a process. */
static void exit_text(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "status %#x", status);
}

/*
 * Reap @w, waiting up to @deadline.  Before reaping the leader, whatever
 * is left of its process group is killed: a writer leaves nothing behind.
 * Returns 1 when reaped (status in *ret_status), 0 when still running.
 */
static int reap(struct writer_run *run, struct writer_proc *w, uint64_t deadline,
		int *ret_status)
{
	for (;;) {
		siginfo_t si = { .si_pid = 0 };

		if (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			ctx_log(run->ctx, SHADOW_LOG_ERR, "writer %s: wait for pid %d: %s",
				w->entry->name, (int)w->pid, strerror(errno));
			w->pid = 0;
			return 1;
		}
		if (si.si_pid == w->pid) {
			/* The leader is a zombie: its pid, so its group id, is still ours. */
			(void)kill(-w->pid, SIGKILL);
			while (waitpid(w->pid, ret_status, 0) < 0 && errno == EINTR)
				;
			w->pid = 0;
			return 1;
		}
		if (now_us() >= deadline)
			return 0;
		sleep_ms(10);
	}
}

static void kill_writer(struct writer_run *run, struct writer_proc *w)
{
	int status;

	if (w->pid <= 0)
		return;
	(void)kill(-w->pid, SIGKILL);
	(void)kill(w->pid, SIGKILL);
	/* SIGKILL ends it unless it is stuck in the kernel: wait, but not forever. */
	if (reap(run, w, deadline_in(WRITER_EXIT_TIMEOUT_US), &status) == 0)
		ctx_log(run->ctx, SHADOW_LOG_ERR, "writer %s: pid %d survives SIGKILL",
			w->entry->name, (int)w->pid);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* @w failed at @event: record why, kill it, name it if it is the first. */
_printf_(4, 5)
static void fail_writer(struct writer_run *run, struct writer_proc *w,
			enum shadow_proto_event event, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (w->failed)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(w->message);
	w->message = msg;
	w->failed = true;
	w->fail_event = event;
	w->owed = 0;
	ctx_log(run->ctx, SHADOW_LOG_ERR, "writer %s failed at %s: %s", w->entry->name,
		shadow_proto_event_name(event), msg ? msg : "(out of memory)");
	kill_writer(run, w);
	close_fd(&w->in_fd);
	close_fd(&w->out_fd);
	if (!run->culprit)
		run->culprit = w;
}

int writers_start(shadow_ctx *ctx, struct writer_run *run,
		  struct shadow_writer *const *entries, size_t n,
		  const char *conf, uint64_t timeout_us)
{
	sigset_t pipe_set, pending;
	int r;

	*run = (struct writer_run) { .ctx = ctx, .timeout_us = timeout_us };
	run->w = calloc(n ? n : 1, sizeof(*run->w));
	if (!run->w)
		return -ENOMEM;
	run->n = n;
	for (size_t i = 0; i < n; i++)
		run->w[i] = (struct writer_proc) {
			.entry = entries[i], .in_fd = -1, .out_fd = -1, .answered = -1,
		};
	for (size_t i = 0; i < n; i++) {
		run->w[i].reader = malloc(sizeof(*run->w[i].reader));
		if (!run->w[i].reader)
			return -ENOMEM;
	}
	r = build_envp(conf, &run->envp);
	if (r < 0)
		return r;

	/* A write to a dead writer must be -EPIPE, not the end of us. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigemptyset(&pending);
	(void)sigpending(&pending);
	run->sigpipe_was_pending = sigismember(&pending, SIGPIPE);
	r = pthread_sigmask(SIG_BLOCK, &pipe_set, &run->old_mask);
	if (r != 0)
		return -r;
	run->started = true;

	for (size_t i = 0; i < n; i++) {
		r = spawn(run, &run->w[i]);
		if (r < 0)
			fail_writer(run, &run->w[i], SHADOW_EVENT_IDENTIFY, "cannot start %s: %s",
				    run->w[i].entry->path, strerror(-r));
	}
	return run->culprit ? -ECANCELED : 0;
}

static bool taking_part(const struct writer_proc *w)
{
	return w->pid > 0 && !w->skipped && !w->failed && w->in_fd >= 0;
}

size_t writers_active(const struct writer_run *run)
{
	size_t n = 0;

	for (size_t i = 0; i < run->n; i++)
		if (taking_part(&run->w[i]))
			n++;
	return n;
}

void writers_skip(struct writer_run *run, struct writer_proc *w)
{
	w->skipped = true;
	close_fd(&w->in_fd);
	ctx_log(run->ctx, SHADOW_LOG_INFO, "writer %s: %s", w->entry->name,
		w->excluded ? "no component left (excluded)" : "no component on the set's volumes");
}

/* ------------------------------------------------------------------------
 * Requests and answers
 */

/*
 * Write all of @line to @fd (non-blocking) by @deadline: a writer that
 * does not read its input must not hold us past the deadline.
 */
static int write_by(int fd, const char *line, size_t len, uint64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n = write(fd, line + done, len - done);

		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return negative_errno();
		if (now_us() >= deadline)
			return -ETIMEDOUT;
		if (poll(&p, 1, ms_until(deadline)) < 0 && errno != EINTR)
			return negative_errno();
	}
	return 0;
}

static int send_request(struct writer_run *run, struct writer_proc *w,
			const struct shadow_proto_request *req, uint64_t deadline)
{
	struct shadow_proto_request mine = *req;
	_cleanup_free_ char *line = NULL;
	size_t len;
	int r;

	if (req->event == SHADOW_EVENT_PREPARE) {
		mine.components = w->components;
		mine.n_components = w->n_components;
		w->prepared = true;
	}
	r = shadow_proto_request_encode(&mine, &line, &len);
	if (r < 0) {
		fail_writer(run, w, req->event, "cannot encode the request: %s", strerror(-r));
		return r;
	}
	w->sent = req->event;
	w->owed++;
	ctx_log(run->ctx, SHADOW_LOG_DEBUG, "writer %s <- %.*s", w->entry->name,
		(int)(len - 1), line);
	r = write_by(w->in_fd, line, len, deadline);
	if (r == -EPIPE) {
		fail_writer(run, w, req->event, "exited before reading the request");
		return r;
	}
	if (r == -ETIMEDOUT) {
		fail_writer(run, w, req->event, "did not read the request in time");
		return r;
	}
	if (r < 0) {
		fail_writer(run, w, req->event, "write the request: %s", strerror(-r));
		return r;
	}
	return 0;
}

static void take_metadata(struct writer_run *run, struct writer_proc *w,
			  struct shadow_proto_answer *a)
{
	char why[256];
	int r;

	r = shadow_proto_metadata_decode(a->metadata, &w->meta, why, sizeof(why));
	if (r < 0) {
		/* answer_decode validated it: only memory can fail here. */
		fail_writer(run, w, SHADOW_EVENT_IDENTIFY, "metadata: %s", why);
		return;
	}
	w->metadata = TAKE_PTR(a->metadata);
}

/* One line from @w: the answer to its last request, or to an earlier one. */
static void take_line(struct writer_run *run, struct writer_proc *w, const char *line)
{
	_cleanup_(shadow_proto_answer_clear) struct shadow_proto_answer a = { .ok = false };
	enum shadow_proto_event ev = w->sent;
	char why[256];
	int r;

	ctx_log(run->ctx, SHADOW_LOG_DEBUG, "writer %s -> %s", w->entry->name, line);
	if (w->owed == 0) {
		fail_writer(run, w, ev, "protocol error: a line nobody asked for");
		return;
	}
	/* Abort replaced a request still unanswered: that answer is moot. */
	if (--w->owed > 0)
		return;
	r = shadow_proto_answer_decode(ev, line, &a, why, sizeof(why));
	if (r < 0) {
		fail_writer(run, w, ev, "protocol error: %s", why);
		return;
	}
	if (!a.ok) {
		fail_writer(run, w, ev, "status error: %s", a.message ? a.message : "(no message)");
		return;
	}
	switch (ev) {
	case SHADOW_EVENT_IDENTIFY:
		take_metadata(run, w, &a);
		break;
	case SHADOW_EVENT_THAW:
		if (!a.held) {
			fail_writer(run, w, ev, "held false: the application's writes were not held until thaw");
			return;
		}
		break;
	case SHADOW_EVENT_POST_SNAPSHOT:
		w->data = TAKE_PTR(a.data);
		break;
	case SHADOW_EVENT_ABORT:
		w->aborted = true;
		break;
	default:
		break;
	}
	if (!w->failed)
		w->answered = ev;
}

/* Read what @w has sent; fail it on EOF or a protocol error. */
static void drain(struct writer_run *run, struct writer_proc *w)
{
	while (w->owed > 0 && !w->failed) {
		_cleanup_free_ char *line = NULL;
		char why[128];
		int r;

		r = shadow_proto_read_line(w->reader, &line, why, sizeof(why));
		if (r == -EAGAIN)
			return;
		if (r == 0) {
			int status;

			/* Say how it ended, if it did (it may only have closed stdout). */
			if (reap(run, w, deadline_in(200 * 1000), &status) > 0) {
				char how[96];

				exit_text(status, how, sizeof(how));
				fail_writer(run, w, w->sent, "exited before answering (%s)", how);
			} else {
				fail_writer(run, w, w->sent, "closed its output before answering");
			}
			return;
		}
		if (r < 0) {
			fail_writer(run, w, w->sent, "protocol error: %s", why);
			return;
		}
		take_line(run, w, line);
	}
}

static bool waiting_on(const struct writer_proc *w)
{
	return w->owed > 0 && !w->failed && w->out_fd >= 0;
}

/*
 * Wait until every writer in @run owes nothing, one fails (when
 * @stop_at_failure), or @deadline passes: then every writer still owing
 * an answer is failed with @late.
 */
static void collect(struct writer_run *run, uint64_t deadline, bool stop_at_failure,
		    const char *late)
{
	_cleanup_free_ struct pollfd *pfd = calloc(run->n ? run->n : 1, sizeof(*pfd));
	_cleanup_free_ size_t *idx = calloc(run->n ? run->n : 1, sizeof(*idx));

	if (!pfd || !idx) {
		for (size_t i = 0; i < run->n; i++)
			if (waiting_on(&run->w[i]))
				fail_writer(run, &run->w[i], run->w[i].sent, "out of memory");
		return;
	}
	for (;;) {
		size_t n = 0;
		int r;

		for (size_t i = 0; i < run->n; i++)
			if (waiting_on(&run->w[i])) {
				pfd[n] = (struct pollfd) { .fd = run->w[i].out_fd, .events = POLLIN };
				idx[n++] = i;
			}
		if (n == 0 || (stop_at_failure && run->culprit))
			return;
		if (now_us() >= deadline) {
			for (size_t k = 0; k < n; k++)
				fail_writer(run, &run->w[idx[k]], run->w[idx[k]].sent, "%s", late);
			return;
		}
		r = poll(pfd, n, ms_until(deadline));
		if (r < 0 && errno != EINTR) {
			for (size_t k = 0; k < n; k++)
				fail_writer(run, &run->w[idx[k]], run->w[idx[k]].sent,
					    "poll: %s", strerror(errno));
			return;
		}
		for (size_t k = 0; r > 0 && k < n; k++)
			if (pfd[k].revents)
				drain(run, &run->w[idx[k]]);
	}
}

static void seconds_text(uint64_t us, char *buf, size_t size)
{
	if (us % 1000000 == 0)
		snprintf(buf, size, "%" PRIu64 " s", us / 1000000);
	else
		snprintf(buf, size, "%.3g s", (double)us / 1e6);
}

int writers_exchange(struct writer_run *run, const struct shadow_proto_request *req)
{
	uint64_t deadline = deadline_in(run->timeout_us);
	char late[96], t[32];

	for (size_t i = 0; i < run->n; i++)
		if (taking_part(&run->w[i]))
			(void)send_request(run, &run->w[i], req, deadline);
	if (run->culprit)
		return -ECANCELED;
	seconds_text(run->timeout_us, t, sizeof(t));
	snprintf(late, sizeof(late), "no answer within %s (the writer timeout)", t);
	collect(run, deadline, true, late);
	return run->culprit ? -ECANCELED : 0;
}

void writers_abort(struct writer_run *run)
{
	static const struct shadow_proto_request abort_req = { .event = SHADOW_EVENT_ABORT };
	uint64_t deadline = deadline_in(WRITER_ABORT_TIMEOUT_US);
	size_t n = 0;

	for (size_t i = 0; i < run->n; i++) {
		struct writer_proc *w = &run->w[i];

		if (!w->prepared || w->failed || w->aborted || w->pid <= 0 || w->in_fd < 0)
			continue;
		if (send_request(run, w, &abort_req, deadline) == 0)
			n++;
	}
	if (n == 0)
		return;
	collect(run, deadline, false, "no answer to abort within 10 s");
	for (size_t i = 0; i < run->n; i++)
		if (run->w[i].aborted)
			ctx_log(run->ctx, SHADOW_LOG_INFO, "writer %s: aborted", run->w[i].entry->name);
}

void writers_stop(struct writer_run *run)
{
	uint64_t deadline;

	if (!run->w)
		return;
	for (size_t i = 0; i < run->n; i++) {
		if (run->w[i].failed)
			kill_writer(run, &run->w[i]);
		close_fd(&run->w[i].in_fd);
	}
	deadline = deadline_in(WRITER_EXIT_TIMEOUT_US);
	for (size_t i = 0; i < run->n; i++) {
		struct writer_proc *w = &run->w[i];
		int status = 0;
		char how[96];

		if (w->pid <= 0)
			continue;
		if (reap(run, w, deadline, &status) == 0) {
			ctx_log(run->ctx, SHADOW_LOG_WARNING,
				"writer %s: still running 5 s after its input was closed: killed",
				w->entry->name);
			kill_writer(run, w);
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			exit_text(status, how, sizeof(how));
			ctx_log(run->ctx, SHADOW_LOG_WARNING, "writer %s: %s", w->entry->name, how);
		}
	}
	for (size_t i = 0; i < run->n; i++)
		close_fd(&run->w[i].out_fd);
}

void writers_run_clear(struct writer_run *run)
{
	writers_stop(run);
	for (size_t i = 0; run->w && i < run->n; i++) {
		struct writer_proc *w = &run->w[i];

		free(w->reader);
		free(w->message);
		json_object_put(w->metadata);
		json_object_put(w->data);
		json_object_put(w->excluded);
		shadow_proto_metadata_clear(&w->meta);
		for (size_t j = 0; j < w->n_components; j++)
			free(w->components[j]);
		free(w->components);
	}
	free(run->w);
	strv_free(run->envp);
	if (run->started) {
		sigset_t pending, pipe_set;

		/* Swallow the SIGPIPE a dead writer raised, unless it was there before. */
		sigemptyset(&pending);
		(void)sigpending(&pending);
		if (sigismember(&pending, SIGPIPE) && !run->sigpipe_was_pending) {
			struct timespec zero = { 0, 0 };

			sigemptyset(&pipe_set);
			sigaddset(&pipe_set, SIGPIPE);
			while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
				;
		}
		(void)pthread_sigmask(SIG_SETMASK, &run->old_mask, NULL);
	}
	*run = (struct writer_run) { .w = NULL };
}

/* ------------------------------------------------------------------------
 * Helpers of the set creation
 */

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

int mountpoint_of(dev_t dev, char **ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t size = 0;

	*ret = NULL;
	if (!f)
		return negative_errno();
	while (getline(&line, &size, f) > 0) {
		unsigned int maj, min;
		char mp[PATH_MAX + 1];

		/* id parent maj:min root mountpoint ... */
		if (sscanf(line, "%*u %*u %u:%u %*s %4096s", &maj, &min, mp) != 3)
			continue;
		if (makedev(maj, min) != dev)
			continue;
		unescape(mp);
		*ret = strdup(mp);
		return *ret ? 0 : -ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The context's writers (public API)
 */

const char *ctx_writers_dir(const shadow_ctx *ctx)
{
	return ctx->writers_dir ? ctx->writers_dir : SHADOW_WRITERS_DIR;
}

const char *ctx_writer_conf(const shadow_ctx *ctx)
{
	return ctx->writer_conf ? ctx->writer_conf : SHADOW_WRITER_CONF;
}

void ctx_writers_clear(shadow_ctx *ctx)
{
	writers_list_free(ctx->writer_list, ctx->n_writer_list);
	ctx->writer_list = NULL;
	ctx->n_writer_list = 0;
	free(ctx->writers_dir);
	free(ctx->writer_conf);
	ctx->writers_dir = ctx->writer_conf = NULL;
}

int shadow_ctx_set_writers_dir(shadow_ctx *ctx, const char *dir)
{
	check_ctx(ctx);
	if (dir && *dir != '/')
		return ctx_fail(ctx, -EINVAL, "use the writers directory %s: not an absolute path", dir);
	return replace_str(&ctx->writers_dir, dir);
}

int shadow_ctx_set_writer_conf(shadow_ctx *ctx, const char *path)
{
	check_ctx(ctx);
	if (path && *path != '/')
		return ctx_fail(ctx, -EINVAL, "use the writers' configuration %s: not an absolute path",
			    path);
	return replace_str(&ctx->writer_conf, path);
}

const char *shadow_ctx_writers_dir(const shadow_ctx *ctx)
{
	return ctx ? ctx_writers_dir(ctx) : NULL;
}

int shadow_ctx_writers(shadow_ctx *ctx, shadow_writer *const **ret, size_t *ret_n)
{
	struct shadow_writer **list;
	size_t n;
	int r;

	check_ctx(ctx);
	check_arg(ctx, ret && ret_n, "list the writers: nowhere to put them");
	r = writers_scan(ctx_writers_dir(ctx), &list, &n);
	if (r < 0)
		return ctx_fail(ctx, r, "read the writers directory %s", ctx_writers_dir(ctx));
	for (size_t i = 0; i < n; i++)
		list[i]->last = shadow_catalog_writer(&ctx->cat, list[i]->name);
	writers_list_free(ctx->writer_list, ctx->n_writer_list);
	ctx->writer_list = list;
	ctx->n_writer_list = n;
	*ret = list;
	*ret_n = n;
	return 0;
}

const char *shadow_writer_name(const shadow_writer *w) { return w ? w->name : NULL; }
const char *shadow_writer_path(const shadow_writer *w) { return w ? w->path : NULL; }
enum shadow_writer_state shadow_writer_state(const shadow_writer *w)
{
	if (!w)
		return _SHADOW_WRITER_STATE_INVALID;
	return w->refused ? SHADOW_WRITER_REFUSED : SHADOW_WRITER_READY;
}
const char *shadow_writer_reason(const shadow_writer *w) { return w ? w->refused : NULL; }
enum shadow_writer_result shadow_writer_last_state(const shadow_writer *w)
{
	if (!w)
		return _SHADOW_WRITER_RESULT_INVALID;
	return w->last ? writer_result_from_string(w->last->state) : SHADOW_WRITER_NEVER_RAN;
}
const char *shadow_writer_last_event(const shadow_writer *w) { return w ? (w->last ? w->last->event : NULL) : NULL; }
const char *shadow_writer_last_message(const shadow_writer *w) { return w ? (w->last ? w->last->message : NULL) : NULL; }
int64_t shadow_writer_last_time(const shadow_writer *w) { return w ? (w->last ? w->last->time : 0) : 0; }

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hook writer (shadow-writers(8)): runs the scripts of qemu guest
 * agent's fsfreeze-hook.d, so that hooks installed for qemu-ga's
 * fsfreeze quiesce their applications for a dm-shadow set too.
 *
 * The scripts are chosen and called the way qemu-ga's fsfreeze-hook
 * calls them: every executable in the directory, in name order, skipping
 * backup and package-manager leftovers (*~, *.bak, *.dpkg-old, ...), with
 * one argument, "freeze" before the snapshot and "thaw" after it, stdin
 * from /dev/null.  Where qemu's script ignores a failing hook, this
 * writer does not: a failing freeze thaws what was frozen (the failing
 * script too: it may have done half its work, and under qemu-ga every
 * script that got "freeze" gets "thaw") and fails the set; a failing thaw
 * means the hook could not vouch for its freeze, so the writer answers
 * held = false.  Thaw runs in reverse name order, so hooks nest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "writer.h"

#define HOOK_DIR_DEFAULT "/etc/qemu/fsfreeze-hook.d"

struct hook_writer {
	char *dir;
	char **scripts;		/* base names, sorted */
	size_t n_scripts;
	size_t frozen;		/* scripts[0..frozen) got "freeze", not "thaw" */
	unsigned int timeout_s;
};

static const struct conf_key keys[] = {
	{ "directory", false },
	{ "path", true },
	{ "timeout", false },
	{}
};

static struct hook_writer *priv(struct writer *w)
{
	return w->priv;
}

/* qemu-ga's fsfreeze-hook skips these (is_ignored_file). */
static bool ignored(const char *name)
{
	static const char *const suffixes[] = {
		"~", ".bak", ".orig", ".rpmnew", ".rpmorig", ".rpmsave",
		".sample", ".dpkg-old", ".dpkg-new", ".dpkg-tmp", ".dpkg-dist",
		".dpkg-bak", ".dpkg-backup", ".dpkg-remove",
	};
	size_t len = strlen(name);

	if (name[0] == '.')	/* the shell's "*" does not match them */
		return true;
	for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
		size_t n = strlen(suffixes[i]);

		if (len >= n && !strcmp(name + len - n, suffixes[i]))
			return true;
	}
	return false;
}

/* Scripts run as root: they, and their directory, must be root's alone. */
static int check_owner(struct writer *w, const char *path, const struct stat *st)
{
	if (st->st_uid != 0)
		return writer_fail(w, -EPERM, "%s: owned by uid %u, not root; refusing to run hooks",
				   path, (unsigned int)st->st_uid);
	if (st->st_mode & 022)
		return writer_fail(w, -EPERM, "%s: writable by group or others; refusing to run hooks",
				   path);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_scripts(struct writer *w)
{
	struct hook_writer *h = priv(w);
	DIR *d;
	struct dirent *de;
	struct stat st;
	int r = 0;

	d = opendir(h->dir);
	if (!d) {
		if (errno == ENOENT) {
			writer_log(w, "%s: no such directory, no hooks to run", h->dir);
			return 0;
		}
		return writer_fail(w, negative_errno(), "%s: %m", h->dir);
	}
	if (fstat(dirfd(d), &st) < 0)
		r = writer_fail(w, negative_errno(), "%s: %m", h->dir);
	else
		r = check_owner(w, h->dir, &st);

	while (r >= 0 && (de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		char **t;

		if (ignored(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", h->dir, de->d_name) < 0) {
			r = writer_fail(w, -ENOMEM, "out of memory");
			break;
		}
		/* Like "[ -x "$file" ]": follows symlinks; not executable: skip. */
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
		    !(st.st_mode & 0111))
			continue;
		r = check_owner(w, path, &st);
		if (r < 0)
			break;
		t = realloc(h->scripts, (h->n_scripts + 1) * sizeof(*t));
		if (!t || !(t[h->n_scripts] = strdup(de->d_name))) {
			if (t)
				h->scripts = t;
			r = writer_fail(w, -ENOMEM, "out of memory");
			break;
		}
		h->scripts = t;
		h->n_scripts++;
	}
	closedir(d);
	if (r < 0)
		return r;
	/* qemu-ga's shell sorts its glob; in the C locale, bytewise. */
	qsort(h->scripts, h->n_scripts, sizeof(*h->scripts), cmp_str);
	return 0;
}

/* Whether @path is on a volume of the set (its file system on the device). */
static bool on_set(const struct writer *w, const char *path)
{
	struct stat p, d;

	if (stat(path, &p) < 0)
		return false;
	for (size_t j = 0; j < w->n_volumes; j++)
		if (w->volumes[j].device && stat(w->volumes[j].device, &d) == 0 &&
		    S_ISBLK(d.st_mode) && d.st_rdev == p.st_dev)
			return true;
	return false;
}

static int hook_identify(struct writer *w, struct shadow_proto_metadata *m)
{
	struct hook_writer *h = priv(w);
	const char *v;
	size_t i = 0;
	bool configured = false;
	int r;

	r = conf_get_uint(&w->conf, "timeout", 30, 1, 3600, &h->timeout_s);
	if (r < 0)
		return writer_fail(w, r, "%s", w->conf.error);
	h->dir = strdup(conf_get(&w->conf, "directory", HOOK_DIR_DEFAULT));
	if (!h->dir)
		return writer_fail(w, -ENOMEM, "out of memory");
	r = list_scripts(w);
	if (r < 0)
		return r;

	r = set_strf(&m->application, "fsfreeze hooks in %s (%zu)", h->dir, h->n_scripts);
	if (r >= 0)
		r = set_strf(&m->restore,
			     "The fsfreeze-hook.d scripts of %s quiesced their applications around the snapshot "
			     "(freeze in name order, thaw in reverse); restore each application as its hook's documentation says.",
			     h->dir);
	if (r < 0)
		return writer_fail(w, r, "out of memory");
	if (h->n_scripts == 0)
		return 0;	/* nothing to do: no component */

	/*
	 * Which sets the hooks run for: those touching the configured
	 * paths; by default every set with a mounted volume, as qemu-ga
	 * runs them for every fsfreeze.  Only the configured paths on the
	 * set are listed: they say when to run the hooks, not data the copy
	 * must hold, so one elsewhere must not fail the set (the coordinator
	 * fails a set holding only part of a component).
	 */
	if (metadata_add_component(m, "hooks") < 0)
		return writer_fail(w, -ENOMEM, "out of memory");
	while ((v = conf_next(&w->conf, "path", &i))) {
		if (v[0] != '/')
			return writer_fail(w, -EINVAL, "%s: [%s] path = '%s': not an absolute path",
					   w->conf.path, w->conf.section, v);
		configured = true;
		if (!on_set(w, v))
			continue;
		if (metadata_add_path(m, v) < 0)
			return writer_fail(w, -ENOMEM, "out of memory");
	}
	if (!configured)
		for (size_t j = 0; j < w->n_volumes; j++)
			if (w->volumes[j].mountpoint &&
			    metadata_add_path(m, w->volumes[j].mountpoint) < 0)
				return writer_fail(w, -ENOMEM, "out of memory");
	if (m->components[0].n_paths == 0) {
		/* No path on the set, or no volume of it mounted: nothing to guard. */
		shadow_proto_metadata_clear(m);
		m->writer = strdup(w->ops->kind);
		m->application = strdup("fsfreeze hooks");
		if (!m->writer || !m->application)
			return writer_fail(w, -ENOMEM, "out of memory");
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* In the child: a clean slate for a script qemu-ga would have run. */
__attribute__((noreturn)) static void exec_script(const char *path, const char *arg)
{
	sigset_t none;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);	/* ignored by the writer */
	setpgid(0, 0);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	/* stdout is the protocol channel: the script's goes to stderr. */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	if (chdir("/") < 0)
		_exit(126);
	execl(path, path, arg, (char *)NULL);
	fprintf(stderr, "hook: %s: exec: %m\n", path);
	_exit(126);
}

/* Run one script with @arg; 0 when it exits 0 within the timeout. */
static int run_script(struct writer *w, const char *name, const char *arg)
{
	struct hook_writer *h = priv(w);
	_cleanup_free_ char *path = NULL;
	uint64_t start = now_ms(), deadline = start + h->timeout_s * 1000ULL;
	int status;
	pid_t pid, got;

	if (asprintf(&path, "%s/%s", h->dir, name) < 0)
		return writer_fail(w, -ENOMEM, "out of memory");
	writer_log(w, "%s %s", name, arg);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return writer_fail(w, negative_errno(), "%s %s: fork: %m", name, arg);
	if (pid == 0)
		exec_script(path, arg);
	setpgid(pid, pid);	/* also in the parent: no race with the kill */

	for (;;) {
		struct timespec tick = { .tv_nsec = 5 * 1000 * 1000 };

		got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR)
			return writer_fail(w, negative_errno(), "%s %s: waitpid: %m", name, arg);
		if (now_ms() >= deadline) {
			/* The whole process group: what it started goes too. */
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return writer_fail(w, -ETIME, "%s %s: still running after %u s (timeout); killed",
					   name, arg, h->timeout_s);
		}
		nanosleep(&tick, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		writer_log(w, "%s %s: ok (%.2f s)", name, arg,
			   (now_ms() - start) / 1000.0);
		return 0;
	}
	if (WIFEXITED(status))
		return writer_fail(w, -EIO, "%s %s: exit status %d", name, arg,
				   WEXITSTATUS(status));
	return writer_fail(w, -EIO, "%s %s: killed by signal %d (%s)", name, arg,
			   WTERMSIG(status), strsignal(WTERMSIG(status)));
}

/* "thaw" to every frozen script, last frozen first; false if one failed. */
static bool thaw_frozen(struct writer *w, char *first_error, size_t size)
{
	struct hook_writer *h = priv(w);
	bool ok = true;

	while (h->frozen > 0) {
		h->frozen--;
		if (run_script(w, h->scripts[h->frozen], "thaw") < 0) {
			writer_log(w, "%s", w->message);
			if (ok && first_error)
				snprintf(first_error, size, "%s", w->message);
			ok = false;
		}
	}
	return ok;
}

static int hook_freeze(struct writer *w, uint64_t timeout_ms)
{
	struct hook_writer *h = priv(w);
	char failed[sizeof(w->message)];
	size_t n;

	for (size_t i = 0; i < h->n_scripts; i++) {
		h->frozen = i + 1;	/* even if it fails: it may be half done */
		if (run_script(w, h->scripts[i], "freeze") >= 0)
			continue;
		snprintf(failed, sizeof(failed), "%s", w->message);
		writer_log(w, "%s; thawing what was frozen", failed);
		n = h->frozen;
		thaw_frozen(w, NULL, 0);
		return writer_fail(w, -EIO, "freeze hook %s (thawed the %zu hook%s that got freeze)",
				   failed, n, n == 1 ? "" : "s");
	}
	return 0;
}

static int hook_thaw(struct writer *w, bool *ret_held)
{
	char first[sizeof(w->message)] = "";

	*ret_held = thaw_frozen(w, first, sizeof(first));
	if (!*ret_held)
		writer_note(w, "thaw hook %s: the hook could not vouch for its freeze", first);
	return 0;
}

static int hook_abort(struct writer *w)
{
	thaw_frozen(w, NULL, 0);
	return 0;
}

static void hook_release(struct writer *w)
{
	struct hook_writer *h = priv(w);

	if (h->frozen > 0) {
		writer_log(w, "the set was abandoned: thawing the frozen hooks");
		thaw_frozen(w, NULL, 0);
	}
	for (size_t i = 0; i < h->n_scripts; i++)
		free(h->scripts[i]);
	free(h->scripts);
	free(h->dir);
	h->scripts = NULL;
	h->dir = NULL;
	h->n_scripts = 0;
}

static const struct writer_ops hook_ops = {
	.kind = "hook",
	.keys = keys,
	.priv_size = sizeof(struct hook_writer),
	.identify = hook_identify,
	.freeze = hook_freeze,
	.thaw = hook_thaw,
	.abort = hook_abort,
	.release = hook_release,
};

int main(int argc, char **argv)
{
	return writer_main(&hook_ops, argc, argv);
}

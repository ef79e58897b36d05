// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shadowctl diff, export and import.  Ranges and sizes are in bytes, as
 * everywhere in shadowctl.  The diff's JSON is printed by hand as the
 * ranges come, so a diff of millions of ranges needs no memory for them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-columns.h"
#include "ctl-export.h"

/* ------------------------------------------------------------------------
 * Stopping, and progress on a terminal only
 *
 * SIGINT, SIGTERM and SIGHUP only set a flag that the callbacks turn into
 * a stop, so the library releases the metadata snapshot and removes its
 * devices before the signal is raised again; SIGPIPE is ignored, so a
 * reader that goes away is a write error with the same cleanup.
 */

static volatile sig_atomic_t stop_signal;

/*
 * A signal that comes between two writes (or reads) of a pipe, rather
 * than during one, would leave the next call blocked for as long as the
 * other end does nothing.  So the handler also points the stream's
 * descriptor at /dev/null: whatever call comes next returns at once, and
 * the next callback sees the flag.
 */
static int stream_fd = -1;
static int null_fd = -1;

static void on_signal(int sig)
{
	int saved_errno = errno;

	stop_signal = sig;
	if (stream_fd >= 0 && null_fd >= 0)
		(void)dup2(null_fd, stream_fd);
	errno = saved_errno;
}

/* @fd: the stream's descriptor, or -1 (diff writes to stdout through stdio). */
static void catch_signals(int fd)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (fd >= 0 && null_fd < 0)
		null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	stream_fd = fd;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* After a call stopped by a signal: die of it, as the shell expects. */
static int reraise(int r)
{
	if (r < 0 && stop_signal) {
		signal(stop_signal, SIG_DFL);
		raise(stop_signal);
	}
	return r;
}

struct progress {
	const char *verb;
	bool tty;
	int shown;		/* the last percentage printed, -1: none */
	uint64_t last_mib;
};

static int on_progress(void *userdata, uint64_t done, uint64_t total)
{
	struct progress *p = userdata;
	int pct = total ? (int)(done * 100 / total) : -1;

	if (stop_signal)
		return -EINTR;
	if (!p->tty || (total ? pct == p->shown : done >> 20 == p->last_mib))
		return 0;
	p->shown = pct;
	p->last_mib = done >> 20;
	if (total)
		fprintf(stderr, "\rshadowctl: %s %3d%% (%" PRIu64 " of %" PRIu64 " MiB)", p->verb,
			pct, done >> 20, total >> 20);
	else
		fprintf(stderr, "\rshadowctl: %s %" PRIu64 " MiB", p->verb, done >> 20);
	return 0;
}

static void progress_end(const struct progress *p)
{
	if (p->tty && (p->shown >= 0 || p->last_mib))
		fputc('\n', stderr);
}

/* ------------------------------------------------------------------------
 * diff
 */

struct diff_out {
	const struct ctl_args *a;
	uint64_t ranges;
	bool started;
};

/* The JSON head comes with the first range (or at the end): a refusal prints nothing. */
static void diff_head(struct diff_out *o)
{
	if (o->started || !o->a->json)
		return;
	o->started = true;
	printf("{\n  \"from\": %" PRIu64 ",\n", o->a->id);
	if (o->a->other_id)
		printf("  \"to\": %" PRIu64 ",\n", o->a->other_id);
	else
		printf("  \"to\": null,\n");
	printf("  \"ranges\": [");
}

static int diff_range(void *userdata, uint64_t offset, uint64_t length)
{
	struct diff_out *o = userdata;

	if (stop_signal)
		return -EINTR;
	diff_head(o);
	if (o->a->json)
		printf("%s\n    { \"offset\": %" PRIu64 ", \"length\": %" PRIu64 " }",
		       o->ranges ? "," : "", offset, length);
	else
		printf("%" PRIu64 " %" PRIu64 "\n", offset, length);
	o->ranges++;
	return ferror(stdout) ? -EIO : 0;
}

int ctl_diff(shadow_ctx *ctx, const struct ctl_args *a)
{
	struct diff_out o = { .a = a };
	uint64_t changed = 0;
	int r;

	catch_signals(-1);
	r = shadow_copy_diff(ctx, a->id, a->other_id, diff_range, &o, &changed);
	if (r < 0)
		return reraise(r);
	diff_head(&o);
	if (a->json)
		printf("\n  ],\n  \"ranges_count\": %" PRIu64 ",\n  \"changed_bytes\": %" PRIu64
		       "\n}\n", o.ranges, changed);
	if (fflush(stdout) != 0 || ferror(stdout))
		return -EIO;
	return 0;
}

/* ------------------------------------------------------------------------
 * export
 */

int ctl_export(shadow_ctx *ctx, const struct ctl_args *a)
{
	struct progress p = { .verb = "export", .tty = isatty(STDERR_FILENO), .shown = -1 };
	bool to_stdout = strcmp(a->output, "-") == 0;
	uint64_t data = 0, bytes = 0;
	FILE *out = to_stdout ? stderr : stdout;
	bool regular = false;
	struct stat st;
	int fd, r;

	if (to_stdout && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "shadowctl: Failed to export shadow %" PRIu64 ": standard output is "
			"a terminal (redirect it, or give -o <file>)\n", a->id);
		return -EINVAL;
	}
	fd = to_stdout ? STDOUT_FILENO : open(a->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "shadowctl: Failed to export shadow %" PRIu64 ": open %s: %s\n",
			a->id, a->output, strerror(-r));
		return r;
	}
	regular = !to_stdout && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	catch_signals(fd);
	r = shadow_copy_export(ctx, a->id, a->since, fd, on_progress, &p, &data, &bytes);
	progress_end(&p);
	if (r == 0 && !to_stdout && fsync(fd) < 0)
		r = -errno;
	if (!to_stdout && close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		/*
		 * Never leave half a stream behind under the name asked for;
		 * but a device node (-o /dev/sdc) is no stream to remove.
		 */
		if (regular)
			(void)unlink(a->output);
		return reraise(r);
	}
	if (a->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "shadow", json_object_new_uint64(a->id));
		json_object_object_add(o, "since", a->since ? json_object_new_uint64(a->since) : NULL);
		json_object_object_add(o, "incremental", json_object_new_boolean(a->since != 0));
		json_object_object_add(o, "output", json_object_new_string(a->output));
		json_object_object_add(o, "data_bytes", json_object_new_uint64(data));
		json_object_object_add(o, "stream_bytes", json_object_new_uint64(bytes));
		ctl_print_json(o, out);
		json_object_put(o);
	} else {
		if (a->since)
			fprintf(out, "shadow %" PRIu64 " exported (changes since shadow %" PRIu64 ")",
				a->id, a->since);
		else
			fprintf(out, "shadow %" PRIu64 " exported", a->id);
		fprintf(out, " to %s: %" PRIu64 " bytes of data, %" PRIu64 " bytes of stream\n",
			to_stdout ? "standard output" : a->output, data, bytes);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * import
 */

int ctl_import_exit_code(int r)
{
	switch (-r) {
	case ENODATA:
	case EBADMSG:
	case EMEDIUMTYPE:
	case EPROTONOSUPPORT:
		return EXIT_STREAM_BAD;
	case ESTALE:
		return EXIT_STREAM_BASE;
	default:
		return 0;
	}
}

int ctl_import(shadow_ctx *ctx, const struct ctl_args *a)
{
	struct progress p = { .verb = "import", .tty = isatty(STDERR_FILENO), .shown = -1 };
	bool from_stdin = strcmp(a->args[0], "-") == 0;
	uint64_t target_id = 0, volume_bytes = 0;
	int fd, r;

	fd = from_stdin ? STDIN_FILENO : open(a->args[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "shadowctl: Failed to import: open %s: %s\n", a->args[0], strerror(-r));
		return r;
	}
	catch_signals(fd);
	r = shadow_stream_import(ctx, fd, a->to, on_progress, &p, &target_id, &volume_bytes);
	progress_end(&p);
	if (!from_stdin)
		close(fd);
	if (r < 0)
		return reraise(r);
	if (a->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "stream", json_object_new_string(a->args[0]));
		json_object_object_add(o, "to", json_object_new_string(a->to));
		json_object_object_add(o, "shadow", json_object_new_uint64(target_id));
		json_object_object_add(o, "volume_bytes", json_object_new_uint64(volume_bytes));
		ctl_print_json(o, stdout);
		json_object_put(o);
	} else {
		printf("%s now holds shadow %" PRIu64 "\n", a->to, target_id);
	}
	return 0;
}

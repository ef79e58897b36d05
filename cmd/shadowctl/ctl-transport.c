/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl export-metadata and import-metadata: a detached clone's
 * catalog entry leaves with its disk and comes in on another host
 * (libshadow's shadow_copy_export_metadata() and
 * shadow_copy_import_metadata(), shadow-clone-metadata(5)).  The verbs
 * read and write the document; the library checks the disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-columns.h"
#include "ctl-list.h"
#include "ctl-transport.h"

/* ------------------------------------------------------------------------
 * export-metadata
 */

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * @json to @path (created 0600: a set's writers may say private things),
 * durably.  A failed write removes a regular file, never anything else
 * (-o /dev/full must not take /dev/full away).
 */
static int write_file(const char *path, const char *json)
{
	struct stat st;
	bool regular;
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	r = write_all(fd, json, strlen(json));
	/* fsync() of a pipe or a terminal is EINVAL: only a file's data is made durable. */
	if (r == 0 && regular && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0 && regular)
		(void)unlink(path);
	return r;
}

static void export_summary(shadow_ctx *ctx, const struct ctl_args *a, size_t bytes, FILE *out)
{
	const shadow_copy *c = shadow_ctx_find_copy(ctx, a->id);
	bool to_stdout = strcmp(a->output, "-") == 0;
	json_object *o;

	if (!a->json) {
		fprintf(out, "shadow %" PRIu64 ": its metadata is in %s; take it with %s, a clone "
			"of %s, to the other host (import-metadata there)\n", a->id,
			to_stdout ? "standard output" : a->output, shadow_copy_target(c),
			shadow_copy_volume(c));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "shadow", json_object_new_uint64(a->id));
	json_object_object_add(o, "output", json_object_new_string(a->output));
	json_object_object_add(o, "target", json_object_new_string(shadow_copy_target(c)));
	json_object_object_add(o, "volume", json_object_new_string(shadow_copy_volume(c)));
	json_object_object_add(o, "document_bytes", json_object_new_uint64(bytes));
	ctl_print_json(o, out);
	json_object_put(o);
}

int ctl_export_metadata(shadow_ctx *ctx, const struct ctl_args *a, char *what, size_t what_len)
{
	bool to_stdout = strcmp(a->output, "-") == 0;
	char *json = NULL;
	int r;

	if (to_stdout && isatty(STDOUT_FILENO)) {
		snprintf(what, what_len, "export the metadata of shadow %" PRIu64 ": standard output "
			 "is a terminal (redirect it, or give -o <file>)", a->id);
		return -EINVAL;
	}
	r = shadow_copy_export_metadata(ctx, a->id, &json);
	if (r < 0)
		return r;
	/* Written only once it is all there: a refusal leaves no file, nor an old one cut. */
	r = to_stdout ? write_all(STDOUT_FILENO, json, strlen(json)) : write_file(a->output, json);
	if (r < 0) {
		snprintf(what, what_len, "export the metadata of shadow %" PRIu64 ": write %s",
			 a->id, to_stdout ? "standard output" : a->output);
		free(json);
		return r;
	}
	export_summary(ctx, a, strlen(json), to_stdout ? stderr : stdout);
	free(json);
	return 0;
}

/* ------------------------------------------------------------------------
 * import-metadata
 */

int ctl_read_document(int fd, size_t max, char **ret)
{
	size_t len = 0, size = 4096;
	char *buf = malloc(size), *t;
	ssize_t n;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (len <= max) {
		if (len == size - 1) {
			t = realloc(buf, size * 2);
			if (!t) {
				free(buf);
				return -ENOMEM;
			}
			buf = t;
			size *= 2;
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		r = -EFBIG;
	/* An export stream is import's, not import-metadata's: say so. */
	else if (len >= 8 && memcmp(buf, "DMSHSTRM", 8) == 0)
		r = -EMEDIUMTYPE;
	else if (memchr(buf, '\0', len))
		r = -EBADMSG;
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret = buf;
	return 0;
}

bool ctl_metadata_refused(enum ctl_verb verb, int r)
{
	switch (-r) {
	case EIO:
	case EACCES:
	case EPERM:
		return verb == VERB_EXPORT_METADATA || verb == VERB_IMPORT_METADATA;
	case ENODATA:
		return verb == VERB_EXPORT_METADATA;
	case EBADMSG:
	case EPROTONOSUPPORT:
	case EMEDIUMTYPE:
	case EFBIG:
		return verb == VERB_IMPORT_METADATA;
	default:
		return false;
	}
}

/* The document of <file>, or of standard input for -. */
static int read_metadata(const char *path, char **ret, char *what, size_t what_len)
{
	bool from_stdin = strcmp(path, "-") == 0;
	int fd, r;

	fd = from_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(what, what_len, "import clone metadata: open %s", path);
		return r;
	}
	r = ctl_read_document(fd, CTL_METADATA_MAX, ret);
	if (!from_stdin)
		close(fd);
	if (r == -EFBIG)
		snprintf(what, what_len, "import clone metadata: %s is larger than %u MiB (not a "
			 "clone's metadata)", from_stdin ? "standard input" : path,
			 CTL_METADATA_MAX >> 20);
	else if (r == -EMEDIUMTYPE)
		snprintf(what, what_len, "import clone metadata: %s is an export stream "
			 "(shadow-stream(5)): import --to applies those",
			 from_stdin ? "standard input" : path);
	else if (r == -EBADMSG)
		snprintf(what, what_len, "import clone metadata: %s holds a NUL byte (not a "
			 "clone's metadata)", from_stdin ? "standard input" : path);
	else if (r < 0)
		snprintf(what, what_len, "import clone metadata: read %s",
			 from_stdin ? "standard input" : path);
	return r;
}

int ctl_import_metadata(shadow_ctx *ctx, const struct ctl_args *a, json_object *o,
			char *what, size_t what_len)
{
	char created[CTL_TIME_LEN], *json = NULL;
	const char *host, *volume;
	uint64_t shadow;
	shadow_copy *c;
	int r;

	r = read_metadata(a->args[0], &json, what, what_len);
	if (r < 0)
		return r;
	r = shadow_copy_import_metadata(ctx, json, a->device, &c);
	free(json);
	if (r < 0)
		return r;
	if (a->json) {
		json_object_object_add(o, "shadow", ctl_copy_json(ctx, c));
		ctl_print_json(o, stdout);
		return 0;
	}
	(void)shadow_copy_origin(c, &host, NULL, &shadow, &volume);
	ctl_iso_time(shadow_copy_created(c), created);
	printf("shadow %" PRIu64 " imported: %s holds volume %s of %s (its shadow %" PRIu64 ") "
	       "as it was at %s, a detached clone\n", shadow_copy_id(c), shadow_copy_target(c),
	       volume, host, shadow, created);
	return 0;
}

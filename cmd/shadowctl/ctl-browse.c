/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl browse <volume> | --stop [<volume>].  A copy's directory is
 * its creation time in UTC ("2026-01-05T10:00:00Z"), with ".<shadow id>"
 * added when two copies share a second.  Each copy is exposed by the
 * library, read-only: its mount never replays a journal (ext3/ext4
 * "noload", XFS "norecovery"), so a copy taken without a freeze shows
 * the file system as the crash it is, without writing to it.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-browse.h"
#include "ctl-columns.h"

/* BROWSE_ROOT/<volume>, into @buf. */
static int volume_dir(const char *volume, char *buf, size_t len)
{
	int n = snprintf(buf, len, BROWSE_ROOT "/%s", volume);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool ctl_browse_owns(const shadow_copy *c)
{
	const char *m = shadow_copy_mountpoint(c);
	char dir[PATH_MAX];
	size_t n;

	if (!m || volume_dir(shadow_copy_volume(c), dir, sizeof(dir)) < 0)
		return false;
	n = strlen(dir);
	return strncmp(m, dir, n) == 0 && m[n] == '/' && !strchr(m + n + 1, '/');
}

bool ctl_browse_active(const char *volume)
{
	char dir[PATH_MAX];
	struct stat st;

	return volume_dir(volume, dir, sizeof(dir)) == 0 && stat(dir, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

static int mkdir_p(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A directory for copy @c under @vdir that no other copy uses, made. */
static int make_copy_dir(shadow_ctx *ctx, const shadow_copy *c, const char *vdir,
			 char *buf, size_t len)
{
	char when[CTL_TIME_LEN];
	int n;

	ctl_iso_time(shadow_copy_created(c), when);
	n = snprintf(buf, len, "%s/%s", vdir, when);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (mkdir(buf, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* Taken: another copy of the same second, or a stale directory. */
	n = snprintf(buf, len, "%s/%s.%" PRIu64, vdir, when, shadow_copy_id(c));
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ctl_browse_copy(shadow_ctx *ctx, uint64_t id, json_object *out, char *what, size_t what_len)
{
	const shadow_copy *c = shadow_ctx_find_copy(ctx, id);
	char vdir[PATH_MAX], dir[PATH_MAX];
	int r;

	if (!c)
		return -ENOENT;
	r = volume_dir(shadow_copy_volume(c), vdir, sizeof(vdir));
	if (r >= 0)
		r = mkdir_p(BROWSE_ROOT);
	if (r >= 0)
		r = mkdir_p(vdir);
	if (r >= 0)
		r = make_copy_dir(ctx, c, vdir, dir, sizeof(dir));
	if (r < 0) {
		snprintf(what, what_len, "browse shadow %" PRIu64 ": make its directory under %s",
			 id, vdir);
		return r;
	}
	r = shadow_copy_expose(ctx, id, NULL, dir, 0);
	if (r < 0) {
		snprintf(what, what_len, "%s", shadow_ctx_error(ctx));
		(void)rmdir(dir);
		return r;
	}
	c = shadow_ctx_find_copy(ctx, id);
	if (out) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "shadow", json_object_new_uint64(id));
		json_object_object_add(j, "created", json_object_new_int64(shadow_copy_created(c)));
		json_object_object_add(j, "device", json_object_new_string(shadow_copy_device(c)));
		json_object_object_add(j, "mountpoint", json_object_new_string(shadow_copy_mountpoint(c)));
		json_object_array_add(out, j);
	}
	return 0;
}

int ctl_browse_release(shadow_ctx *ctx, uint64_t id, char *what, size_t what_len)
{
	const shadow_copy *c = shadow_ctx_find_copy(ctx, id);
	char *dir;
	int r;

	if (!c || !ctl_browse_owns(c))
		return 0;
	dir = strdup(shadow_copy_mountpoint(c));
	if (!dir)
		return -ENOMEM;
	r = shadow_copy_unexpose(ctx, id);
	if (r < 0) {
		snprintf(what, what_len, "%s", shadow_ctx_error(ctx));
	} else if (rmdir(dir) < 0 && errno != ENOENT) {
		r = -errno;
		snprintf(what, what_len, "stop browsing shadow %" PRIu64 ": remove %s", id, dir);
	}
	free(dir);
	return r;
}

/* The ids of @volume's copies (NULL: every volume's) that browse exposed, or could. */
static size_t copy_ids(shadow_ctx *ctx, const char *volume, bool owned, uint64_t **ret)
{
	shadow_copy *const *c;
	size_t n = shadow_ctx_copies(ctx, &c), k = 0;
	uint64_t *ids = calloc(n ? n : 1, sizeof(*ids));

	*ret = ids;
	if (!ids)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (volume && strcmp(shadow_copy_volume(c[i]), volume) != 0)
			continue;
		if (owned ? ctl_browse_owns(c[i]) :
			    shadow_copy_state(c[i]) == SHADOW_COPY_VALID && !shadow_copy_device(c[i]))
			ids[k++] = shadow_copy_id(c[i]);
	}
	return k;
}

/* Remove BROWSE_ROOT/<volume>/ and the empty directories left in it. */
static int remove_volume_dir(const char *volume)
{
	char vdir[PATH_MAX], sub[PATH_MAX + 256];
	struct dirent *e;
	DIR *d;
	int r = 0;

	if (volume_dir(volume, vdir, sizeof(vdir)) < 0)
		return -ENAMETOOLONG;
	d = opendir(vdir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", vdir, e->d_name);
		if (rmdir(sub) < 0) {
			r = -errno;
			fprintf(stderr, "shadowctl: warning: cannot remove %s: %s\n", sub, strerror(errno));
		}
	}
	closedir(d);
	if (r >= 0 && rmdir(vdir) < 0 && errno != ENOENT) {
		r = -errno;
		fprintf(stderr, "shadowctl: warning: cannot remove %s: %s\n", vdir, strerror(errno));
	}
	return r;
}

static int browse_stop(shadow_ctx *ctx, const char *volume, json_object *arr, bool json,
		       char *what, size_t what_len)
{
	shadow_volume *const *v;
	uint64_t *ids;
	size_t n = copy_ids(ctx, volume, true, &ids), nv;
	int r = 0, q;

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		q = ctl_browse_release(ctx, ids[i], what, what_len);
		if (q < 0) {
			/* Go on with the others; the first failure is the command's. */
			fprintf(stderr, "shadowctl: warning: %s: %s\n", what, strerror(-q));
			if (r >= 0)
				r = q;
			continue;
		}
		json_object_array_add(arr, json_object_new_uint64(ids[i]));
		if (!json)
			printf("shadow %" PRIu64 " unmounted and unexposed\n", ids[i]);
	}
	free(ids);
	nv = shadow_ctx_volumes(ctx, &v);
	for (size_t i = 0; i < nv; i++)
		if (!volume || strcmp(volume, shadow_volume_name(v[i])) == 0) {
			q = remove_volume_dir(shadow_volume_name(v[i]));
			if (q < 0 && r >= 0) {
				r = q;
				snprintf(what, what_len, "stop browsing %s: remove its directories",
					 shadow_volume_name(v[i]));
			}
		}
	if (rmdir(BROWSE_ROOT) < 0 && errno != ENOENT && errno != ENOTEMPTY && r >= 0) {
		r = -errno;
		snprintf(what, what_len, "stop browsing: remove " BROWSE_ROOT);
	}
	return r;
}

static int browse_start(shadow_ctx *ctx, const char *volume, json_object *arr, bool json,
			char *what, size_t what_len)
{
	uint64_t *ids;
	size_t n = copy_ids(ctx, volume, false, &ids), done = 0;
	char vdir[PATH_MAX];
	int r = 0;

	if (!ids)
		return -ENOMEM;
	for (; done < n; done++) {
		r = ctl_browse_copy(ctx, ids[done], arr, what, what_len);
		if (r < 0)
			break;
	}
	if (r < 0) {
		/* All or none: what this command mounted goes again. */
		char ignored[256];

		for (size_t i = 0; i < done; i++)
			(void)ctl_browse_release(ctx, ids[i], ignored, sizeof(ignored));
		if (volume_dir(volume, vdir, sizeof(vdir)) == 0)
			(void)rmdir(vdir);
		(void)rmdir(BROWSE_ROOT);
		free(ids);
		return r;
	}
	free(ids);
	if (!ctl_browse_active(volume)) {
		/* No copy yet: the directory says the volume is browsed. */
		r = volume_dir(volume, vdir, sizeof(vdir));
		if (r >= 0)
			r = mkdir_p(BROWSE_ROOT);
		if (r >= 0)
			r = mkdir_p(vdir);
		if (r < 0) {
			snprintf(what, what_len, "browse %s: make %s", volume, vdir);
			return r;
		}
	}
	if (!json)
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *j = json_object_array_get_idx(arr, i), *m, *s;

			json_object_object_get_ex(j, "shadow", &s);
			json_object_object_get_ex(j, "mountpoint", &m);
			printf("shadow %" PRIu64 " mounted read-only on %s\n",
			       json_object_get_uint64(s), json_object_get_string(m));
		}
	return 0;
}

int ctl_browse(shadow_ctx *ctx, const struct ctl_args *a, json_object *o,
	       char *what, size_t what_len)
{
	const char *volume = a->nargs ? a->args[0] : NULL;
	bool stop = a->opts & OPT_STOP;
	json_object *arr = json_object_new_array();
	int r;

	json_object_object_add(o, stop ? "stopped" : "browsed", arr);
	if (volume && !shadow_ctx_find_volume(ctx, volume)) {
		snprintf(what, what_len, "browse %s: no such volume", volume);
		return -ENOENT;
	}
	r = stop ? browse_stop(ctx, volume, arr, a->json, what, what_len) :
		   browse_start(ctx, volume, arr, a->json, what, what_len);
	if (r >= 0 && a->json)
		ctl_print_json(o, stdout);
	return r;
}

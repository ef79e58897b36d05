/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The locks of a state directory, both on <state dir>/lock:
 *
 *  - the command lock: flock(LOCK_EX), held by a context opened to change
 *    things (shadow_ctx_open() without SHADOW_OPEN_READONLY) from its open
 *    to its close.  One such command at a time; holding it also means no
 *    set of this state directory is being created by anyone else, so a set
 *    recorded "creating" is a killed command's leftover (shadow-repair.c).
 *
 *  - the catalog lock: an open file description (OFD) lock on the file's
 *    first byte, taken shared by a read-only context while it reads
 *    catalog.json and exclusive by a changing one while it saves it.  Saves
 *    are atomic renames already, so a reader never sees half a file; the
 *    lock keeps a reader from reading between the two halves of a save
 *    (the temporary file and its rename) and is never held for longer than
 *    one read or one save, so a read-only command never waits for a long
 *    one (a create in its freeze window) to end.
 *
 * flock and OFD locks do not interact on Linux: the two are independent.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "macro.h"
#include "shadow-lock.h"

static int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return negative_errno();
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}

int lock_command(const char *state_dir, bool wait, int *ret_fd, char *why, size_t why_len)
{
	_cleanup_free_ char *lock = NULL;
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = mkdir_p(state_dir, 0755);
	if (r < 0) {
		snprintf(why, why_len, "create the state directory %s", state_dir);
		return r;
	}
	if (asprintf(&lock, "%s/lock", state_dir) < 0)
		return -ENOMEM;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(why, why_len, "open the lock file %s", lock);
		return negative_errno();
	}
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			snprintf(why, why_len, "take the lock: another shadowctl is running (%s)", lock);
		else
			snprintf(why, why_len, "lock %s", lock);
		return negative_errno();
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int lock_reader(const char *state_dir, int *ret_fd, char *why, size_t why_len)
{
	_cleanup_free_ char *lock = NULL;
	int fd;

	if (asprintf(&lock, "%s/lock", state_dir) < 0)
		return -ENOMEM;
	fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* No state directory, or nothing ever changed in it: nothing to order against. */
		if (errno == ENOENT) {
			*ret_fd = -EBADF;
			return 0;
		}
		snprintf(why, why_len, "open the lock file %s", lock);
		return negative_errno();
	}
	*ret_fd = fd;
	return 0;
}

int lock_catalog(int fd, bool exclusive)
{
	struct flock fl = {
		.l_type = exclusive ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET, .l_start = 0, .l_len = 1,
	};

	if (fd < 0)
		return 0;
	while (fcntl(fd, F_OFD_SETLKW, &fl) < 0)
		if (errno != EINTR)
			return negative_errno();
	return 0;
}

void unlock_catalog(int fd)
{
	struct flock fl = {
		.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1,
	};

	if (fd >= 0)
		(void)fcntl(fd, F_OFD_SETLK, &fl);
}

int catalog_save_locked(int fd, const char *state_dir, const struct shadow_catalog *c)
{
	int r;

	r = lock_catalog(fd, true);
	if (r < 0)
		return r;
	r = shadow_catalog_save(state_dir, c);
	unlock_catalog(fd);
	return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers shared by all userspace code, in the style of systemd's
 * macro.h: cleanup attributes for every handle, ownership transfer.
 *
 * Error convention (whole userspace tree): functions return 0 (or a
 * positive meaningful value) on success and -errno on failure; out
 * parameters are named ret_* and are left untouched on failure.  Library
 * code never prints; only a program's top level does, once.
 */
#ifndef SHADOW_MACRO_H
#define SHADOW_MACRO_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)	__attribute__((cleanup(f)))
#define _unused_	__attribute__((unused))
#define _printf_(a, b)	__attribute__((format(printf, a, b)))

#define ELEMENTSOF(x)	(sizeof(x) / sizeof((x)[0]))

/* Take ownership of a pointer out of a cleanup variable. */
#define TAKE_PTR(p) ({				\
		__typeof__(p) _p_ = (p);	\
		(p) = NULL;			\
		_p_;				\
	})

#define TAKE_FD(fd) ({				\
		int _fd_ = (fd);		\
		(fd) = -EBADF;			\
		_fd_;				\
	})

/* Define a function freep-style wrapper for a type's destructor. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)			\
	static inline void func##p(type *p)			\
	{							\
		if (*p)						\
			func(*p);				\
	}

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Read errno as a negative error code, never 0 (for -1/errno boundaries). */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#endif /* SHADOW_MACRO_H */

// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

#include "macro.h"
#include "shadow-io.h"

int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? negative_errno() : -EIO;
		got += (size_t)n;
	}
	return 0;
}

int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = pwrite(fd, (const uint8_t *)buf + put, len - put, (off_t)(off + put));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		put += (size_t)n;
	}
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = write(fd, (const uint8_t *)buf + put, len - put);

		if (n < 0)
			return negative_errno();
		put += (size_t)n;
	}
	return 0;
}

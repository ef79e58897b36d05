/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Name rules and the device-mapper names made from a volume's name: see
 * shadow-name.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "shadow-name.h"

/* What udev leaves unescaped in /dev/mapper names (libdevmapper's whitelist). */
static bool name_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("#+-.:=@_", c) != NULL;
}

enum name_rule name_check(const char *name, size_t max, struct name_check *ret)
{
	struct name_check c = { .rule = NAME_OK, .max = max };

	c.len = name ? strlen(name) : 0;
	if (c.len == 0)
		c.rule = NAME_EMPTY;
	else if (c.len > max)
		c.rule = NAME_TOO_LONG;
	else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		c.rule = NAME_DOTS;
	else if (name[0] == '-')
		c.rule = NAME_LEADING_DASH;
	else if (strcmp(name, "control") == 0)
		c.rule = NAME_RESERVED;
	for (size_t i = 0; c.rule == NAME_OK && i < c.len; i++)
		if (!name_char_ok((unsigned char)name[i])) {
			c.rule = NAME_BAD_CHAR;
			c.pos = i + 1;
			c.c = (unsigned char)name[i];
		}
	if (ret)
		*ret = c;
	return c.rule;
}

_printf_(3, 4)
static int format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int name_explain(const struct name_check *c, char *buf, size_t size)
{
	switch (c->rule) {
	case NAME_OK:
		return format(buf, size, "it is valid");
	case NAME_EMPTY:
		return format(buf, size, "it is empty");
	case NAME_TOO_LONG:
		return format(buf, size, "it is %zu bytes long; the limit is %zu", c->len, c->max);
	case NAME_BAD_CHAR:
		if (c->c > ' ' && c->c < 0x7f)
			return format(buf, size,
				      "character '%c' at position %zu is not allowed "
				      "(letters, digits and #+-.:=@_)", c->c, c->pos);
		return format(buf, size,
			      "character 0x%02x at position %zu is not allowed "
			      "(letters, digits and #+-.:=@_)", c->c, c->pos);
	case NAME_RESERVED:
		return format(buf, size, "it is reserved (/dev/mapper/control is device-mapper's own)");
	case NAME_LEADING_DASH:
		return format(buf, size, "it starts with '-', which commands would read as an option");
	case NAME_DOTS:
		return format(buf, size, "'.' and '..' are not names");
	default:
		return format(buf, size, "rule %d", (int)c->rule);
	}
}

const char *name_rule_to_string(enum name_rule r)
{
	static const char *const names[_NAME_RULE_MAX] = {
		[NAME_OK] = "ok",
		[NAME_EMPTY] = "empty",
		[NAME_TOO_LONG] = "too long",
		[NAME_BAD_CHAR] = "bad character",
		[NAME_RESERVED] = "reserved",
		[NAME_LEADING_DASH] = "leading '-'",
		[NAME_DOTS] = "'.' or '..'",
	};

	return (unsigned int)r < _NAME_RULE_MAX ? names[r] : NULL;
}

int name_volume_uuid(char buf[DM_UUID_LEN], const char *volume)
{
	return format(buf, DM_UUID_LEN, NAME_VOLUME_UUID_PREFIX "%s", volume);
}

int name_real(char buf[DM_NAME_LEN], const char *volume)
{
	return format(buf, DM_NAME_LEN, "%s-real", volume);
}

int name_real_uuid(char buf[DM_UUID_LEN], const char *volume, const char *uuid)
{
	if (uuid && *uuid)
		return format(buf, DM_UUID_LEN, "%s-real", uuid);
	return format(buf, DM_UUID_LEN, NAME_VOLUME_UUID_PREFIX "REAL-%s", volume);
}

int name_expose_default(char buf[DM_NAME_LEN], const char *volume, uint64_t id)
{
	return format(buf, DM_NAME_LEN, "%s-shadow-%" PRIu64, volume, id);
}

int name_expose_uuid(char buf[DM_UUID_LEN], const char *volume, uint64_t id)
{
	return format(buf, DM_UUID_LEN, NAME_VOLUME_UUID_PREFIX "SNAP-%s-%" PRIu64, volume, id);
}

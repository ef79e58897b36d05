/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The names libshadow gives device-mapper devices, and the rules a name
 * from the caller must follow.  Pure: no kernel, no context, so the unit
 * tests drive it (test/unit/test-name.c).  Not installed.
 *
 * Device-mapper takes a name of at most DM_NAME_LEN - 1 bytes and a uuid
 * of at most DM_UUID_LEN - 1 (linux/dm-ioctl.h); the ioctl fails with a
 * bare EINVAL ("see the kernel log") past them.  A volume's name goes into
 * several derived names and uuids (below), the longest of which carries a
 * 20-digit id: the volume name limit (SHADOW_VOLUME_NAME_MAX in
 * libshadow.h) is what leaves room for that one, so a volume accepted by
 * enable can always be exposed and snapshotted.
 */
#ifndef SHADOW_NAME_H
#define SHADOW_NAME_H

#include <linux/dm-ioctl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which rule a name breaks. */
enum name_rule {
	NAME_OK,
	NAME_EMPTY,
	NAME_TOO_LONG,		/* .len > .max */
	NAME_BAD_CHAR,		/* .c at .pos (1-based) */
	NAME_RESERVED,		/* "control": /dev/mapper/control */
	NAME_LEADING_DASH,	/* reads as an option on a command line */
	NAME_DOTS,		/* "." or ".." */
	_NAME_RULE_MAX,
};

struct name_check {
	enum name_rule rule;
	size_t len;		/* the name's length in bytes */
	size_t max;		/* the limit it was checked against */
	size_t pos;		/* NAME_BAD_CHAR: position, from 1 */
	unsigned char c;	/* NAME_BAD_CHAR: the character */
};

/* The longest device-mapper name and uuid, in bytes (without the NUL). */
#define NAME_DM_MAX (DM_NAME_LEN - 1)
#define NAME_UUID_MAX (DM_UUID_LEN - 1)

/*
 * Check @name against the rules (at most @max bytes; letters, digits and
 * "#+-.:=@_", the characters udev keeps as they are in /dev/mapper; not
 * "control", ".", ".." nor starting with '-').  Returns the rule it
 * breaks (NAME_OK if none) and fills @ret (may be NULL).
 */
enum name_rule name_check(const char *name, size_t max, struct name_check *ret);

/*
 * Why @c's name is refused, as a phrase that follows "bad name 'x': ":
 * "it is 130 bytes long; the limit is 93".  Returns -ENAMETOOLONG when
 * @size is too small (the text is then cut), 0 otherwise.
 */
int name_explain(const struct name_check *c, char *buf, size_t size);

/* "empty", "too long", "bad character", ...: the rule's short name. */
const char *name_rule_to_string(enum name_rule r);

/*
 * The names and uuids made from a volume's name @volume.  Each returns
 * -ENAMETOOLONG when the result would not fit device-mapper's limit.
 */
#define NAME_VOLUME_UUID_PREFIX "SHADOW-"
int name_volume_uuid(char buf[DM_UUID_LEN], const char *volume);
/* Taken over in place: <name>-real, its uuid <uuid>-real or SHADOW-REAL-<name>. */
int name_real(char buf[DM_NAME_LEN], const char *volume);
int name_real_uuid(char buf[DM_UUID_LEN], const char *volume, const char *uuid);
/* An exposed copy: <volume>-shadow-<id> by default, uuid SHADOW-SNAP-<volume>-<id>. */
int name_expose_default(char buf[DM_NAME_LEN], const char *volume, uint64_t id);
int name_expose_uuid(char buf[DM_UUID_LEN], const char *volume, uint64_t id);

#endif

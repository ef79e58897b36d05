/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table parameters each provider loads, the names and uuids of the
 * devices dm-snapshot copies live in, and dm-snapshot's status line.
 * Pure functions (no I/O), unit-tested on literal strings.
 *
 * The builders write into @buf and return 0, or -ENAMETOOLONG when
 * @size is too small; the parsers return 0 or -EINVAL and leave ret_*
 * untouched on failure.
 */
#ifndef SHADOW_TABLES_H
#define SHADOW_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shadow-catalog.h"

/*
 * Room for any shadow-origin line's parameters: the devices, up to 8
 * clone_targets by path (PATH_MAX would be generous; a table line is cut
 * well before) and a rate.
 */
#define SHADOW_ORIGIN_PARAMS_MAX 4096

/* dm-shadow: "<origin> <store> <method> <chunk_sectors>" (shadow-origin). */
int dmshadow_origin_params(char *buf, size_t size, dev_t origin, dev_t store,
			   const char *method, uint32_t chunk_sectors);

/*
 * What a volume's origin table is made of: the volume (its method, chunk
 * size and, for a clone volume, hydrate rate) and the catalog (its
 * clones' targets), leaving out the clones in @skip: one being deleted or
 * detached, or, at activation, those whose target is not there.
 */
struct origin_spec {
	const struct shadow_volume *v;
	const struct shadow_catalog *cat;	/* NULL: no copies yet (enable) */
	const uint64_t *skip;			/* kernel snapshot ids */
	size_t n_skip;
};

/*
 * dm-shadow: a volume's shadow-origin parameters, always built from the
 * catalog: dmshadow_origin_params(), then for a clone volume its features,
 * "<#features> clone_target <snapshot> <target>... [hydrate_rate <n>]":
 * a clone_target for each clone of the volume its store keeps
 * (shadow_copy_in_store(): not detached, not imported) that has a target
 * and is not in @s->skip, in catalog order, by the path create was given.
 * -E2BIG for more clones than a table takes (8), -EINVAL for a target
 * that a table line cannot hold (empty, or with a blank), -ENAMETOOLONG.
 */
int dmshadow_volume_params(char *buf, size_t size, dev_t origin, dev_t store,
			   const struct origin_spec *s);

/* "<major>:<minor>", as the kernel prints a device in a table. */
int parse_devno(const char *s, dev_t *ret);
/* dm-shadow: "<origin> <id>[ 1 writable]" (shadow-snap). */
int dmshadow_snap_params(char *buf, size_t size, const char *origin,
			 uint64_t id, bool writable);

/* dm-snapshot: "<origin>" (snapshot-origin). */
int dmsnap_origin_params(char *buf, size_t size, dev_t origin);
/* dm-snapshot: "<origin> <store> P <chunk_sectors>" (snapshot, persistent). */
int dmsnap_snapshot_params(char *buf, size_t size, const char *origin,
			   dev_t store, uint32_t chunk_sectors);
/* "<dev> 0" (linear over all of @dev): how a dm-snapshot copy is exposed. */
int linear_params(char *buf, size_t size, dev_t dev);

/*
 * The device a dm-snapshot copy of volume @dm_name lives in,
 * "<dm_name>-snap" (one per volume: dm-snapshot keeps one snapshot per
 * store), and its uuid "SHADOW-DMSNAP-<volume>-<id>", which carries the
 * copy's snapshot id for the repair.  The uuid is not "SHADOW-SNAP-...":
 * the udev rules for exposed copies must not match it.
 */
#define DMSNAP_UUID_PREFIX "SHADOW-DMSNAP-"
int dmsnap_copy_name(char *buf, size_t size, const char *dm_name);
int dmsnap_copy_uuid(char *buf, size_t size, const char *volume, uint64_t id);
/* The id in a uuid made by dmsnap_copy_uuid() for @volume. */
int dmsnap_parse_copy_uuid(const char *uuid, const char *volume,
			   uint64_t *ret_id);

/*
 * The first word of a table's parameters, as the kernel prints it back:
 * the origin device ("<major>:<minor>") of snapshot-origin.
 */
int parse_first_word(const char *params, char *ret, size_t size);

/*
 * The snapshot target's status: "<allocated>/<total> <metadata>" (in
 * sectors) while valid; "Invalid" once it overflowed or failed;
 * "Overflow" (a write to the snapshot found the store full) is taken as
 * invalid too.  "Merge failed" and "Unknown" are refused: we never merge,
 * and the persistent store always reports its usage.
 */
struct dmsnap_status {
	bool valid;
	uint64_t allocated_sectors;
	uint64_t total_sectors;
	uint64_t metadata_sectors;
};
int dmsnap_parse_status(const char *params, struct dmsnap_status *ret);

#endif

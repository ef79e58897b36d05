/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The catalog: one JSON document (json-c), <state dir>/catalog.json,
 * holding the volumes, shadow copy sets and shadow copies shadowctl
 * manages.  Encoding and decoding are pure (unit-tested); saving is
 * atomic (temporary file, fsync, rename, fsync of the directory); the
 * lock (flock on <state dir>/lock) is taken by the context for the whole
 * of one command.
 *
 * Document (version 1):
 *   { "version": 1, "next_id": N, "next_set": N,
 *     "volumes": [ { "name", "device", "store", "method", "chunk_sectors",
 *                    "dm_name", "real_name" (or null), "enabled",
 *                    "provider" } ],
 *     "sets":    [ { "id", "created", "freeze_us", "state" } ],
 *     "shadows": [ { "id", "snapshot", "set", "volume", "method",
 *                    "created", "state", "device" (or null),
 *                    "mountpoint" (or null), "writable",
 *                    "target" (optional), "origin" (optional) } ],
 *     "writers": [ { "name", "path" (or null), "state", "event" (or null),
 *                    "message" (or null), "time" } ] }
 * A set may hold "writers": [ { "name", "metadata", "data" (optional),
 * "excluded" (optional: the component names the requester excluded) } ]:
 * what each writer said about the set (shadow-writer(7)).  Both "writers"
 * members are optional: catalogs written before writers existed load.
 * The top-level "writers" is the last state of each writer seen (ok,
 * failed, refused, skipped), kept across sets.
 *
 * A volume's "provider" is "dm-shadow" or "dm-snapshot"; catalogs written
 * before providers existed have none, and their volumes are dm-shadow's.
 *
 * Clones (method "clone"; every member below is optional, absent in
 * catalogs written before clones, and written only when it is set):
 *   - a clone volume may hold "hydrate_rate" (MiB/s, its table's feature);
 *   - a clone copy holds "target", the device its data is copied to, as
 *     given to create (null only for a clone a repair adopted and whose
 *     target it could not find); no other copy has one;
 *   - a clone copy may be "detached" (state): the kernel forgot it, its
 *     data is a plain device, its target, which it must name;
 *   - a copy may hold "origin": { "host", "set", "shadow", "volume",
 *     "volume_bytes" (optional), "chunk_bytes" (optional) }, the copy it
 *     was imported from, on another host (shadow-clone-metadata(5)), with
 *     its volume's size and chunk size there.  Only a detached clone is
 *     imported, and its "volume" (the origin's) need not be a volume of
 *     this catalog.  Its "snapshot" is the origin's too: no store here has
 *     it, and it does not advance "next_id".
 * A detached or imported copy is no snapshot in any store: the repair
 * leaves it alone.
 */
#ifndef SHADOW_CATALOG_H
#define SHADOW_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "libshadow.h"

struct json_object;

#define SHADOW_CATALOG_VERSION 1

struct shadow_volume {
	char *name;		/* the volume's name: its dm name */
	char *device;		/* as given to enable */
	char *store;
	char *method;
	uint32_t chunk_sectors;
	char *dm_name;
	char *real_name;	/* takeover: the device with the original table */
	int64_t enabled;
	char *provider;		/* "dm-shadow" | "dm-snapshot" */
	bool has_hydrate_rate;	/* a clone volume's table sets hydrate_rate: */
	uint32_t hydrate_rate;	/* ... MiB/s, 0: no limit */
	bool active;		/* runtime only: dm device loaded */
	bool suspended_foreign;	/* runtime only: suspended, not by a set of ours */
};

/* What one writer said about a set. */
struct shadow_set_writer {
	char *name;
	struct json_object *metadata;	/* identify's document */
	struct json_object *data;	/* post-snapshot's, or NULL */
	/* names of the components the requester excluded, or NULL */
	struct json_object *excluded;
};

struct shadow_set {
	uint64_t id;
	int64_t created;
	uint64_t freeze_us;
	char *state;		/* "creating" | "complete" */
	struct shadow_set_writer *writers;
	size_t n_writers;
};

/* The last state of one writer. */
struct shadow_writer_record {
	char *name;
	char *path;
	char *state;		/* "ok" | "failed" | "refused" | "skipped" */
	char *event;		/* the event it was at, or NULL */
	char *message;		/* why (failed, refused, skipped), or NULL */
	int64_t time;
};

/* Where an imported copy comes from: the copy it was on another host. */
struct shadow_copy_origin {
	char *host;
	uint64_t set;		/* its set there, 0: none */
	uint64_t shadow;	/* its shadow id there */
	char *volume;		/* its volume there */
	uint64_t volume_bytes;	/* that volume's size, 0: not known */
	uint32_t chunk_bytes;	/* its chunk size, 0: not known */
};

struct shadow_copy {
	uint64_t id;
	uint64_t snapshot;	/* kernel snapshot id on its volume */
	uint64_t set;		/* 0: none */
	char *volume;
	char *method;
	int64_t created;
	char *state;		/* "creating" | "valid" | "invalid" | "detached" */
	char *device;		/* exposed dm name, or NULL */
	char *mountpoint;
	bool writable;
	char *target;		/* a clone's target device, as given; else NULL */
	struct shadow_copy_origin *origin;	/* imported: from there; else NULL */
};

struct shadow_catalog {
	uint64_t next_id;
	uint64_t next_set;
	struct shadow_volume **volumes;
	size_t n_volumes;
	struct shadow_set **sets;
	size_t n_sets;
	struct shadow_copy **copies;
	size_t n_copies;
	struct shadow_writer_record **writers;
	size_t n_writers;
};

void shadow_catalog_clear(struct shadow_catalog *c);

/* Encode @c as a JSON text (newly allocated). */
int shadow_catalog_encode(const struct shadow_catalog *c, char **ret);
/*
 * Decode a JSON text.  -EBADMSG for anything malformed (not JSON, wrong
 * version, missing or mistyped field, duplicate id or name, a shadow of
 * an unknown volume or set), with a short reason in @why.
 */
int shadow_catalog_decode(const char *text, struct shadow_catalog *ret,
			  char *why, size_t why_size);

/* Read <dir>/catalog.json; a missing file is an empty catalog. */
int shadow_catalog_load(const char *dir, struct shadow_catalog *ret,
			char *why, size_t why_size);
/* Write <dir>/catalog.json atomically. */
int shadow_catalog_save(const char *dir, const struct shadow_catalog *c);

/* Add objects (taking ownership); 0 or -ENOMEM. */
int shadow_catalog_add_volume(struct shadow_catalog *c, struct shadow_volume *v);
int shadow_catalog_add_set(struct shadow_catalog *c, struct shadow_set *s);
int shadow_catalog_add_copy(struct shadow_catalog *c, struct shadow_copy *s);
/* Remove and free. */
void shadow_catalog_remove_volume(struct shadow_catalog *c, struct shadow_volume *v);
void shadow_catalog_remove_set(struct shadow_catalog *c, struct shadow_set *s);
void shadow_catalog_remove_copy(struct shadow_catalog *c, struct shadow_copy *s);

/*
 * Record what writer @name said about set @s: new references to @metadata
 * and @data (either may be NULL).
 */
int shadow_set_add_writer(struct shadow_set *s, const char *name,
			  struct json_object *metadata, struct json_object *data);
/*
 * A set's writers as the catalog records them, an array of { "name",
 * "metadata", "data" (optional), "excluded" (optional) }, for another
 * document to carry them exactly so (shadow-clone-doc.c): encoded, a new
 * array (NULL when out of memory); decoded from array @a into @s,
 * -EBADMSG with the reason in @why ("<what>.writers[1]: no \"name\"").
 */
/*
 * Add @v to @o as @key, taking it: -ENOMEM if @v is NULL (a failed
 * json_object_new_*()) or the add fails (then @v is freed).  For the
 * catalog's encoders and those of the documents built on it.
 */
int shadow_json_add(struct json_object *o, const char *key, struct json_object *v);
struct json_object *shadow_set_writers_encode(const struct shadow_set *s);
int shadow_set_writers_decode(struct json_object *a, const char *what, struct shadow_set *s,
			      char *why, size_t why_size);
/* Record, with the writer @s recorded last, the array of @excluded names. */
void shadow_set_last_writer_excluded(struct shadow_set *s, struct json_object *excluded);
/* Record the last state of writer @name, replacing the previous one. */
int shadow_catalog_record_writer(struct shadow_catalog *c, const char *name,
				 const char *path, const char *state,
				 const char *event, const char *message,
				 int64_t time);
struct shadow_writer_record *shadow_catalog_writer(const struct shadow_catalog *c,
						   const char *name);

struct shadow_volume *shadow_catalog_volume(const struct shadow_catalog *c, const char *name);
struct shadow_set *shadow_catalog_set(const struct shadow_catalog *c, uint64_t id);
struct shadow_copy *shadow_catalog_copy(const struct shadow_catalog *c, uint64_t id);
/* A clone (method "clone"), attached or detached. */
bool shadow_copy_is_clone(const struct shadow_copy *c);
/* A clone the kernel forgot (state "detached"): its target is a plain copy. */
bool shadow_copy_detached(const struct shadow_copy *c);
/*
 * A snapshot in volume @volume's store, as the kernel lists it: a copy of
 * @volume that is neither detached nor imported from another host.
 */
bool shadow_copy_in_store(const struct shadow_copy *c, const char *volume);
/* Was @a taken before @b?  By creation time, then kernel snapshot id. */
bool shadow_copy_older(const struct shadow_copy *a, const struct shadow_copy *b);

void shadow_volume_free(struct shadow_volume *v);
void shadow_set_free(struct shadow_set *s);
void shadow_copy_free(struct shadow_copy *s);
void shadow_copy_origin_free(struct shadow_copy_origin *o);
void shadow_writer_record_free(struct shadow_writer_record *w);

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl list: the column tables of shadows, sets, volumes, providers
 * and storage.  Each table's column order is its JSON field order (the
 * fields shadowctl(8) documents); a table's default columns are its
 * 'defaults' string.  A new kind of list is a table, an add_rows function
 * and one line in kinds[].
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-list.h"
#include "ctl-writers.h"

#define ELEMENTSOF(x)	(sizeof(x) / sizeof((x)[0]))

/* ------------------------------------------------------------------------
 * list shadows: a row is a shadow_copy.
 */

static void copy_id(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, shadow_copy_id(row));
}

static void copy_set(const void *row, void *data, struct ctl_value *v)
{
	if (shadow_copy_set(row))
		ctl_value_u64(v, shadow_copy_set(row));
}

static void copy_volume(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_copy_volume(row));
}

static void copy_method(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_copy_method(row));
}

static void copy_created(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_time(v, shadow_copy_created(row));
}

static void copy_state(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_copy_state_to_string(shadow_copy_state(row)));
}

static void copy_device(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_copy_device(row));
}

static void copy_snapshot(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, shadow_copy_snapshot(row));
}

static void copy_mountpoint(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_copy_mountpoint(row));
}

static void copy_writable(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_bool(v, shadow_copy_writable(row));
}

/*
 * Its volume's provider; NULL for a copy whose volume is gone from the
 * catalog, and for one imported from another host (a volume here of the
 * same name is not its volume).
 */
static void copy_provider(const void *row, void *data, struct ctl_value *v)
{
	shadow_volume *const *vols;
	size_t n = shadow_ctx_volumes(data, &vols);

	if (shadow_copy_origin(row, NULL, NULL, NULL, NULL) > 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (strcmp(shadow_volume_name(vols[i]), shadow_copy_volume(row)) == 0)
			ctl_value_str(v, shadow_volume_provider(vols[i]));
}

static void copy_target(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_copy_target(row));
}

/*
 * A clone's progress (shadow_copy_clone_progress()); false for another
 * copy, and for a clone whose volume is not active: shown "-" (null).
 */
static bool clone_progress(const void *row, void *data, const char **state, uint64_t *copied,
			   uint64_t *total)
{
	return shadow_copy_clone_progress(data, row, state, copied, total) > 0;
}

static void copy_clone(const void *row, void *data, struct ctl_value *v)
{
	/* Read by the output after this returns (then copied): not on the stack. */
	static char buf[32];
	const char *state;
	uint64_t copied, total;

	if (clone_progress(row, data, &state, &copied, &total))
		ctl_value_str(v, ctl_clone_text(state, copied, total, buf, sizeof(buf)));
	else
		ctl_value_str(v, NULL);
}

static void copy_clone_state(const void *row, void *data, struct ctl_value *v)
{
	const char *state;

	ctl_value_str(v, clone_progress(row, data, &state, NULL, NULL) ? state : NULL);
}

/* A detached clone's progress is no longer tracked: null. */
static void copy_copied_chunks(const void *row, void *data, struct ctl_value *v)
{
	uint64_t copied;

	if (shadow_copy_state(row) != SHADOW_COPY_DETACHED &&
	    clone_progress(row, data, NULL, &copied, NULL))
		ctl_value_u64(v, copied);
	else
		ctl_value_str(v, NULL);
}

static void copy_total_chunks(const void *row, void *data, struct ctl_value *v)
{
	uint64_t total;

	if (shadow_copy_state(row) != SHADOW_COPY_DETACHED &&
	    clone_progress(row, data, NULL, NULL, &total))
		ctl_value_u64(v, total);
	else
		ctl_value_str(v, NULL);
}

/*
 * Where an imported copy comes from: "<host>:<shadow id there>" in a
 * table, {"host", "set", "shadow", "volume"} in JSON; null for a copy
 * made here.
 */
static void copy_origin(const void *row, void *data, struct ctl_value *v)
{
	/* Read by the output after this returns (then copied): not on the stack. */
	static char buf[320];
	const char *host, *volume;
	uint64_t set, shadow;
	json_object *o;

	if (shadow_copy_origin(row, &host, &set, &shadow, &volume) <= 0) {
		ctl_value_str(v, NULL);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "set", set ? json_object_new_uint64(set) : NULL);
	json_object_object_add(o, "shadow", json_object_new_uint64(shadow));
	json_object_object_add(o, "volume", json_object_new_string(volume));
	snprintf(buf, sizeof(buf), "%s:%" PRIu64, host, shadow);
	ctl_value_json_text(v, o, buf);
}

static const struct ctl_column shadow_columns[] = {
	{ "id", "ID", "id", 6, 0, "shadow copy id", copy_id },
	{ "set", "SET", "set", 5, 0, "its set's id (- for a snapshot adopted by a repair)", copy_set },
	{ "volume", "VOLUME", "volume", 16, 0, "the volume it is a copy of", copy_volume },
	{ "method", "METHOD", "method", 6, 0, "snapshot method", copy_method },
	{ "created", "CREATED", "created", 20, 0, "when it was made (UTC)", copy_created },
	{ "state", "STATE", "state", 8, 0, "valid, invalid, creating or detached", copy_state },
	{ "device", "DEVICE", "device", 0, 0, "its exposed device (or -)", copy_device },
	{ "snapshot", "SNAPSHOT", "snapshot", 0, 0, "the kernel's snapshot id", copy_snapshot },
	{ "mountpoint", "MOUNTPOINT", "mountpoint", 0, 0, "where expose mounted it (or -)",
	  copy_mountpoint },
	{ "writable", "WRITABLE", "writable", 0, 0, "exposed writable", copy_writable },
	{ "provider", "PROVIDER", "provider", 0, 0, "what made it: dm-shadow or dm-snapshot",
	  copy_provider },
	{ "target", "TARGET", "target", 0, 0, "a clone's target device (or -)", copy_target },
	{ "clone", "CLONE", NULL, 0, 0,
	  "a clone: hydrating N%, complete, failed or detached (no JSON field)", copy_clone },
	{ "clone-state", "CLONE-STATE", "clone_state", 0, 0,
	  "a clone's state: hydrating, complete, failed or detached", copy_clone_state },
	{ "copied-chunks", "COPIED-CHUNKS", "copied_chunks", 0, CTL_COLUMN_RIGHT,
	  "a clone's chunks on its target", copy_copied_chunks },
	{ "total-chunks", "TOTAL-CHUNKS", "total_chunks", 0, CTL_COLUMN_RIGHT,
	  "the chunks a clone copies, all of its volume's", copy_total_chunks },
	{ "origin", "ORIGIN", "origin", 0, 0,
	  "an imported copy's host and shadow id there, host:id (or -)", copy_origin },
};

static const struct ctl_table shadows_table = {
	.kind = "shadows",
	.defaults = "id,set,volume,method,created,state,device",
	.columns = shadow_columns,
	.n_columns = ELEMENTSOF(shadow_columns),
};

static int add_shadows(shadow_ctx *ctx, struct ctl_output *o)
{
	shadow_copy *const *c;
	size_t n = shadow_ctx_copies(ctx, &c);
	int r;

	for (size_t i = 0; i < n; i++) {
		r = ctl_output_add(o, c[i], ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * list sets: a row is a shadow_set; data is the context (for its count).
 */

static void set_id(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, shadow_set_id(row));
}

static void set_created(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_time(v, shadow_set_created(row));
}

static void set_freeze_us(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, shadow_set_freeze_us(row));
}

static void set_state(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_set_state_to_string(shadow_set_state(row)));
}

static void set_count(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, shadow_set_count(data, row));
}

static void set_writers(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_json(v, ctl_set_writers_json(row));
}

static const struct ctl_column set_columns[] = {
	{ "id", "ID", "id", 5, 0, "set id", set_id },
	{ "created", "CREATED", "created", 20, 0, "when it was made (UTC)", set_created },
	{ "freeze-us", "FREEZE-US", "freeze_us", 10, CTL_COLUMN_RIGHT,
	  "freeze window, first suspend to last resume (microseconds)", set_freeze_us },
	{ "state", "STATE", "state", 9, 0, "complete or creating", set_state },
	{ "count", "COUNT", "count", 0, 0, "number of its shadow copies", set_count },
	{ "writers", "WRITERS", "writers", 0, CTL_COLUMN_JSON_ONLY,
	  "what its writers said (--json only)", set_writers },
};

static const struct ctl_table sets_table = {
	.kind = "sets",
	.defaults = "id,created,freeze-us,state,count",
	.columns = set_columns,
	.n_columns = ELEMENTSOF(set_columns),
};

static int add_sets(shadow_ctx *ctx, struct ctl_output *o)
{
	shadow_set *const *s;
	size_t n = shadow_ctx_sets(ctx, &s);
	int r;

	for (size_t i = 0; i < n; i++) {
		r = ctl_output_add(o, s[i], ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * list volumes: a row is a shadow_volume.
 */

static void volume_name(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_volume_name(row));
}

static void volume_device(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_volume_device(row));
}

static void volume_store(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_volume_store(row));
}

static void volume_method(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_volume_method(row));
}

static void volume_chunk(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, shadow_volume_chunk_bytes(row));
}

static void volume_dm_name(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_volume_dm_name(row));
}

static void volume_real(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_volume_real_name(row));
}

static void volume_enabled(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_time(v, shadow_volume_enabled(row));
}

static void volume_state(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_volume_state_to_string(shadow_volume_state(row)));
}

static void volume_provider(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_volume_provider(row));
}

/* A clone volume's hydration rate (0: no limit); "-" (null) for another. */
static void volume_hydrate_rate(const void *row, void *data, struct ctl_value *v)
{
	uint32_t rate;

	if (shadow_volume_hydrate_rate(row, &rate) == 0)
		ctl_value_u64(v, rate);
	else
		ctl_value_str(v, NULL);
}

static const struct ctl_column volume_columns[] = {
	{ "name", "NAME", "name", 16, 0, "volume name", volume_name },
	{ "device", "DEVICE", "device", 20, 0, "the device enabled (as given)", volume_device },
	{ "store", "STORE", "store", 20, 0, "the store device", volume_store },
	{ "method", "METHOD", "method", 6, 0, "snapshot method", volume_method },
	{ "chunk", "CHUNK", "chunk_size", 6, CTL_COLUMN_RIGHT | CTL_COLUMN_KIB,
	  "chunk size (JSON: bytes)", volume_chunk },
	{ "dm-name", "DM-NAME", "dm_name", 16, 0, "its device-mapper device", volume_dm_name },
	{ "real", "REAL", "real", 0, 0, "the device holding a taken-over table (or -)",
	  volume_real },
	{ "enabled", "ENABLED", "enabled", 20, 0, "when it was enabled (UTC)", volume_enabled },
	{ "state", "STATE", "state", 8, 0, "active or inactive", volume_state },
	{ "provider", "PROVIDER", "provider", 11, 0, "dm-shadow or dm-snapshot", volume_provider },
	{ "hydrate-rate", "HYDRATE-RATE", "hydrate_rate", 0, CTL_COLUMN_RIGHT,
	  "a clone volume's hydration, MiB/s (0: no limit)", volume_hydrate_rate },
};

static const struct ctl_table volumes_table = {
	.kind = "volumes",
	.defaults = "name,device,store,method,chunk,state,provider,real",
	.columns = volume_columns,
	.n_columns = ELEMENTSOF(volume_columns),
};

static int add_volumes(shadow_ctx *ctx, struct ctl_output *o)
{
	shadow_volume *const *v;
	size_t n = shadow_ctx_volumes(ctx, &v);
	int r;

	for (size_t i = 0; i < n; i++) {
		r = ctl_output_add(o, v[i], ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * list providers: a row is what shadow_provider() says of one.
 */

struct provider_row {
	const char *name, *target, *version, *why;
	bool usable;
};

static void provider_name(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, ((const struct provider_row *)row)->name);
}

static void provider_target(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, ((const struct provider_row *)row)->target);
}

static void provider_version(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, ((const struct provider_row *)row)->version);
}

static void provider_usable(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_bool(v, ((const struct provider_row *)row)->usable);
}

static void provider_reason(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, ((const struct provider_row *)row)->why);
}

static const struct ctl_column provider_columns[] = {
	{ "name", "NAME", "name", 12, 0, "provider name", provider_name },
	{ "target", "TARGET", "target", 14, 0, "its volumes' device-mapper target", provider_target },
	{ "version", "VERSION", "version", 8, 0, "the target's version (- when not loaded)",
	  provider_version },
	{ "usable", "USABLE", "usable", 6, 0, "whether it can be used now", provider_usable },
	{ "reason", "REASON", "reason", 0, 0, "why it cannot (or -)", provider_reason },
};

static const struct ctl_table providers_table = {
	.kind = "providers",
	.defaults = "name,target,version,usable,reason",
	.columns = provider_columns,
	.n_columns = ELEMENTSOF(provider_columns),
};

static int add_providers(shadow_ctx *ctx, struct ctl_output *o)
{
	struct provider_row p;
	int r;

	for (unsigned int i = 0;
	     shadow_provider(ctx, i, &p.name, &p.target, &p.usable, &p.version) > 0; i++) {
		p.why = shadow_provider_why(ctx, i);
		r = ctl_output_add(o, &p, ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * list storage: a row is a volume and its store as the kernel reports it
 * (all 0 and mode "inactive" when the volume is not active).
 */

struct storage_row {
	const shadow_volume *volume;
	uint64_t used, total;	/* chunks; total: the limit, what it may use */
	uint64_t capacity;	/* chunks its device holds */
	unsigned int snapshots, max_snapshots, invalid;
	const char *mode;
	char fold[48];		/* "<cursor>/<total>", empty: none runs */
};

#define STORAGE(row) ((const struct storage_row *)(row))

static void storage_volume(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_volume_name(STORAGE(row)->volume));
}

static void storage_store(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_volume_store(STORAGE(row)->volume));
}

static void storage_chunk(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, shadow_volume_chunk_bytes(STORAGE(row)->volume));
}

static void storage_used_chunks(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, STORAGE(row)->used);
}

static void storage_total_chunks(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, STORAGE(row)->total);
}

static void storage_capacity_chunks(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, STORAGE(row)->capacity);
}

static void storage_used(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, STORAGE(row)->used * shadow_volume_chunk_bytes(STORAGE(row)->volume));
}

static void storage_size(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, STORAGE(row)->total * shadow_volume_chunk_bytes(STORAGE(row)->volume));
}

static void storage_capacity(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, STORAGE(row)->capacity * shadow_volume_chunk_bytes(STORAGE(row)->volume));
}

static void storage_use_percent(const void *row, void *data, struct ctl_value *v)
{
	const struct storage_row *s = row;

	ctl_value_u64(v, s->total ? s->used * 100 / s->total : 0);
}

static void storage_snapshots(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, STORAGE(row)->snapshots);
}

static void storage_max_snapshots(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, STORAGE(row)->max_snapshots);
}

static void storage_invalid(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_u64(v, STORAGE(row)->invalid);
}

static void storage_mode(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, STORAGE(row)->mode);
}

static void storage_fold(const void *row, void *data, struct ctl_value *v)
{
	const char *f = STORAGE(row)->fold;

	ctl_value_str(v, *f ? f : NULL);
}

static const struct ctl_column storage_columns[] = {
	{ "volume", "VOLUME", "volume", 16, 0, "volume name", storage_volume },
	{ "store", "STORE", "store", 20, 0, "the store device", storage_store },
	{ "chunk", "CHUNK", "chunk_size", 6, CTL_COLUMN_RIGHT | CTL_COLUMN_KIB,
	  "chunk size (JSON: bytes)", storage_chunk },
	{ "used-chunks", "USED-CHUNKS", "used_chunks", 0, CTL_COLUMN_RIGHT,
	  "data chunks in use in the store", storage_used_chunks },
	{ "total-chunks", "TOTAL-CHUNKS", "total_chunks", 0, CTL_COLUMN_RIGHT,
	  "data chunks the store may use (its size, see resize)", storage_total_chunks },
	{ "cap-chunks", "CAP-CHUNKS", "capacity_chunks", 0, CTL_COLUMN_RIGHT,
	  "data chunks its device holds", storage_capacity_chunks },
	{ "used", "USED", "used_bytes", 12, CTL_COLUMN_RIGHT | CTL_COLUMN_KIB,
	  "data in the store (JSON: bytes)", storage_used },
	{ "size", "SIZE", "total_bytes", 12, CTL_COLUMN_RIGHT | CTL_COLUMN_KIB,
	  "data the store may hold, its size (JSON: bytes)", storage_size },
	{ "capacity", "CAPACITY", "capacity_bytes", 12, CTL_COLUMN_RIGHT | CTL_COLUMN_KIB,
	  "data its device holds, the largest size (JSON: bytes)", storage_capacity },
	{ "use%", "USE%", NULL, 5, CTL_COLUMN_RIGHT | CTL_COLUMN_PERCENT,
	  "used in percent of size (no JSON field)", storage_use_percent },
	{ "snapshots", "SNAPSHOTS", "snapshots", 9, CTL_COLUMN_RIGHT,
	  "snapshots in the store (valid and invalid)", storage_snapshots },
	{ "max-snapshots", "MAX-SNAPSHOTS", "max_snapshots", 0, CTL_COLUMN_RIGHT,
	  "snapshots the store can hold", storage_max_snapshots },
	{ "invalid", "INVALID", "invalid", 7, CTL_COLUMN_RIGHT,
	  "snapshots dropped because the store filled, or failed clones", storage_invalid },
	{ "mode", "MODE", "mode", 0, 0, "rw, fail or inactive", storage_mode },
	{ "fold", "FOLD", "fold", 0, CTL_COLUMN_RIGHT,
	  "row: where fold-back is, origin chunk/all (or -)", storage_fold },
};

static const struct ctl_table storage_table = {
	.kind = "storage",
	.defaults = "volume,store,used,size,capacity,use%,snapshots,invalid,mode",
	.columns = storage_columns,
	.n_columns = ELEMENTSOF(storage_columns),
};

static int add_storage(shadow_ctx *ctx, struct ctl_output *o)
{
	shadow_volume *const *v;
	size_t n = shadow_ctx_volumes(ctx, &v);
	int r;

	for (size_t i = 0; i < n; i++) {
		struct storage_row s = { .volume = v[i] };
		bool failed = false;

		if (shadow_volume_storage(ctx, v[i], &s.used, &s.total, &s.snapshots,
					  &s.max_snapshots, &s.invalid, &failed) < 0 ||
		    shadow_volume_storage_capacity(ctx, v[i], &s.capacity) < 0) {
			s = (struct storage_row){ .volume = v[i], .mode = "inactive" };
		} else {
			uint64_t cursor, total;

			s.mode = failed ? "fail" : "rw";
			if (shadow_volume_fold_progress(ctx, v[i], &cursor, &total) > 0)
				snprintf(s.fold, sizeof(s.fold), "%" PRIu64 "/%" PRIu64, cursor, total);
		}
		r = ctl_output_add(o, &s, ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Writers: every entry of the writers directory and its last result
 */

static void writer_name(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_writer_name(row));
}

static void writer_path(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_writer_path(row));
}

static void writer_state(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_writer_state_to_string(shadow_writer_state(row)));
}

static void writer_reason(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_writer_reason(row));
}

static void writer_last_state(const void *row, void *data, struct ctl_value *v)
{
	enum shadow_writer_result r = shadow_writer_last_state(row);

	/* Never ran: "-", null. */
	ctl_value_str(v, r == SHADOW_WRITER_NEVER_RAN ? NULL : shadow_writer_result_to_string(r));
}

static void writer_last_event(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_writer_last_event(row));
}

static void writer_last_time(const void *row, void *data, struct ctl_value *v)
{
	if (shadow_writer_last_time(row))
		ctl_value_time(v, shadow_writer_last_time(row));
	else
		ctl_value_str(v, NULL);
}

static void writer_last_message(const void *row, void *data, struct ctl_value *v)
{
	ctl_value_str(v, shadow_writer_last_message(row));
}

static const struct ctl_column writer_columns[] = {
	{ "name", "NAME", "name", 16, 0, "writer name (its file in the writers directory)", writer_name },
	{ "path", "PATH", "path", 0, 0, "its file", writer_path },
	{ "state", "STATE", "state", 8, 0, "ready, or refused (see reason)", writer_state },
	{ "reason", "REASON", "reason", 0, 0, "why it is refused", writer_reason },
	{ "last", "LAST", "last_state", 8, 0,
	  "its last result: ok, failed, refused, skipped", writer_last_state },
	{ "event", "EVENT", "last_event", 14, 0, "the event it was at", writer_last_event },
	{ "time", "TIME", "last_time", 20, 0, "when (UTC)", writer_last_time },
	{ "message", "MESSAGE", "last_message", 0, 0, "what it or the coordinator said",
	  writer_last_message },
};

static const struct ctl_table writers_table = {
	.kind = "writers",
	.defaults = "name,state,last,event,time,message",
	.columns = writer_columns,
	.n_columns = ELEMENTSOF(writer_columns),
};

static int add_writers(shadow_ctx *ctx, struct ctl_output *o)
{
	shadow_writer *const *w;
	size_t n;
	int r;

	r = shadow_ctx_writers(ctx, &w, &n);
	if (r < 0)
		return r;
	r = ctl_output_set_member(o, "directory",
				  json_object_new_string(shadow_ctx_writers_dir(ctx)));
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = ctl_output_add(o, w[i], ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The kinds
 */

static const struct {
	const struct ctl_table *table;
	int (*add_rows)(shadow_ctx *ctx, struct ctl_output *o);
} kinds[] = {
	[LIST_SHADOWS] = { &shadows_table, add_shadows },
	[LIST_SETS] = { &sets_table, add_sets },
	[LIST_VOLUMES] = { &volumes_table, add_volumes },
	[LIST_PROVIDERS] = { &providers_table, add_providers },
	[LIST_STORAGE] = { &storage_table, add_storage },
	[LIST_WRITERS] = { &writers_table, add_writers },
};

const struct ctl_table *ctl_list_table(enum ctl_list kind)
{
	return (size_t)kind < ELEMENTSOF(kinds) ? kinds[kind].table : NULL;
}

static void outputp(struct ctl_output **p)
{
	ctl_output_free(*p);
}

int ctl_list(shadow_ctx *ctx, const struct ctl_args *a)
{
	__attribute__((cleanup(outputp))) struct ctl_output *o = NULL;
	unsigned int flags = (a->json ? CTL_OUTPUT_JSON : 0) |
			     (a->noheadings ? CTL_OUTPUT_NOHEADINGS : 0);
	int r;

	if ((size_t)a->list >= ELEMENTSOF(kinds))
		return -EINVAL;
	r = ctl_output_new(kinds[a->list].table, &a->columns, flags, &o);
	if (r < 0)
		return r;
	r = kinds[a->list].add_rows(ctx, o);
	if (r < 0)
		return r;
	return ctl_output_print(o, stdout);
}

void ctl_list_usage(FILE *out, const char *kind)
{
	bool known = false;

	for (size_t i = 0; kind && i < ELEMENTSOF(kinds); i++)
		known |= strcmp(kind, kinds[i].table->kind) == 0;
	/* The kinds from kinds[], so that a new list cannot be left out. */
	fputs("Usage:\n"
	      " shadowctl [options] list [", out);
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
		fprintf(out, "%s%s", i ? "|" : "", kinds[i].table->kind);
	fputs("]\n"
	      "                          [-o <columns> | -O] [-n] [-J]\n"
	      "\n"
	      "List shadow copies (the default), shadow copy sets, volumes, providers,\n"
	      "each volume's store use or the writers.\n"
	      "\n"
	      "Options:\n"
	      " -J, --json              print JSON (every field unless -o is given)\n"
	      " -n, --noheadings        do not print column headings\n"
	      " -o, --output <list>     the columns to print, comma-separated;\n"
	      "                         +<list> adds them to the default columns\n"
	      " -O, --output-all        print every column\n"
	      "\n"
	      "Column names match without case; a JSON field name names its column too.\n", out);
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		if (known && strcmp(kind, kinds[i].table->kind) != 0)
			continue;
		fputc('\n', out);
		ctl_columns_usage(kinds[i].table, out);
	}
	fputs("\nFor more details see shadowctl(8).\n", out);
}

/* ------------------------------------------------------------------------
 * Objects for the other verbs' JSON
 */

json_object *ctl_copy_json(shadow_ctx *ctx, const shadow_copy *c)
{
	return ctl_row_json(&shadows_table, NULL, c, ctx);
}

json_object *ctl_volume_json(shadow_ctx *ctx, const shadow_volume *v)
{
	return ctl_row_json(&volumes_table, NULL, v, ctx);
}

json_object *ctl_set_json(shadow_ctx *ctx, const shadow_set *s, bool with_copies)
{
	json_object *o = ctl_row_json(&sets_table, NULL, s, ctx), *a;
	shadow_copy *const *c;
	size_t n;

	if (!o || !with_copies)
		return o;
	a = json_object_new_array();
	n = shadow_ctx_copies(ctx, &c);
	for (size_t i = 0; a && i < n; i++)
		if (shadow_copy_set(c[i]) == shadow_set_id(s))
			json_object_array_add(a, ctl_copy_json(ctx, c[i]));
	json_object_object_add(o, "shadows", a);
	return o;
}

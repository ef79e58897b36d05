/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Names (lib/shadow-name.c): each rule a name can break, said with the
 * rule, the length or the character and its place; the limits, tight
 * against every device-mapper name and uuid made from a volume's name;
 * error messages kept whole; the public entry points' argument checks
 * and _to_string functions.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shadow-ctx.h"
#include "shadow-name.h"
#include "shadow-states.h"
#include "shadow-tables.h"
#include "unit.h"

/* A name of @len bytes: "vvv...". */
static char *name_of(size_t len)
{
	char *s = malloc(len + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, 'v', len);
	s[len] = '\0';
	return s;
}

/* name_explain()'s text for @name against @max. */
static const char *why(const char *name, size_t max)
{
	static char buf[256];
	struct name_check c;

	name_check(name, max, &c);
	ck_assert_int_eq(name_explain(&c, buf, sizeof(buf)), 0);
	return buf;
}

START_TEST(test_rules)
{
	struct name_check c;
	char *long_name = name_of(94);

	ck_assert_int_eq(name_check("vol", 93, &c), NAME_OK);
	ck_assert_int_eq(name_check("vg0-lv_1.x:y=z@h#2+", 93, NULL), NAME_OK);
	ck_assert_int_eq(name_check("", 93, &c), NAME_EMPTY);
	ck_assert_int_eq(name_check(NULL, 93, &c), NAME_EMPTY);
	ck_assert_int_eq(name_check(long_name, 93, &c), NAME_TOO_LONG);
	ck_assert_uint_eq(c.len, 94);
	ck_assert_uint_eq(c.max, 93);
	ck_assert_int_eq(name_check(long_name + 1, 93, &c), NAME_OK);
	ck_assert_int_eq(name_check("control", 93, &c), NAME_RESERVED);
	ck_assert_int_eq(name_check("controls", 93, &c), NAME_OK);
	ck_assert_int_eq(name_check("-x", 93, &c), NAME_LEADING_DASH);
	ck_assert_int_eq(name_check("x-", 93, &c), NAME_OK);
	ck_assert_int_eq(name_check(".", 93, &c), NAME_DOTS);
	ck_assert_int_eq(name_check("..", 93, &c), NAME_DOTS);
	ck_assert_int_eq(name_check("...", 93, &c), NAME_OK);
	ck_assert_int_eq(name_check("a/b", 93, &c), NAME_BAD_CHAR);
	ck_assert_uint_eq(c.pos, 2);
	ck_assert_uint_eq(c.c, '/');
	ck_assert_int_eq(name_check("ab c", 93, &c), NAME_BAD_CHAR);
	ck_assert_uint_eq(c.pos, 3);
	ck_assert_int_eq(name_check("x\x7f", 93, &c), NAME_BAD_CHAR);
	ck_assert_int_eq(name_check("caf\xc3\xa9", 93, &c), NAME_BAD_CHAR);
	ck_assert_uint_eq(c.pos, 4);
	ck_assert_int_eq(name_check("a\\x2f", 93, &c), NAME_BAD_CHAR);
	free(long_name);
}
END_TEST

START_TEST(test_explain)
{
	char *long_name = name_of(130);
	char small[8];
	struct name_check c;

	ck_assert_str_eq(why("", 93), "it is empty");
	ck_assert_str_eq(why(long_name, 93), "it is 130 bytes long; the limit is 93");
	ck_assert_str_eq(why(long_name, 127), "it is 130 bytes long; the limit is 127");
	ck_assert_str_eq(why("a b", 93),
			 "character 0x20 at position 2 is not allowed (letters, digits and #+-.:=@_)");
	ck_assert_str_eq(why("a/b", 93),
			 "character '/' at position 2 is not allowed (letters, digits and #+-.:=@_)");
	ck_assert_str_eq(why("control", 93),
			 "it is reserved (/dev/mapper/control is device-mapper's own)");
	ck_assert_str_eq(why("-x", 93), "it starts with '-', which commands would read as an option");
	ck_assert_str_eq(why("..", 93), "'.' and '..' are not names");
	ck_assert_str_eq(why("ok", 93), "it is valid");
	name_check("", 93, &c);
	ck_assert_int_eq(name_explain(&c, small, sizeof(small)), -ENAMETOOLONG);
	free(long_name);
}
END_TEST

START_TEST(test_rule_names)
{
	for (int r = 0; r < _NAME_RULE_MAX; r++)
		ck_assert_ptr_nonnull(name_rule_to_string((enum name_rule)r));
	ck_assert_str_eq(name_rule_to_string(NAME_RESERVED), "reserved");
	ck_assert_str_eq(name_rule_to_string(NAME_LEADING_DASH), "leading '-'");
	ck_assert_ptr_null(name_rule_to_string(_NAME_RULE_MAX));
	ck_assert_ptr_null(name_rule_to_string((enum name_rule)-1));
}
END_TEST

/*
 * The volume name limit is tight: at SHADOW_VOLUME_NAME_MAX, with the
 * longest id, every name and uuid made from it fits device-mapper; one
 * byte more and one does not.
 */
START_TEST(test_derived_limits)
{
	char *at = name_of(SHADOW_VOLUME_NAME_MAX), *over = name_of(SHADOW_VOLUME_NAME_MAX + 1);
	char name[DM_NAME_LEN], uuid[DM_UUID_LEN];
	char lvm_uuid[DM_UUID_LEN];
	int failures = 0;

	ck_assert_int_eq(name_volume_uuid(uuid, at), 0);
	ck_assert_int_eq(name_real(name, at), 0);
	ck_assert_int_eq(name_real_uuid(uuid, at, NULL), 0);
	ck_assert_int_eq(name_expose_default(name, at, UINT64_MAX), 0);
	ck_assert_int_eq(name_expose_uuid(uuid, at, UINT64_MAX), 0);
	ck_assert_int_eq(dmsnap_copy_name(name, sizeof(name), at), 0);
	ck_assert_int_eq(dmsnap_copy_uuid(uuid, sizeof(uuid), at, UINT64_MAX), 0);
	ck_assert_uint_eq(strlen(uuid), NAME_UUID_MAX);	/* the binding one */

	failures += name_volume_uuid(uuid, over) < 0;
	failures += name_real(name, over) < 0;
	failures += name_expose_default(name, over, UINT64_MAX) < 0;
	failures += name_expose_uuid(uuid, over, UINT64_MAX) < 0;
	failures += dmsnap_copy_uuid(uuid, sizeof(uuid), over, UINT64_MAX) < 0;
	ck_assert_int_ge(failures, 1);

	/* The names themselves. */
	ck_assert_int_eq(name_expose_default(name, "vol", 7), 0);
	ck_assert_str_eq(name, "vol-shadow-7");
	ck_assert_int_eq(name_expose_uuid(uuid, "vol", 7), 0);
	ck_assert_str_eq(uuid, "SHADOW-SNAP-vol-7");
	ck_assert_int_eq(name_real_uuid(uuid, "vg-lv", "LVM-abc"), 0);
	ck_assert_str_eq(uuid, "LVM-abc-real");
	ck_assert_int_eq(name_real_uuid(uuid, "lin", ""), 0);
	ck_assert_str_eq(uuid, "SHADOW-REAL-lin");
	/* A taken-over device's own uuid can leave no room for "-real". */
	memset(lvm_uuid, 'u', NAME_UUID_MAX - 4);
	lvm_uuid[NAME_UUID_MAX - 4] = '\0';
	ck_assert_int_eq(name_real_uuid(uuid, "x", lvm_uuid), -ENAMETOOLONG);
	free(at);
	free(over);
}
END_TEST

/* An error is kept whole, and survives an undo step's own. */
START_TEST(test_error_whole)
{
	shadow_ctx *ctx = NULL;
	char *msg = name_of(3000), *saved;

	ck_assert_int_eq(shadow_ctx_new("/nonexistent/state", &ctx), 0);
	ck_assert_str_eq(shadow_ctx_error(ctx), "");
	ck_assert_int_eq(ctx_fail(ctx, -EIO, "writer w: %s.", msg), -EIO);
	ck_assert_uint_eq(strlen(shadow_ctx_error(ctx)), strlen("writer w: ") + 3000 + 1);
	saved = ctx_error_take(ctx);
	ctx_fail(ctx, -EBUSY, "undo");
	ck_assert_str_eq(shadow_ctx_error(ctx), "undo");
	ctx_error_put(ctx, saved);
	ck_assert_uint_eq(strlen(shadow_ctx_error(ctx)), strlen("writer w: ") + 3000 + 1);
	ctx_error_clear(ctx);
	ck_assert_str_eq(shadow_ctx_error(ctx), "");
	shadow_ctx_free(ctx);
	free(msg);
}
END_TEST

START_TEST(test_log_level_names)
{
	ck_assert_str_eq(shadow_log_level_to_string(SHADOW_LOG_ERR), "err");
	ck_assert_str_eq(shadow_log_level_to_string(SHADOW_LOG_WARNING), "warning");
	ck_assert_str_eq(shadow_log_level_to_string(SHADOW_LOG_NOTICE), "notice");
	ck_assert_str_eq(shadow_log_level_to_string(SHADOW_LOG_INFO), "info");
	ck_assert_str_eq(shadow_log_level_to_string(SHADOW_LOG_DEBUG), "debug");
	ck_assert_ptr_null(shadow_log_level_to_string(0));
	ck_assert_ptr_null(shadow_log_level_to_string(8));
	ck_assert_ptr_null(shadow_log_level_to_string(-1));
}
END_TEST

/*
 * Each state's name is the word the catalog stores and shadowctl prints,
 * read back to the same value; out of range gives NULL.
 */
START_TEST(test_state_names)
{
	ck_assert_str_eq(shadow_volume_state_to_string(SHADOW_VOLUME_ACTIVE), "active");
	ck_assert_str_eq(shadow_volume_state_to_string(SHADOW_VOLUME_INACTIVE), "inactive");
	ck_assert_ptr_null(shadow_volume_state_to_string(_SHADOW_VOLUME_STATE_MAX));
	ck_assert_ptr_null(shadow_volume_state_to_string(_SHADOW_VOLUME_STATE_INVALID));

	ck_assert_str_eq(shadow_set_state_to_string(SHADOW_SET_CREATING), "creating");
	ck_assert_str_eq(shadow_set_state_to_string(SHADOW_SET_COMPLETE), "complete");
	ck_assert_ptr_null(shadow_set_state_to_string(_SHADOW_SET_STATE_MAX));
	ck_assert_ptr_null(shadow_set_state_to_string(_SHADOW_SET_STATE_INVALID));
	ck_assert_int_eq(set_state_from_string("complete"), SHADOW_SET_COMPLETE);
	ck_assert_int_eq(set_state_from_string("done"), _SHADOW_SET_STATE_INVALID);

	ck_assert_str_eq(shadow_copy_state_to_string(SHADOW_COPY_CREATING), "creating");
	ck_assert_str_eq(shadow_copy_state_to_string(SHADOW_COPY_VALID), "valid");
	ck_assert_str_eq(shadow_copy_state_to_string(SHADOW_COPY_INVALID), "invalid");
	ck_assert_str_eq(shadow_copy_state_to_string(SHADOW_COPY_DETACHED), "detached");
	ck_assert_ptr_null(shadow_copy_state_to_string(_SHADOW_COPY_STATE_MAX));
	ck_assert_ptr_null(shadow_copy_state_to_string((enum shadow_copy_state)42));
	for (int i = 0; i < _SHADOW_COPY_STATE_MAX; i++)
		ck_assert_int_eq(copy_state_from_string(shadow_copy_state_to_string(i)), i);
	ck_assert_int_eq(copy_state_from_string(NULL), _SHADOW_COPY_STATE_INVALID);

	ck_assert_str_eq(shadow_writer_state_to_string(SHADOW_WRITER_READY), "ready");
	ck_assert_str_eq(shadow_writer_state_to_string(SHADOW_WRITER_REFUSED), "refused");
	ck_assert_ptr_null(shadow_writer_state_to_string(_SHADOW_WRITER_STATE_MAX));

	ck_assert_str_eq(shadow_writer_result_to_string(SHADOW_WRITER_NEVER_RAN), "never-ran");
	ck_assert_str_eq(shadow_writer_result_to_string(SHADOW_WRITER_OK), "ok");
	ck_assert_str_eq(shadow_writer_result_to_string(SHADOW_WRITER_FAILED), "failed");
	ck_assert_str_eq(shadow_writer_result_to_string(SHADOW_WRITER_RESULT_REFUSED), "refused");
	ck_assert_str_eq(shadow_writer_result_to_string(SHADOW_WRITER_SKIPPED), "skipped");
	ck_assert_ptr_null(shadow_writer_result_to_string(_SHADOW_WRITER_RESULT_MAX));
	ck_assert_ptr_null(shadow_writer_result_to_string(_SHADOW_WRITER_RESULT_INVALID));
	for (int i = 0; i < _SHADOW_WRITER_RESULT_MAX; i++)
		ck_assert_int_eq(writer_result_from_string(shadow_writer_result_to_string(i)), i);
}
END_TEST

/* The enable options and the enable's own checks, before any kernel. */
START_TEST(test_enable_args)
{
	shadow_enable_opts *o = NULL;
	shadow_ctx *ctx = NULL;

	ck_assert_int_eq(shadow_enable_opts_new(NULL), -EINVAL);
	ck_assert_int_eq(shadow_enable_opts_set_name(NULL, "x"), -EINVAL);
	ck_assert_int_eq(shadow_enable_opts_set_method(NULL, "cow"), -EINVAL);
	ck_assert_int_eq(shadow_enable_opts_set_chunk_size(NULL, 4096), -EINVAL);
	ck_assert_int_eq(shadow_enable_opts_set_provider(NULL, "auto"), -EINVAL);
	ck_assert_ptr_null(shadow_enable_opts_free(NULL));
	ck_assert_int_eq(shadow_enable_opts_new(&o), 0);
	ck_assert_int_eq(shadow_enable_opts_set_name(o, "vol"), 0);
	ck_assert_int_eq(shadow_enable_opts_set_name(o, NULL), 0);
	ck_assert_int_eq(shadow_enable_opts_set_provider(o, "dm-shadow"), 0);

	ck_assert_int_eq(shadow_volume_enable_with(NULL, "/dev/x", "/dev/y", o, NULL), -EINVAL);
	ck_assert_int_eq(shadow_ctx_new("/nonexistent/state", &ctx), 0);
	ck_assert_int_eq(shadow_volume_enable_with(ctx, NULL, "/dev/y", o, NULL), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "enable: no device given");
	ck_assert_int_eq(shadow_volume_enable_with(ctx, "", "/dev/y", o, NULL), -EINVAL);
	ck_assert_int_eq(shadow_volume_enable_with(ctx, "/dev/x", "", o, NULL), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "enable /dev/x: no store given");
	ck_assert_int_eq(shadow_volume_enable_with(ctx, "/dev/x", "/dev/y", o, NULL), -EBADFD);
	shadow_ctx_free(ctx);
	shadow_enable_opts_free(o);
}
END_TEST

/* Every public entry point refuses a NULL or bad argument, crashing on none. */
START_TEST(test_public_args)
{
	shadow_volume *const *vols = NULL;
	shadow_writer *const *ws = NULL;
	const char *name, *target, *version;
	const char *one[] = { NULL };
	unsigned int pct[] = { 80 };
	shadow_ctx *ctx = NULL;
	char *json = NULL;
	size_t n = 0;
	uint32_t nr;
	bool usable;

	/* No context. */
	ck_assert_int_eq(shadow_ctx_new(NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_ctx_open(NULL, 0), -EINVAL);
	shadow_ctx_close(NULL);
	shadow_ctx_set_log(NULL, NULL, NULL);
	ck_assert_ptr_null(shadow_ctx_free(NULL));
	ck_assert_str_eq(shadow_ctx_error(NULL), "");
	ck_assert_ptr_null(shadow_ctx_state_dir(NULL));
	ck_assert_int_eq(shadow_volume_enable(NULL, "/dev/x", "/dev/y", NULL, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_volume_disable(NULL, "v", 0), -EINVAL);
	ck_assert_int_eq(shadow_volume_activate(NULL, "v", 0), -EINVAL);
	ck_assert_int_eq(shadow_volume_deactivate(NULL, "v", 0), -EINVAL);
	ck_assert_int_eq(shadow_volume_storage(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_volume_storage_capacity(NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_volume_resize(NULL, "v", 0, 50), -EINVAL);
	ck_assert_int_eq(shadow_volume_set_thresholds(NULL, "v", pct, 1), -EINVAL);
	ck_assert_int_eq(shadow_set_create(NULL, one, 1, 0, NULL), -EINVAL);
	ck_assert_int_eq(shadow_set_create_with(NULL, one, 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_set_delete(NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(shadow_copy_delete(NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(shadow_copy_delete_oldest(NULL, "v", NULL), -EINVAL);
	ck_assert_int_eq(shadow_copy_expose(NULL, 1, NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(shadow_copy_unexpose(NULL, 1), -EINVAL);
	ck_assert_int_eq(shadow_ctx_set_writers_dir(NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_ctx_set_writer_conf(NULL, NULL), -EINVAL);
	ck_assert_ptr_null(shadow_ctx_writers_dir(NULL));
	ck_assert_int_eq(shadow_ctx_writers(NULL, &ws, &n), -EINVAL);
	ck_assert_int_eq(shadow_provider(NULL, 0, &name, &target, &usable, &version), -EINVAL);
	ck_assert_ptr_null(shadow_provider_why(NULL, 0));
	ck_assert_uint_eq(shadow_ctx_volumes(NULL, &vols), 0);
	ck_assert_uint_eq(shadow_ctx_sets(NULL, NULL), 0);
	ck_assert_uint_eq(shadow_ctx_copies(NULL, NULL), 0);
	ck_assert_ptr_null(shadow_ctx_find_volume(NULL, "v"));
	ck_assert_ptr_null(shadow_ctx_find_set(NULL, 1));
	ck_assert_ptr_null(shadow_ctx_find_copy(NULL, 1));
	ck_assert_int_eq(shadow_event_counter(NULL, &nr), -EINVAL);
	ck_assert_int_eq(shadow_event_counter("", &nr), -EINVAL);
	ck_assert_int_eq(shadow_event_counter("v", NULL), -EINVAL);
	ck_assert_int_eq(shadow_event_wait(NULL, 0, &nr), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_new(NULL), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_set_retries(NULL, 1), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_set_commit_timeout(NULL, 1), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_set_writer_timeout(NULL, 1), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_set_no_writers(NULL, true), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_add_writer(NULL, "w"), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_add_component(NULL, "w/c"), -EINVAL);
	ck_assert_int_eq(shadow_create_opts_add_target(NULL, "v", "/dev/x"), -EINVAL);
	ck_assert_int_eq(shadow_enable_opts_set_hydrate_rate(NULL, 1), -EINVAL);
	ck_assert_int_eq(shadow_copy_detach(NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(shadow_volume_throttle(NULL, "v", 1), -EINVAL);
	ck_assert_int_eq(shadow_copy_clone_progress(NULL, NULL, NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_copy_export_metadata(NULL, 1, &json), -EINVAL);
	ck_assert_int_eq(shadow_copy_import_metadata(NULL, "{}", "/dev/x", NULL), -EINVAL);
	ck_assert_int_eq(shadow_copy_origin(NULL, NULL, NULL, NULL, NULL), -EINVAL);

	/* Getters of no object. */
	ck_assert_ptr_null(shadow_volume_name(NULL));
	ck_assert_int_eq(shadow_volume_state(NULL), _SHADOW_VOLUME_STATE_INVALID);
	ck_assert_uint_eq(shadow_volume_chunk_bytes(NULL), 0);
	ck_assert_int_eq(shadow_copy_state(NULL), _SHADOW_COPY_STATE_INVALID);
	ck_assert(!shadow_copy_writable(NULL));
	ck_assert_ptr_null(shadow_copy_target(NULL));
	ck_assert_uint_eq(shadow_set_id(NULL), 0);
	ck_assert_int_eq(shadow_set_state(NULL), _SHADOW_SET_STATE_INVALID);
	ck_assert_uint_eq(shadow_set_writers(NULL), 0);
	ck_assert_ptr_null(shadow_set_writer_name(NULL, 0));
	ck_assert_ptr_null(shadow_set_writer_metadata(NULL, 0));
	ck_assert_ptr_null(shadow_writer_name(NULL));
	ck_assert_int_eq(shadow_writer_state(NULL), _SHADOW_WRITER_STATE_INVALID);
	ck_assert_int_eq(shadow_writer_last_state(NULL), _SHADOW_WRITER_RESULT_INVALID);
	ck_assert_ptr_null(shadow_writer_last_message(NULL));
	ck_assert_int_eq(shadow_writer_last_time(NULL), 0);

	/* A context, and a bad argument: -EINVAL, said, before "not open". */
	ck_assert_int_eq(shadow_ctx_new("/nonexistent/state", &ctx), 0);
	ck_assert_uint_eq(shadow_set_count(ctx, NULL), 0);
	ck_assert_int_eq(shadow_ctx_open(ctx, 1u << 7), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "open the context: unknown flags 0x80");
	ck_assert_int_eq(shadow_volume_disable(ctx, "", 0), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "disable: no volume given");
	ck_assert_int_eq(shadow_volume_disable(ctx, "v", 4), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "disable v: unknown flags 0x4");
	ck_assert_int_eq(shadow_volume_deactivate(ctx, "v", 2), -EINVAL);
	ck_assert_int_eq(shadow_volume_activate(ctx, NULL, 0), -EINVAL);
	ck_assert_int_eq(shadow_copy_delete(ctx, 1, 8), -EINVAL);
	ck_assert_int_eq(shadow_copy_delete_oldest(ctx, NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_set_delete(ctx, 1, 2), -EINVAL);
	ck_assert_int_eq(shadow_copy_expose(ctx, 1, NULL, NULL, 2), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "expose shadow 1: unknown flags 0x2");
	ck_assert_int_eq(shadow_copy_expose(ctx, 1, NULL, "", 0), -EINVAL);
	ck_assert_int_eq(shadow_set_create_with(ctx, NULL, 2, NULL, NULL), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "create the set: no volume list given");
	ck_assert_int_eq(shadow_volume_resize(ctx, "v", 0, 101), -EINVAL);
	ck_assert_int_eq(shadow_volume_set_thresholds(ctx, "v", NULL, 2), -EINVAL);
	ck_assert_int_eq(shadow_volume_storage(ctx, NULL, NULL, NULL, NULL, NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_volume_storage_capacity(ctx, NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_ctx_writers(ctx, NULL, NULL), -EINVAL);
	ck_assert_int_eq(shadow_provider(ctx, 0, NULL, &target, &usable, &version), -EINVAL);
	ck_assert_int_eq(shadow_copy_detach(ctx, 1, 1), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "detach shadow 1: unknown flags 0x1");
	ck_assert_int_eq(shadow_copy_detach(ctx, 1, 0), -EBADFD);
	ck_assert_int_eq(shadow_volume_throttle(ctx, "", 1), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "throttle: no volume given");
	ck_assert_int_eq(shadow_volume_throttle(ctx, "v", 1), -EBADFD);
	ck_assert_int_eq(shadow_copy_clone_progress(ctx, NULL, NULL, NULL, NULL), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "read a clone's progress: no shadow copy given");
	ck_assert_int_eq(shadow_copy_export_metadata(ctx, 1, NULL), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "export the metadata of shadow 1: nowhere to put it");
	ck_assert_int_eq(shadow_copy_export_metadata(ctx, 1, &json), -EBADFD);
	ck_assert_str_eq(shadow_ctx_error(ctx), "export the metadata of shadow 1: the context is not open");
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, NULL, "/dev/x", NULL), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "import clone metadata: no document given");
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, "{}", NULL, NULL), -EINVAL);
	ck_assert_str_eq(shadow_ctx_error(ctx), "import clone metadata: no device given");
	ck_assert_int_eq(shadow_copy_import_metadata(ctx, "{}", "/dev/x", NULL), -EBADFD);
	ck_assert_str_eq(shadow_ctx_error(ctx), "import clone metadata: the context is not open");
	ck_assert(json == NULL);
	/* A valid call on a context not open still says so. */
	ck_assert_int_eq(shadow_volume_disable(ctx, "v", SHADOW_FORCE), -EBADFD);
	shadow_ctx_free(ctx);
}
END_TEST

Suite *suite_name(void)
{
	Suite *s = suite_create("name");
	TCase *tc = tcase_create("name");

	tcase_add_test(tc, test_rules);
	tcase_add_test(tc, test_explain);
	tcase_add_test(tc, test_rule_names);
	tcase_add_test(tc, test_derived_limits);
	tcase_add_test(tc, test_error_whole);
	tcase_add_test(tc, test_log_level_names);
	tcase_add_test(tc, test_state_names);
	tcase_add_test(tc, test_enable_args);
	tcase_add_test(tc, test_public_args);
	suite_add_tcase(s, tc);
	return s;
}

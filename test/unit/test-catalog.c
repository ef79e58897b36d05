/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The catalog document: encode, decode, round trip, atomic save and load,
 * and every kind of malformed document refused with a reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shadow-catalog.h"
#include "unit.h"

static const char *const good =
	"{ \"version\": 1, \"next_id\": 8, \"next_set\": 3,\n"
	"  \"volumes\": [\n"
	"    { \"name\": \"db\", \"device\": \"/dev/vdb\", \"store\": \"/dev/vdc\",\n"
	"      \"method\": \"cow\", \"chunk_sectors\": 8, \"dm_name\": \"db\",\n"
	"      \"real_name\": null, \"enabled\": 1763800000 },\n"
	"    { \"name\": \"vg-lv\", \"device\": \"/dev/mapper/vg-lv\", \"store\": \"/dev/vdd\",\n"
	"      \"method\": \"cow\", \"chunk_sectors\": 2048, \"dm_name\": \"vg-lv\",\n"
	"      \"real_name\": \"vg-lv-real\", \"enabled\": 1763800001 } ],\n"
	"  \"sets\": [ { \"id\": 2, \"created\": 1763800100, \"freeze_us\": 1234,\n"
	"              \"state\": \"complete\" } ],\n"
	"  \"shadows\": [\n"
	"    { \"id\": 6, \"snapshot\": 6, \"set\": 2, \"volume\": \"db\", \"method\": \"cow\",\n"
	"      \"created\": 1763800100, \"state\": \"valid\", \"device\": \"/dev/mapper/db-shadow-6\",\n"
	"      \"mountpoint\": \"/mnt\", \"writable\": false },\n"
	"    { \"id\": 7, \"snapshot\": 7, \"set\": 2, \"volume\": \"vg-lv\", \"method\": \"cow\",\n"
	"      \"created\": 1763800100, \"state\": \"invalid\", \"device\": null,\n"
	"      \"mountpoint\": null, \"writable\": false } ] }\n";

START_TEST(test_decode)
{
	struct shadow_catalog c;
	char why[128];

	ck_assert_int_eq(shadow_catalog_decode(good, &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.n_volumes, 2);
	ck_assert_uint_eq(c.n_sets, 1);
	ck_assert_uint_eq(c.n_copies, 2);
	ck_assert_uint_eq(c.next_id, 8);
	ck_assert_uint_eq(c.next_set, 3);
	ck_assert_str_eq(c.volumes[1]->real_name, "vg-lv-real");
	ck_assert_ptr_null(c.volumes[0]->real_name);
	ck_assert_uint_eq(c.volumes[1]->chunk_sectors, 2048);
	ck_assert_uint_eq(c.sets[0]->freeze_us, 1234);
	ck_assert_str_eq(c.copies[0]->device, "/dev/mapper/db-shadow-6");
	ck_assert_str_eq(c.copies[1]->state, "invalid");
	ck_assert_ptr_nonnull(shadow_catalog_copy(&c, 7));
	ck_assert_ptr_null(shadow_catalog_copy(&c, 8));
	ck_assert_ptr_nonnull(shadow_catalog_volume(&c, "vg-lv"));
	shadow_catalog_clear(&c);
}
END_TEST

START_TEST(test_round_trip)
{
	struct shadow_catalog c, d;
	char *a = NULL, *b = NULL, why[128];

	ck_assert_int_eq(shadow_catalog_decode(good, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(shadow_catalog_encode(&c, &a), 0);
	ck_assert_int_eq(shadow_catalog_decode(a, &d, why, sizeof(why)), 0);
	ck_assert_int_eq(shadow_catalog_encode(&d, &b), 0);
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(d.n_copies, 2);
	ck_assert_str_eq(d.copies[0]->mountpoint, "/mnt");
	free(a);
	free(b);
	shadow_catalog_clear(&c);
	shadow_catalog_clear(&d);
}
END_TEST

START_TEST(test_empty)
{
	struct shadow_catalog c = { .next_id = 1, .next_set = 1 }, d;
	char *a = NULL, why[128];

	ck_assert_int_eq(shadow_catalog_encode(&c, &a), 0);
	ck_assert_int_eq(shadow_catalog_decode(a, &d, why, sizeof(why)), 0);
	ck_assert_uint_eq(d.n_volumes + d.n_sets + d.n_copies, 0);
	ck_assert_uint_eq(d.next_id, 1);
	free(a);
	shadow_catalog_clear(&d);
}
END_TEST

/* Replace the first occurrence of @from in good with @to. */
static char *mutate(const char *from, const char *to)
{
	const char *p = strstr(good, from);
	char *s;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(p - good), good, to, p + strlen(from)), 0);
	return s;
}

START_TEST(test_malformed)
{
	static const struct {
		const char *from, *to, *why;
	} cases[] = {
		{ "{ \"version\": 1", "[ \"version\", 1", "not JSON" },
		{ "\"version\": 1", "\"version\": 2", "version 2" },
		{ "\"version\": 1", "\"versio\": 1", "no \"version\"" },
		{ "\"next_id\": 8", "\"next_id\": -8", "negative" },
		{ "\"volumes\": [", "\"volumes\": 5, \"x\": [", "wrong type" },
		{ "\"name\": \"db\"", "\"name\": 5", "wrong type" },
		{ "\"name\": \"db\"", "\"name\": \"\"", "empty" },
		{ "\"name\": \"vg-lv\"", "\"name\": \"db\"", "appears twice" },
		{ "\"chunk_sectors\": 8", "\"chunk_sectors\": 12", "bad chunk_sectors" },
		{ "\"state\": \"complete\"", "\"state\": \"done\"", "unknown state" },
		{ "\"state\": \"valid\"", "\"state\": \"ok\"", "unknown state" },
		{ "\"id\": 7,", "\"id\": 6,", "appears twice" },
		{ "\"id\": 7, \"snapshot\": 7, \"set\": 2, \"volume\": \"vg-lv\"",
		  "\"id\": 9, \"snapshot\": 6, \"set\": 2, \"volume\": \"db\"", "appears twice" },
		{ "\"volume\": \"vg-lv\"", "\"volume\": \"nope\"", "unknown volume" },
		{ "\"set\": 2, \"volume\": \"db\"", "\"set\": 5, \"volume\": \"db\"", "unknown set" },
		{ "\"writable\": false }", "\"writable\": 0 }", "wrong type" },
		{ "\"real_name\": null", "\"real_name\": 1", "wrong type" },
		{ "\"id\": 2,", "\"id\": 0,", "id 0" },
	};
	struct shadow_catalog c;
	char why[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = mutate(cases[i].from, cases[i].to);
		int r = shadow_catalog_decode(s, &c, why, sizeof(why));

		ck_assert_msg(r == -EBADMSG, "case %zu accepted", i);
		ck_assert_msg(strstr(why, cases[i].why), "case %zu: why '%s' lacks '%s'",
			      i, why, cases[i].why);
		free(s);
	}
	ck_assert_int_eq(shadow_catalog_decode("", &c, why, sizeof(why)), -EBADMSG);
	ck_assert_int_eq(shadow_catalog_decode("{}", &c, why, sizeof(why)), -EBADMSG);
	ck_assert_int_eq(shadow_catalog_decode("null", &c, why, sizeof(why)), -EBADMSG);
	ck_assert_int_eq(shadow_catalog_decode("{ \"version\": 1 } trailing", &c, why,
					       sizeof(why)), -EBADMSG);
}
END_TEST

/* A volume's provider: dm-shadow for catalogs older than the field. */
START_TEST(test_provider)
{
	static const char *const to = "\"enabled\": 1763800001, \"provider\": \"dm-snapshot\" }";
	struct shadow_catalog c, d;
	char *s, *text = NULL, why[128];

	ck_assert_int_eq(shadow_catalog_decode(good, &c, why, sizeof(why)), 0);
	ck_assert_str_eq(c.volumes[0]->provider, "dm-shadow");
	ck_assert_str_eq(c.volumes[1]->provider, "dm-shadow");
	shadow_catalog_clear(&c);

	s = mutate("\"enabled\": 1763800001 }", to);
	ck_assert_int_eq(shadow_catalog_decode(s, &c, why, sizeof(why)), 0);
	ck_assert_str_eq(c.volumes[0]->provider, "dm-shadow");
	ck_assert_str_eq(c.volumes[1]->provider, "dm-snapshot");
	ck_assert_int_eq(shadow_catalog_encode(&c, &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"provider\": \"dm-snapshot\""));
	ck_assert_ptr_nonnull(strstr(text, "\"provider\": \"dm-shadow\""));
	ck_assert_int_eq(shadow_catalog_decode(text, &d, why, sizeof(why)), 0);
	ck_assert_str_eq(d.volumes[1]->provider, "dm-snapshot");
	free(text);
	free(s);
	shadow_catalog_clear(&c);
	shadow_catalog_clear(&d);

	s = mutate("\"enabled\": 1763800001 }", "\"enabled\": 1763800001, \"provider\": \"lvm\" }");
	ck_assert_int_eq(shadow_catalog_decode(s, &c, why, sizeof(why)), -EBADMSG);
	ck_assert_str_eq(why, "volumes[1]: unknown provider \"lvm\"");
	free(s);
	s = mutate("\"enabled\": 1763800001 }", "\"enabled\": 1763800001, \"provider\": null }");
	ck_assert_int_eq(shadow_catalog_decode(s, &c, why, sizeof(why)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "wrong type"));
	free(s);
}
END_TEST

START_TEST(test_save_load)
{
	char dir[] = "/tmp/shadow-unit-XXXXXX", path[64], why[128];
	struct shadow_catalog c, d;
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* Missing file: empty catalog. */
	ck_assert_int_eq(shadow_catalog_load(dir, &d, why, sizeof(why)), 0);
	ck_assert_uint_eq(d.n_volumes, 0);
	shadow_catalog_clear(&d);

	ck_assert_int_eq(shadow_catalog_decode(good, &c, why, sizeof(why)), 0);
	ck_assert_int_eq(shadow_catalog_save(dir, &c), 0);
	ck_assert_int_eq(shadow_catalog_load(dir, &d, why, sizeof(why)), 0);
	ck_assert_uint_eq(d.n_copies, 2);
	snprintf(path, sizeof(path), "%s/.catalog.json.tmp", dir);
	ck_assert_int_ne(stat(path, &st), 0);	/* renamed away */
	shadow_catalog_clear(&d);
	shadow_catalog_clear(&c);

	/* A truncated file is refused, not taken for empty. */
	snprintf(path, sizeof(path), "%s/catalog.json", dir);
	ck_assert_int_eq(truncate(path, 40), 0);
	ck_assert_int_eq(shadow_catalog_load(dir, &d, why, sizeof(why)), -EBADMSG);
	ck_assert_int_eq(truncate(path, 0), 0);
	ck_assert_int_eq(shadow_catalog_load(dir, &d, why, sizeof(why)), -EBADMSG);
	unlink(path);
	rmdir(dir);
}
END_TEST

Suite *suite_catalog(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("document");

	tcase_add_test(tc, test_decode);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_provider);
	tcase_add_test(tc, test_save_load);
	suite_add_tcase(s, tc);
	return s;
}

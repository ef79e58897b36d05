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

#include <json-c/json.h>

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

/* The same catalog with writers: a set's metadata and data, last states. */
static const char *const with_writers =
	"{ \"version\": 1, \"next_id\": 2, \"next_set\": 2,\n"
	"  \"volumes\": [ { \"name\": \"db\", \"device\": \"/dev/vdb\", \"store\": \"/dev/vdc\",\n"
	"      \"method\": \"cow\", \"chunk_sectors\": 8, \"dm_name\": \"db\",\n"
	"      \"real_name\": null, \"enabled\": 1763800000 } ],\n"
	"  \"sets\": [ { \"id\": 1, \"created\": 1763800100, \"freeze_us\": 1234,\n"
	"              \"state\": \"complete\", \"writers\": [\n"
	"       { \"name\": \"pg\", \"metadata\": { \"writer\": \"postgresql\", \"application\": \"PG\",\n"
	"         \"components\": [ { \"name\": \"main\", \"paths\": [ \"/srv/pg\" ] } ] },\n"
	"         \"data\": { \"label\": \"L\" } },\n"
	"       { \"name\": \"hook\", \"metadata\": { \"writer\": \"hook\" } } ] } ],\n"
	"  \"shadows\": [\n"
	"    { \"id\": 1, \"snapshot\": 1, \"set\": 1, \"volume\": \"db\", \"method\": \"cow\",\n"
	"      \"created\": 1763800100, \"state\": \"valid\", \"device\": null,\n"
	"      \"mountpoint\": null, \"writable\": false } ],\n"
	"  \"writers\": [\n"
	"    { \"name\": \"pg\", \"path\": \"/etc/dm-shadow/writers.d/pg\", \"state\": \"ok\",\n"
	"      \"event\": \"post-snapshot\", \"message\": null, \"time\": 1763800101 },\n"
	"    { \"name\": \"bad\", \"path\": \"/etc/dm-shadow/writers.d/bad\", \"state\": \"refused\",\n"
	"      \"event\": null, \"message\": \"group-writable\", \"time\": 1763800100 } ] }\n";

START_TEST(test_writers)
{
	struct shadow_catalog c, d;
	char *a = NULL, *b = NULL, why[128];
	struct shadow_writer_record *w;

	ck_assert_int_eq(shadow_catalog_decode(with_writers, &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.sets[0]->n_writers, 2);
	ck_assert_str_eq(c.sets[0]->writers[0].name, "pg");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
		c.sets[0]->writers[0].data, "label")), "L");
	ck_assert_ptr_null(c.sets[0]->writers[1].data);
	ck_assert_uint_eq(c.n_writers, 2);
	w = shadow_catalog_writer(&c, "bad");
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(w->state, "refused");
	ck_assert_str_eq(w->message, "group-writable");
	ck_assert_ptr_null(w->event);

	/* Round trip, byte for byte the second time. */
	ck_assert_int_eq(shadow_catalog_encode(&c, &a), 0);
	ck_assert_int_eq(shadow_catalog_decode(a, &d, why, sizeof(why)), 0);
	ck_assert_int_eq(shadow_catalog_encode(&d, &b), 0);
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(d.sets[0]->n_writers, 2);
	ck_assert_str_eq(shadow_catalog_writer(&d, "pg")->event, "post-snapshot");
	free(a);
	free(b);
	shadow_catalog_clear(&d);

	/* A new state replaces the old one, in place; a new writer is added. */
	ck_assert_int_eq(shadow_catalog_record_writer(&c, "pg", "/w/pg", "failed", "freeze",
						      "no answer within 2 s", 1763800200), 0);
	ck_assert_int_eq(shadow_catalog_record_writer(&c, "new", "/w/new", "skipped", "identify",
						      NULL, 1763800200), 0);
	ck_assert_uint_eq(c.n_writers, 3);
	ck_assert_str_eq(c.writers[0]->name, "pg");
	ck_assert_str_eq(c.writers[0]->state, "failed");
	ck_assert_str_eq(c.writers[0]->message, "no answer within 2 s");
	ck_assert_int_eq(c.writers[0]->time, 1763800200);
	ck_assert_str_eq(c.writers[2]->name, "new");
	ck_assert_ptr_null(c.writers[2]->message);
	shadow_catalog_clear(&c);
}
END_TEST

START_TEST(test_writers_old_catalog)
{
	struct shadow_catalog c;
	struct shadow_set *s;
	json_object *m = json_tokener_parse("{\"writer\":\"w\"}");
	char *a = NULL, why[128];

	/* A catalog from before writers: loads, with none. */
	ck_assert_int_eq(shadow_catalog_decode(good, &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.n_writers, 0);
	ck_assert_uint_eq(c.sets[0]->n_writers, 0);
	/* A set without writers is encoded without the member. */
	ck_assert_int_eq(shadow_catalog_encode(&c, &a), 0);
	ck_assert_ptr_null(strstr(a, "\"metadata\""));
	free(a);
	/* One with a writer, with it. */
	s = c.sets[0];
	ck_assert_int_eq(shadow_set_add_writer(s, "w", m, NULL), 0);
	json_object_put(m);
	ck_assert_int_eq(shadow_catalog_encode(&c, &a), 0);
	ck_assert_ptr_nonnull(strstr(a, "\"metadata\""));
	shadow_catalog_clear(&c);
	ck_assert_int_eq(shadow_catalog_decode(a, &c, why, sizeof(why)), 0);
	ck_assert_str_eq(c.sets[0]->writers[0].name, "w");
	ck_assert_ptr_null(c.sets[0]->writers[0].excluded);
	free(a);
	/* The components the requester excluded: kept, and loaded again. */
	m = json_tokener_parse("[\"main\"]");
	shadow_set_last_writer_excluded(c.sets[0], m);
	json_object_put(m);
	ck_assert_int_eq(shadow_catalog_encode(&c, &a), 0);
	ck_assert_ptr_nonnull(strstr(a, "\"excluded\""));
	shadow_catalog_clear(&c);
	ck_assert_int_eq(shadow_catalog_decode(a, &c, why, sizeof(why)), 0);
	ck_assert_str_eq(json_object_to_json_string_ext(c.sets[0]->writers[0].excluded,
							JSON_C_TO_STRING_PLAIN), "[\"main\"]");
	free(a);
	shadow_catalog_clear(&c);
}
END_TEST

START_TEST(test_writers_malformed)
{
	static const struct {
		const char *from, *to, *why;
	} cases[] = {
		{ "\"state\": \"refused\"", "\"state\": \"gone\"", "unknown state" },
		{ "\"name\": \"bad\"", "\"name\": \"pg\"", "appears twice" },
		{ "\"time\": 1763800100", "\"time\": \"now\"", "wrong type" },
		{ "\"event\": null", "\"event\": 3", "wrong type" },
		{ "\"name\": \"hook\"", "\"name\": \"pg\"", "appears twice" },
		{ "\"metadata\": { \"writer\": \"hook\" }", "\"metadata\": [ ]", "wrong type" },
		{ "\"metadata\": { \"writer\": \"hook\" }", "\"meta\": 1", "no \"metadata\"" },
		{ "\"data\": { \"label\": \"L\" }", "\"data\": \"L\"", "wrong type" },
		{ "\"data\": { \"label\": \"L\" }", "\"excluded\": \"main\"", "wrong type" },
		{ "\"data\": { \"label\": \"L\" }", "\"excluded\": [ 1 ]", "not a string" },
		{ "\"complete\", \"writers\": [", "\"complete\", \"writers\": 1, \"x\": [", "wrong type" },
		{ "\"writers\": [\n    {", "\"writers\": {}, \"x\": [\n    {", "wrong type" },
	};
	struct shadow_catalog c;
	char why[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = strstr(with_writers, cases[i].from);
		char *s;
		int r;

		ck_assert_msg(p != NULL, "case %zu: no '%s'", i, cases[i].from);
		ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(p - with_writers), with_writers,
					  cases[i].to, p + strlen(cases[i].from)), 0);
		r = shadow_catalog_decode(s, &c, why, sizeof(why));
		ck_assert_msg(r == -EBADMSG, "case %zu accepted", i);
		ck_assert_msg(strstr(why, cases[i].why), "case %zu: why '%s' lacks '%s'",
			      i, why, cases[i].why);
		free(s);
	}
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

/*
 * Clones: a clone volume with its hydrate rate, an attached clone, a
 * detached one, and one imported from another host whose volume this
 * catalog does not have.
 */
static const char *const with_clones =
	"{ \"version\": 1, \"next_id\": 12, \"next_set\": 5,\n"
	"  \"volumes\": [ { \"name\": \"cv\", \"device\": \"/dev/vdb\", \"store\": \"/dev/vdc\",\n"
	"      \"method\": \"clone\", \"chunk_sectors\": 128, \"dm_name\": \"cv\",\n"
	"      \"real_name\": null, \"enabled\": 1763800000, \"provider\": \"dm-shadow\",\n"
	"      \"hydrate_rate\": 100 },\n"
	"    { \"name\": \"kv\", \"device\": \"/dev/vdd\", \"store\": \"/dev/vde\",\n"
	"      \"method\": \"cow\", \"chunk_sectors\": 8, \"dm_name\": \"kv\",\n"
	"      \"real_name\": null, \"enabled\": 1763800000 } ],\n"
	"  \"sets\": [ { \"id\": 4, \"created\": 1763800100, \"freeze_us\": 1234,\n"
	"              \"state\": \"complete\" } ],\n"
	"  \"shadows\": [\n"
	"    { \"id\": 9, \"snapshot\": 9, \"set\": 4, \"volume\": \"cv\", \"method\": \"clone\",\n"
	"      \"created\": 1763800100, \"state\": \"valid\", \"device\": null,\n"
	"      \"mountpoint\": null, \"writable\": false, \"target\": \"/dev/vdh\" },\n"
	"    { \"id\": 10, \"snapshot\": 10, \"set\": 4, \"volume\": \"kv\", \"method\": \"cow\",\n"
	"      \"created\": 1763800100, \"state\": \"valid\", \"device\": null,\n"
	"      \"mountpoint\": null, \"writable\": false },\n"
	"    { \"id\": 7, \"snapshot\": 7, \"set\": 0, \"volume\": \"cv\", \"method\": \"clone\",\n"
	"      \"created\": 1763700000, \"state\": \"detached\", \"device\": null,\n"
	"      \"mountpoint\": null, \"writable\": false, \"target\": \"/dev/vdg\" },\n"
	"    { \"id\": 11, \"snapshot\": 3, \"set\": 0, \"volume\": \"web\", \"method\": \"clone\",\n"
	"      \"created\": 1763600000, \"state\": \"detached\", \"device\": null,\n"
	"      \"mountpoint\": null, \"writable\": false, \"target\": \"/dev/sdx\",\n"
	"      \"origin\": { \"host\": \"alpha\", \"set\": 2, \"shadow\": 3, \"volume\": \"web\" } } ] }\n";

START_TEST(test_clones)
{
	struct shadow_catalog c, d;
	char *a = NULL, *b = NULL, why[160];
	struct shadow_copy *k;

	ck_assert_int_eq(shadow_catalog_decode(with_clones, &c, why, sizeof(why)), 0);
	ck_assert(c.volumes[0]->has_hydrate_rate);
	ck_assert_uint_eq(c.volumes[0]->hydrate_rate, 100);
	ck_assert(!c.volumes[1]->has_hydrate_rate);
	k = shadow_catalog_copy(&c, 9);
	ck_assert_str_eq(k->target, "/dev/vdh");
	ck_assert_ptr_null(k->origin);
	ck_assert(shadow_copy_is_clone(k) && !shadow_copy_detached(k));
	ck_assert(shadow_copy_in_store(k, "cv"));
	ck_assert(!shadow_copy_in_store(k, "kv"));
	ck_assert_ptr_null(shadow_catalog_copy(&c, 10)->target);
	ck_assert(!shadow_copy_is_clone(shadow_catalog_copy(&c, 10)));
	k = shadow_catalog_copy(&c, 7);
	ck_assert(shadow_copy_detached(k));
	ck_assert(!shadow_copy_in_store(k, "cv"));
	k = shadow_catalog_copy(&c, 11);
	ck_assert_ptr_nonnull(k->origin);
	ck_assert_str_eq(k->origin->host, "alpha");
	ck_assert_uint_eq(k->origin->set, 2);
	ck_assert_uint_eq(k->origin->shadow, 3);
	ck_assert_str_eq(k->origin->volume, "web");
	ck_assert_ptr_null(shadow_catalog_volume(&c, "web"));
	ck_assert(!shadow_copy_in_store(k, "web"));

	/* Round trip, byte for byte the second time. */
	ck_assert_int_eq(shadow_catalog_encode(&c, &a), 0);
	ck_assert_int_eq(shadow_catalog_decode(a, &d, why, sizeof(why)), 0);
	ck_assert_int_eq(shadow_catalog_encode(&d, &b), 0);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_nonnull(strstr(a, "\"hydrate_rate\": 100"));
	ck_assert_ptr_nonnull(strstr(a, "\"target\": "));
	ck_assert_ptr_nonnull(strstr(a, "\"host\": \"alpha\""));
	ck_assert_str_eq(shadow_catalog_copy(&d, 7)->target, "/dev/vdg");
	ck_assert_str_eq(shadow_catalog_copy(&d, 7)->state, "detached");
	ck_assert_str_eq(shadow_catalog_copy(&d, 11)->origin->volume, "web");
	free(a);
	free(b);
	shadow_catalog_clear(&d);
	shadow_catalog_clear(&c);

	/* Without clones nothing new is written: an old catalog looks as it did. */
	ck_assert_int_eq(shadow_catalog_decode(good, &c, why, sizeof(why)), 0);
	ck_assert_ptr_null(c.copies[0]->target);
	ck_assert_ptr_null(c.copies[0]->origin);
	ck_assert_int_eq(shadow_catalog_encode(&c, &a), 0);
	ck_assert_ptr_null(strstr(a, "\"target\""));
	ck_assert_ptr_null(strstr(a, "\"origin\""));
	ck_assert_ptr_null(strstr(a, "\"hydrate_rate\""));
	free(a);
	shadow_catalog_clear(&c);
}
END_TEST

START_TEST(test_clones_malformed)
{
	static const struct {
		const char *from, *to, *why;
	} cases[] = {
		/* Only a clone has a target, is detached, has a hydrate rate. */
		{ "\"method\": \"cow\",\n      \"created\": 1763800100, \"state\": \"valid\", \"device\": null,\n"
		  "      \"mountpoint\": null, \"writable\": false }",
		  "\"method\": \"cow\",\n      \"created\": 1763800100, \"state\": \"valid\", \"device\": null,\n"
		  "      \"mountpoint\": null, \"writable\": false, \"target\": \"/dev/vdi\" }",
		  "a cow copy has a \"target\"" },
		{ "\"method\": \"cow\",\n      \"created\": 1763800100, \"state\": \"valid\"",
		  "\"method\": \"cow\",\n      \"created\": 1763800100, \"state\": \"detached\"",
		  "a cow copy is detached" },
		{ "\"hydrate_rate\": 100", "\"hydrate_rate\": -1", "negative" },
		{ "\"hydrate_rate\": 100", "\"hydrate_rate\": 4294967296", "too large" },
		{ "\"hydrate_rate\": 100", "\"hydrate_rate\": \"fast\"", "wrong type" },
		{ "\"real_name\": null, \"enabled\": 1763800000 } ]",
		  "\"real_name\": null, \"enabled\": 1763800000, \"hydrate_rate\": 1 } ]",
		  "hydrate_rate on a cow volume" },
		/* A detached clone's data is its target: it must name it. */
		{ "\"writable\": false, \"target\": \"/dev/vdg\" }", "\"writable\": false }",
		  "detached without a \"target\"" },
		{ "\"writable\": false, \"target\": \"/dev/vdg\" }",
		  "\"writable\": false, \"target\": null }", "detached without a \"target\"" },
		{ "\"target\": \"/dev/vdh\"", "\"target\": \"\"", "empty" },
		{ "\"target\": \"/dev/vdh\"", "\"target\": 8", "wrong type" },
		{ "\"state\": \"detached\", \"device\": null,\n      \"mountpoint\": null, \"writable\": false, "
		  "\"target\": \"/dev/vdg\" }",
		  "\"state\": \"attached\", \"device\": null,\n      \"mountpoint\": null, \"writable\": false, "
		  "\"target\": \"/dev/vdg\" }", "unknown state \"attached\"" },
		/* Only a detached clone comes from another host, and says whence. */
		{ "\"state\": \"detached\", \"device\": null,\n      \"mountpoint\": null, \"writable\": false, "
		  "\"target\": \"/dev/sdx\"",
		  "\"state\": \"valid\", \"device\": null,\n      \"mountpoint\": null, \"writable\": false, "
		  "\"target\": \"/dev/sdx\"", "imported (\"origin\"), but valid" },
		{ "\"origin\": { \"host\": \"alpha\",", "\"origin\": { \"hots\": \"alpha\",",
		  "shadows[3].origin: no \"host\"" },
		{ "\"shadow\": 3,", "\"shadow\": 0,", "shadows[3].origin: shadow 0" },
		{ "\"set\": 2, \"shadow\"", "\"set\": \"2\", \"shadow\"", "wrong type" },
		{ "\"volume\": \"web\" } }", "\"volume\": null } }", "wrong type" },
		{ "\"origin\": {", "\"origin\": [ ], \"x\": {", "shadows[3].origin is not an object" },
		/* Without "origin", a copy of a volume this catalog lacks is refused. */
		{ ",\n      \"origin\": { \"host\": \"alpha\", \"set\": 2, \"shadow\": 3, \"volume\": \"web\" }",
		  "", "unknown volume \"web\"" },
	};
	struct shadow_catalog c;
	char why[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = strstr(with_clones, cases[i].from);
		char *s;
		int r;

		ck_assert_msg(p != NULL, "case %zu: no '%s'", i, cases[i].from);
		ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(p - with_clones), with_clones,
					  cases[i].to, p + strlen(cases[i].from)), 0);
		r = shadow_catalog_decode(s, &c, why, sizeof(why));
		ck_assert_msg(r == -EBADMSG, "case %zu accepted", i);
		ck_assert_msg(strstr(why, cases[i].why), "case %zu: why '%s' lacks '%s'",
			      i, why, cases[i].why);
		free(s);
	}
}
END_TEST

/* An imported copy's snapshot id is another host's: no clash with ours. */
START_TEST(test_clones_imported_ids)
{
	struct shadow_catalog c;
	char *s, why[160];

	/* Imported from a volume named like ours, with one of our snapshot ids. */
	static const char from[] = "\"snapshot\": 3, \"set\": 0, \"volume\": \"web\"";
	const char *p = strstr(with_clones, from);

	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(p - with_clones), with_clones,
				  "\"snapshot\": 9, \"set\": 0, \"volume\": \"cv\"",
				  p + strlen(from)), 0);
	ck_assert_int_eq(shadow_catalog_decode(s, &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(c.n_copies, 4);
	/* Ours are still checked: two of cv's own with one snapshot id. */
	free(s);
	shadow_catalog_clear(&c);
	p = strstr(with_clones, "\"snapshot\": 7,");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(p - with_clones), with_clones,
				  "\"snapshot\": 9,", p + strlen("\"snapshot\": 7,")), 0);
	ck_assert_int_eq(shadow_catalog_decode(s, &c, why, sizeof(why)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "snapshot 9 of \"cv\" appears twice"));
	free(s);
}
END_TEST

/* An imported copy's volume size and chunk size there, optional. */
START_TEST(test_clones_origin_sizes)
{
	static const char from[] = "\"volume\": \"web\" } }";
	static const struct {
		const char *to, *why;
	} bad[] = {
		{ "\"volume\": \"web\", \"volume_bytes\": 1000 } }", "not a whole number of sectors" },
		{ "\"volume\": \"web\", \"volume_bytes\": 0 } }", "not a whole number of sectors" },
		{ "\"volume\": \"web\", \"volume_bytes\": \"1G\" } }", "wrong type" },
		{ "\"volume\": \"web\", \"chunk_bytes\": 3000 } }", "bad chunk_bytes 3000" },
		{ "\"volume\": \"web\", \"chunk_bytes\": 0 } }", "bad chunk_bytes 0" },
		{ "\"volume\": \"web\", \"chunk_bytes\": 4194304 } }", "bad chunk_bytes" },
	};
	const char *p = strstr(with_clones, from);
	struct shadow_catalog c, d;
	char *s, *a = NULL, *b = NULL, why[160];
	struct shadow_copy *k;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(p - with_clones), with_clones,
				  "\"volume\": \"web\", \"volume_bytes\": 1073741824, "
				  "\"chunk_bytes\": 65536 } }", p + strlen(from)), 0);
	ck_assert_int_eq(shadow_catalog_decode(s, &c, why, sizeof(why)), 0);
	free(s);
	k = shadow_catalog_copy(&c, 11);
	ck_assert_uint_eq(k->origin->volume_bytes, 1073741824);
	ck_assert_uint_eq(k->origin->chunk_bytes, 65536);
	ck_assert_int_eq(shadow_catalog_encode(&c, &a), 0);
	ck_assert_int_eq(shadow_catalog_decode(a, &d, why, sizeof(why)), 0);
	ck_assert_int_eq(shadow_catalog_encode(&d, &b), 0);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_nonnull(strstr(a, "\"volume_bytes\": 1073741824"));
	free(a);
	free(b);
	shadow_catalog_clear(&d);
	shadow_catalog_clear(&c);

	/* Without them, none are written (test_clones: the origin as it was). */
	ck_assert_int_eq(shadow_catalog_decode(with_clones, &c, why, sizeof(why)), 0);
	ck_assert_uint_eq(shadow_catalog_copy(&c, 11)->origin->volume_bytes, 0);
	ck_assert_int_eq(shadow_catalog_encode(&c, &a), 0);
	ck_assert_ptr_null(strstr(a, "volume_bytes"));
	ck_assert_ptr_null(strstr(a, "chunk_bytes"));
	free(a);
	shadow_catalog_clear(&c);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(p - with_clones), with_clones,
					  bad[i].to, p + strlen(from)), 0);
		ck_assert_msg(shadow_catalog_decode(s, &c, why, sizeof(why)) == -EBADMSG,
			      "case %zu accepted", i);
		ck_assert_msg(strstr(why, bad[i].why), "case %zu: why '%s' lacks '%s'",
			      i, why, bad[i].why);
		ck_assert_ptr_nonnull(strstr(why, "shadows[3].origin: "));
		free(s);
	}
}
END_TEST

/* An imported copy's snapshot id, another host's, does not advance ours. */
START_TEST(test_clones_imported_next_id)
{
	static const char from[] = "\"snapshot\": 3, \"set\": 0, \"volume\": \"web\"";
	const char *p = strstr(with_clones, from);
	struct shadow_catalog c;
	struct shadow_copy *k;
	char *s, why[160];

	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(p - with_clones), with_clones,
				  "\"snapshot\": 5000, \"set\": 0, \"volume\": \"web\"",
				  p + strlen(from)), 0);
	ck_assert_int_eq(shadow_catalog_decode(s, &c, why, sizeof(why)), 0);
	free(s);
	ck_assert_uint_eq(c.next_id, 12);
	/* Added afterwards, as an import adds one: its own id only. */
	k = calloc(1, sizeof(*k));
	ck_assert_ptr_nonnull(k);
	k->id = 12;
	k->snapshot = 9000;
	k->origin = calloc(1, sizeof(*k->origin));
	ck_assert_ptr_nonnull(k->origin);
	ck_assert_int_eq(shadow_catalog_add_copy(&c, k), 0);
	ck_assert_uint_eq(c.next_id, 13);
	shadow_catalog_clear(&c);
}
END_TEST

/* A set's writers, as another document carries them: encoded and decoded alike. */
START_TEST(test_set_writers_codec)
{
	struct shadow_catalog c;
	struct shadow_set s2 = { 0 };
	json_object *a, *bad;
	char why[160];

	ck_assert_int_eq(shadow_catalog_decode(with_writers, &c, why, sizeof(why)), 0);
	ck_assert_uint_gt(c.sets[0]->n_writers, 0);
	a = shadow_set_writers_encode(c.sets[0]);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(shadow_set_writers_decode(a, "set", &s2, why, sizeof(why)), 0);
	ck_assert_uint_eq(s2.n_writers, c.sets[0]->n_writers);
	for (size_t i = 0; i < s2.n_writers; i++) {
		ck_assert_str_eq(s2.writers[i].name, c.sets[0]->writers[i].name);
		ck_assert(json_object_equal(s2.writers[i].metadata, c.sets[0]->writers[i].metadata));
		ck_assert(json_object_equal(s2.writers[i].data, c.sets[0]->writers[i].data));
		ck_assert(json_object_equal(s2.writers[i].excluded, c.sets[0]->writers[i].excluded));
	}
	json_object_put(a);
	for (size_t i = 0; i < s2.n_writers; i++) {
		free(s2.writers[i].name);
		json_object_put(s2.writers[i].metadata);
		json_object_put(s2.writers[i].data);
		json_object_put(s2.writers[i].excluded);
	}
	free(s2.writers);
	s2 = (struct shadow_set) { 0 };

	/* Refused as the catalog refuses them, named after @what. */
	bad = json_tokener_parse("[ { \"metadata\": {} } ]");
	ck_assert_int_eq(shadow_set_writers_decode(bad, "set", &s2, why, sizeof(why)), -EBADMSG);
	ck_assert_str_eq(why, "set.writers[0]: no \"name\"");
	json_object_put(bad);
	bad = json_tokener_parse("{ }");
	ck_assert_int_eq(shadow_set_writers_decode(bad, "set", &s2, why, sizeof(why)), -EBADMSG);
	ck_assert_str_eq(why, "set: \"writers\" has the wrong type");
	json_object_put(bad);
	ck_assert_uint_eq(s2.n_writers, 0);
	shadow_catalog_clear(&c);
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
	tcase_add_test(tc, test_writers);
	tcase_add_test(tc, test_writers_old_catalog);
	tcase_add_test(tc, test_writers_malformed);
	tcase_add_test(tc, test_clones);
	tcase_add_test(tc, test_clones_malformed);
	tcase_add_test(tc, test_clones_imported_ids);
	tcase_add_test(tc, test_clones_origin_sizes);
	tcase_add_test(tc, test_clones_imported_next_id);
	tcase_add_test(tc, test_set_writers_codec);
	suite_add_tcase(s, tc);
	return s;
}

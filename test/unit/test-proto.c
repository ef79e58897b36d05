/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The writer protocol codec: event names, every request and answer round
 * trip, malformed lines refused with a reason, unknown members ignored,
 * metadata validation, and the line reader over real pipes (partial
 * reads, oversized, truncated and clean EOF).
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shadow-proto.h"
#include "unit.h"

START_TEST(test_event_names)
{
	static const char *const names[] = {
		"identify", "prepare", "freeze", "thaw", "post-snapshot", "abort",
	};

	for (int i = 0; i < _SHADOW_EVENT_MAX; i++) {
		ck_assert_str_eq(shadow_proto_event_name(i), names[i]);
		ck_assert_int_eq(shadow_proto_event_from_name(names[i]), i);
	}
	ck_assert_ptr_null(shadow_proto_event_name(_SHADOW_EVENT_MAX));
	ck_assert_ptr_null(shadow_proto_event_name(-1));
	ck_assert_int_eq(shadow_proto_event_from_name("Identify"), -EINVAL);
	ck_assert_int_eq(shadow_proto_event_from_name(""), -EINVAL);
	ck_assert_int_eq(shadow_proto_event_from_name(NULL), -EINVAL);
}
END_TEST

/* Encode @req, check it is one line, decode it back into @out. */
static void request_round_trip(const struct shadow_proto_request *req,
			       struct shadow_proto_request *out)
{
	char *line = NULL, why[128];
	size_t len = 0;

	ck_assert_int_eq(shadow_proto_request_encode(req, &line, &len), 0);
	ck_assert_uint_eq(len, strlen(line));
	ck_assert_int_eq(line[len - 1], '\n');
	ck_assert_ptr_null(memchr(line, '\n', len - 1));
	ck_assert_int_eq(shadow_proto_request_decode(line, out, why, sizeof(why)), 0);
	ck_assert_int_eq(out->event, req->event);
	free(line);
}

START_TEST(test_request_identify)
{
	struct shadow_proto_volume vols[] = {
		{ .name = "vol", .device = "/dev/mapper/vol", .mountpoint = "/srv" },
		{ .name = "two", .device = "/dev/mapper/two", .mountpoint = NULL },
	};
	struct shadow_proto_request req = {
		.event = SHADOW_EVENT_IDENTIFY, .set = 42,
		.volumes = vols, .n_volumes = 2,
	}, out;
	char *line = NULL;

	/* The exact text, as the spec shows it. */
	ck_assert_int_eq(shadow_proto_request_encode(&req, &line, NULL), 0);
	ck_assert_str_eq(line, "{\"event\":\"identify\",\"protocol\":1,\"set\":42,"
			 "\"volumes\":[{\"name\":\"vol\",\"device\":\"/dev/mapper/vol\","
			 "\"mountpoint\":\"/srv\"},{\"name\":\"two\",\"device\":"
			 "\"/dev/mapper/two\",\"mountpoint\":null}]}\n");
	free(line);

	request_round_trip(&req, &out);
	ck_assert_int_eq(out.protocol, 1);
	ck_assert_uint_eq(out.set, 42);
	ck_assert_uint_eq(out.n_volumes, 2);
	ck_assert_str_eq(out.volumes[0].name, "vol");
	ck_assert_str_eq(out.volumes[0].device, "/dev/mapper/vol");
	ck_assert_str_eq(out.volumes[0].mountpoint, "/srv");
	ck_assert_ptr_null(out.volumes[1].mountpoint);
	shadow_proto_request_clear(&out);
}
END_TEST

START_TEST(test_request_each_event)
{
	char *comps[] = { "main", "wal" };
	struct shadow_proto_copy copies[] = { { 7, "vol" }, { 8, "two" } };
	struct shadow_proto_request out;
	struct shadow_proto_request prepare = {
		.event = SHADOW_EVENT_PREPARE, .components = comps, .n_components = 2,
	};
	struct shadow_proto_request freeze = {
		.event = SHADOW_EVENT_FREEZE, .timeout_ms = 10000,
	};
	struct shadow_proto_request post = {
		.event = SHADOW_EVENT_POST_SNAPSHOT, .set = 3, .copies = copies, .n_copies = 2,
	};
	struct shadow_proto_request thaw = { .event = SHADOW_EVENT_THAW };
	struct shadow_proto_request abort_ = { .event = SHADOW_EVENT_ABORT };
	char *line;

	request_round_trip(&prepare, &out);
	ck_assert_uint_eq(out.n_components, 2);
	ck_assert_str_eq(out.components[1], "wal");
	shadow_proto_request_clear(&out);

	request_round_trip(&freeze, &out);
	ck_assert_uint_eq(out.timeout_ms, 10000);
	shadow_proto_request_clear(&out);

	request_round_trip(&post, &out);
	ck_assert_uint_eq(out.set, 3);
	ck_assert_uint_eq(out.n_copies, 2);
	ck_assert_uint_eq(out.copies[1].id, 8);
	ck_assert_str_eq(out.copies[1].volume, "two");
	shadow_proto_request_clear(&out);

	request_round_trip(&thaw, &out);
	shadow_proto_request_clear(&out);
	request_round_trip(&abort_, &out);
	shadow_proto_request_clear(&out);

	ck_assert_int_eq(shadow_proto_request_encode(&thaw, &line, NULL), 0);
	ck_assert_str_eq(line, "{\"event\":\"thaw\"}\n");
	free(line);
	ck_assert_int_eq(shadow_proto_request_encode(&post, &line, NULL), 0);
	ck_assert_str_eq(line, "{\"event\":\"post-snapshot\",\"set\":3,\"copies\":"
			 "[{\"id\":7,\"volume\":\"vol\"},{\"id\":8,\"volume\":\"two\"}]}\n");
	free(line);

	thaw.event = _SHADOW_EVENT_MAX;
	ck_assert_int_eq(shadow_proto_request_encode(&thaw, &line, NULL), -EINVAL);
}
END_TEST

START_TEST(test_request_malformed)
{
	static const struct {
		const char *line;
		int r;
		const char *why;
	} cases[] = {
		{ "", -EBADMSG, "not JSON" },
		{ "garbage", -EBADMSG, "not JSON" },
		{ "{\"event\":\"thaw\"", -EBADMSG, "not JSON" },
		{ "{\"event\":\"thaw\"} {}", -EBADMSG, "" },
		{ "{\"event\":\"thaw\"}x", -EBADMSG, "" },
		{ "[\"event\",\"thaw\"]", -EBADMSG, "not a JSON object" },
		{ "\"thaw\"", -EBADMSG, "not a JSON object" },
		{ "null", -EBADMSG, "" },
		{ "{}", -EBADMSG, "no \"event\"" },
		{ "{\"event\":5}", -EBADMSG, "wrong type" },
		{ "{\"event\":\"snapshot\"}", -EOPNOTSUPP, "unknown event \"snapshot\"" },
		{ "{\"event\":\"freeze\"}", -EBADMSG, "freeze: no \"timeout_ms\"" },
		{ "{\"event\":\"freeze\",\"timeout_ms\":-1}", -EBADMSG, "negative" },
		{ "{\"event\":\"freeze\",\"timeout_ms\":\"1\"}", -EBADMSG, "wrong type" },
		{ "{\"event\":\"prepare\",\"components\":[1]}", -EBADMSG, "not a string" },
		{ "{\"event\":\"prepare\"}", -EBADMSG, "no \"components\"" },
		{ "{\"event\":\"identify\",\"protocol\":1,\"set\":1}", -EBADMSG, "no \"volumes\"" },
		{ "{\"event\":\"identify\",\"protocol\":1,\"set\":1,\"volumes\":[5]}",
		  -EBADMSG, "not an object" },
		{ "{\"event\":\"identify\",\"protocol\":1,\"set\":1,\"volumes\":"
		  "[{\"name\":\"v\",\"device\":\"/d\",\"mountpoint\":3}]}", -EBADMSG, "mountpoint" },
		{ "{\"event\":\"identify\",\"protocol\":1,\"set\":1,\"volumes\":"
		  "[{\"device\":\"/d\"}]}", -EBADMSG, "no \"name\"" },
		{ "{\"event\":\"post-snapshot\",\"set\":1,\"copies\":[{\"id\":1}]}",
		  -EBADMSG, "no \"volume\"" },
		{ "{'event':'thaw'}", -EBADMSG, "not JSON" },
		{ "{\"event\":\"th\xff\"}", -EBADMSG, "not JSON" },
	};
	struct shadow_proto_request req;
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = shadow_proto_request_decode(cases[i].line, &req, why, sizeof(why));

		ck_assert_msg(r == cases[i].r, "case %zu (%s): %d", i, cases[i].line, r);
		ck_assert_msg(strstr(why, cases[i].why), "case %zu: why '%s' lacks '%s'",
			      i, why, cases[i].why);
		ck_assert_msg(why[0], "case %zu: no reason", i);
	}
	/* A line too long for the protocol, even if it is valid JSON. */
	{
		size_t n = SHADOW_PROTO_LINE_MAX + 10;
		char *big = malloc(n + 1);

		ck_assert_ptr_nonnull(big);
		memset(big, ' ', n);
		memcpy(big, "{\"event\":\"thaw\"}", 16);
		big[n] = '\0';
		ck_assert_int_eq(shadow_proto_request_decode(big, &req, why, sizeof(why)),
				 -EBADMSG);
		ck_assert_ptr_nonnull(strstr(why, "longer"));
		free(big);
	}
}
END_TEST

START_TEST(test_request_unknown_members)
{
	struct shadow_proto_request req;
	char why[128];

	ck_assert_int_eq(shadow_proto_request_decode(
		"{\"x\":[1,{\"y\":null}],\"event\":\"freeze\",\"timeout_ms\":5,\"later\":true}\n",
		&req, why, sizeof(why)), 0);
	ck_assert_int_eq(req.event, SHADOW_EVENT_FREEZE);
	ck_assert_uint_eq(req.timeout_ms, 5);
	shadow_proto_request_clear(&req);
	ck_assert_int_eq(shadow_proto_request_decode(
		"  {\"event\":\"identify\",\"protocol\":2,\"set\":1,\"volumes\":"
		"[{\"name\":\"v\",\"device\":\"/d\",\"uuid\":\"u\"}]}\r\n",
		&req, why, sizeof(why)), 0);
	ck_assert_int_eq(req.protocol, 2);
	ck_assert_ptr_null(req.volumes[0].mountpoint);
	shadow_proto_request_clear(&req);
}
END_TEST

static const char *const good_metadata =
	"{\"writer\":\"postgresql\",\"application\":\"PostgreSQL 15.18\","
	"\"components\":[{\"name\":\"main\",\"paths\":[\"/srv/pg/data\"],"
	"\"exclude\":[\"/srv/pg/data/postmaster.pid\"]}],"
	"\"restore\":\"stop, copy back, start\"}";

START_TEST(test_answers)
{
	struct shadow_proto_answer a, b = { .ok = true };
	char line[1024], *enc;
	char why[256];

	/* identify: metadata kept as received */
	snprintf(line, sizeof(line), "{\"status\":\"ok\",\"metadata\":%s}\n", good_metadata);
	ck_assert_int_eq(shadow_proto_answer_decode(SHADOW_EVENT_IDENTIFY, line, &a,
						    why, sizeof(why)), 0);
	ck_assert(a.ok);
	ck_assert_ptr_nonnull(a.metadata);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(a.metadata, "writer")),
			 "postgresql");
	/* ... and through encode again, the same */
	ck_assert_int_eq(shadow_proto_answer_encode(SHADOW_EVENT_IDENTIFY, &a, &enc, NULL), 0);
	shadow_proto_answer_clear(&a);
	ck_assert_int_eq(shadow_proto_answer_decode(SHADOW_EVENT_IDENTIFY, enc, &a,
						    why, sizeof(why)), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(a.metadata, "restore")),
			 "stop, copy back, start");
	free(enc);
	shadow_proto_answer_clear(&a);

	/* the empty writer */
	ck_assert_int_eq(shadow_proto_answer_decode(SHADOW_EVENT_IDENTIFY,
		"{\"status\":\"ok\",\"metadata\":{\"writer\":\"hook\",\"application\":\"\","
		"\"components\":[]}}", &a, why, sizeof(why)), 0);
	shadow_proto_answer_clear(&a);

	/* prepare, freeze, abort: status only */
	for (int e = SHADOW_EVENT_PREPARE; e < _SHADOW_EVENT_MAX; e++) {
		ck_assert_int_eq(shadow_proto_answer_encode(e, &b, &enc, NULL), 0);
		ck_assert_int_eq(shadow_proto_answer_decode(e, enc, &a, why, sizeof(why)), 0);
		ck_assert(a.ok);
		ck_assert(!a.held);
		if (e == SHADOW_EVENT_THAW)
			ck_assert_str_eq(enc, "{\"status\":\"ok\",\"held\":false}\n");
		else
			ck_assert_str_eq(enc, "{\"status\":\"ok\"}\n");
		free(enc);
		shadow_proto_answer_clear(&a);
	}

	/* thaw: held true, false, missing (= false) */
	b.held = true;
	ck_assert_int_eq(shadow_proto_answer_encode(SHADOW_EVENT_THAW, &b, &enc, NULL), 0);
	ck_assert_str_eq(enc, "{\"status\":\"ok\",\"held\":true}\n");
	ck_assert_int_eq(shadow_proto_answer_decode(SHADOW_EVENT_THAW, enc, &a, why, sizeof(why)), 0);
	ck_assert(a.held);
	free(enc);
	shadow_proto_answer_clear(&a);
	ck_assert_int_eq(shadow_proto_answer_decode(SHADOW_EVENT_THAW, "{\"status\":\"ok\"}",
						    &a, why, sizeof(why)), 0);
	ck_assert(a.ok && !a.held);
	shadow_proto_answer_clear(&a);

	/* post-snapshot: data */
	b.held = false;
	b.data = json_tokener_parse("{\"label\":\"START WAL LOCATION: 0/2000028\"}");
	ck_assert_int_eq(shadow_proto_answer_encode(SHADOW_EVENT_POST_SNAPSHOT, &b, &enc, NULL), 0);
	json_object_put(b.data);
	ck_assert_int_eq(shadow_proto_answer_decode(SHADOW_EVENT_POST_SNAPSHOT, enc, &a,
						    why, sizeof(why)), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(a.data, "label")),
			 "START WAL LOCATION: 0/2000028");
	free(enc);
	shadow_proto_answer_clear(&a);

	/* error, with and without a message */
	b = (struct shadow_proto_answer) { .ok = false, .message = "no lock" };
	ck_assert_int_eq(shadow_proto_answer_encode(SHADOW_EVENT_FREEZE, &b, &enc, NULL), 0);
	ck_assert_str_eq(enc, "{\"status\":\"error\",\"message\":\"no lock\"}\n");
	ck_assert_int_eq(shadow_proto_answer_decode(SHADOW_EVENT_FREEZE, enc, &a, why, sizeof(why)), 0);
	ck_assert(!a.ok);
	ck_assert_str_eq(a.message, "no lock");
	free(enc);
	shadow_proto_answer_clear(&a);
	/* an error to identify needs no metadata */
	ck_assert_int_eq(shadow_proto_answer_decode(SHADOW_EVENT_IDENTIFY, "{\"status\":\"error\"}",
						    &a, why, sizeof(why)), 0);
	ck_assert(!a.ok);
	ck_assert_ptr_null(a.message);
	shadow_proto_answer_clear(&a);

	/* unknown members ignored */
	ck_assert_int_eq(shadow_proto_answer_decode(SHADOW_EVENT_FREEZE,
		"{\"future\":{\"a\":[1,2]},\"status\":\"ok\",\"metadata\":7,\"held\":\"x\"}",
		&a, why, sizeof(why)), 0);
	ck_assert(a.ok);
	ck_assert_ptr_null(a.metadata);
	shadow_proto_answer_clear(&a);
}
END_TEST

START_TEST(test_answers_malformed)
{
	static const struct {
		int event;
		const char *line, *why;
	} cases[] = {
		{ SHADOW_EVENT_FREEZE, "", "not JSON" },
		{ SHADOW_EVENT_FREEZE, "ok", "not JSON" },
		{ SHADOW_EVENT_FREEZE, "hello world", "not JSON" },
		{ SHADOW_EVENT_FREEZE, "[]", "not a JSON object" },
		{ SHADOW_EVENT_FREEZE, "42", "not a JSON object" },
		{ SHADOW_EVENT_FREEZE, "{\"status\":\"ok\"} garbage", "not JSON" },
		{ SHADOW_EVENT_FREEZE, "{}", "freeze: no \"status\"" },
		{ SHADOW_EVENT_FREEZE, "{\"message\":\"fine\"}", "no \"status\"" },
		{ SHADOW_EVENT_FREEZE, "{\"status\":true}", "wrong type" },
		{ SHADOW_EVENT_FREEZE, "{\"status\":\"OK\"}", "neither" },
		{ SHADOW_EVENT_FREEZE, "{\"status\":\"error\",\"message\":1}", "message" },
		{ SHADOW_EVENT_IDENTIFY, "{\"status\":\"ok\"}", "identify: no \"metadata\"" },
		{ SHADOW_EVENT_IDENTIFY, "{\"status\":\"ok\",\"metadata\":[]}", "not an object" },
		{ SHADOW_EVENT_IDENTIFY, "{\"status\":\"ok\",\"metadata\":{\"writer\":\"w\","
		  "\"application\":\"a\"}}", "no \"components\"" },
		{ SHADOW_EVENT_THAW, "{\"status\":\"ok\",\"held\":1}", "held" },
		{ SHADOW_EVENT_THAW, "{\"status\":\"ok\",\"held\":\"true\"}", "held" },
		{ SHADOW_EVENT_POST_SNAPSHOT, "{\"status\":\"ok\",\"data\":[1]}", "data" },
		{ SHADOW_EVENT_POST_SNAPSHOT, "{\"status\":\"ok\",\"data\":\"x\"}", "data" },
	};
	struct shadow_proto_answer a;
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = shadow_proto_answer_decode(cases[i].event, cases[i].line, &a,
						   why, sizeof(why));

		ck_assert_msg(r == -EBADMSG, "case %zu (%s) accepted: %d", i, cases[i].line, r);
		ck_assert_msg(strstr(why, cases[i].why), "case %zu: why '%s' lacks '%s'",
			      i, why, cases[i].why);
	}
	ck_assert_int_eq(shadow_proto_answer_decode(_SHADOW_EVENT_MAX, "{\"status\":\"ok\"}",
						    &a, why, sizeof(why)), -EINVAL);
}
END_TEST

START_TEST(test_metadata)
{
	static const struct {
		const char *doc, *why;	/* why NULL: valid */
	} cases[] = {
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[]}", NULL },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":"
		  "[{\"name\":\"c\",\"paths\":[]}],\"restore\":\"r\",\"extra\":1}", NULL },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":"
		  "[{\"name\":\"c\",\"paths\":[\"/a\",\"/b\"],\"exclude\":[],\"x\":0}]}", NULL },
		{ "{\"application\":\"a\",\"components\":[]}", "no \"writer\"" },
		{ "{\"writer\":\"\",\"application\":\"a\",\"components\":[]}", "\"writer\" is empty" },
		{ "{\"writer\":1,\"application\":\"a\",\"components\":[]}", "wrong type" },
		{ "{\"writer\":\"w\",\"components\":[]}", "no \"application\"" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":{}}", "wrong type" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[],\"restore\":5}",
		  "\"restore\"" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[1]}", "not an object" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[{\"paths\":[]}]}",
		  "[0]: no \"name\"" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[{\"name\":\"\","
		  "\"paths\":[]}]}", "\"name\" is empty" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[{\"name\":\"c\"}]}",
		  "no \"paths\"" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[{\"name\":\"c\","
		  "\"paths\":\"/a\"}]}", "\"paths\" has the wrong type" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[{\"name\":\"c\","
		  "\"paths\":[\"rel/a\"]}]}", "not an absolute path" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[{\"name\":\"c\","
		  "\"paths\":[7]}]}", "not a string" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[{\"name\":\"c\","
		  "\"paths\":[\"/a\"],\"exclude\":[\"b\"]}]}", "\"exclude\"[0] is not an absolute" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[{\"name\":\"c\","
		  "\"paths\":[\"/a\"],\"exclude\":\"/b\"}]}", "\"exclude\" has the wrong type" },
		{ "{\"writer\":\"w\",\"application\":\"a\",\"components\":[{\"name\":\"c\","
		  "\"paths\":[]},{\"name\":\"c\",\"paths\":[]}]}", "\"c\" appears twice" },
	};
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *o = json_tokener_parse(cases[i].doc);
		int r;

		ck_assert_ptr_nonnull(o);
		r = shadow_proto_metadata_validate(o, why, sizeof(why));
		if (!cases[i].why) {
			ck_assert_msg(r == 0, "case %zu refused: %s", i, why);
		} else {
			ck_assert_msg(r == -EBADMSG, "case %zu accepted", i);
			ck_assert_msg(strstr(why, cases[i].why), "case %zu: why '%s' lacks '%s'",
				      i, why, cases[i].why);
			ck_assert_msg(strncmp(why, "metadata", 8) == 0, "case %zu: '%s'", i, why);
		}
		json_object_put(o);
	}
	ck_assert_int_eq(shadow_proto_metadata_validate(NULL, why, sizeof(why)), -EBADMSG);
}
END_TEST

START_TEST(test_metadata_codec)
{
	char *paths[] = { "/srv/db", "/srv/wal" }, *excl[] = { "/srv/db/pid" };
	struct shadow_proto_component comp = {
		.name = "main", .paths = paths, .n_paths = 2, .exclude = excl, .n_exclude = 1,
	};
	struct shadow_proto_metadata m = {
		.writer = "sqlite", .application = "SQLite 3.40.1",
		.components = &comp, .n_components = 1, .restore = "copy the file back",
	}, out;
	json_object *o = NULL;
	char why[128];

	ck_assert_int_eq(shadow_proto_metadata_encode(&m, &o), 0);
	ck_assert_int_eq(shadow_proto_metadata_decode(o, &out, why, sizeof(why)), 0);
	ck_assert_str_eq(out.writer, "sqlite");
	ck_assert_str_eq(out.application, "SQLite 3.40.1");
	ck_assert_str_eq(out.restore, "copy the file back");
	ck_assert_uint_eq(out.n_components, 1);
	ck_assert_str_eq(out.components[0].name, "main");
	ck_assert_uint_eq(out.components[0].n_paths, 2);
	ck_assert_str_eq(out.components[0].paths[1], "/srv/wal");
	ck_assert_uint_eq(out.components[0].n_exclude, 1);
	ck_assert_str_eq(out.components[0].exclude[0], "/srv/db/pid");
	shadow_proto_metadata_clear(&out);
	json_object_put(o);

	/* An invalid document is not built. */
	paths[0] = "relative";
	o = NULL;
	ck_assert_int_eq(shadow_proto_metadata_encode(&m, &o), -EINVAL);
	ck_assert_ptr_null(o);
	m.writer = NULL;
	ck_assert_int_eq(shadow_proto_metadata_encode(&m, &o), -EINVAL);
}
END_TEST

START_TEST(test_encode_too_long)
{
	size_t n = SHADOW_PROTO_LINE_MAX;
	char *big = malloc(n + 1), *line = NULL;
	struct shadow_proto_answer a = { .ok = false, .message = big };

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	big[n] = '\0';
	ck_assert_int_eq(shadow_proto_answer_encode(SHADOW_EVENT_FREEZE, &a, &line, NULL),
			 -EMSGSIZE);
	ck_assert_ptr_null(line);
	/* The longest that fits: 65536 bytes with the newline. */
	big[n - 1 - strlen("{\"status\":\"error\",\"message\":\"\"}")] = '\0';
	ck_assert_int_eq(shadow_proto_answer_encode(SHADOW_EVENT_FREEZE, &a, &line, &n), 0);
	ck_assert_uint_eq(n, SHADOW_PROTO_LINE_MAX);
	free(line);
	free(big);
}
END_TEST

/* ------------------------------------------------------------------------
 * The line reader, over pipes
 */

static void make_pipe(int fds[2], bool nonblock)
{
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0)), 0);
}

static void write_str(int fd, const char *s)
{
	ck_assert_int_eq(shadow_proto_write_line(fd, s, strlen(s)), 0);
}

START_TEST(test_reader_lines)
{
	struct shadow_proto_reader *r = malloc(sizeof(*r));
	char *line = NULL, why[128];
	int fds[2];

	ck_assert_ptr_nonnull(r);
	make_pipe(fds, true);
	shadow_proto_reader_init(r, fds[0]);
	/* Nothing yet; then a line in pieces (partial reads). */
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), -EAGAIN);
	write_str(fds[1], "{\"status\":");
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), -EAGAIN);
	write_str(fds[1], "\"ok\"}");
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), -EAGAIN);
	/* The end of the line and two more lines in one write. */
	write_str(fds[1], "\nsecond\n\nfourth");
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), 1);
	ck_assert_str_eq(line, "{\"status\":\"ok\"}");
	free(line);
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), 1);
	ck_assert_str_eq(line, "second");
	free(line);
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), 1);
	ck_assert_str_eq(line, "");
	free(line);
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), -EAGAIN);
	write_str(fds[1], "\n");
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), 1);
	ck_assert_str_eq(line, "fourth");
	free(line);
	/* EOF at a line boundary: clean, and stays so. */
	close(fds[1]);
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), 0);
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), 0);
	close(fds[0]);
	free(r);
}
END_TEST

START_TEST(test_reader_truncated)
{
	struct shadow_proto_reader *r = malloc(sizeof(*r));
	char *line = NULL, why[128];
	int fds[2];

	ck_assert_ptr_nonnull(r);
	make_pipe(fds, false);
	shadow_proto_reader_init(r, fds[0]);
	write_str(fds[1], "{\"status\":\"ok\"}\n{\"status\":");
	close(fds[1]);
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), 1);
	free(line);
	line = NULL;
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(why, "end of file"));
	ck_assert_ptr_null(line);
	close(fds[0]);

	/* A NUL byte inside a line. */
	make_pipe(fds, false);
	shadow_proto_reader_init(r, fds[0]);
	ck_assert_int_eq(shadow_proto_write_line(fds[1], "{\"a\0\":1}\n", 9), 0);
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "NUL"));
	close(fds[1]);
	close(fds[0]);
	free(r);
}
END_TEST

/* A child writes @n bytes of 'x' (then "\n" if @newline) in small pieces. */
static pid_t write_big(int fds[2], size_t n, bool newline)
{
	int fd = fds[1];
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char chunk[1000];

		/* Only the parent reads: its close must break the pipe. */
		close(fds[0]);

		memset(chunk, 'x', sizeof(chunk));
		while (n) {
			size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

			if (shadow_proto_write_line(fd, chunk, k) < 0)
				_exit(1);
			n -= k;
		}
		if (newline && shadow_proto_write_line(fd, "\n", 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(fd);
	return pid;
}

START_TEST(test_reader_limit)
{
	struct shadow_proto_reader *r = malloc(sizeof(*r));
	char *line = NULL, why[128];
	int fds[2], status;
	pid_t pid;

	ck_assert_ptr_nonnull(r);
	/* Exactly the limit, newline included: accepted. */
	make_pipe(fds, false);
	shadow_proto_reader_init(r, fds[0]);
	pid = write_big(fds, SHADOW_PROTO_LINE_MAX - 1, true);
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), 1);
	ck_assert_uint_eq(strlen(line), SHADOW_PROTO_LINE_MAX - 1);
	free(line);
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	close(fds[0]);

	/* One byte more: oversized, refused before the newline even comes. */
	make_pipe(fds, false);
	shadow_proto_reader_init(r, fds[0]);
	signal(SIGPIPE, SIG_IGN);
	pid = write_big(fds, 3 * SHADOW_PROTO_LINE_MAX, true);
	line = NULL;
	ck_assert_int_eq(shadow_proto_read_line(r, &line, why, sizeof(why)), -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(why, "longer than 65536"));
	ck_assert_ptr_null(line);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	free(r);
}
END_TEST

Suite *suite_proto(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("codec");
	TCase *tr = tcase_create("reader");

	tcase_add_test(tc, test_event_names);
	tcase_add_test(tc, test_request_identify);
	tcase_add_test(tc, test_request_each_event);
	tcase_add_test(tc, test_request_malformed);
	tcase_add_test(tc, test_request_unknown_members);
	tcase_add_test(tc, test_answers);
	tcase_add_test(tc, test_answers_malformed);
	tcase_add_test(tc, test_metadata);
	tcase_add_test(tc, test_metadata_codec);
	tcase_add_test(tc, test_encode_too_long);
	suite_add_tcase(s, tc);
	tcase_add_test(tr, test_reader_lines);
	tcase_add_test(tr, test_reader_truncated);
	tcase_add_test(tr, test_reader_limit);
	suite_add_tcase(s, tr);
	return s;
}

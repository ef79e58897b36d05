/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The writer protocol, version 1 (shadow-writer(7)): the codec both sides
 * share.  The coordinator (lib/core/shadow-writers.c) encodes requests and
 * decodes answers; a writer (writers/) decodes requests and encodes
 * answers.  Pure: no process, timeout or policy here, only
 *
 *   - event names <-> enum shadow_proto_event;
 *   - requests and answers <-> one line of JSON each (json-c);
 *   - the metadata document an identify answer carries, validated;
 *   - a bounded line reader over a file descriptor (blocking or not).
 *
 * Built as the internal convenience library lib/proto/libshadow-proto.la.
 *
 * Errors follow macro.h (0 or -errno).  Decoders return -EBADMSG for
 * anything malformed, with a short reason in @why (never NULL-terminated
 * beyond @why_size; @why may be NULL).
 */
#ifndef SHADOW_PROTO_H
#define SHADOW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define SHADOW_PROTO_VERSION 1
/* The longest line either side may send, newline included. */
#define SHADOW_PROTO_LINE_MAX 65536

enum shadow_proto_event {
	SHADOW_EVENT_IDENTIFY,
	SHADOW_EVENT_PREPARE,
	SHADOW_EVENT_FREEZE,
	SHADOW_EVENT_THAW,
	SHADOW_EVENT_POST_SNAPSHOT,
	SHADOW_EVENT_ABORT,
	_SHADOW_EVENT_MAX,
};

/* "identify", "prepare", ...; NULL for a value out of range. */
const char *shadow_proto_event_name(enum shadow_proto_event e);
/* The event named @name, or -EINVAL for an unknown name. */
int shadow_proto_event_from_name(const char *name);

/* ------------------------------------------------------------------------
 * Requests (coordinator -> writer)
 */

struct shadow_proto_volume {
	char *name;		/* the volume's name */
	char *device;		/* /dev/mapper/<name> */
	char *mountpoint;	/* NULL: not mounted */
};

struct shadow_proto_copy {
	uint64_t id;		/* shadow copy id */
	char *volume;
};

/* One request; only the members of its event are used. */
struct shadow_proto_request {
	enum shadow_proto_event event;
	/* identify */
	int protocol;
	struct shadow_proto_volume *volumes;
	size_t n_volumes;
	/* identify, post-snapshot */
	uint64_t set;
	/* prepare */
	char **components;
	size_t n_components;
	/* freeze: the bound of the commit that follows */
	uint64_t timeout_ms;
	/* post-snapshot */
	struct shadow_proto_copy *copies;
	size_t n_copies;
};

void shadow_proto_request_clear(struct shadow_proto_request *req);

/*
 * Encode @req as one line: JSON text followed by "\n", newly allocated,
 * length in *ret_len (optional).  -EINVAL for an event out of range,
 * -EMSGSIZE when the line would exceed SHADOW_PROTO_LINE_MAX.
 */
int shadow_proto_request_encode(const struct shadow_proto_request *req,
				char **ret, size_t *ret_len);

/*
 * Decode one request line (without or with its "\n").  -EBADMSG: not a
 * JSON object, no "event" string, or a member of the event missing or of
 * the wrong type.  -EOPNOTSUPP: an "event" this version does not know
 * (the writer answers it with status error and goes on).  Unknown members
 * are ignored.  On success *ret owns its strings (clear it).
 */
int shadow_proto_request_decode(const char *line,
				struct shadow_proto_request *ret,
				char *why, size_t why_size);

/* ------------------------------------------------------------------------
 * Answers (writer -> coordinator)
 */

struct shadow_proto_answer {
	bool ok;			/* "status": "ok" (else "error") */
	char *message;			/* "message", NULL when absent */
	/* identify, when ok: the metadata document (validated) */
	struct json_object *metadata;
	/* thaw: writes were held since the freeze answer; absent = false */
	bool held;
	/* post-snapshot, optional: an object recorded with the set */
	struct json_object *data;
};

void shadow_proto_answer_clear(struct shadow_proto_answer *a);

/*
 * Encode the answer to an @event request as one line ("\n"-terminated,
 * newly allocated).  Writes "status", "message" when set, "metadata" and
 * "data" when set (taking a reference, not ownership), and "held" when
 * @event is thaw.  -EMSGSIZE when the line would be too long.
 */
int shadow_proto_answer_encode(enum shadow_proto_event event,
			       const struct shadow_proto_answer *a,
			       char **ret, size_t *ret_len);

/*
 * Decode the answer to an @event request.  -EBADMSG: not a JSON object,
 * "status" missing or neither "ok" nor "error", "message" not a string,
 * an ok identify answer without a valid metadata document, "held" not a
 * boolean, "data" not an object.  Unknown members are ignored.  An error
 * answer is decoded successfully (a->ok false).
 */
int shadow_proto_answer_decode(enum shadow_proto_event event, const char *line,
			       struct shadow_proto_answer *ret,
			       char *why, size_t why_size);

/* ------------------------------------------------------------------------
 * The metadata document (identify's answer)
 *
 *   { "writer": "<non-empty>", "application": "<text>",
 *     "components": [ { "name": "<non-empty, unique>",
 *                       "paths": [ "/absolute", ... ],
 *                       "exclude": [ "/absolute", ... ] (optional) } ],
 *     "restore": "<text>" (optional) }
 */

struct shadow_proto_component {
	char *name;
	char **paths;
	size_t n_paths;
	char **exclude;
	size_t n_exclude;
};

struct shadow_proto_metadata {
	char *writer;
	char *application;
	struct shadow_proto_component *components;
	size_t n_components;
	char *restore;		/* NULL when absent */
};

void shadow_proto_metadata_clear(struct shadow_proto_metadata *m);

/* Check @doc against the shape above: 0 or -EBADMSG with a reason. */
int shadow_proto_metadata_validate(struct json_object *doc,
				   char *why, size_t why_size);
/* Validate and decode @doc into *ret (clear it). */
int shadow_proto_metadata_decode(struct json_object *doc,
				 struct shadow_proto_metadata *ret,
				 char *why, size_t why_size);
/* Build the document for @m (new reference in *ret); -EINVAL if invalid. */
int shadow_proto_metadata_encode(const struct shadow_proto_metadata *m,
				 struct json_object **ret);

/* ------------------------------------------------------------------------
 * Lines over a file descriptor
 */

struct shadow_proto_reader {
	int fd;
	bool eof;
	size_t len;			/* bytes buffered */
	char buf[SHADOW_PROTO_LINE_MAX];
};

/* Read from @fd (not owned: never closed here). */
void shadow_proto_reader_init(struct shadow_proto_reader *r, int fd);

/*
 * The next line, without its "\n", newly allocated in *ret_line.
 * Returns 1 with a line, 0 at EOF on a line boundary (clean EOF), and
 *   -EAGAIN     the fd is non-blocking and no whole line is there yet
 *               (poll and call again: what was read is kept);
 *   -EMSGSIZE   no "\n" within SHADOW_PROTO_LINE_MAX bytes (oversized);
 *   -EPROTO     EOF in the middle of a line (truncated);
 *   -EBADMSG    a NUL byte in the line;
 *   other -errno from read(2).
 * The protocol errors (-EMSGSIZE, -EPROTO, -EBADMSG) are final: the
 * stream cannot be resynchronized.  @why says what happened.
 */
int shadow_proto_read_line(struct shadow_proto_reader *r, char **ret_line,
			   char *why, size_t why_size);

/*
 * Write all of @len bytes of @line to a blocking @fd, across partial
 * writes and EINTR.  -EPIPE when the reader is gone (only if SIGPIPE is
 * blocked or ignored; the coordinator blocks it around the call).
 */
int shadow_proto_write_line(int fd, const char *line, size_t len);

#endif

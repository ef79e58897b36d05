/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The runtime every dm-shadow writer is built on (shadow-writers(8)).
 *
 * A writer is a table of operations, one per protocol event
 * (shadow-writer(7)); writer_main() does everything else: read the
 * requests on stdin with the protocol codec (lib/proto/shadow-proto.h), check
 * that events come in their order, call the operation, answer on stdout,
 * load writers.conf, log to stderr with the writer's name in front, and
 * undo whatever the writer holds when the set is abandoned: on abort, on
 * a failed operation, on EOF of stdin at any point, and on SIGTERM,
 * SIGINT or SIGHUP.
 *
 * Operations return 0 or -errno; a failing one says why with
 * writer_fail(), which becomes the answer's "message".  An operation left
 * NULL succeeds doing nothing.
 */
#ifndef WRITER_H
#define WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "shadow-proto.h"
#include "writer-conf.h"

struct json_object;

enum writer_phase {
	WRITER_START,		/* waiting for identify */
	WRITER_IDENTIFIED,
	WRITER_PREPARED,
	WRITER_FROZEN,
	WRITER_THAWED,
	WRITER_DONE,		/* post-snapshot answered */
	WRITER_ABORTED,
	WRITER_FAILED,		/* an operation failed: released, says no more */
};

struct writer;

struct writer_ops {
	/* The writer's kind: its default config section and metadata name. */
	const char *kind;
	/* The keys of its writers.conf section (NULL-terminated). */
	const struct conf_key *keys;
	/* Bytes of private state, zeroed, at w->priv. */
	size_t priv_size;

	/*
	 * Describe the application: set m->application, m->components and
	 * m->restore (m->writer is set by the runtime).  No component:
	 * nothing to do for this set.
	 */
	int (*identify)(struct writer *w, struct shadow_proto_metadata *m);
	/* Get ready to freeze w->components (names from identify). */
	int (*prepare)(struct writer *w);
	/* Hold the application's writes; return once they are held. */
	int (*freeze)(struct writer *w, uint64_t timeout_ms);
	/* Let writes go again; *ret_held: they were held until now. */
	int (*thaw)(struct writer *w, bool *ret_held);
	/* The copies exist; *ret_data (optional): recorded with the set. */
	int (*post_snapshot)(struct writer *w,
			     const struct shadow_proto_request *req,
			     struct json_object **ret_data);
	/* The set is abandoned: undo prepare and freeze. */
	int (*abort)(struct writer *w);
	/*
	 * Drop everything held, whatever the phase (after abort, after a
	 * failed operation, at EOF or on a signal): must be idempotent,
	 * and may not fail.  Connections are closed here too.
	 */
	void (*release)(struct writer *w);
};

struct writer {
	const struct writer_ops *ops;
	const char *name;		/* as started: the log prefix */
	struct writer_conf conf;
	int conf_r;			/* < 0: writers.conf refused */
	enum writer_phase phase;
	char message[1024];		/* the answer's "message" if set */
	void *priv;			/* ops->priv_size bytes */

	/* From identify. */
	uint64_t set;
	struct shadow_proto_volume *volumes;
	size_t n_volumes;
	struct shadow_proto_metadata metadata;	/* as answered */

	/* From prepare: the components to act on (names). */
	char **components;
	size_t n_components;
};

/* Run the writer: returns the process exit status. */
int writer_main(const struct writer_ops *ops, int argc, char **argv);

/* "<name>: <text>" on stderr. */
_printf_(2, 3) void writer_log(struct writer *w, const char *fmt, ...);
/* Set the answer's message and return @r (< 0), for "return writer_fail()". */
_printf_(3, 4) int writer_fail(struct writer *w, int r, const char *fmt, ...);
/* Set the message of a successful answer (a warning the requester sees). */
_printf_(2, 3) void writer_note(struct writer *w, const char *fmt, ...);

/* Whether prepare named the component @name. */
bool writer_component_selected(const struct writer *w, const char *name);

/*
 * Metadata helpers for identify: append a component (paths and exclude
 * copied), or a path to the last one.
 */
int metadata_add_component(struct shadow_proto_metadata *m, const char *name);
int metadata_add_path(struct shadow_proto_metadata *m, const char *path);
int metadata_add_exclude(struct shadow_proto_metadata *m, const char *path);
/* Replace a string member with a printf result. */
_printf_(2, 3) int set_strf(char **p, const char *fmt, ...);

#endif

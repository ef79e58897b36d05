/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The coordinator's side of the writer protocol (shadow-writer(7)): find
 * the writers, run them, talk to them.  Not installed.
 *
 * The writers directory is scanned like run-parts does it: names made of
 * [A-Za-z0-9_-] only, in name order; an entry is refused (kept in the
 * list, with the reason, never run) unless it, or what its symlink points
 * to, is a regular executable file owned by root and not writable by group
 * or others, in a directory (the writers directory, and the directory
 * holding a symlink's target) with the same properties.
 *
 * One attempt at a set runs every selected writer once (struct
 * writer_run): each in its own process group, cwd /, stdin and stdout on
 * pipes, stderr shared, SHADOW_WRITER_CONF and SHADOW_PROTOCOL added to
 * the environment.  writers_exchange() sends one request to every writer
 * still taking part and waits for all the answers under one deadline,
 * with poll(); the first failure (no answer in time, EOF, a protocol
 * error, status error, held false) ends the exchange with -ECANCELED and
 * names the writer in run->culprit.  SIGPIPE is blocked in the calling
 * thread while writers run, so a writer that died turns a write into
 * -EPIPE instead of killing the requester.
 */
#ifndef SHADOW_WRITERS_H
#define SHADOW_WRITERS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libshadow.h"
#include "shadow-catalog.h"
#include "shadow-proto.h"

struct json_object;

/* The defaults, from configure's sysconfdir. */
#ifndef SHADOW_WRITERS_DIR
#define SHADOW_WRITERS_DIR "/etc/dm-shadow/writers.d"
#endif
#ifndef SHADOW_WRITER_CONF
#define SHADOW_WRITER_CONF "/etc/dm-shadow/writers.conf"
#endif

/* Bounds the protocol sets: abort's answer, exit after stdin closed. */
#define WRITER_ABORT_TIMEOUT_US (10 * 1000000ULL)
#define WRITER_EXIT_TIMEOUT_US (5 * 1000000ULL)

/* One entry of the writers directory (public as shadow_writer). */
struct shadow_writer {
	char *name;
	char *path;		/* <writers dir>/<name> */
	char *refused;		/* why it may not run, or NULL */
	/* shadow_ctx_writers() only: its last state in the catalog, or NULL */
	const struct shadow_writer_record *last;
};

void shadow_writer_free(struct shadow_writer *w);
void writers_list_free(struct shadow_writer **w, size_t n);

/* A name run-parts would run: [A-Za-z0-9_-]+. */
bool writer_name_valid(const char *name);

/*
 * Scan @dir: every entry with a valid name, in name order, refused ones
 * included.  A missing directory has no writers (0 entries, return 0).
 */
int writers_scan(const char *dir, struct shadow_writer ***ret, size_t *ret_n);

/* One writer process during one attempt. */
struct writer_proc {
	const struct shadow_writer *entry;
	pid_t pid;			/* 0: not running (never started or reaped) */
	int in_fd;			/* its stdin, our write end; -1 once closed */
	int out_fd;			/* its stdout, our read end (non-blocking) */
	struct shadow_proto_reader *reader;
	unsigned int owed;		/* answers still to come */
	enum shadow_proto_event sent;	/* the last request sent */
	int answered;			/* the last event answered ok, or -1 */
	bool prepared;			/* prepare was sent: abort is due on failure */
	bool skipped;			/* no component on the set: stdin closed */
	bool failed;			/* it failed itself: killed */
	bool aborted;			/* abort was answered ok */
	enum shadow_proto_event fail_event;
	char *message;			/* why it failed, or a note */
	struct json_object *metadata;	/* identify's document */
	struct shadow_proto_metadata meta;	/* ... decoded */
	char **components;		/* chosen for the set */
	size_t n_components;
	struct json_object *excluded;	/* names the requester excluded, or NULL */
	struct json_object *data;	/* post-snapshot's, or NULL */
};

struct writer_run {
	shadow_ctx *ctx;		/* for logging */
	struct writer_proc *w;
	size_t n;
	uint64_t timeout_us;		/* per exchange, all writers together */
	char **envp;
	struct writer_proc *culprit;	/* the first writer that failed */
	sigset_t old_mask;
	bool sigpipe_was_pending;
	bool started;
};

/*
 * Start every writer of @entries (none refused) with @conf as
 * SHADOW_WRITER_CONF.  A writer that cannot be started is failed (at
 * identify); the others run.  -ECANCELED then, with run->culprit.
 */
int writers_start(shadow_ctx *ctx, struct writer_run *run,
		  struct shadow_writer *const *entries, size_t n,
		  const char *conf, uint64_t timeout_us);

/*
 * Send @req to every writer taking part (started, not skipped, not
 * failed) and collect every answer, all within run->timeout_us.  For
 * prepare, each writer gets its own components (w->components) whatever
 * @req holds.  0, or -ECANCELED with run->culprit set.
 */
int writers_exchange(struct writer_run *run, const struct shadow_proto_request *req);

/* The writers that take part (started, not skipped, not failed). */
size_t writers_active(const struct writer_run *run);

/* Leave @w out of the rest: close its stdin (it has nothing to do). */
void writers_skip(struct writer_run *run, struct writer_proc *w);

/*
 * Send abort to every writer that was prepared and did not fail, and wait
 * up to WRITER_ABORT_TIMEOUT_US for the answers; a writer that does not
 * answer in time, or answers badly, is killed.
 */
void writers_abort(struct writer_run *run);

/*
 * End the attempt: kill the failed writers, close every stdin, wait up to
 * WRITER_EXIT_TIMEOUT_US for the rest to exit, kill those that do not;
 * reap all.  Safe to call more than once.
 */
void writers_stop(struct writer_run *run);

/* Stop (if not done) and free everything; restores the signal mask. */
void writers_run_clear(struct writer_run *run);

/* ------------------------------------------------------------------------
 * Helpers of the set creation
 */

/* Where the block device @dev is mounted (the first mount), or NULL. */
int mountpoint_of(dev_t dev, char **ret);

/* The context's writers directory and writers.conf (defaults applied). */
const char *ctx_writers_dir(const shadow_ctx *ctx);
const char *ctx_writer_conf(const shadow_ctx *ctx);
/* Free what the context holds for writers (shadow_ctx_free). */
void ctx_writers_clear(shadow_ctx *ctx);

#endif

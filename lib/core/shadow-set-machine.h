/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The steps of a shadow copy set's creation as a state machine: a pure
 * transition function from (step, outcome) to the next step and the
 * actions to run on the way.  lib/core/shadow-set.c drives it; the unit test
 * (test/unit/test-set-machine.c) walks every transition, every failure at
 * every step, and checks that what was done is undone.
 *
 *   IDENTIFY       start the writers, send identify, collect metadata
 *   CHOOSE         keep the components on the set's volumes (or named)
 *   PREPARE        send prepare to the writers left with components
 *   FREEZE         send freeze; all must answer within the writer timeout
 *   COMMIT         record the set "creating", suspend every volume
 *                  (freezing its file system), create the snapshots,
 *                  resume (the provider's commit, bounded)
 *   THAW           send thaw; every writer must say its writes were held
 *   POST_SNAPSHOT  send post-snapshot, collect each writer's data
 *   RECORD         record the set "complete" with metadata and data
 *   DONE           success (final)
 *   UNDONE         failure, everything undone (final)
 *
 * A step without writers to talk to succeeds at once.  When a step fails
 * because of a writer (no answer, crash, garbage, status error, held
 * false) and retries are left, the machine undoes the attempt and goes
 * back to IDENTIFY; any other failure (bad input, the provider's commit,
 * the catalog) is final.
 */
#ifndef SHADOW_SET_MACHINE_H
#define SHADOW_SET_MACHINE_H

#include <stdbool.h>

enum set_step {
	SET_IDENTIFY,
	SET_CHOOSE,
	SET_PREPARE,
	SET_FREEZE,
	SET_COMMIT,
	SET_THAW,
	SET_POST_SNAPSHOT,
	SET_RECORD,
	SET_DONE,
	SET_UNDONE,
	_SET_STEP_MAX,
};

enum set_outcome {
	SET_OK,
	SET_FAIL_WRITER,	/* a writer failed: retry may help */
	SET_FAIL,		/* anything else: final */
	_SET_OUTCOME_MAX,
};

/*
 * Actions, run by the driver in this order (the order of the bits):
 * resume first, so the volumes' writes flow again before anything slow.
 */
enum {
	SET_ACT_RESUME = 1 << 0,	/* resume every volume still suspended */
	SET_ACT_ABORT = 1 << 1,		/* abort to each prepared writer that did not fail */
	SET_ACT_DELETE = 1 << 2,	/* delete the snapshots created */
	SET_ACT_FORGET = 1 << 3,	/* drop the set and its copies from the catalog */
	SET_ACT_STOP = 1 << 4,		/* close the writers' stdin, reap; kill the failed */
	SET_ACT_STATES = 1 << 5,	/* record each writer's last state in the catalog */
};

struct set_transition {
	enum set_step next;
	unsigned int actions;
	bool retry;		/* next is IDENTIFY again: one retry used */
};

/*
 * The transition from @step on @outcome with @retries_left retries left.
 * Final steps stay where they are, with no action.
 */
struct set_transition set_machine_next(enum set_step step, enum set_outcome outcome,
				       unsigned int retries_left);

/* "identify", "choose", ... for logs. */
const char *set_step_name(enum set_step step);
/* Steps at which a writer is talked to. */
bool set_step_talks_to_writers(enum set_step step);
/*
 * Steps run with the signals that end or stop a process blocked (the
 * freeze window and what finishes or undoes it): from COMMIT, which
 * records the set "creating" and suspends, to RECORD.  Once entered, the
 * window lasts until the set is complete or undone.
 */
bool set_step_blocks_signals(enum set_step step);

#endif

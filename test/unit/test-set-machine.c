/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The set creation state machine (lib/core/shadow-set-machine.c): every
 * transition checked against the table below, and every failure at every
 * step, with and without retries, walked on a model of what the steps do
 * to the world (writers running, prepared, holding the application's
 * writes; volumes suspended; snapshots; the set in the catalog): whatever
 * happened, a failed creation ends with all of it undone, a successful
 * one with exactly the set.
 */
#include <stdbool.h>
#include <string.h>

#include "shadow-set-machine.h"
#include "unit.h"

#define STOP_STATES (SET_ACT_STOP | SET_ACT_STATES)

START_TEST(test_table)
{
	static const struct {
		enum set_step step;
		unsigned int undo;	/* the actions of a failure there */
	} table[] = {
		{ SET_IDENTIFY, STOP_STATES },
		{ SET_CHOOSE, STOP_STATES },
		{ SET_PREPARE, STOP_STATES | SET_ACT_ABORT },
		{ SET_FREEZE, STOP_STATES | SET_ACT_ABORT },
		{ SET_COMMIT, STOP_STATES | SET_ACT_ABORT | SET_ACT_RESUME | SET_ACT_DELETE |
			      SET_ACT_FORGET },
		{ SET_THAW, STOP_STATES | SET_ACT_ABORT | SET_ACT_DELETE | SET_ACT_FORGET },
		{ SET_POST_SNAPSHOT, STOP_STATES | SET_ACT_ABORT | SET_ACT_DELETE | SET_ACT_FORGET },
		{ SET_RECORD, STOP_STATES | SET_ACT_ABORT | SET_ACT_DELETE | SET_ACT_FORGET },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		enum set_step s = table[i].step;
		bool writer_step = set_step_talks_to_writers(s);
		struct set_transition t;

		/* Success: the next step, nothing to undo; the writers go at the end. */
		t = set_machine_next(s, SET_OK, 0);
		ck_assert_int_eq(t.next, s + 1);
		ck_assert_uint_eq(t.actions, s == SET_RECORD ? STOP_STATES : 0);
		ck_assert(!t.retry);

		/* Failure without retries: undone. */
		for (int o = SET_FAIL_WRITER; o <= SET_FAIL; o++) {
			t = set_machine_next(s, o, 0);
			ck_assert_msg(t.next == SET_UNDONE, "%s", set_step_name(s));
			ck_assert_msg(t.actions == table[i].undo, "%s: actions %#x, expected %#x",
				      set_step_name(s), t.actions, table[i].undo);
			ck_assert(!t.retry);
		}
		/* With retries: only a writer's failure, at a writer's step, retries. */
		t = set_machine_next(s, SET_FAIL_WRITER, 2);
		ck_assert_int_eq(t.next, writer_step ? SET_IDENTIFY : SET_UNDONE);
		ck_assert(t.retry == writer_step);
		ck_assert_uint_eq(t.actions, table[i].undo);
		t = set_machine_next(s, SET_FAIL, 2);
		ck_assert_int_eq(t.next, SET_UNDONE);
		ck_assert(!t.retry);
	}
	/* The final steps stay, whatever happens. */
	for (int s = SET_DONE; s <= SET_UNDONE; s++)
		for (int o = 0; o < _SET_OUTCOME_MAX; o++) {
			struct set_transition t = set_machine_next(s, o, 5);

			ck_assert_int_eq(t.next, s);
			ck_assert_uint_eq(t.actions, 0);
			ck_assert(!t.retry);
		}
	ck_assert_int_eq(set_machine_next(_SET_STEP_MAX, SET_OK, 0).next, _SET_STEP_MAX);
	ck_assert_int_eq((int)set_machine_next((enum set_step)-1, SET_OK, 0).next, -1);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(set_step_name(SET_IDENTIFY), "identify");
	ck_assert_str_eq(set_step_name(SET_POST_SNAPSHOT), "post-snapshot");
	ck_assert_str_eq(set_step_name(SET_UNDONE), "undone");
	ck_assert_ptr_null(set_step_name(_SET_STEP_MAX));
	for (int s = 0; s < _SET_STEP_MAX; s++)
		ck_assert_ptr_nonnull(set_step_name(s));
	/* The undo order: resume before anything slow, states last. */
	ck_assert_uint_lt(SET_ACT_RESUME, SET_ACT_ABORT);
	ck_assert_uint_lt(SET_ACT_ABORT, SET_ACT_DELETE);
	ck_assert_uint_lt(SET_ACT_DELETE, SET_ACT_FORGET);
	ck_assert_uint_lt(SET_ACT_FORGET, SET_ACT_STOP);
	ck_assert_uint_lt(SET_ACT_STOP, SET_ACT_STATES);
}
END_TEST

/* ------------------------------------------------------------------------
 * The model: what each step does, fully on success and as much as it can
 * have done before failing (the worst case) on failure.
 */
struct world {
	bool running;		/* writer processes */
	bool prepared;
	bool held;		/* an application's writes held by a writer */
	bool suspended;		/* a volume */
	bool snapshots;
	bool recorded;		/* the set in the catalog */
	bool complete;
	bool states;		/* writers' last states recorded */
	int attempts;
	int aborts;		/* abort sent while nothing was prepared: a bug */
};

static void do_step(struct world *w, enum set_step s, bool ok)
{
	switch (s) {
	case SET_IDENTIFY:
		w->attempts++;
		w->running = true;
		w->states = false;
		break;
	case SET_CHOOSE:
		break;
	case SET_PREPARE:
		w->prepared = true;
		break;
	case SET_FREEZE:
		w->held = true;	/* some, or all */
		break;
	case SET_COMMIT:
		w->recorded = true;
		w->snapshots = true;
		w->suspended = !ok;	/* a failed commit may leave one suspended */
		break;
	case SET_THAW:
		if (ok)
			w->held = false;
		break;
	case SET_POST_SNAPSHOT:
		break;
	case SET_RECORD:
		w->complete = ok;
		break;
	default:
		ck_abort_msg("step %d run", s);
	}
}

static void do_actions(struct world *w, unsigned int a)
{
	if (a & SET_ACT_RESUME)
		w->suspended = false;
	if (a & SET_ACT_ABORT) {
		if (!w->prepared)
			w->aborts++;
		w->prepared = false;
		w->held = false;
	}
	if (a & SET_ACT_DELETE) {
		ck_assert_msg(!w->suspended, "snapshots deleted before the volumes were resumed");
		w->snapshots = false;
	}
	if (a & SET_ACT_FORGET) {
		w->recorded = false;
		w->complete = false;
	}
	if (a & SET_ACT_STOP) {
		/* Closing stdin or a kill ends a writer: its hold goes with it. */
		w->running = false;
		w->held = false;
		w->prepared = false;
	}
	if (a & SET_ACT_STATES)
		w->states = true;
}

/*
 * Run a creation that fails with @outcome at @fail_step on each of its
 * first @fail_times attempts, with @retries retries; return the world.
 */
static struct world walk(enum set_step fail_step, enum set_outcome outcome,
			 int fail_times, unsigned int retries)
{
	struct world w = { .running = false };
	enum set_step s = SET_IDENTIFY;
	unsigned int left = retries;
	int failures = 0, guard = 0;

	while (s != SET_DONE && s != SET_UNDONE) {
		bool ok = !(s == fail_step && failures < fail_times);
		struct set_transition t;

		ck_assert_int_lt(guard++, 1000);
		do_step(&w, s, ok);
		if (!ok)
			failures++;
		t = set_machine_next(s, ok ? SET_OK : outcome, left);
		do_actions(&w, t.actions);
		if (t.retry) {
			ck_assert_uint_gt(left, 0);
			left--;
			/* A retry starts from nothing. */
			ck_assert(!w.running && !w.prepared && !w.held && !w.suspended &&
				  !w.snapshots && !w.recorded);
		}
		s = t.next;
	}
	ck_assert_msg(w.aborts == 0, "abort sent to writers never prepared (fail at %s)",
		      set_step_name(fail_step));
	ck_assert(w.states);
	if (s == SET_DONE) {
		ck_assert(!w.running && !w.held && !w.suspended);
		ck_assert(w.snapshots && w.recorded && w.complete);
	} else {
		ck_assert_msg(!w.running && !w.held && !w.suspended && !w.snapshots &&
			      !w.recorded && !w.complete,
			      "failure at %s left something behind", set_step_name(fail_step));
	}
	/* Return which final step via complete. */
	return w;
}

START_TEST(test_every_failure_undone)
{
	for (int s = SET_IDENTIFY; s < SET_DONE; s++)
		for (int o = SET_FAIL_WRITER; o <= SET_FAIL; o++)
			for (unsigned int retries = 0; retries <= 2; retries++) {
				/* Fails every time: undone after 1 + retries attempts at most. */
				struct world w = walk(s, o, 100, retries);
				bool retried = o == SET_FAIL_WRITER && set_step_talks_to_writers(s);

				ck_assert(!w.complete);
				ck_assert_int_eq(w.attempts, retried ? 1 + (int)retries : 1);
			}
}
END_TEST

START_TEST(test_retry_then_success)
{
	for (int s = SET_IDENTIFY; s < SET_DONE; s++) {
		bool writer_step = set_step_talks_to_writers(s);
		struct world w;

		/* Fails once; one retry: a writer's step succeeds the second time. */
		w = walk(s, SET_FAIL_WRITER, 1, 1);
		ck_assert_msg(w.complete == writer_step, "%s", set_step_name(s));
		ck_assert_int_eq(w.attempts, writer_step ? 2 : 1);
		/* Fails twice, one retry: undone. */
		w = walk(s, SET_FAIL_WRITER, 2, 1);
		ck_assert(!w.complete);
		/* Other failures never retry. */
		w = walk(s, SET_FAIL, 1, 3);
		ck_assert(!w.complete);
		ck_assert_int_eq(w.attempts, 1);
	}
	/* No failure at all. */
	ck_assert(walk(SET_DONE, SET_FAIL, 0, 0).complete);
}
END_TEST

/*
 * The signal window: blocked from COMMIT (the set recorded "creating",
 * then the first suspend) to RECORD; a signal there cancels as a final
 * failure, which undoes whatever the step left (resume at COMMIT,
 * snapshots and catalog entries at every step of it) and never retries.
 */
START_TEST(test_signal_window)
{
	for (int s = 0; s < _SET_STEP_MAX; s++) {
		bool in = set_step_blocks_signals(s);
		struct set_transition t;

		ck_assert_msg(in == (s >= SET_COMMIT && s <= SET_RECORD), "%s", set_step_name(s));
		if (!in)
			continue;
		t = set_machine_next(s, SET_FAIL, 3);
		ck_assert_int_eq(t.next, SET_UNDONE);
		ck_assert(!t.retry);
		ck_assert(t.actions & SET_ACT_DELETE);
		ck_assert(t.actions & SET_ACT_FORGET);
		ck_assert(t.actions & SET_ACT_ABORT);
		ck_assert(t.actions & SET_ACT_STOP);
		ck_assert(!(t.actions & SET_ACT_RESUME) == (s != SET_COMMIT));
	}
	ck_assert(!set_step_blocks_signals(-1));
}
END_TEST

Suite *suite_set_machine(void)
{
	Suite *s = suite_create("set_machine");
	TCase *tc = tcase_create("transitions");

	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_every_failure_undone);
	tcase_add_test(tc, test_retry_then_success);
	tcase_add_test(tc, test_signal_window);
	suite_add_tcase(s, tc);
	return s;
}

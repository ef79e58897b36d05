/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The set creation state machine.  See shadow-set-machine.h.
 */
#include <stddef.h>

#include "shadow-set-machine.h"

static const char *const step_names[_SET_STEP_MAX] = {
	[SET_IDENTIFY] = "identify",
	[SET_CHOOSE] = "choose",
	[SET_PREPARE] = "prepare",
	[SET_FREEZE] = "freeze",
	[SET_COMMIT] = "commit",
	[SET_THAW] = "thaw",
	[SET_POST_SNAPSHOT] = "post-snapshot",
	[SET_RECORD] = "record",
	[SET_DONE] = "done",
	[SET_UNDONE] = "undone",
};

const char *set_step_name(enum set_step step)
{
	if ((int)step < 0 || step >= _SET_STEP_MAX)
		return NULL;
	return step_names[step];
}

bool set_step_talks_to_writers(enum set_step step)
{
	switch (step) {
	case SET_IDENTIFY:
	case SET_PREPARE:
	case SET_FREEZE:
	case SET_THAW:
	case SET_POST_SNAPSHOT:
		return true;
	default:
		return false;
	}
}

bool set_step_blocks_signals(enum set_step step)
{
	return step >= SET_COMMIT && step <= SET_RECORD;
}

/*
 * What a failure at @step leaves to undo.  Before PREPARE no writer has
 * done anything; from PREPARE on, the prepared ones need abort; from
 * COMMIT on, snapshots may exist and the set is in the catalog; only
 * COMMIT can leave a volume suspended (it resumes them itself when it
 * succeeds).
 */
static unsigned int undo_after(enum set_step step)
{
	unsigned int a = SET_ACT_STOP | SET_ACT_STATES;

	if (step >= SET_PREPARE)
		a |= SET_ACT_ABORT;
	if (step >= SET_COMMIT)
		a |= SET_ACT_DELETE | SET_ACT_FORGET;
	if (step == SET_COMMIT)
		a |= SET_ACT_RESUME;
	return a;
}

struct set_transition set_machine_next(enum set_step step, enum set_outcome outcome,
				       unsigned int retries_left)
{
	struct set_transition t = { .next = step };

	if ((int)step < 0 || step >= SET_DONE)
		return t;	/* final (or out of range): stay */
	if (outcome == SET_OK) {
		t.next = step + 1;
		/* Leaving RECORD: the set is kept; the writers are let go. */
		if (t.next == SET_DONE)
			t.actions = SET_ACT_STOP | SET_ACT_STATES;
		return t;
	}
	t.actions = undo_after(step);
	if (outcome == SET_FAIL_WRITER && set_step_talks_to_writers(step) &&
	    retries_left > 0) {
		t.next = SET_IDENTIFY;
		t.retry = true;
	} else {
		t.next = SET_UNDONE;
	}
	return t;
}

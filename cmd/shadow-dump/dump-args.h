/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef SHADOW_DUMP_ARGS_H
#define SHADOW_DUMP_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dump_args {
	bool json;
	bool records;
	bool check;
	bool metadata_snap;	/* read the trees through held_root */
	bool diff;		/* print the chunks changed from diff_a */
	bool diff_live;		/* ... to the live volume, else to diff_b */
	uint64_t diff_a, diff_b;
	const char *store;
};

enum {
	DUMP_RUN = 0,
	DUMP_HELP = 1,
	DUMP_VERSION = 2,
};

/*
 * Parse shadow-dump's command line.  Returns DUMP_RUN with @ret filled,
 * DUMP_HELP or DUMP_VERSION, or -EINVAL with a one-line reason in @why.
 * Prints nothing; resets getopt, so it can be called repeatedly.
 */
int dump_parse_argv(int argc, char *argv[], struct dump_args *ret,
		    char *why, size_t why_len);

#endif

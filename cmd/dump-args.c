/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "dump-args.h"

int dump_parse_argv(int argc, char *argv[], struct dump_args *ret,
		    char *why, size_t why_len)
{
	static const struct option options[] = {
		{ "json",    no_argument, NULL, 'J' },
		{ "records", no_argument, NULL, 'r' },
		{ "check",   no_argument, NULL, 'c' },
		{ "metadata-snap", no_argument, NULL, 'm' },
		{ "help",    no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	struct dump_args a = {};
	int c;

	optind = 0;	/* glibc: full reinitialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "JrcmhV", options, NULL)) >= 0) {
		switch (c) {
		case 'J':
			a.json = true;
			break;
		case 'r':
			a.records = true;
			break;
		case 'c':
			a.check = true;
			break;
		case 'm':
			a.metadata_snap = true;
			break;
		case 'h':
			return DUMP_HELP;
		case 'V':
			return DUMP_VERSION;
		case '?':
		default:
			if (optind > 0 && strncmp(argv[optind - 1], "--", 2) == 0)
				snprintf(why, why_len, "unknown option '%s'",
					 argv[optind - 1]);
			else
				snprintf(why, why_len, "unknown option '-%c'", optopt);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		snprintf(why, why_len, "no store given");
		return -EINVAL;
	}
	if (argc - optind > 1) {
		snprintf(why, why_len, "one store only, got '%s' too", argv[optind + 1]);
		return -EINVAL;
	}
	a.store = argv[optind];
	*ret = a;
	return DUMP_RUN;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "dump-args.h"

/* A snapshot id: a decimal number, nothing else. */
static int parse_id(const char *s, uint64_t *ret)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* --diff <a>[:<b>]: from snapshot a to b, or to the live volume. */
static int parse_diff(const char *arg, struct dump_args *a)
{
	char buf[64], *colon;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (parse_id(buf, &a->diff_a) < 0)
		return -EINVAL;
	a->diff_live = !colon;
	if (colon && parse_id(colon + 1, &a->diff_b) < 0)
		return -EINVAL;
	a->diff = true;
	return 0;
}

int dump_parse_argv(int argc, char *argv[], struct dump_args *ret,
		    char *why, size_t why_len)
{
	static const struct option options[] = {
		{ "json",    no_argument, NULL, 'J' },
		{ "records", no_argument, NULL, 'r' },
		{ "check",   no_argument, NULL, 'c' },
		{ "metadata-snap", no_argument, NULL, 'm' },
		{ "diff",    required_argument, NULL, 'd' },
		{ "help",    no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	struct dump_args a = {};
	int c;

	optind = 0;	/* glibc: full reinitialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":Jrcmd:hV", options, NULL)) >= 0) {
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
		case 'd':
			if (parse_diff(optarg, &a) < 0) {
				snprintf(why, why_len,
					 "--diff wants <id> or <id>:<id> (snapshot ids), not '%s'",
					 optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			return DUMP_HELP;
		case 'V':
			return DUMP_VERSION;
		case ':':
			snprintf(why, why_len, "option '%s' needs an argument",
				 argv[optind - 1]);
			return -EINVAL;
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
	if (a.diff && (a.records || a.check)) {
		snprintf(why, why_len, "--diff prints only the changed chunks: not with --%s",
			 a.records ? "records" : "check");
		return -EINVAL;
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

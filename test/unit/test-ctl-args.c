/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shadowctl's argument handling (cmd/shadowctl/ctl-args.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl-args.h"
#include "ctl-transport.h"
#include "unit.h"

static int parse(struct ctl_args *a, char *why, ...)
{
	/* Static: the parsed arguments point into it. */
	static char *argv[24];
	int argc = 1;
	va_list ap;
	char *s;

	memset(argv, 0, sizeof(argv));
	argv[0] = (char *)"shadowctl";
	va_start(ap, why);
	while ((s = va_arg(ap, char *)) && argc < 23)
		argv[argc++] = s;
	va_end(ap);
	memset(a, 0, sizeof(*a));
	return ctl_parse_argv(argc, argv, a, why, 128);
}

START_TEST(test_enable)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "enable", "/dev/vdb", "--store", "/dev/vdc",
			       "--chunk-size", "64K", "--name", "db", "-J", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_ENABLE);
	ck_assert_str_eq(a.args[0], "/dev/vdb");
	ck_assert_str_eq(a.store, "/dev/vdc");
	ck_assert_str_eq(a.name, "db");
	ck_assert_uint_eq(a.chunk_bytes, 65536);
	ck_assert(a.json);
	ck_assert_int_eq(parse(&a, why, "enable", "/dev/vdb", NULL), -EINVAL);
	ck_assert_str_eq(why, "'enable' needs --store <device>");
	ck_assert_int_eq(parse(&a, why, "enable", "--store", "x", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "enable", "a", "--store", "x", "--chunk-size", "4X", NULL),
			 -EINVAL);
	ck_assert_str_eq(why, "bad chunk size '4X'");
	ck_assert_ptr_null(a.provider);
	ck_assert_int_eq(parse(&a, why, "enable", "/dev/vdb", "--store", "/dev/vdc",
			       "--provider", "dm-snapshot", NULL), CTL_RUN);
	ck_assert_str_eq(a.provider, "dm-snapshot");
	ck_assert_int_eq(parse(&a, why, "enable", "/dev/vdb", "--store", "/dev/vdc",
			       "--provider", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "vol", "--provider", "dm-shadow", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --provider is not valid for 'create'");
}
END_TEST

START_TEST(test_create_list_delete)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "create", "a", "b", "c", "--timeout-commit", "2.5", NULL),
			 CTL_RUN);
	ck_assert_int_eq(a.nargs, 3);
	ck_assert_uint_eq(a.timeout_us, 2500000);
	ck_assert_int_eq(parse(&a, why, "create", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "a", "--timeout-commit", "0", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "list", NULL), CTL_RUN);
	ck_assert_int_eq(a.list, LIST_SHADOWS);
	ck_assert_int_eq(parse(&a, why, "--json", "list", "storage", NULL), CTL_RUN);
	ck_assert_int_eq(a.list, LIST_STORAGE);
	ck_assert(a.json);
	ck_assert_int_eq(parse(&a, why, "list", "things", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "delete", "5", NULL), CTL_RUN);
	ck_assert_uint_eq(a.id, 5);
	ck_assert_int_eq(parse(&a, why, "delete", "--set", "2", NULL), CTL_RUN);
	ck_assert_uint_eq(a.set, 2);
	ck_assert_int_eq(parse(&a, why, "delete", "--oldest", "db", NULL), CTL_RUN);
	ck_assert_str_eq(a.oldest, "db");
	ck_assert_int_eq(parse(&a, why, "delete", "5", "--set", "2", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "delete", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "delete", "x", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad shadow id 'x'");
	ck_assert_int_eq(parse(&a, why, "delete", "0", NULL), -EINVAL);
}
END_TEST

START_TEST(test_expose)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "expose", "3", "--mount", "/mnt", "--rw", NULL), CTL_RUN);
	ck_assert_uint_eq(a.id, 3);
	ck_assert_str_eq(a.mount, "/mnt");
	ck_assert(a.opts & OPT_RW);
	ck_assert_int_eq(parse(&a, why, "unexpose", "3", "--rw", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --rw is not valid for 'unexpose'");
}
END_TEST

/* create --target <volume>=<device>, repeatable; enable --method clone --hydrate-rate. */
START_TEST(test_clone_targets)
{
	struct ctl_target t = { .device = NULL };
	struct ctl_args a;
	char why[160], name[SHADOW_VOLUME_NAME_MAX + 16];

	ck_assert_int_eq(parse(&a, why, "create", "cv", "kv", "dv", "--target", "cv=/dev/vdh",
			       "--target=dv=/dev/disk/by-id/wwn-0x5000c5=a", NULL), CTL_RUN);
	ck_assert(a.opts & OPT_TARGET);
	ck_assert_uint_eq(a.n_targets, 2);
	ck_assert_str_eq(a.targets[0].volume, "cv");
	ck_assert_str_eq(a.targets[0].device, "/dev/vdh");
	/* The first '=' ends the volume: a device path may hold one. */
	ck_assert_str_eq(a.targets[1].volume, "dv");
	ck_assert_str_eq(a.targets[1].device, "/dev/disk/by-id/wwn-0x5000c5=a");
	/* Two for one volume, one for a volume not in the set: the library's to refuse. */
	ck_assert_int_eq(parse(&a, why, "create", "cv", "--target", "cv=/dev/vdh", "--target",
			       "cv=/dev/vdi", "--target", "xv=/dev/vdj", NULL), CTL_RUN);
	ck_assert_uint_eq(a.n_targets, 3);

	ck_assert_int_eq(parse(&a, why, "create", "cv", "--target", "cv", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad target 'cv' (<volume>=<device>, a volume name of at most 93 bytes)");
	ck_assert_int_eq(parse(&a, why, "create", "cv", "--target", "=/dev/vdh", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "cv", "--target", "cv=", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "cv", "--target", NULL), -EINVAL);
	ck_assert_str_eq(why, "option '--target' needs an argument");
	ck_assert_int_eq(parse(&a, why, "delete", "1", "--target", "cv=/dev/vdh", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --target is not valid for 'delete'");
	memset(name, 'v', SHADOW_VOLUME_NAME_MAX);
	strcpy(name + SHADOW_VOLUME_NAME_MAX, "=/dev/x");
	ck_assert_int_eq(ctl_parse_target(name, &t), 0);
	ck_assert_uint_eq(strlen(t.volume), SHADOW_VOLUME_NAME_MAX);
	ck_assert_str_eq(t.device, "/dev/x");
	memset(name, 'v', SHADOW_VOLUME_NAME_MAX + 1);
	strcpy(name + SHADOW_VOLUME_NAME_MAX + 1, "=/dev/x");
	ck_assert_int_eq(ctl_parse_target(name, &t), -EINVAL);
	ck_assert_int_eq(ctl_parse_target(NULL, &t), -EINVAL);
	/* A volume name may hold '=' (NAMES in shadowctl(8)), a path never does. */
	ck_assert_int_eq(ctl_parse_target("a=b=/dev/x=y", &t), 0);
	ck_assert_str_eq(t.volume, "a=b");
	ck_assert_str_eq(t.device, "/dev/x=y");
	ck_assert_int_eq(ctl_parse_target("a=vdh", &t), 0);
	ck_assert_str_eq(t.volume, "a");
	ck_assert_str_eq(t.device, "vdh");
	ck_assert_int_eq(ctl_parse_target("=/dev/x", &t), -EINVAL);

	ck_assert_int_eq(parse(&a, why, "enable", "/dev/vdb", "--store", "/dev/vdc", "--method",
			       "clone", "--hydrate-rate", "100", NULL), CTL_RUN);
	ck_assert_str_eq(a.method, "clone");
	ck_assert_uint_eq(a.hydrate_rate, 100);
	ck_assert_int_eq(parse(&a, why, "enable", "/dev/vdb", "--store", "/dev/vdc",
			       "--hydrate-rate", "0", NULL), CTL_RUN);
	ck_assert(a.opts & OPT_HYDRATE_RATE);
	ck_assert_uint_eq(a.hydrate_rate, 0);
	ck_assert_int_eq(parse(&a, why, "enable", "/dev/vdb", "--store", "/dev/vdc",
			       "--hydrate-rate", "fast", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad hydrate rate 'fast' (MiB/s, 0 for no limit)");
	ck_assert_int_eq(parse(&a, why, "enable", "/dev/vdb", "--store", "/dev/vdc",
			       "--hydrate-rate", "4294967296", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "enable", "/dev/vdb", "--store", "/dev/vdc",
			       "--hydrate-rate", "-1", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "cv", "--hydrate-rate", "1", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --hydrate-rate is not valid for 'create'");
}
END_TEST

/* Thirty-two targets at most, as for the other repeatable options. */
START_TEST(test_clone_targets_many)
{
	static char *argv[2 + 2 * (CTL_MAX_NAMES + 1)];
	static char buf[CTL_MAX_NAMES + 1][32];
	struct ctl_args a;
	char why[128];
	int argc = 0;

	argv[argc++] = (char *)"shadowctl";
	argv[argc++] = (char *)"create";
	for (int i = 0; i <= CTL_MAX_NAMES; i++) {
		snprintf(buf[i], sizeof(buf[i]), "v%d=/dev/t%d", i, i);
		argv[argc++] = (char *)"--target";
		argv[argc++] = buf[i];
	}
	ck_assert_int_eq(ctl_parse_argv(argc, argv, &a, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "too many --target options (at most 32)");
	ck_assert_int_eq(ctl_parse_argv(argc - 2, argv, &a, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "'create' needs at least one volume");
}
END_TEST

/* detach <shadow-id>: one id, no option. */
START_TEST(test_detach)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "-J", "detach", "7", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_DETACH);
	ck_assert_uint_eq(a.id, 7);
	ck_assert(a.json);
	ck_assert(!ctl_verb_only_reads(VERB_DETACH));
	ck_assert_int_eq(parse(&a, why, "detach", NULL), -EINVAL);
	ck_assert_str_eq(why, "'detach' takes one shadow id");
	ck_assert_int_eq(parse(&a, why, "detach", "7", "8", NULL), -EINVAL);
	ck_assert_str_eq(why, "'detach' takes one shadow id");
	ck_assert_int_eq(parse(&a, why, "detach", "x", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad shadow id 'x'");
	ck_assert_int_eq(parse(&a, why, "detach", "7", "--force", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --force is not valid for 'detach'");
	ck_assert_int_eq(parse(&a, why, "detach", "7", "--target", "cv=/dev/vdh", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --target is not valid for 'detach'");
}
END_TEST

/* throttle <volume> <MiB/s>: a volume and a rate, 0 for no limit. */
START_TEST(test_throttle)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "throttle", "cv", "100", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_THROTTLE);
	ck_assert_str_eq(a.args[0], "cv");
	ck_assert_uint_eq(a.rate, 100);
	ck_assert_int_eq(parse(&a, why, "throttle", "cv", "0", NULL), CTL_RUN);
	ck_assert_uint_eq(a.rate, 0);
	ck_assert_int_eq(parse(&a, why, "throttle", "cv", NULL), -EINVAL);
	ck_assert_str_eq(why, "'throttle' takes a volume and a rate in MiB/s (0: no limit)");
	ck_assert_int_eq(parse(&a, why, "throttle", "cv", "1", "2", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "throttle", "cv", "fast", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad rate 'fast' (MiB/s, 0 for no limit)");
	ck_assert_int_eq(parse(&a, why, "throttle", "cv", "4294967296", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "throttle", "cv", "1", "--force", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --force is not valid for 'throttle'");
	ck_assert(!ctl_verb_only_reads(VERB_THROTTLE));
}
END_TEST

START_TEST(test_activate)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "activate", "a", "b", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_ACTIVATE);
	ck_assert_int_eq(a.nargs, 2);
	ck_assert_uint_eq(a.device_timeout_us, 0);
	ck_assert_int_eq(parse(&a, why, "--wait", "activate", "--all", "--device-timeout", "60", NULL),
			 CTL_RUN);
	ck_assert(a.opts & OPT_ALL);
	ck_assert(a.wait);
	ck_assert_int_eq(a.nargs, 0);
	ck_assert_uint_eq(a.device_timeout_us, 60000000);
	ck_assert_int_eq(parse(&a, why, "activate", NULL), -EINVAL);
	ck_assert_str_eq(why, "'activate' takes volumes or --all");
	ck_assert_int_eq(parse(&a, why, "activate", "a", "--all", NULL), -EINVAL);
	ck_assert_str_eq(why, "'activate' takes volumes or --all");
	ck_assert_int_eq(parse(&a, why, "activate", "--all", "--device-timeout", "0", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad device timeout '0' (seconds, up to 3600)");
	ck_assert_int_eq(parse(&a, why, "activate", "a", "--force", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --force is not valid for 'activate'");
	ck_assert_int_eq(parse(&a, why, "deactivate", "--all", "--force", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_DEACTIVATE);
	ck_assert(a.opts & OPT_FORCE);
	ck_assert_int_eq(parse(&a, why, "deactivate", "a", "--device-timeout", "5", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --device-timeout is not valid for 'deactivate'");
	ck_assert_int_eq(parse(&a, why, "list", "--all", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --all is not valid for 'list'");
}
END_TEST

START_TEST(test_errors)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, NULL), -EINVAL);
	ck_assert_str_eq(why, "no command given");
	ck_assert_int_eq(parse(&a, why, "frobnicate", NULL), -EINVAL);
	ck_assert_str_eq(why, "unknown command 'frobnicate'");
	ck_assert_int_eq(parse(&a, why, "list", "--bogus", NULL), -EINVAL);
	ck_assert_str_eq(why, "unknown option '--bogus'");
	ck_assert_int_eq(parse(&a, why, "list", "-x", NULL), -EINVAL);
	ck_assert_str_eq(why, "unknown option '-x'");
	ck_assert_int_eq(parse(&a, why, "enable", "a", "--store", NULL), -EINVAL);
	ck_assert_str_eq(why, "option '--store' needs an argument");
	ck_assert_int_eq(parse(&a, why, "list", "--store", "x", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --store is not valid for 'list'");
	ck_assert_int_eq(parse(&a, why, "--help", NULL), CTL_HELP);
	ck_assert_int_eq(parse(&a, why, "enable", "--help", NULL), CTL_HELP);
	ck_assert_int_eq(parse(&a, why, "-V", NULL), CTL_VERSION);
}
END_TEST

START_TEST(test_create_writers)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "create", "db", "--retries", "2", "--writer", "pg",
			       "--writer", "hook_1", "--component", "pg/main",
			       "--component", "pg/wal-2", "--writer-timeout", "1.5",
			       "--writers-dir", "/tmp/w.d", "--writer-conf", "/tmp/w.conf", NULL),
			 CTL_RUN);
	ck_assert_uint_eq(a.retries, 2);
	ck_assert_uint_eq(a.n_writers, 2);
	ck_assert_str_eq(a.writers[0], "pg");
	ck_assert_str_eq(a.writers[1], "hook_1");
	ck_assert_uint_eq(a.n_components, 2);
	ck_assert_str_eq(a.components[1], "pg/wal-2");
	ck_assert_uint_eq(a.writer_timeout_us, 1500000);
	ck_assert_str_eq(a.writers_dir, "/tmp/w.d");
	ck_assert_str_eq(a.writer_conf, "/tmp/w.conf");
	ck_assert(!(a.opts & OPT_NO_WRITERS));

	ck_assert_int_eq(parse(&a, why, "create", "db", "--no-writers", NULL), CTL_RUN);
	ck_assert(a.opts & OPT_NO_WRITERS);
	ck_assert_uint_eq(a.retries, 0);
	ck_assert_uint_eq(a.n_writers, 0);

	/* Bad values. */
	ck_assert_int_eq(parse(&a, why, "create", "db", "--retries", "-1", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad number of retries '-1' (0 to 100)");
	ck_assert_int_eq(parse(&a, why, "create", "db", "--retries", "101", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "db", "--retries", "2x", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "db", "--writer", "pg.sh", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad writer name 'pg.sh' (letters, digits, '_' and '-')");
	ck_assert_int_eq(parse(&a, why, "create", "db", "--writer", "", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "db", "--component", "pg", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad component 'pg' (<writer>/<component>)");
	ck_assert_int_eq(parse(&a, why, "create", "db", "--component", "pg/", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "db", "--component", "/main", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "db", "--component", "p~g/main", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "db", "--writer-timeout", "0", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad writer timeout '0' (seconds, up to 3600)");
	ck_assert_int_eq(parse(&a, why, "create", "db", "--writers-dir", "rel", NULL), -EINVAL);
	ck_assert_str_eq(why, "--writers-dir needs an absolute path, not 'rel'");
	ck_assert_int_eq(parse(&a, why, "create", "db", "--writer-conf", "w.conf", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "create", "db", "--no-writers", "--writer", "pg", NULL),
			 -EINVAL);
	ck_assert_str_eq(why, "--no-writers and --writer or --component exclude each other");
	ck_assert_int_eq(parse(&a, why, "create", "db", "--no-writers", "--component", "pg/m",
			       NULL), -EINVAL);
	/* Options of create only. */
	ck_assert_int_eq(parse(&a, why, "delete", "1", "--retries", "1", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --retries is not valid for 'delete'");
	ck_assert_int_eq(parse(&a, why, "expose", "1", "--no-writers", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --no-writers is not valid for 'expose'");
	ck_assert_int_eq(parse(&a, why, "list", "writers", "--writer-conf", "/c", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --writer-conf is not valid for 'list'");
}
END_TEST

/* --exclude-component: parsed like --component; never both for one. */
START_TEST(test_create_exclude_component)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "create", "data", "--exclude-component", "postgresql/main",
			       "--exclude-component", "sqlite/app.db", "--component", "sqlite/b.db",
			       NULL), CTL_RUN);
	ck_assert(a.opts & OPT_EXCLUDE_COMPONENT);
	ck_assert_uint_eq(a.n_excluded, 2);
	ck_assert_str_eq(a.excluded[0], "postgresql/main");
	ck_assert_str_eq(a.excluded[1], "sqlite/app.db");
	ck_assert_uint_eq(a.n_components, 1);

	ck_assert_int_eq(parse(&a, why, "create", "d", "--exclude-component", "postgresql", NULL),
			 -EINVAL);
	ck_assert_str_eq(why, "bad component 'postgresql' (<writer>/<component>)");
	ck_assert_int_eq(parse(&a, why, "create", "d", "--exclude-component", "pg/m",
			       "--component", "pg/m", NULL), -EINVAL);
	ck_assert_str_eq(why, "--component and --exclude-component both name pg/m");
	ck_assert_int_eq(parse(&a, why, "create", "d", "--component", "pg/m",
			       "--exclude-component", "pg/m", NULL), -EINVAL);
	ck_assert_str_eq(why, "--component and --exclude-component both name pg/m");
	ck_assert_int_eq(parse(&a, why, "create", "d", "--no-writers",
			       "--exclude-component", "pg/m", NULL), -EINVAL);
	ck_assert_str_eq(why, "--no-writers and --exclude-component exclude each other");
	ck_assert_int_eq(parse(&a, why, "list", "--exclude-component", "pg/m", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --exclude-component is not valid for 'list'");
}
END_TEST

START_TEST(test_create_writers_many)
{
	static char *argv[2 + 2 * (CTL_MAX_NAMES + 1)];
	struct ctl_args a;
	char why[128];
	int argc = 0;

	argv[argc++] = (char *)"shadowctl";
	argv[argc++] = (char *)"create";
	for (int i = 0; i < CTL_MAX_NAMES + 1; i++) {
		argv[argc++] = (char *)"--writer";
		argv[argc++] = (char *)"w";
	}
	ck_assert_int_eq(ctl_parse_argv(argc, argv, &a, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "too many --writer options (at most 32)");
	/* Exactly the maximum (and a volume) is fine. */
	argv[argc - 2] = (char *)"vol";
	ck_assert_int_eq(ctl_parse_argv(argc - 1, argv, &a, why, sizeof(why)), CTL_RUN);
	ck_assert_uint_eq(a.n_writers, CTL_MAX_NAMES);
}
END_TEST

START_TEST(test_list_writers)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "list", "writers", "--json", NULL), CTL_RUN);
	ck_assert_int_eq(a.list, LIST_WRITERS);
	ck_assert(a.json);
	ck_assert_ptr_null(a.writers_dir);
	ck_assert_int_eq(parse(&a, why, "list", "writers", "--writers-dir", "/w", NULL), CTL_RUN);
	ck_assert_str_eq(a.writers_dir, "/w");
	ck_assert_int_eq(parse(&a, why, "list", "sets", "--writers-dir", "/w", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --writers-dir is only valid for 'list writers'");
	ck_assert_int_eq(parse(&a, why, "list", "--writers-dir", "/w", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "list", "writer", NULL), -EINVAL);
	ck_assert_str_eq(why, "cannot list 'writer' (shadows, sets, volumes, providers, storage, writers)");
}
END_TEST

START_TEST(test_values)
{
	uint64_t v;

	ck_assert_int_eq(ctl_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(ctl_parse_size("1M", &v), 0);
	ck_assert_uint_eq(v, 1 << 20);
	ck_assert_int_eq(ctl_parse_size("4KiB", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(ctl_parse_size("3G", &v), 0);
	ck_assert_uint_eq(v, 3ULL << 30);
	ck_assert_int_eq(ctl_parse_size("2TiB", &v), 0);
	ck_assert_uint_eq(v, 2ULL << 40);
	ck_assert_int_eq(ctl_parse_size("16777216T", &v), -EINVAL);
	ck_assert_int_eq(ctl_parse_size("-4K", &v), -EINVAL);
	ck_assert_int_eq(ctl_parse_size("", &v), -EINVAL);
	ck_assert_int_eq(ctl_parse_seconds("10", &v), 0);
	ck_assert_uint_eq(v, 10000000);
	ck_assert_int_eq(ctl_parse_seconds("-1", &v), -EINVAL);
	ck_assert_int_eq(ctl_parse_seconds("5s", &v), -EINVAL);
	ck_assert_int_eq(ctl_parse_id("18446744073709551615", &v), 0);
	ck_assert_int_eq(ctl_parse_id("18446744073709551616", &v), -EINVAL);
}
END_TEST

START_TEST(test_resize_monitor)
{
	struct ctl_args a;
	char why[160];

	ck_assert_int_eq(parse(&a, why, "resize", "db", "--max-size", "2G", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_RESIZE);
	ck_assert_str_eq(a.args[0], "db");
	ck_assert_uint_eq(a.max_size.bytes, 2ULL << 30);
	ck_assert(!a.max_size.max);
	ck_assert_uint_eq(a.max_size.percent, 0);
	ck_assert_int_eq(parse(&a, why, "resize", "db", "--max-size", "max", NULL), CTL_RUN);
	ck_assert(a.max_size.max);
	ck_assert_int_eq(parse(&a, why, "resize", "db", "--max-size", "25%", NULL), CTL_RUN);
	ck_assert_uint_eq(a.max_size.percent, 25);
	ck_assert_int_eq(parse(&a, why, "resize", "db", NULL), -EINVAL);
	ck_assert_str_eq(why, "'resize' needs --max-size <size>|<percent>%|max");
	ck_assert_int_eq(parse(&a, why, "resize", "--max-size", "1M", NULL), -EINVAL);
	ck_assert_str_eq(why, "'resize' takes one volume, got 0");
	ck_assert_int_eq(parse(&a, why, "resize", "db", "--max-size", "0", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad size '0' (a size such as 512M or 2G, a percentage such as 20%, or max)");
	ck_assert_int_eq(parse(&a, why, "resize", "db", "--max-size", "101%", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "resize", "db", "--max-size", "0%", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "resize", "db", "--max-size", "%", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "resize", "db", "--max-size", "1K%", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "resize", "db", "--max-size", "unbounded", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "resize", "db", "--max-size", "-1M", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "list", "--max-size", "1M", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --max-size is not valid for 'list'");

	ck_assert_int_eq(parse(&a, why, "monitor", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_MONITOR);
	ck_assert_int_eq(a.nargs, 0);
	ck_assert_int_eq(parse(&a, why, "monitor", "--once", "--config", "/x.conf", "a", "b", NULL),
			 CTL_RUN);
	ck_assert(a.opts & OPT_ONCE);
	ck_assert_str_eq(a.config, "/x.conf");
	ck_assert_int_eq(a.nargs, 2);
	ck_assert_int_eq(parse(&a, why, "create", "a", "--once", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --once is not valid for 'create'");
}
END_TEST

/* diff, export and import: ids, -o as the stream's file, --since, --to. */
START_TEST(test_diff_export_import)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "diff", "3", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_DIFF);
	ck_assert_uint_eq(a.id, 3);
	ck_assert_uint_eq(a.other_id, 0);
	ck_assert_int_eq(parse(&a, why, "-J", "diff", "3", "9", NULL), CTL_RUN);
	ck_assert_uint_eq(a.other_id, 9);
	ck_assert(a.json);
	ck_assert_int_eq(parse(&a, why, "diff", "3", "3", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "diff", "3", "0", NULL), -EINVAL);

	ck_assert_int_eq(parse(&a, why, "export", "7", "-o", "-", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_EXPORT);
	ck_assert_uint_eq(a.id, 7);
	ck_assert_uint_eq(a.since, 0);
	ck_assert_str_eq(a.output, "-");
	ck_assert_int_eq(parse(&a, why, "export", "7", "--since", "5", "--output", "/b/s", NULL),
			 CTL_RUN);
	ck_assert_uint_eq(a.since, 5);
	ck_assert_str_eq(a.output, "/b/s");
	ck_assert_int_eq(parse(&a, why, "export", "7", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "export", "7", "-o", "f", "-O", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --output-all is not valid for 'export'");

	ck_assert_int_eq(parse(&a, why, "import", "-", "--to", "/dev/vdc", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_IMPORT);
	ck_assert_str_eq(a.args[0], "-");
	ck_assert_str_eq(a.to, "/dev/vdc");
	ck_assert_int_eq(parse(&a, why, "import", "f", "--to", "", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "import", "f", "-o", "g", "--to", "h", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --output is not valid for 'import'");
}
END_TEST

/*
 * export-metadata <shadow-id> -o <file>|- and import-metadata <file>|-
 * --device <device>: the transportable clone's document and its disk.
 */
START_TEST(test_transport)
{
	struct ctl_args a;
	char why[128];

	ck_assert_int_eq(parse(&a, why, "export-metadata", "9", "-o", "/b/m.json", NULL), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_EXPORT_METADATA);
	ck_assert_str_eq(ctl_verb_names[a.verb], "export-metadata");
	ck_assert_uint_eq(a.id, 9);
	ck_assert_str_eq(a.output, "/b/m.json");
	ck_assert_int_eq(parse(&a, why, "-J", "export-metadata", "--output", "-", "9", NULL), CTL_RUN);
	ck_assert_str_eq(a.output, "-");
	ck_assert(a.json);
	ck_assert_int_eq(parse(&a, why, "export-metadata", NULL), -EINVAL);
	ck_assert_str_eq(why, "'export-metadata' takes one shadow id");
	ck_assert_int_eq(parse(&a, why, "export-metadata", "9", "10", "-o", "f", NULL), -EINVAL);
	ck_assert_str_eq(why, "'export-metadata' takes one shadow id");
	ck_assert_int_eq(parse(&a, why, "export-metadata", "x", "-o", "f", NULL), -EINVAL);
	ck_assert_str_eq(why, "bad shadow id 'x'");
	ck_assert_int_eq(parse(&a, why, "export-metadata", "0", "-o", "f", NULL), -EINVAL);
	/* No default output: as export, -o names it, - for standard output. */
	ck_assert_int_eq(parse(&a, why, "export-metadata", "9", NULL), -EINVAL);
	ck_assert_str_eq(why, "'export-metadata' needs -o <file> or -o - (standard output)");
	ck_assert_int_eq(parse(&a, why, "export-metadata", "9", "-o", "", NULL), -EINVAL);
	ck_assert_str_eq(why, "'export-metadata' needs -o <file> or -o - (standard output)");
	ck_assert_int_eq(parse(&a, why, "export-metadata", "9", "-o", "f", "--since", "3", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --since is not valid for 'export-metadata'");
	ck_assert_int_eq(parse(&a, why, "export-metadata", "9", "-o", "f", "--device", "/dev/x", NULL),
			 -EINVAL);
	ck_assert_str_eq(why, "option --device is not valid for 'export-metadata'");
	ck_assert_int_eq(parse(&a, why, "export-metadata", "9", "-o", "f", "-O", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --output-all is not valid for 'export-metadata'");

	ck_assert_int_eq(parse(&a, why, "import-metadata", "m.json", "--device", "/dev/sdc", NULL),
			 CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_IMPORT_METADATA);
	ck_assert_str_eq(a.args[0], "m.json");
	ck_assert_str_eq(a.device, "/dev/sdc");
	ck_assert(a.opts & OPT_DEVICE);
	ck_assert_int_eq(parse(&a, why, "import-metadata", "--device=/dev/disk/by-id/x", "-", NULL),
			 CTL_RUN);
	ck_assert_str_eq(a.args[0], "-");
	ck_assert_str_eq(a.device, "/dev/disk/by-id/x");
	ck_assert_int_eq(parse(&a, why, "import-metadata", NULL), -EINVAL);
	ck_assert_str_eq(why, "'import-metadata' takes one metadata file, or - for standard input");
	ck_assert_int_eq(parse(&a, why, "import-metadata", "", "--device", "/dev/sdc", NULL), -EINVAL);
	ck_assert_int_eq(parse(&a, why, "import-metadata", "f", "g", "--device", "/dev/sdc", NULL),
			 -EINVAL);
	ck_assert_int_eq(parse(&a, why, "import-metadata", "f", NULL), -EINVAL);
	ck_assert_str_eq(why, "'import-metadata' needs --device <device>, the clone's disk");
	ck_assert_int_eq(parse(&a, why, "import-metadata", "f", "--device", "", NULL), -EINVAL);
	ck_assert_str_eq(why, "'import-metadata' needs --device <device>, the clone's disk");
	ck_assert_int_eq(parse(&a, why, "import-metadata", "f", "--device", NULL), -EINVAL);
	ck_assert_str_eq(why, "option '--device' needs an argument");
	ck_assert_int_eq(parse(&a, why, "import-metadata", "f", "--to", "/dev/sdc", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --to is not valid for 'import-metadata'");
	ck_assert_int_eq(parse(&a, why, "import-metadata", "f", "--device", "/dev/sdc", "-o", "g", NULL),
			 -EINVAL);
	ck_assert_str_eq(why, "option --output is not valid for 'import-metadata'");
	/* import (streams) is another verb, and keeps its options. */
	ck_assert_int_eq(parse(&a, why, "import", "f", "--device", "/dev/sdc", "--to", "h", NULL),
			 -EINVAL);
	ck_assert_str_eq(why, "option --device is not valid for 'import'");
	/* --device is not --device-timeout. */
	ck_assert_int_eq(parse(&a, why, "activate", "--all", "--device-timeout", "5", NULL), CTL_RUN);
	ck_assert_uint_eq(a.device_timeout_us, 5000000);
	ck_assert(!(a.opts & OPT_DEVICE));
	ck_assert_int_eq(parse(&a, why, "activate", "--all", "--device", "/dev/x", NULL), -EINVAL);
	ck_assert_str_eq(why, "option --device is not valid for 'activate'");
}
END_TEST

/* import-metadata's document: read whole, bounded, no NUL; which refusals exit 3. */
START_TEST(test_read_document)
{
	static const char doc[] = "{ \"format\": \"dm-shadow-clone-metadata\" }\n";
	char *text = NULL, big[9000];
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], doc, strlen(doc)), (ssize_t)strlen(doc));
	close(p[1]);
	ck_assert_int_eq(ctl_read_document(p[0], 1024, &text), 0);
	close(p[0]);
	ck_assert_str_eq(text, doc);
	free(text);
	/* Exactly the limit is read; one byte more is too large. */
	memset(big, ' ', sizeof(big));
	for (size_t n = 8999; n <= 9000; n++) {
		ck_assert_int_eq(pipe(p), 0);
		ck_assert_int_eq(write(p[1], big, n), (ssize_t)n);
		close(p[1]);
		text = NULL;
		ck_assert_int_eq(ctl_read_document(p[0], 8999, &text), n == 8999 ? 0 : -EFBIG);
		close(p[0]);
		if (n == 8999)
			ck_assert_uint_eq(strlen(text), 8999);
		free(text);
	}
	/* Empty: an empty text (the document's decoder says what is wrong). */
	ck_assert_int_eq(pipe(p), 0);
	close(p[1]);
	ck_assert_int_eq(ctl_read_document(p[0], 1024, &text), 0);
	close(p[0]);
	ck_assert_str_eq(text, "");
	free(text);
	/* A NUL byte: no JSON document holds one. */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "{}\0{}", 5), 5);
	close(p[1]);
	text = NULL;
	ck_assert_int_eq(ctl_read_document(p[0], 1024, &text), -EBADMSG);
	close(p[0]);
	ck_assert_ptr_null(text);
	ck_assert_int_eq(ctl_read_document(-1, 1024, &text), -EBADF);
	/* An export stream: import's. */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "DMSHSTRM\1\0\0\0", 12), 12);
	close(p[1]);
	ck_assert_int_eq(ctl_read_document(p[0], 1024, &text), -EMEDIUMTYPE);
	close(p[0]);
	ck_assert_ptr_null(text);

	/* The document's refusals are import-metadata's. */
	ck_assert(ctl_metadata_refused(VERB_IMPORT_METADATA, -EBADMSG));
	ck_assert(ctl_metadata_refused(VERB_IMPORT_METADATA, -EPROTONOSUPPORT));
	ck_assert(ctl_metadata_refused(VERB_IMPORT_METADATA, -EMEDIUMTYPE));
	ck_assert(ctl_metadata_refused(VERB_IMPORT_METADATA, -EFBIG));
	ck_assert(!ctl_metadata_refused(VERB_EXPORT_METADATA, -EBADMSG));
	/* A disk that cannot be read is refused by both; no other verb maps them. */
	ck_assert(ctl_metadata_refused(VERB_IMPORT_METADATA, -EIO));
	ck_assert(ctl_metadata_refused(VERB_EXPORT_METADATA, -EIO));
	ck_assert(ctl_metadata_refused(VERB_EXPORT_METADATA, -EACCES));
	ck_assert(ctl_metadata_refused(VERB_EXPORT_METADATA, -ENODATA));
	ck_assert(!ctl_metadata_refused(VERB_IMPORT_METADATA, -ENODATA));
	ck_assert(!ctl_metadata_refused(VERB_EXPORT, -EIO));
	ck_assert(!ctl_metadata_refused(VERB_IMPORT, -EBADMSG));
	/* The common table's: 2 and 3 already, 5 for the rest. */
	ck_assert(!ctl_metadata_refused(VERB_IMPORT_METADATA, -ENOENT));
	ck_assert(!ctl_metadata_refused(VERB_IMPORT_METADATA, -ESTALE));
	ck_assert(!ctl_metadata_refused(VERB_EXPORT_METADATA, -ENOMEM));
}
END_TEST

/*
 * Which verbs open read-only: list, import (it writes a device, never the
 * catalog) and export-metadata (it reads the catalog and a disk);
 * everything else changes things.
 */
START_TEST(test_verb_only_reads)
{
	for (int v = 0; v < _VERB_MAX; v++)
		ck_assert_msg(ctl_verb_only_reads(v) == (v == VERB_LIST || v == VERB_IMPORT ||
							 v == VERB_EXPORT_METADATA),
			      "%s", ctl_verb_names[v]);
	ck_assert(!ctl_verb_only_reads(_VERB_MAX));
	ck_assert(!ctl_verb_only_reads(-1));
}
END_TEST

START_TEST(test_schedule_browse)
{
	struct ctl_args a;
	char why[256];
	char *run_now[] = { "shadowctl", "schedule", "run-now", "data", "app", "--config", "/etc/s.conf", NULL };
	char *cleanup[] = { "shadowctl", "schedule", "cleanup", NULL };
	char *run_named[] = { "shadowctl", "schedule", "run", "data", NULL };
	char *bad[] = { "shadowctl", "schedule", "prune", NULL };
	char *none[] = { "shadowctl", "schedule", NULL };
	char *browse[] = { "shadowctl", "browse", "data", NULL };
	char *stop[] = { "shadowctl", "browse", "--stop", NULL };
	char *stop_vol[] = { "shadowctl", "browse", "--stop", "data", NULL };
	char *browse_none[] = { "shadowctl", "browse", NULL };
	char *stop_list[] = { "shadowctl", "list", "--stop", NULL };

	ck_assert_int_eq(ctl_parse_argv(7, run_now, &a, why, sizeof(why)), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_SCHEDULE);
	ck_assert_int_eq(a.schedule, SCHEDULE_RUN_NOW);
	ck_assert_int_eq(a.nargs, 3);
	ck_assert_str_eq(a.config, "/etc/s.conf");
	ck_assert_int_eq(ctl_parse_argv(3, cleanup, &a, why, sizeof(why)), CTL_RUN);
	ck_assert_int_eq(a.schedule, SCHEDULE_CLEANUP);
	ck_assert_int_eq(ctl_parse_argv(4, run_named, &a, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "'schedule run' takes no policy"));
	ck_assert_int_eq(ctl_parse_argv(3, bad, &a, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "unknown schedule command 'prune'"));
	ck_assert_int_eq(ctl_parse_argv(2, none, &a, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(ctl_parse_argv(3, browse, &a, why, sizeof(why)), CTL_RUN);
	ck_assert_int_eq(a.verb, VERB_BROWSE);
	ck_assert(!(a.opts & OPT_STOP));
	ck_assert_int_eq(ctl_parse_argv(3, stop, &a, why, sizeof(why)), CTL_RUN);
	ck_assert(a.opts & OPT_STOP);
	ck_assert_int_eq(a.nargs, 0);
	ck_assert_int_eq(ctl_parse_argv(4, stop_vol, &a, why, sizeof(why)), CTL_RUN);
	ck_assert_int_eq(a.nargs, 1);
	ck_assert_int_eq(ctl_parse_argv(2, browse_none, &a, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(ctl_parse_argv(3, stop_list, &a, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "option --stop is not valid for 'list'"));
}
END_TEST

Suite *suite_ctl_args(void)
{
	Suite *s = suite_create("ctl_args");
	TCase *tc = tcase_create("argv");

	tcase_add_test(tc, test_schedule_browse);
	tcase_add_test(tc, test_enable);
	tcase_add_test(tc, test_create_list_delete);
	tcase_add_test(tc, test_create_exclude_component);
	tcase_add_test(tc, test_expose);
	tcase_add_test(tc, test_activate);
	tcase_add_test(tc, test_clone_targets);
	tcase_add_test(tc, test_clone_targets_many);
	tcase_add_test(tc, test_detach);
	tcase_add_test(tc, test_throttle);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_create_writers);
	tcase_add_test(tc, test_create_writers_many);
	tcase_add_test(tc, test_list_writers);
	tcase_add_test(tc, test_resize_monitor);
	tcase_add_test(tc, test_diff_export_import);
	tcase_add_test(tc, test_verb_only_reads);
	tcase_add_test(tc, test_transport);
	tcase_add_test(tc, test_read_document);
	suite_add_tcase(s, tc);
	return s;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the providers load and read (lib/core/shadow-tables.c): the table
 * parameters of both, the names and uuids of dm-snapshot copies, and the
 * snapshot target's status line.
 */
#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "shadow-provider.h"
#include "shadow-tables.h"
#include "unit.h"

START_TEST(test_dmshadow_params)
{
	char buf[128];

	ck_assert_int_eq(dmshadow_origin_params(buf, sizeof(buf), makedev(7, 0), makedev(7, 1),
						"cow", 8), 0);
	ck_assert_str_eq(buf, "7:0 7:1 cow 8");
	ck_assert_int_eq(dmshadow_origin_params(buf, sizeof(buf), makedev(254, 3),
						makedev(259, 65536), "cow", 2048), 0);
	ck_assert_str_eq(buf, "254:3 259:65536 cow 2048");
	ck_assert_int_eq(dmshadow_snap_params(buf, sizeof(buf), "254:3", 17, false), 0);
	ck_assert_str_eq(buf, "254:3 17");
	ck_assert_int_eq(dmshadow_snap_params(buf, sizeof(buf), "254:3", 17, true), 0);
	ck_assert_str_eq(buf, "254:3 17 1 writable");
	ck_assert_int_eq(dmshadow_origin_params(buf, 10, makedev(7, 0), makedev(7, 1), "cow", 8),
			 -ENAMETOOLONG);
}
END_TEST

/* A copy of the clone volume "cv" (or @volume) for the tables below. */
#define COPY(id_, volume_, method_, state_, target_) \
	((struct shadow_copy) { .id = (id_), .snapshot = (id_), .volume = (char *)(volume_), \
				.method = (char *)(method_), .state = (char *)(state_), \
				.target = (char *)(target_) })

/* A clone volume's table, from the catalog: its clones' targets, its rate. */
START_TEST(test_clone_params)
{
	struct shadow_volume cv = { .name = (char *)"cv", .method = (char *)"clone",
				    .chunk_sectors = 128 };
	struct shadow_volume kv = { .name = (char *)"kv", .method = (char *)"cow",
				    .chunk_sectors = 8 };
	struct shadow_copy_origin away = { .host = (char *)"alpha", .shadow = 2,
					   .volume = (char *)"cv" };
	struct shadow_copy c[] = {
		COPY(3, "cv", "clone", "valid", "/dev/vdh"),
		COPY(4, "kv", "cow", "valid", NULL),
		COPY(5, "cv", "clone", "detached", "/dev/vdi"),
		COPY(6, "cv", "clone", "invalid", "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"),
		COPY(7, "cv", "clone", "creating", "/dev/vdj"),
		COPY(8, "cv", "clone", "valid", NULL),		/* adopted, target unknown */
		COPY(9, "cv", "clone", "detached", "/dev/vdk"),	/* imported */
	};
	struct shadow_copy *cp[ELEMENTSOF(c)];
	struct shadow_catalog cat = { .copies = cp, .n_copies = ELEMENTSOF(c) };
	struct origin_spec spec = { .v = &cv, .cat = &cat };
	const uint64_t skip[] = { 7, 3 };
	char buf[512];

	for (size_t i = 0; i < ELEMENTSOF(c); i++)
		cp[i] = &c[i];
	c[6].origin = &away;

	/* Enable: no copies yet. */
	spec.cat = NULL;
	ck_assert_int_eq(dmshadow_volume_params(buf, sizeof(buf), makedev(254, 1),
						makedev(254, 2), &spec), 0);
	ck_assert_str_eq(buf, "254:1 254:2 clone 128");
	/* Every clone its store keeps, but not a detached or imported one. */
	spec.cat = &cat;
	ck_assert_int_eq(dmshadow_volume_params(buf, sizeof(buf), makedev(254, 1),
						makedev(254, 2), &spec), 0);
	ck_assert_str_eq(buf, "254:1 254:2 clone 128 9 clone_target 3 /dev/vdh "
			 "clone_target 6 /dev/disk/by-id/wwn-0x5000c500a1b2c3d4 clone_target 7 /dev/vdj");
	/* Its hydrate rate, after the targets. */
	cv.has_hydrate_rate = true;
	cv.hydrate_rate = 100;
	ck_assert_int_eq(dmshadow_volume_params(buf, sizeof(buf), makedev(254, 1),
						makedev(254, 2), &spec), 0);
	ck_assert_str_eq(buf, "254:1 254:2 clone 128 11 clone_target 3 /dev/vdh "
			 "clone_target 6 /dev/disk/by-id/wwn-0x5000c500a1b2c3d4 clone_target 7 /dev/vdj "
			 "hydrate_rate 100");
	/* Without the ones being deleted, detached or missing. */
	spec.skip = skip;
	spec.n_skip = ELEMENTSOF(skip);
	ck_assert_int_eq(dmshadow_volume_params(buf, sizeof(buf), makedev(254, 1),
						makedev(254, 2), &spec), 0);
	ck_assert_str_eq(buf, "254:1 254:2 clone 128 5 clone_target 6 "
			 "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4 hydrate_rate 100");
	cv.hydrate_rate = 0;
	spec.n_skip = 0;
	c[0].state = (char *)"detached";
	c[3].state = (char *)"detached";
	c[4].state = (char *)"detached";
	ck_assert_int_eq(dmshadow_volume_params(buf, sizeof(buf), makedev(254, 1),
						makedev(254, 2), &spec), 0);
	ck_assert_str_eq(buf, "254:1 254:2 clone 128 2 hydrate_rate 0");
	cv.has_hydrate_rate = false;
	ck_assert_int_eq(dmshadow_volume_params(buf, sizeof(buf), makedev(254, 1),
						makedev(254, 2), &spec), 0);
	ck_assert_str_eq(buf, "254:1 254:2 clone 128");

	/* Another method's table has no features, whatever the catalog holds. */
	spec.v = &kv;
	ck_assert_int_eq(dmshadow_volume_params(buf, sizeof(buf), makedev(7, 0),
						makedev(7, 1), &spec), 0);
	ck_assert_str_eq(buf, "7:0 7:1 cow 8");

	/* A target a table line cannot hold; too small a buffer. */
	spec.v = &cv;
	c[0].state = (char *)"valid";
	c[0].target = (char *)"/dev/my disk";
	ck_assert_int_eq(dmshadow_volume_params(buf, sizeof(buf), makedev(254, 1),
						makedev(254, 2), &spec), -EINVAL);
	c[0].target = (char *)"/dev/vdh";
	ck_assert_int_eq(dmshadow_volume_params(buf, 30, makedev(254, 1),
						makedev(254, 2), &spec), -ENAMETOOLONG);
}
END_TEST

/* Nine clones cannot be in one table: the kernel takes eight. */
START_TEST(test_clone_params_nine)
{
	struct shadow_volume cv = { .name = (char *)"cv", .method = (char *)"clone",
				    .chunk_sectors = 8 };
	static const char *const targets[] = {
		"/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd", "/dev/sde",
		"/dev/sdf", "/dev/sdg", "/dev/sdh", "/dev/sdi",
	};
	struct shadow_copy c[ELEMENTSOF(targets)];
	struct shadow_copy *cp[ELEMENTSOF(targets)];
	struct shadow_catalog cat = { .copies = cp, .n_copies = 8 };
	struct origin_spec spec = { .v = &cv, .cat = &cat };
	char buf[1024];

	for (size_t i = 0; i < ELEMENTSOF(targets); i++) {
		c[i] = COPY(i + 1, "cv", "clone", "valid", targets[i]);
		cp[i] = &c[i];
	}
	ck_assert_int_eq(dmshadow_volume_params(buf, sizeof(buf), makedev(254, 1),
						makedev(254, 2), &spec), 0);
	ck_assert_ptr_nonnull(strstr(buf, "clone 8 24 clone_target 1 /dev/sda "));
	ck_assert_ptr_nonnull(strstr(buf, " clone_target 8 /dev/sdh"));
	cat.n_copies = 9;
	ck_assert_int_eq(dmshadow_volume_params(buf, sizeof(buf), makedev(254, 1),
						makedev(254, 2), &spec), -E2BIG);
}
END_TEST

START_TEST(test_devno)
{
	dev_t d = makedev(1, 1);

	ck_assert_int_eq(parse_devno("8:16", &d), 0);
	ck_assert(d == makedev(8, 16));
	ck_assert_int_eq(parse_devno("259:1048575", &d), 0);
	ck_assert(d == makedev(259, 1048575));
	d = makedev(1, 1);
	ck_assert_int_eq(parse_devno("8", &d), -EINVAL);
	ck_assert_int_eq(parse_devno("8:", &d), -EINVAL);
	ck_assert_int_eq(parse_devno(":16", &d), -EINVAL);
	ck_assert_int_eq(parse_devno("8:16 ", &d), -EINVAL);
	ck_assert_int_eq(parse_devno("/dev/sdb", &d), -EINVAL);
	ck_assert_int_eq(parse_devno("4096:0", &d), -EINVAL);
	ck_assert_int_eq(parse_devno("8:1048576", &d), -EINVAL);
	ck_assert_int_eq(parse_devno(NULL, &d), -EINVAL);
	ck_assert(d == makedev(1, 1));
}
END_TEST

START_TEST(test_dmsnap_params)
{
	char buf[128];

	ck_assert_int_eq(dmsnap_origin_params(buf, sizeof(buf), makedev(7, 0)), 0);
	ck_assert_str_eq(buf, "7:0");
	ck_assert_int_eq(dmsnap_snapshot_params(buf, sizeof(buf), "254:1", makedev(7, 1), 8), 0);
	ck_assert_str_eq(buf, "254:1 7:1 P 8");
	ck_assert_int_eq(dmsnap_snapshot_params(buf, sizeof(buf), "7:0", makedev(8, 16), 2048), 0);
	ck_assert_str_eq(buf, "7:0 8:16 P 2048");
	ck_assert_int_eq(linear_params(buf, sizeof(buf), makedev(254, 7)), 0);
	ck_assert_str_eq(buf, "254:7 0");
	ck_assert_int_eq(dmsnap_snapshot_params(buf, 8, "254:1", makedev(7, 1), 8), -ENAMETOOLONG);
	ck_assert_int_eq(linear_params(buf, 3, makedev(254, 7)), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_dmsnap_names)
{
	char buf[160], big[200];
	uint64_t id = 0;

	ck_assert_int_eq(dmsnap_copy_name(buf, sizeof(buf), "vg0-db"), 0);
	ck_assert_str_eq(buf, "vg0-db-snap");
	ck_assert_int_eq(dmsnap_copy_uuid(buf, sizeof(buf), "vg0-db", 42), 0);
	ck_assert_str_eq(buf, "SHADOW-DMSNAP-vg0-db-42");
	/* Not what the udev rules for exposed copies match. */
	ck_assert_int_ne(strncmp(buf, "SHADOW-SNAP-", 12), 0);

	ck_assert_int_eq(dmsnap_parse_copy_uuid("SHADOW-DMSNAP-vg0-db-42", "vg0-db", &id), 0);
	ck_assert_uint_eq(id, 42);
	ck_assert_int_eq(dmsnap_parse_copy_uuid("SHADOW-DMSNAP-vg0-db-18446744073709551615",
						"vg0-db", &id), 0);
	ck_assert_uint_eq(id, UINT64_MAX);
	/* Another volume's, another prefix, no id, a bad id: not ours. */
	id = 7;
	ck_assert_int_eq(dmsnap_parse_copy_uuid("SHADOW-DMSNAP-vg0-db-42", "vg0", &id), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_copy_uuid("SHADOW-DMSNAP-vg0-42", "vg0-db", &id), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_copy_uuid("SHADOW-SNAP-vg0-db-42", "vg0-db", &id), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_copy_uuid("LVM-abc", "vg0-db", &id), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_copy_uuid("", "vg0-db", &id), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_copy_uuid("SHADOW-DMSNAP-vg0-db-", "vg0-db", &id), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_copy_uuid("SHADOW-DMSNAP-vg0-db-4x", "vg0-db", &id), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_copy_uuid("SHADOW-DMSNAP-vg0-db-18446744073709551616",
						"vg0-db", &id), -EINVAL);
	ck_assert_uint_eq(id, 7);

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(dmsnap_copy_name(buf, sizeof(buf), big), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_first_word)
{
	char buf[64];

	ck_assert_int_eq(parse_first_word("254:1", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "254:1");
	ck_assert_int_eq(parse_first_word("7:0 7:1 cow 8", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "7:0");
	ck_assert_int_eq(parse_first_word("", buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(parse_first_word(" 7:0", buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(parse_first_word("254:12345", buf, 5), -EINVAL);
}
END_TEST

START_TEST(test_dmsnap_status)
{
	struct dmsnap_status st = { .valid = false };

	ck_assert_int_eq(dmsnap_parse_status("16/65536 16", &st), 0);
	ck_assert(st.valid);
	ck_assert_uint_eq(st.allocated_sectors, 16);
	ck_assert_uint_eq(st.total_sectors, 65536);
	ck_assert_uint_eq(st.metadata_sectors, 16);
	ck_assert_int_eq(dmsnap_parse_status("397896/2097152 1560", &st), 0);
	ck_assert_uint_eq(st.allocated_sectors, 397896);
	ck_assert_uint_eq(st.metadata_sectors, 1560);

	ck_assert_int_eq(dmsnap_parse_status("Invalid", &st), 0);
	ck_assert(!st.valid);
	st.valid = true;
	ck_assert_int_eq(dmsnap_parse_status("Overflow", &st), 0);
	ck_assert(!st.valid);

	/* Refused, and *ret left alone. */
	st = (struct dmsnap_status) { .valid = true, .total_sectors = 99 };
	ck_assert_int_eq(dmsnap_parse_status("Merge failed", &st), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_status("Unknown", &st), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_status("", &st), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_status("16/65536", &st), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_status("16/65536 16 1", &st), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_status("16 /65536 16", &st), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_status("-16/65536 16", &st), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_status("70000/65536 16", &st), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_status("16/65536 32", &st), -EINVAL);
	ck_assert_int_eq(dmsnap_parse_status("invalid", &st), -EINVAL);
	ck_assert(st.valid);
	ck_assert_uint_eq(st.total_sectors, 99);
}
END_TEST

/* The registry: names, order (auto tries dm-shadow first), targets. */
START_TEST(test_registry)
{
	struct shadow_volume v = { .provider = (char *)"dm-snapshot" };

	ck_assert_ptr_eq(provider_by_index(0), &shadow_provider_dmshadow);
	ck_assert_ptr_eq(provider_by_index(1), &shadow_provider_dmsnap);
	ck_assert_ptr_null(provider_by_index(SHADOW_N_PROVIDERS));
	ck_assert_ptr_eq(provider_by_name("dm-snapshot"), &shadow_provider_dmsnap);
	ck_assert_ptr_eq(provider_by_name("dm-shadow"), &shadow_provider_dmshadow);
	ck_assert_ptr_null(provider_by_name("auto"));
	ck_assert_ptr_null(provider_by_name("lvm"));
	ck_assert_ptr_eq(provider_of(&v), &shadow_provider_dmsnap);
	ck_assert_str_eq(shadow_provider_dmshadow.origin_target, "shadow-origin");
	ck_assert_str_eq(shadow_provider_dmshadow.copy_target, "shadow-snap");
	ck_assert_str_eq(shadow_provider_dmsnap.origin_target, "snapshot-origin");
	ck_assert_str_eq(shadow_provider_dmsnap.copy_target, "snapshot");
	ck_assert_str_eq(shadow_provider_dmsnap.module, "dm-snapshot");
	/* Row and clone are dm-shadow's; dm-snapshot has cow only. */
	ck_assert(provider_has_method(&shadow_provider_dmshadow, "cow"));
	ck_assert(provider_has_method(&shadow_provider_dmshadow, "row"));
	ck_assert(provider_has_method(&shadow_provider_dmshadow, "clone"));
	ck_assert(!provider_has_method(&shadow_provider_dmshadow, "clon"));
	ck_assert(provider_has_method(&shadow_provider_dmsnap, "cow"));
	ck_assert(!provider_has_method(&shadow_provider_dmsnap, "row"));
	ck_assert(!provider_has_method(&shadow_provider_dmsnap, "clone"));
	ck_assert_ptr_nonnull(shadow_provider_dmshadow.prepare);
	ck_assert_ptr_nonnull(shadow_provider_dmshadow.release);
	ck_assert_ptr_null(shadow_provider_dmsnap.release);
}
END_TEST

/* Each provider's origin table, as enable loads it. */
START_TEST(test_origin_tables)
{
	struct shadow_volume snap = { .name = (char *)"a", .method = (char *)"cow", .chunk_sectors = 8 };
	struct shadow_volume cow = { .name = (char *)"b", .method = (char *)"cow", .chunk_sectors = 16 };
	struct shadow_volume clone = { .name = (char *)"c", .method = (char *)"clone",
				       .chunk_sectors = 128, .has_hydrate_rate = true,
				       .hydrate_rate = 1 };
	const struct origin_spec s1 = { .v = &snap }, s2 = { .v = &cow }, s3 = { .v = &clone };
	struct shadow_dm_table t = { 0 };

	ck_assert_int_eq(shadow_provider_dmsnap.origin_table(&t, 131072, makedev(7, 0),
							      makedev(7, 1), &s1), 0);
	ck_assert_int_eq(shadow_provider_dmshadow.origin_table(&t, 131072, makedev(254, 2),
								makedev(7, 1), &s2), 0);
	ck_assert_int_eq(shadow_provider_dmshadow.origin_table(&t, 131072, makedev(254, 2),
								makedev(7, 3), &s3), 0);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_uint_eq(t.targets[0].start, 0);
	ck_assert_uint_eq(t.targets[0].length, 131072);
	ck_assert_str_eq(t.targets[0].type, "snapshot-origin");
	ck_assert_str_eq(t.targets[0].params, "7:0");
	ck_assert_str_eq(t.targets[1].type, "shadow-origin");
	ck_assert_str_eq(t.targets[1].params, "254:2 7:1 cow 16");
	ck_assert_str_eq(t.targets[2].type, "shadow-origin");
	ck_assert_str_eq(t.targets[2].params, "254:2 7:3 clone 128 2 hydrate_rate 1");
	shadow_dm_table_clear(&t);
}
END_TEST

Suite *suite_provider(void)
{
	Suite *s = suite_create("provider");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_dmshadow_params);
	tcase_add_test(tc, test_clone_params);
	tcase_add_test(tc, test_clone_params_nine);
	tcase_add_test(tc, test_devno);
	tcase_add_test(tc, test_dmsnap_params);
	tcase_add_test(tc, test_dmsnap_names);
	tcase_add_test(tc, test_first_word);
	tcase_add_test(tc, test_dmsnap_status);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_origin_tables);
	suite_add_tcase(s, tc);
	return s;
}

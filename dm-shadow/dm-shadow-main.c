// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-shadow: point-in-time shadow copies of live volumes, many snapshots
 * per origin in one persistent store.  Module entry points.
 */
#include "dm-shadow.h"

#include <linux/module.h>

static int __init dm_shadow_init(void)
{
	int r;

	r = shadow_copy_module_init();
	if (r)
		return r;
	r = shadow_store_register(&shadow_cow_store);
	if (r)
		goto bad_cow;
	r = shadow_store_register(&shadow_row_store);
	if (r)
		goto bad_row;
	r = shadow_store_register(&shadow_clone_store);
	if (r)
		goto bad_clone;
	r = dm_register_target(&shadow_origin_target);
	if (r) {
		DMERR("cannot register the shadow-origin target: %d", r);
		goto bad_origin;
	}
	r = dm_register_target(&shadow_snap_target);
	if (r) {
		DMERR("cannot register the shadow-snap target: %d", r);
		goto bad_snap;
	}
	return 0;

bad_snap:
	dm_unregister_target(&shadow_origin_target);
bad_origin:
	shadow_store_unregister(&shadow_clone_store);
bad_clone:
	shadow_store_unregister(&shadow_row_store);
bad_row:
	shadow_store_unregister(&shadow_cow_store);
bad_cow:
	shadow_copy_module_exit();
	return r;
}

static void __exit dm_shadow_exit(void)
{
	dm_unregister_target(&shadow_snap_target);
	dm_unregister_target(&shadow_origin_target);
	shadow_store_unregister(&shadow_clone_store);
	shadow_store_unregister(&shadow_row_store);
	shadow_store_unregister(&shadow_cow_store);
	shadow_copy_module_exit();
}

module_init(dm_shadow_init);
module_exit(dm_shadow_exit);

MODULE_DESCRIPTION(DM_NAME " shadow copies: snapshots sharing one persistent store");
MODULE_AUTHOR("dm-shadow developers");
MODULE_LICENSE("GPL");

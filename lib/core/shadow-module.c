/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading a provider's kernel module.  libdevmapper cannot load modules
 * (the kernel loads a target's module by itself only when a table names
 * the target, too late to choose a provider), so libkmod does, the way
 * modprobe(8) would: the module found by name or alias in the running
 * kernel's modules.dep, its dependencies first.  Loading a module that is
 * loaded already does nothing.  The library runs no other program, so
 * "install" commands of modprobe.d(5) are not run (a module that has one
 * is loaded as if it had none).
 */
#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "shadow-module.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmod_ctx *, kmod_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmod_list *, kmod_module_unref_list);

int module_load(const char *name, char *why, size_t why_size)
{
	_cleanup_(kmod_unrefp) struct kmod_ctx *k = NULL;
	_cleanup_(kmod_module_unref_listp) struct kmod_list *list = NULL;
	struct kmod_list *l;
	int r;

	k = kmod_new(NULL, NULL);
	if (!k) {
		snprintf(why, why_size, "module %s: libkmod could not start", name);
		return -ENOMEM;
	}
	r = kmod_module_new_from_lookup(k, name, &list);
	if (r < 0) {
		snprintf(why, why_size, "module %s: look-up failed: %s", name, strerror(-r));
		return r;
	}
	if (!list) {
		snprintf(why, why_size, "module %s is not installed for this kernel", name);
		return -ENOENT;
	}
	kmod_list_foreach(l, list) {
		struct kmod_module *m = kmod_module_get_module(l);

		r = kmod_module_probe_insert_module(m, KMOD_PROBE_IGNORE_COMMAND,
						    NULL, NULL, NULL, NULL);
		if (r < 0)
			snprintf(why, why_size, "module %s (%s) could not be loaded: %s", name,
				 kmod_module_get_path(m) ? kmod_module_get_path(m) : kmod_module_get_name(m),
				 strerror(-r));
		kmod_module_unref(m);
		if (r < 0)
			return r;
	}
	return 0;
}

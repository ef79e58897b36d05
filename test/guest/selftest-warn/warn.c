// SPDX-License-Identifier: GPL-2.0
/*
 * harness_warn: a module whose only job is to trigger a kernel WARNING.
 *
 * The guest harness must fail any run whose kernel log holds "WARNING:".
 * Loading this module (tests/harness-warn.sh) produces exactly such a line,
 * so test/guest/selftest can check that the harness really catches it
 * instead of silently passing.  Never load it outside that self-test.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init harness_warn_init(void)
{
	/* Deliberate: this is the event the harness must detect. */
	WARN_ON(1);
	return 0;
}

static void __exit harness_warn_exit(void)
{
}

module_init(harness_warn_init);
module_exit(harness_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("dm-shadow guest harness self-test: triggers a WARNING");

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shadowctl export-metadata and import-metadata (cmd/shadowctl/
 * ctl-transport.c): a detached clone's catalog entry to another host with
 * its disk, shadow-clone-metadata(5).  (import is taken: it applies a
 * stream, shadow-stream(5).)
 */
#ifndef SHADOW_CTL_TRANSPORT_H
#define SHADOW_CTL_TRANSPORT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl-args.h"
#include "libshadow.h"

/* The largest metadata document import-metadata reads: 16 MiB. */
#define CTL_METADATA_MAX (16u << 20)

/*
 * export-metadata <shadow-id> -o <file>|-: the document to @a->output
 * (never a terminal; a file it fails to write is removed), the summary
 * on standard output (standard error with -o -).  On failure the step is
 * in @what when it is shadowctl's own, else in the context's error.
 */
int ctl_export_metadata(shadow_ctx *ctx, const struct ctl_args *a, char *what, size_t what_len);

/*
 * import-metadata <file>|- --device <device>: the copy it makes is
 * printed as expose prints one (text, or {"shadow": {...}}).
 */
int ctl_import_metadata(shadow_ctx *ctx, const struct ctl_args *a, json_object *o,
			char *what, size_t what_len);

/*
 * All of @fd as a NUL-terminated text: -EFBIG past @max bytes,
 * -EMEDIUMTYPE for an export stream (shadow-stream(5), magic
 * "DMSHSTRM": import's, given to import-metadata by mistake), -EBADMSG
 * for a NUL byte in it (no document holds one), -errno from read.
 */
int ctl_read_document(int fd, size_t max, char **ret);

/*
 * Whether import-metadata's @r is a refusal of the document itself (not
 * one, a version not known, malformed, too large): exit status 3, which
 * the common table gives none of these.
 */
bool ctl_metadata_refused(int r);

#endif

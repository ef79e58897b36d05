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
 * Whether @r, a failure of @verb (export-metadata or import-metadata)
 * once the catalog was read, is a refusal with exit status 3 that the
 * common table does not give: a document that is not one, of a version
 * not known, malformed or too large (import-metadata); a disk that cannot
 * be read (both: -EIO, -EACCES, -EPERM); an imported copy whose volume's
 * size is not recorded (export-metadata, -ENODATA).
 */
bool ctl_metadata_refused(enum ctl_verb verb, int r);

#endif

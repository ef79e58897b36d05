/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQLite writer (shadow-writers(8)).
 *
 * SQLite has no server to ask: the databases are the files named by
 * "database =" lines in writers.conf, one component each.  On freeze the
 * writer checkpoints the WAL into the database file (so the copy is
 * mostly in one file) and then takes the database's write lock with a
 * transaction that it keeps open across the snapshot: BEGIN IMMEDIATE in
 * WAL mode (readers go on, writers wait), BEGIN EXCLUSIVE with a rollback
 * journal (no hot journal can exist while it is held).  The locks are
 * POSIX locks of this process, so a writer that dies drops them.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "writer.h"

struct sqlite_db {
	char *path;
	const char *name;	/* component name: the file's base name */
	sqlite3 *db;
	bool wal;
	bool in_txn;		/* our BEGIN is open */
};

struct sqlite_writer {
	struct sqlite_db *dbs;
	size_t n_dbs;
	unsigned int busy_ms;
};

static const struct conf_key keys[] = {
	{ "database", true },
	{ "busy-timeout", false },
	{}
};

static struct sqlite_writer *priv(struct writer *w)
{
	return w->priv;
}

static int db_fail(struct writer *w, struct sqlite_db *d, const char *what)
{
	return writer_fail(w, -EIO, "%s: %s: %s", d->path, what,
			   d->db ? sqlite3_errmsg(d->db) : "not open");
}

static int exec(struct writer *w, struct sqlite_db *d, const char *sql)
{
	if (sqlite3_exec(d->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(w, d, sql);
	return 0;
}

/* The one-row text result of @sql (a PRAGMA), newly allocated. */
static int query_text(struct writer *w, struct sqlite_db *d, const char *sql,
		      char **ret)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(w, d, sql);
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = db_fail(w, d, sql);
	} else {
		const unsigned char *t = sqlite3_column_text(st, 0);

		*ret = strdup(t ? (const char *)t : "");
		if (!*ret)
			r = writer_fail(w, -ENOMEM, "out of memory");
	}
	sqlite3_finalize(st);
	return r;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Open every configured database; its mode decides how to lock it. */
static int open_all(struct writer *w)
{
	struct sqlite_writer *s = priv(w);
	const char *v;
	size_t i = 0;
	int r;

	r = conf_get_uint(&w->conf, "busy-timeout", 10000, 0, 3600000, &s->busy_ms);
	if (r < 0)
		return writer_fail(w, r, "%s", w->conf.error);

	while ((v = conf_next(&w->conf, "database", &i))) {
		struct sqlite_db *t, *d;
		_cleanup_free_ char *mode = NULL;

		if (v[0] != '/')
			return writer_fail(w, -EINVAL, "%s: [%s] database = '%s': not an absolute path",
					   w->conf.path, w->conf.section, v);
		for (size_t j = 0; j < s->n_dbs; j++)
			if (!strcmp(s->dbs[j].name, base_name(v)))
				return writer_fail(w, -EINVAL, "%s: [%s] two databases are named '%s' (%s and %s): components are named by file name, rename one",
						   w->conf.path, w->conf.section,
						   base_name(v), s->dbs[j].path, v);
		t = realloc(s->dbs, (s->n_dbs + 1) * sizeof(*t));
		if (!t)
			return writer_fail(w, -ENOMEM, "out of memory");
		s->dbs = t;
		d = &t[s->n_dbs];
		*d = (struct sqlite_db) { .path = strdup(v) };
		if (!d->path)
			return writer_fail(w, -ENOMEM, "out of memory");
		d->name = base_name(d->path);
		s->n_dbs++;

		/* Never create: a missing database is a mistake in the config. */
		if (sqlite3_open_v2(d->path, &d->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
			return db_fail(w, d, "open");
		sqlite3_busy_timeout(d->db, (int)s->busy_ms);
		r = query_text(w, d, "PRAGMA journal_mode", &mode);
		if (r < 0)
			return r;
		d->wal = !strcmp(mode, "wal");
		writer_log(w, "%s: journal mode %s", d->path, mode);
	}
	return 0;
}

static int sqlite_identify(struct writer *w, struct shadow_proto_metadata *m)
{
	struct sqlite_writer *s = priv(w);
	int r;

	r = open_all(w);
	if (r < 0)
		return r;
	r = set_strf(&m->application, "SQLite %s", sqlite3_libversion());
	if (r < 0)
		return writer_fail(w, r, "out of memory");
	for (size_t i = 0; i < s->n_dbs; i++) {
		_cleanup_free_ char *shm = NULL;

		if (metadata_add_component(m, s->dbs[i].name) < 0 ||
		    metadata_add_path(m, s->dbs[i].path) < 0)
			return writer_fail(w, -ENOMEM, "out of memory");
		/* The WAL index is rebuilt from the WAL: no use in a copy. */
		if (s->dbs[i].wal &&
		    (asprintf(&shm, "%s-shm", s->dbs[i].path) < 0 ||
		     metadata_add_exclude(m, shm) < 0))
			return writer_fail(w, -ENOMEM, "out of memory");
	}
	r = set_strf(&m->restore,
		     "Each component is one SQLite database file. Restore it from the copy with its -wal file if there is one "
		     "(WAL mode), never its -shm file, while no program has it open; SQLite replays the WAL when it next opens "
		     "the database. In rollback-journal mode the copy was taken with no transaction in progress, so there is "
		     "no journal to restore. Check it with: sqlite3 <file> 'PRAGMA integrity_check'.");
	return r < 0 ? writer_fail(w, r, "out of memory") : 0;
}

static void rollback_all(struct writer *w)
{
	struct sqlite_writer *s = priv(w);

	for (size_t i = 0; i < s->n_dbs; i++) {
		struct sqlite_db *d = &s->dbs[i];

		if (!d->in_txn)
			continue;
		if (sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
			writer_log(w, "%s: ROLLBACK: %s", d->path, sqlite3_errmsg(d->db));
		d->in_txn = false;
	}
}

static int sqlite_freeze(struct writer *w, uint64_t timeout_ms)
{
	struct sqlite_writer *s = priv(w);
	int r;

	for (size_t i = 0; i < s->n_dbs; i++) {
		struct sqlite_db *d = &s->dbs[i];

		if (!writer_component_selected(w, d->name))
			continue;
		if (d->wal) {
			/*
			 * Not required for consistency (the WAL is in the
			 * copy too) but leaves the copy in one file when the
			 * readers allow it; "busy" is not an error.
			 */
			_cleanup_free_ char *res = NULL;

			r = query_text(w, d, "PRAGMA wal_checkpoint(TRUNCATE)", &res);
			if (r < 0)
				return r;
			if (strcmp(res, "0"))
				writer_log(w, "%s: checkpoint incomplete (readers were busy); the WAL stays in the copy",
					   d->path);
		}
		r = exec(w, d, d->wal ? "BEGIN IMMEDIATE" : "BEGIN EXCLUSIVE");
		if (r < 0)
			return r;
		d->in_txn = true;
		writer_log(w, "%s: write lock held (%s)", d->path,
			   d->wal ? "BEGIN IMMEDIATE" : "BEGIN EXCLUSIVE");
	}
	return 0;
}

static int sqlite_thaw(struct writer *w, bool *ret_held)
{
	struct sqlite_writer *s = priv(w);
	bool held = true;

	for (size_t i = 0; i < s->n_dbs; i++) {
		struct sqlite_db *d = &s->dbs[i];

		if (!writer_component_selected(w, d->name))
			continue;
		/* The transaction is what holds the lock: still open? */
		if (!d->in_txn || sqlite3_get_autocommit(d->db)) {
			writer_log(w, "%s: the transaction holding the lock ended early", d->path);
			held = false;
		}
	}
	rollback_all(w);
	*ret_held = held;
	return 0;
}

static int sqlite_abort(struct writer *w)
{
	rollback_all(w);
	return 0;
}

static void sqlite_release(struct writer *w)
{
	struct sqlite_writer *s = priv(w);

	rollback_all(w);
	for (size_t i = 0; i < s->n_dbs; i++) {
		sqlite3_close(s->dbs[i].db);
		free(s->dbs[i].path);
	}
	free(s->dbs);
	s->dbs = NULL;
	s->n_dbs = 0;
}

static const struct writer_ops sqlite_ops = {
	.kind = "sqlite",
	.keys = keys,
	.priv_size = sizeof(struct sqlite_writer),
	.identify = sqlite_identify,
	.freeze = sqlite_freeze,
	.thaw = sqlite_thaw,
	.abort = sqlite_abort,
	.release = sqlite_release,
};

int main(int argc, char **argv)
{
	return writer_main(&sqlite_ops, argc, argv);
}

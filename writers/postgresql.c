/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PostgreSQL writer (shadow-writers(8)), through libpq.
 *
 * A set taken at one instant across every volume of a cluster (data
 * directory, pg_wal, tablespaces) is already what PostgreSQL recovers
 * from after a crash.  The writer adds an online backup around the
 * snapshot, so the copy comes with a backup_label: recovery then starts
 * from the backup's checkpoint and checks that all the WAL from there to
 * the backup's end is present, and the set records the backup's WAL
 * range.
 *
 * The order matters.  Recovery from a backup_label must replay up to the
 * backup's end record, which pg_backup_stop writes.  A backup stopped
 * after the snapshot ends in WAL the copy does not have, and the copy
 * then refuses to start ("WAL ends before end of online backup").  So:
 *
 *   prepare   connect (at identify), reserve WAL with a temporary
 *             replication slot (no checkpoint may recycle the segment the
 *             backup starts in), pg_backup_start(label, fast)
 *   freeze    pg_backup_stop in the same session: the end record is
 *             written and flushed, then the coordinator suspends the
 *             volumes, so the copy holds the whole backup
 *   thaw      held = the session is alive
 *   post-snapshot  the label and tablespace map, as data for the set
 *   abort     pg_backup_stop if the backup runs; closing the session
 *             drops the slot and, had the writer died, the backup too
 *
 * Server 15 and later: pg_backup_start/pg_backup_stop; 10 to 14:
 * pg_start_backup/pg_stop_backup in non-exclusive mode.
 */
#include <errno.h>
#include <grp.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "writer.h"

struct pg_writer {
	PGconn *conn;
	int version;		/* PQserverVersion: 150018 */
	char *datadir;
	char slot[64];		/* temporary slot reserving WAL, "" if none */
	bool backup_running;
	char *start_lsn;
	char *stop_lsn;
	char *labelfile;
	char *spcmapfile;
};

static const struct conf_key keys[] = {
	{ "conninfo", false },
	{ "system-user", false },
	{}
};

DEFINE_TRIVIAL_CLEANUP_FUNC(PGresult *, PQclear);
#define _cleanup_result_ _cleanup_(PQclearp)

static struct pg_writer *priv(struct writer *w)
{
	return w->priv;
}

/* libpq's messages end with a newline; the protocol's do not. */
static const char *pg_error(PGconn *conn)
{
	static char buf[512];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", PQerrorMessage(conn));
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

/* Run @sql with text parameters; the result must be rows or a command. */
static int query(struct writer *w, const char *sql, int n,
		 const char *const *params, PGresult **ret)
{
	PGconn *conn = priv(w)->conn;
	PGresult *res;
	ExecStatusType st;

	res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		int r = writer_fail(w, -EIO, "%s: %s", sql, pg_error(conn));

		PQclear(res);
		return r;
	}
	if (ret)
		*ret = res;
	else
		PQclear(res);
	return 0;
}

/* The first column of the one row @sql returns, newly allocated. */
static int query_value(struct writer *w, const char *sql, int n,
		       const char *const *params, char **ret)
{
	_cleanup_result_ PGresult *res = NULL;
	int r;

	r = query(w, sql, n, params, &res);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1 || PQnfields(res) < 1)
		return writer_fail(w, -EIO, "%s: %d rows, expected one", sql, PQntuples(res));
	*ret = strdup(PQgetvalue(res, 0, 0));
	return *ret ? 0 : writer_fail(w, -ENOMEM, "out of memory");
}

/*
 * Peer authentication, Debian's default for the postgres role, needs the
 * client to run as the matching system user: become it before
 * connecting.  The writer needs no root privilege for anything else.
 */
static int become_system_user(struct writer *w)
{
	const char *name = conf_get(&w->conf, "system-user", "postgres");
	struct passwd *pw;

	if (getuid() != 0 || !*name || !strcmp(name, "root"))
		return 0;
	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return writer_fail(w, errno ? negative_errno() : -ENOENT,
				   "system user '%s' not found (set system-user in [%s] of %s)",
				   name, w->conf.section ? w->conf.section : w->ops->kind,
				   w->conf.path);
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return writer_fail(w, negative_errno(), "cannot become system user '%s': %m", name);
	setenv("HOME", pw->pw_dir, 1);	/* libpq finds ~/.pgpass there */
	return 0;
}

static int connect_server(struct writer *w)
{
	struct pg_writer *p = priv(w);
	const char *const kw[] = { "dbname", "fallback_application_name", NULL };
	const char *const val[] = {
		conf_get(&w->conf, "conninfo", "dbname=postgres"), "dm-shadow writer", NULL,
	};
	int r;

	r = become_system_user(w);
	if (r < 0)
		return r;
	p->conn = PQconnectdbParams(kw, val, 1);
	if (!p->conn)
		return writer_fail(w, -ENOMEM, "out of memory");
	if (PQstatus(p->conn) != CONNECTION_OK)
		return writer_fail(w, -ECONNREFUSED, "cannot connect (conninfo '%s'): %s",
				   val[0], pg_error(p->conn));
	p->version = PQserverVersion(p->conn);
	if (p->version < 100000)
		return writer_fail(w, -EOPNOTSUPP, "PostgreSQL %s: version 10 or later is needed",
				   PQparameterStatus(p->conn, "server_version"));
	return 0;
}

/* pg_wal may be a symlink to another file system (initdb -X). */
static int add_wal_dir(struct writer *w, struct shadow_proto_metadata *m)
{
	_cleanup_free_ char *link = NULL;
	char real[PATH_MAX];

	if (asprintf(&link, "%s/pg_wal", priv(w)->datadir) < 0)
		return -ENOMEM;
	if (!realpath(link, real)) {
		writer_log(w, "%s: %m (not listed)", link);
		return 0;
	}
	return strcmp(real, link) ? metadata_add_path(m, real) : 0;
}

static int pg_identify(struct writer *w, struct shadow_proto_metadata *m)
{
	struct pg_writer *p = priv(w);
	_cleanup_result_ PGresult *spc = NULL;
	_cleanup_free_ char *pid = NULL, *opts = NULL;
	int r;

	r = connect_server(w);
	if (r < 0)
		return r;
	r = query_value(w, "SHOW data_directory", 0, NULL, &p->datadir);
	if (r < 0)
		return r;
	r = query(w, "SELECT spcname, pg_tablespace_location(oid) FROM pg_tablespace "
		  "WHERE pg_tablespace_location(oid) <> '' ORDER BY spcname", 0, NULL, &spc);
	if (r < 0)
		return r;

	if (set_strf(&m->application, "PostgreSQL %s",
		     PQparameterStatus(p->conn, "server_version")) < 0 ||
	    metadata_add_component(m, "main") < 0 ||
	    metadata_add_path(m, p->datadir) < 0 ||
	    add_wal_dir(w, m) < 0)
		return writer_fail(w, -ENOMEM, "out of memory");
	for (int i = 0; i < PQntuples(spc); i++)
		if (metadata_add_path(m, PQgetvalue(spc, i, 1)) < 0)
			return writer_fail(w, -ENOMEM, "out of memory");
	if (asprintf(&pid, "%s/postmaster.pid", p->datadir) < 0 ||
	    asprintf(&opts, "%s/postmaster.opts", p->datadir) < 0 ||
	    metadata_add_exclude(m, pid) < 0 || metadata_add_exclude(m, opts) < 0)
		return writer_fail(w, -ENOMEM, "out of memory");

	r = set_strf(&m->restore,
		     "The copy of %s holds an online backup, begun and ended before the snapshot. To start a server on it: "
		     "expose the copy writable (or restore its files), write this writer's data member 'backup_label' "
		     "into <data directory>/backup_label and, when 'tablespace_map' is not empty, into "
		     "<data directory>/tablespace_map (tablespace links are in the map), remove postmaster.pid, and start "
		     "the server (on another port if the original runs). It replays the WAL from the backup's checkpoint "
		     "(start_lsn) through the backup's end (stop_lsn) to the end of the WAL in the copy, and is then "
		     "consistent: every transaction committed before the snapshot is there. Check it with pg_amcheck.",
		     p->datadir);
	if (r < 0)
		return writer_fail(w, r, "out of memory");
	writer_log(w, "%s, data directory %s, %d tablespace%s",
		   m->application, p->datadir, PQntuples(spc), PQntuples(spc) == 1 ? "" : "s");
	return 0;
}

static int pg_prepare(struct writer *w)
{
	struct pg_writer *p = priv(w);
	_cleanup_free_ char *label = NULL;
	const char *slot_params[1] = { p->slot };
	const char *params[1];
	int r;

	/*
	 * Keep the WAL the backup starts in: a checkpoint between now and
	 * the freeze could recycle it otherwise.  A temporary slot goes
	 * with the session.  Without slots (max_replication_slots = 0) the
	 * window is short enough to go on, with a warning.
	 */
	snprintf(p->slot, sizeof(p->slot), "dm_shadow_%ld", (long)getpid());
	r = query(w, "SELECT pg_create_physical_replication_slot($1, true, true)",
		  1, slot_params, NULL);
	if (r < 0) {
		writer_log(w, "warning: no WAL reservation: %s", w->message);
		w->message[0] = '\0';
		p->slot[0] = '\0';
	}

	if (asprintf(&label, "dm-shadow set %llu", (unsigned long long)w->set) < 0)
		return writer_fail(w, -ENOMEM, "out of memory");
	params[0] = label;
	r = query_value(w, p->version >= 150000 ?
			"SELECT pg_backup_start($1, true)" :
			"SELECT pg_start_backup($1, true, false)",
			1, params, &p->start_lsn);
	if (r < 0)
		return r;
	p->backup_running = true;
	writer_log(w, "online backup '%s' started at %s", label, p->start_lsn);
	return 0;
}

/* End the backup; keep what pg_backup_stop returns. */
static int stop_backup(struct writer *w)
{
	struct pg_writer *p = priv(w);
	_cleanup_result_ PGresult *res = NULL;
	int r;

	r = query(w, p->version >= 150000 ?
		  "SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(false)" :
		  "SELECT lsn, labelfile, spcmapfile FROM pg_stop_backup(false, false)",
		  0, NULL, &res);
	if (r < 0)
		return r;
	p->backup_running = false;
	if (PQntuples(res) != 1)
		return writer_fail(w, -EIO, "the backup stop returned %d rows", PQntuples(res));
	free(p->stop_lsn);
	free(p->labelfile);
	free(p->spcmapfile);
	p->stop_lsn = strdup(PQgetvalue(res, 0, 0));
	p->labelfile = strdup(PQgetvalue(res, 0, 1));
	p->spcmapfile = strdup(PQgetvalue(res, 0, 2));
	if (!p->stop_lsn || !p->labelfile || !p->spcmapfile)
		return writer_fail(w, -ENOMEM, "out of memory");
	return 0;
}

static int pg_freeze(struct writer *w, uint64_t timeout_ms)
{
	struct pg_writer *p = priv(w);
	int r;

	r = stop_backup(w);
	if (r < 0)
		return r;
	writer_log(w, "online backup ended at %s, before the snapshot: the copy holds all of its WAL",
		   p->stop_lsn);
	return 0;
}

static int pg_thaw(struct writer *w, bool *ret_held)
{
	*ret_held = PQstatus(priv(w)->conn) == CONNECTION_OK &&
		    query(w, "SELECT 1", 0, NULL, NULL) >= 0;
	if (!*ret_held)
		writer_log(w, "the session ended during the snapshot: %s", w->message);
	w->message[0] = '\0';
	return 0;
}

static int add_string(json_object *o, const char *key, const char *value)
{
	json_object *v = json_object_new_string(value);

	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int pg_post_snapshot(struct writer *w, const struct shadow_proto_request *req,
			    json_object **ret_data)
{
	struct pg_writer *p = priv(w);
	json_object *data = json_object_new_object();

	if (!data || add_string(data, "backup_label", p->labelfile) < 0 ||
	    add_string(data, "tablespace_map", p->spcmapfile) < 0 ||
	    add_string(data, "start_lsn", p->start_lsn) < 0 ||
	    add_string(data, "stop_lsn", p->stop_lsn) < 0 ||
	    add_string(data, "data_directory", p->datadir) < 0) {
		json_object_put(data);
		return writer_fail(w, -ENOMEM, "out of memory");
	}
	*ret_data = data;
	return 0;
}

static int pg_abort(struct writer *w)
{
	struct pg_writer *p = priv(w);

	if (!p->backup_running) {
		writer_log(w, "the set was abandoned; the online backup ended at freeze already");
		return 0;
	}
	writer_log(w, "the set was abandoned: ending the online backup");
	return stop_backup(w);
}

static void pg_release(struct writer *w)
{
	struct pg_writer *p = priv(w);

	/* The server ends a running backup and drops the slot with us. */
	if (p->conn)
		PQfinish(p->conn);
	p->conn = NULL;
	p->backup_running = false;
	free(p->datadir);
	free(p->start_lsn);
	free(p->stop_lsn);
	free(p->labelfile);
	free(p->spcmapfile);
	p->datadir = p->start_lsn = p->stop_lsn = p->labelfile = p->spcmapfile = NULL;
}

static const struct writer_ops pg_ops = {
	.kind = "postgresql",
	.keys = keys,
	.priv_size = sizeof(struct pg_writer),
	.identify = pg_identify,
	.prepare = pg_prepare,
	.freeze = pg_freeze,
	.thaw = pg_thaw,
	.post_snapshot = pg_post_snapshot,
	.abort = pg_abort,
	.release = pg_release,
};

int main(int argc, char **argv)
{
	return writer_main(&pg_ops, argc, argv);
}

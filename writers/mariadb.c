/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The MariaDB (and MySQL) writer (shadow-writers(8)), through the
 * MariaDB Connector/C (libmariadb).
 *
 * freeze: FLUSH TABLES WITH READ LOCK in the writer's one session: MyISAM
 * and Aria tables are flushed and closed, every statement that writes and
 * every commit waits; InnoDB's own background writes go on, and its redo
 * log makes the copy recoverable like after a crash.  The lock belongs to
 * the session, so it is held exactly as long as the session lives and has
 * not said UNLOCK TABLES: thaw checks that it is the same session, then
 * unlocks.  The binary log position read under the lock is the copy's
 * replication position, recorded with the set.
 */
#include <errno.h>
#include <json-c/json.h>
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "writer.h"

struct maria_writer {
	MYSQL *conn;
	bool locked;
	unsigned long thread_id;	/* of the session holding the lock */
	char *datadir;
	char *binlog_file;		/* NULL: binary log off */
	char *binlog_pos;
	char *gtid_pos;
};

static const struct conf_key keys[] = {
	{ "host", false },
	{ "port", false },
	{ "socket", false },
	{ "user", false },
	{ "password", false },
	{ "option-file", false },
	{ "lock-wait-timeout", false },
	{}
};

DEFINE_TRIVIAL_CLEANUP_FUNC(MYSQL_RES *, mysql_free_result);
#define _cleanup_res_ _cleanup_(mysql_free_resultp)

static struct maria_writer *priv(struct writer *w)
{
	return w->priv;
}

static int run(struct writer *w, const char *sql)
{
	MYSQL *c = priv(w)->conn;

	if (mysql_query(c, sql))
		return writer_fail(w, -EIO, "%s: %s (error %u)", sql, mysql_error(c),
				   mysql_errno(c));
	return 0;
}

/* Run @sql and keep its rows (NULL result for a statement without). */
static int run_rows(struct writer *w, const char *sql, MYSQL_RES **ret)
{
	MYSQL *c = priv(w)->conn;
	int r = run(w, sql);

	if (r < 0)
		return r;
	*ret = mysql_store_result(c);
	if (!*ret && mysql_errno(c))
		return writer_fail(w, -EIO, "%s: %s", sql, mysql_error(c));
	return 0;
}

static int connect_server(struct writer *w)
{
	struct maria_writer *m = priv(w);
	const char *opt = conf_get(&w->conf, "option-file", NULL);
	my_bool no = 0;
	unsigned int port, timeout = 10;
	int r;

	r = conf_get_uint(&w->conf, "port", 0, 0, 65535, &port);
	if (r < 0)
		return writer_fail(w, r, "%s", w->conf.error);
	m->conn = mysql_init(NULL);
	if (!m->conn)
		return writer_fail(w, -ENOMEM, "out of memory");
	/* A reconnect would be a new session, without the lock. */
	mysql_options(m->conn, MYSQL_OPT_RECONNECT, &no);
	mysql_options(m->conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	if (opt) {
		mysql_options(m->conn, MYSQL_READ_DEFAULT_FILE, opt);
		mysql_options(m->conn, MYSQL_READ_DEFAULT_GROUP, "client");
	}
	if (!mysql_real_connect(m->conn, conf_get(&w->conf, "host", NULL),
				conf_get(&w->conf, "user", opt ? NULL : "root"),
				conf_get(&w->conf, "password", NULL), NULL, port,
				conf_get(&w->conf, "socket", NULL), 0))
		return writer_fail(w, -ECONNREFUSED, "cannot connect: %s",
				   mysql_error(m->conn));
	return 0;
}

static char *strip_slash(char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

/* A directory setting outside the data directory is a path of its own. */
static int add_dir(struct shadow_proto_metadata *md, const char *value, bool file)
{
	_cleanup_free_ char *v = NULL;

	if (!value || value[0] != '/')
		return 0;	/* empty or relative: inside the data directory */
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	if (file) {
		char *s = strrchr(v, '/');

		s[s == v ? 1 : 0] = '\0';
	}
	return metadata_add_path(md, strip_slash(v));
}

static int maria_identify(struct writer *w, struct shadow_proto_metadata *md)
{
	struct maria_writer *m = priv(w);
	_cleanup_res_ MYSQL_RES *res = NULL;
	const char *version = "?", *pid = NULL;
	const char *dirs[4] = {}, *binlog = NULL;
	MYSQL_ROW row;
	int r;

	r = connect_server(w);
	if (r < 0)
		return r;
	/* SHOW ... WHERE: a variable this server does not have is just absent. */
	r = run_rows(w, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('datadir', 'version', "
		     "'innodb_data_home_dir', 'innodb_log_group_home_dir', 'innodb_undo_directory', "
		     "'aria_log_dir_path', 'log_bin_basename', 'pid_file')", &res);
	if (r < 0)
		return r;
	while (res && (row = mysql_fetch_row(res))) {
		const char *k = row[0], *v = row[1];

		if (!k || !v)
			continue;
		if (!strcmp(k, "datadir")) {
			free(m->datadir);
			m->datadir = strdup(v);
			if (!m->datadir)
				return writer_fail(w, -ENOMEM, "out of memory");
			strip_slash(m->datadir);
		} else if (!strcmp(k, "version")) {
			version = v;
		} else if (!strcmp(k, "pid_file")) {
			pid = v;
		} else if (!strcmp(k, "log_bin_basename")) {
			binlog = v;
		} else if (!strcmp(k, "innodb_data_home_dir")) {
			dirs[0] = v;
		} else if (!strcmp(k, "innodb_log_group_home_dir")) {
			dirs[1] = v;
		} else if (!strcmp(k, "innodb_undo_directory")) {
			dirs[2] = v;
		} else if (!strcmp(k, "aria_log_dir_path")) {
			dirs[3] = v;
		}
	}
	if (!m->datadir || m->datadir[0] != '/')
		return writer_fail(w, -EIO, "the server reports no absolute datadir");

	if (set_strf(&md->application, "%s %s",
		     strstr(version, "MariaDB") ? "MariaDB" : "MySQL", version) < 0 ||
	    metadata_add_component(md, "main") < 0 ||
	    metadata_add_path(md, m->datadir) < 0)
		return writer_fail(w, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
		if (add_dir(md, dirs[i], false) < 0)
			return writer_fail(w, -ENOMEM, "out of memory");
	if (add_dir(md, binlog, true) < 0)
		return writer_fail(w, -ENOMEM, "out of memory");
	/* A pid file in the data directory would name a live process. */
	if (pid && !strncmp(pid, m->datadir, strlen(m->datadir)) &&
	    pid[strlen(m->datadir)] == '/' && metadata_add_exclude(md, pid) < 0)
		return writer_fail(w, -ENOMEM, "out of memory");

	r = set_strf(&md->restore,
		     "The copy of %s was taken under FLUSH TABLES WITH READ LOCK: no statement was writing and MyISAM and "
		     "Aria tables were flushed; InnoDB recovers from its redo log when a server starts on it, as after a "
		     "crash. Expose the copy writable (or restore its files), start mariadbd with --datadir on it (another "
		     "--port and --socket if the original runs), and check it with mariadb-check --all-databases. With "
		     "binary logging on, this writer's data holds the binary log position of the copy (binlog_file, "
		     "binlog_position, gtid_binlog_pos) for starting a replica from it.",
		     m->datadir);
	if (r < 0)
		return writer_fail(w, r, "out of memory");
	writer_log(w, "%s, datadir %s", md->application, m->datadir);
	return 0;
}

static int maria_prepare(struct writer *w)
{
	_cleanup_free_ char *sql = NULL;
	unsigned int t;
	int r;

	/* FLUSH TABLES WITH READ LOCK waits behind long statements: bound it. */
	r = conf_get_uint(&w->conf, "lock-wait-timeout", 30, 1, 31536000, &t);
	if (r < 0)
		return writer_fail(w, r, "%s", w->conf.error);
	if (asprintf(&sql, "SET SESSION lock_wait_timeout = %u", t) < 0)
		return writer_fail(w, -ENOMEM, "out of memory");
	return run(w, sql);
}

static int dup_field(char **p, const char *v)
{
	free(*p);
	*p = v ? strdup(v) : NULL;
	return !v || *p ? 0 : -ENOMEM;
}

/* Under the lock, the binary log stands still: note where. */
static int read_binlog_position(struct writer *w)
{
	struct maria_writer *m = priv(w);
	_cleanup_res_ MYSQL_RES *res = NULL, *gtid = NULL;
	MYSQL_ROW row;
	int r;

	r = run_rows(w, "SHOW MASTER STATUS", &res);
	if (r < 0)
		return r;
	row = res ? mysql_fetch_row(res) : NULL;
	if (!row)
		return 0;	/* binary logging is off */
	if (dup_field(&m->binlog_file, row[0]) < 0 || dup_field(&m->binlog_pos, row[1]) < 0)
		return writer_fail(w, -ENOMEM, "out of memory");
	/* MariaDB only; MySQL's GTIDs are in SHOW MASTER STATUS already. */
	if (run_rows(w, "SELECT @@GLOBAL.gtid_binlog_pos", &gtid) >= 0 && gtid &&
	    (row = mysql_fetch_row(gtid)) && dup_field(&m->gtid_pos, row[0]) < 0)
		return writer_fail(w, -ENOMEM, "out of memory");
	w->message[0] = '\0';
	return 0;
}

static int maria_freeze(struct writer *w, uint64_t timeout_ms)
{
	struct maria_writer *m = priv(w);
	int r;

	r = run(w, "FLUSH TABLES WITH READ LOCK");
	if (r < 0)
		return r;
	m->locked = true;
	m->thread_id = mysql_thread_id(m->conn);
	r = read_binlog_position(w);
	if (r < 0)
		return r;
	writer_log(w, "FLUSH TABLES WITH READ LOCK held by session %lu%s%s%s%s", m->thread_id,
		   m->binlog_file ? ", binary log at " : "",
		   m->binlog_file ? m->binlog_file : "",
		   m->binlog_file ? ":" : "", m->binlog_file ? m->binlog_pos : "");
	return 0;
}

/* Still the session that took the lock (no reconnect, not killed)? */
static bool same_session(struct writer *w)
{
	struct maria_writer *m = priv(w);
	_cleanup_res_ MYSQL_RES *res = NULL;
	MYSQL_ROW row;

	if (run_rows(w, "SELECT CONNECTION_ID()", &res) < 0 || !res ||
	    !(row = mysql_fetch_row(res)) || !row[0])
		return false;
	return strtoul(row[0], NULL, 10) == m->thread_id;
}

static int unlock(struct writer *w)
{
	struct maria_writer *m = priv(w);

	if (!m->locked)
		return 0;
	m->locked = false;
	return run(w, "UNLOCK TABLES");
}

static int maria_thaw(struct writer *w, bool *ret_held)
{
	int r;

	*ret_held = priv(w)->locked && same_session(w);
	if (!*ret_held)
		writer_log(w, "the session holding the lock ended during the snapshot%s%s",
			   w->message[0] ? ": " : "", w->message);
	w->message[0] = '\0';
	r = unlock(w);
	if (r < 0 && *ret_held)
		return r;	/* the message says why */
	w->message[0] = '\0';
	return 0;
}

static int add_string(json_object *o, const char *key, const char *value)
{
	json_object *v;

	if (!value)
		return 0;
	v = json_object_new_string(value);
	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int maria_post_snapshot(struct writer *w, const struct shadow_proto_request *req,
			       json_object **ret_data)
{
	struct maria_writer *m = priv(w);
	json_object *data;

	if (!m->binlog_file)
		return 0;
	data = json_object_new_object();
	if (!data || add_string(data, "binlog_file", m->binlog_file) < 0 ||
	    add_string(data, "binlog_position", m->binlog_pos) < 0 ||
	    add_string(data, "gtid_binlog_pos", m->gtid_pos) < 0) {
		json_object_put(data);
		return writer_fail(w, -ENOMEM, "out of memory");
	}
	*ret_data = data;
	return 0;
}

static int maria_abort(struct writer *w)
{
	return unlock(w);
}

static void maria_release(struct writer *w)
{
	struct maria_writer *m = priv(w);

	/* Closing the session drops the lock if UNLOCK could not. */
	if (m->conn) {
		if (m->locked && mysql_query(m->conn, "UNLOCK TABLES"))
			writer_log(w, "UNLOCK TABLES: %s", mysql_error(m->conn));
		mysql_close(m->conn);
	}
	m->conn = NULL;
	m->locked = false;
	free(m->datadir);
	free(m->binlog_file);
	free(m->binlog_pos);
	free(m->gtid_pos);
	m->datadir = m->binlog_file = m->binlog_pos = m->gtid_pos = NULL;
}

static const struct writer_ops maria_ops = {
	.kind = "mariadb",
	.keys = keys,
	.priv_size = sizeof(struct maria_writer),
	.identify = maria_identify,
	.prepare = maria_prepare,
	.freeze = maria_freeze,
	.thaw = maria_thaw,
	.post_snapshot = maria_post_snapshot,
	.abort = maria_abort,
	.release = maria_release,
};

int main(int argc, char **argv)
{
	return writer_main(&maria_ops, argc, argv);
}

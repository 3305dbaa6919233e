/*
 * harness.h — real MariaDB servers for integration tests.
 *
 * th_servers() returns the shared source (binlog on, ROW, FULL image) and target servers.  Under
 * CTest they are started once by the `servers_start` fixture (tests/CMakeLists.txt) and found
 * through BARGE_TEST_ENV; a test binary run by hand starts its own pair with servers.sh, which
 * a watchdog stops when the binary exits, however it exits.  Without mariadbd the calling case
 * is skipped, saying why.
 *
 * Tests isolate themselves by database: th_fresh_db() drops and creates one database on a
 * server, named after the test.  th_start_server() starts an extra server with its own options
 * (a TLS-only server, binlog_format=STATEMENT...) that is stopped with the others.
 */
#ifndef BARGE_TESTS_HARNESS_H
#define BARGE_TESTS_HARNESS_H

#include <mysql.h>
#include <stdbool.h>
#include <sys/types.h>

struct th_server {
	char name[64];
	char host[64];
	unsigned port;
	char socket[512];
	char dir[512];
	char admin_user[64], admin_password[64];   /* ALL PRIVILEGES */
	char src_user[64], src_reload_user[64], src_password[64]; /* the seed's source grants */
	char tgt_user[64], tgt_password[64];       /* the seed's target grants */
	char tls_ca[512]; /* when set, th_connect / th_try_connect use TLS verified with this CA */
};

struct th_servers {
	struct th_server source;
	struct th_server target;
	char dir[512]; /* where servers.sh keeps them */
};

/* The shared pair (started on first use).  Skips the current case when no server can run. */
const struct th_servers *th_servers(void);

/* Start an extra server NAME with role "source" or "target" and extra mariadbd options
 * (NULL-terminated).  Fails the case on error. */
void th_start_server(struct th_server *out, const char *name, const char *role, ...)
	__attribute__((sentinel));
/* Stop (SIGTERM, then SIGKILL after 10 s) or kill -9 a server, and start it again. */
void th_stop_server(const struct th_server *s);
void th_kill_server(const struct th_server *s);
void th_restart_server(const struct th_server *s);

/* Connect as the admin user over TCP; db may be NULL.  Fails the case on error. */
MYSQL *th_connect(const struct th_server *s, const char *db);
/* Connect as any user; returns NULL and fills errbuf on failure (for negative tests).  Over TLS
 * when s->tls_ca is set. */
MYSQL *th_try_connect(const struct th_server *s, const char *user, const char *password,
		      const char *db, char *errbuf, size_t errlen);

/* Run one statement (printf-style); fails the case with the server's error. */
void th_exec(MYSQL *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run a query and return the first column of the first row as a heap string ("" for no row,
 * NULL for SQL NULL).  Fails the case on error. */
char *th_query_value(MYSQL *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long long th_query_int(MYSQL *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Drop and create database `name` on s. */
void th_fresh_db(const struct th_server *s, const char *name);

/* Delete job's checkpoints (barge_meta's jobs, tables, chunks and positions rows) on the target
 * s, so that a job run again starts afresh instead of resuming an earlier run's. */
void th_forget_job(const struct th_server *s, const char *job);

/*
 * Compare a table on two servers row by row, in primary-key order (or ordered by every column
 * when there is none), over every column as text with NULL distinct from ''.  Returns the number
 * of rows compared; fails the case at the first difference, printing both rows.
 */
long long th_compare_tables(const struct th_server *a, const char *db_a, const char *table_a,
			    const struct th_server *b, const char *db_b, const char *table_b);

/*
 * Write job file name.yaml in th_tmpdir() for the shared servers: mode, the source user
 * (NULL: the seed's barge_src) and target user, passwords as ${env:BARGE_T_SRC} /
 * ${env:BARGE_T_TGT}, then spec_extra (YAML lines under spec:).  Returns its path (static
 * storage, overwritten by the next call).
 */
const char *th_write_job(const char *name, const char *mode, const char *src_user,
			 const char *spec_extra);

/* A scratch directory for this test binary (removed when it exits successfully). */
const char *th_tmpdir(void);

/* Path of the barge executable under test (from BARGE_BIN, set by CTest).  Also points
 * BARGE_STORE at a store of this test binary's own (under th_tmpdir()) unless it is set. */
const char *th_barge_bin(void);

/*
 * Run a shell command line, capturing stdout+stderr into a heap string (*out, may be NULL) and
 * returning the exit status (or 128+signal).  env entries "K=V" (NULL-terminated) are added.
 */
int th_run(char **out, const char *const *env, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Start `barge ARGS...` (args NULL-terminated, after the executable) in the background with
 * its stdout and stderr appended to log, env entries "K=V" (NULL-terminated, may be NULL) added
 * to its environment.  It is killed with SIGKILL should the test process die first, so no barge
 * outlives a failed case.  Returns its pid; fails the case when it cannot fork.
 */
pid_t th_start_barge(const char *log, const char *const *env, const char *const *args);

/* Item id of the first job in `barge check --json` output doc; fails the case when absent. */
struct json_t *th_check_item(struct json_t *doc, const char *id);

#endif

/*
 * harness.c — real MariaDB servers for integration tests (see harness.h).
 *
 * Servers are started and stopped by servers.sh beside this file; this side reads the env files
 * it writes, connects, and offers the small SQL helpers every integration test needs.
 */
#include "tests/integration/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test.h"

#ifndef BARGE_SOURCE_DIR
#error "BARGE_SOURCE_DIR must be defined by the build"
#endif

static struct th_servers shared;
static int shared_state; /* 0 unknown, 1 ready */
static char tmpdir[512];
static char extra_dir[600];

static void remove_tree(const char *path)
{
	char cmd[1200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "harness: could not remove %s\n", path);
}

static void cleanup_at_exit(void)
{
	char cmd[1400];

	if (extra_dir[0]) {
		snprintf(cmd, sizeof cmd, "'%s/tests/integration/servers.sh' stop '%s' >/dev/null 2>&1",
			 BARGE_SOURCE_DIR, extra_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "harness: stopping extra servers failed\n");
	}
	if (shared_state == 1 && !getenv("BARGE_TEST_ENV")) {
		snprintf(cmd, sizeof cmd, "'%s/tests/integration/servers.sh' stop '%s' >/dev/null 2>&1",
			 BARGE_SOURCE_DIR, shared.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "harness: stopping servers failed\n");
	}
	if (tmpdir[0] && !getenv("BARGE_KEEP_TMP"))
		remove_tree(tmpdir);
}

const char *th_tmpdir(void)
{
	const char *base;

	if (tmpdir[0])
		return tmpdir;
	base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/barge-test-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		TEST_FAILF("mkdtemp %s: %s", tmpdir, strerror(errno));
	atexit(cleanup_at_exit);
	return tmpdir;
}

const char *th_barge_bin(void)
{
	const char *bin = getenv("BARGE_BIN");

	if (!bin || access(bin, X_OK) != 0)
		TEST_FAILF("BARGE_BIN does not name the barge executable (got %s)", bin ? bin : "unset");
	/* every test binary records its jobs in a store of its own */
	if (!getenv("BARGE_STORE")) {
		char url[1100];

		snprintf(url, sizeof url, "dir:%s/store", th_tmpdir());
		setenv("BARGE_STORE", url, 1);
	}
	return bin;
}

static bool have_mariadbd(void)
{
	return access("/usr/sbin/mariadbd", X_OK) == 0 ||
	       system("command -v mariadbd >/dev/null 2>&1") == 0;
}

/* Copy the value of PREFIX_KEY from an env file's text into dst. */
static void env_get(const char *text, const char *prefix, const char *key, char *dst, size_t n)
{
	char want[128];
	const char *p = text;
	size_t wl;

	snprintf(want, sizeof want, "%s_%s=", prefix, key);
	wl = strlen(want);
	dst[0] = '\0';
	while (p && *p) {
		if (strncmp(p, want, wl) == 0) {
			const char *v = p + wl, *e = strchr(v, '\n');
			size_t len = e ? (size_t)(e - v) : strlen(v);

			if (len >= n)
				len = n - 1;
			memcpy(dst, v, len);
			dst[len] = '\0';
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)len + 1);
	if (text && fread(text, 1, (size_t)len, f) != (size_t)len) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

static void load_server(struct th_server *s, const char *envfile, const char *name)
{
	char prefix[64], port[16];
	char *text = read_file(envfile);

	if (!text)
		TEST_FAILF("cannot read %s: %s", envfile, strerror(errno));
	snprintf(prefix, sizeof prefix, "%s", name);
	for (char *p = prefix; *p; p++)
		*p = (*p == '-') ? '_' : (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
	snprintf(s->name, sizeof s->name, "%s", name);
	env_get(text, prefix, "HOST", s->host, sizeof s->host);
	env_get(text, prefix, "PORT", port, sizeof port);
	env_get(text, prefix, "SOCKET", s->socket, sizeof s->socket);
	env_get(text, prefix, "DIR", s->dir, sizeof s->dir);
	env_get(text, prefix, "ADMIN_USER", s->admin_user, sizeof s->admin_user);
	env_get(text, prefix, "ADMIN_PASSWORD", s->admin_password, sizeof s->admin_password);
	env_get(text, prefix, "SRC_USER", s->src_user, sizeof s->src_user);
	env_get(text, prefix, "SRC_RELOAD_USER", s->src_reload_user, sizeof s->src_reload_user);
	env_get(text, prefix, "SRC_PASSWORD", s->src_password, sizeof s->src_password);
	env_get(text, prefix, "TGT_USER", s->tgt_user, sizeof s->tgt_user);
	env_get(text, prefix, "TGT_PASSWORD", s->tgt_password, sizeof s->tgt_password);
	free(text);
	s->port = (unsigned)atoi(port);
	if (!s->port || !s->host[0])
		TEST_FAILF("%s has no %s server", envfile, name);
}

/* Run servers.sh with printf-style arguments, watched by this process. */
static int servers_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int servers_sh(const char *fmt, ...)
{
	char *args = NULL, *cmd = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&args, fmt, ap) < 0)
		TEST_FAILF("out of memory");
	va_end(ap);
	if (asprintf(&cmd, "BARGE_WATCH_PID=%ld '%s/tests/integration/servers.sh' %s",
		     (long)getpid(), BARGE_SOURCE_DIR, args) < 0)
		TEST_FAILF("out of memory");
	rc = system(cmd);
	free(args);
	free(cmd);
	return rc;
}

const struct th_servers *th_servers(void)
{
	const char *envfile = getenv("BARGE_TEST_ENV");
	char path[700];

	if (shared_state == 1)
		return &shared;
	if (envfile && *envfile) {
		snprintf(shared.dir, sizeof shared.dir, "%s", envfile);
		char *slash = strrchr(shared.dir, '/');
		if (slash)
			*slash = '\0';
		load_server(&shared.source, envfile, "source");
		load_server(&shared.target, envfile, "target");
		shared_state = 1;
		return &shared;
	}
	if (!have_mariadbd())
		TEST_SKIP("mariadbd is not installed (apt-get install mariadb-server), and "
			  "BARGE_TEST_ENV names no running servers");
	if ((size_t)snprintf(shared.dir, sizeof shared.dir, "%s/servers", th_tmpdir()) >=
	    sizeof shared.dir)
		TEST_FAILF("temporary directory path too long");
	if (servers_sh("start '%s' >'%s.log' 2>&1", shared.dir, shared.dir) != 0)
		TEST_FAILF("servers.sh could not start the servers; see %s.log", shared.dir);
	shared_state = 1;
	snprintf(path, sizeof path, "%.600s/env", shared.dir);
	load_server(&shared.source, path, "source");
	load_server(&shared.target, path, "target");
	return &shared;
}

void th_start_server(struct th_server *out, const char *name, const char *role, ...)
{
	char *opts = NULL, *path = NULL;
	size_t optlen = 0;
	FILE *f;
	va_list ap;
	const char *opt;

	if (!have_mariadbd())
		TEST_SKIP("mariadbd is not installed (apt-get install mariadb-server)");
	if (!extra_dir[0]) {
		snprintf(extra_dir, sizeof extra_dir, "%.500s/extra", th_tmpdir());
		/* the log below is opened by the shell before servers.sh makes the directory */
		if (mkdir(extra_dir, 0700) != 0 && errno != EEXIST)
			TEST_FAILF("mkdir %s: %s", extra_dir, strerror(errno));
	}
	f = open_memstream(&opts, &optlen);
	va_start(ap, role);
	while ((opt = va_arg(ap, const char *)) != NULL)
		fprintf(f, " '%s'", opt);
	va_end(ap);
	fclose(f);
	if (servers_sh("start-one '%s' '%s' '%s'%s >>'%s/%s.log' 2>&1", extra_dir, name, role, opts,
		       extra_dir, name) != 0)
		TEST_FAILF("servers.sh could not start %s; see %s/%s.log and %s/%s/error.log",
			   name, extra_dir, name, extra_dir, name);
	free(opts);
	if (asprintf(&path, "%s/%s.env", extra_dir, name) < 0)
		TEST_FAILF("out of memory");
	load_server(out, path, name);
	free(path);
}

static void server_dir_parent(const struct th_server *s, char *parent, size_t n)
{
	char *slash;

	snprintf(parent, n, "%s", s->dir);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
}

void th_stop_server(const struct th_server *s)
{
	char parent[512];

	server_dir_parent(s, parent, sizeof parent);
	if (servers_sh("stop '%s' '%s'", parent, s->name) != 0)
		TEST_FAILF("could not stop %s", s->name);
}

void th_kill_server(const struct th_server *s)
{
	char path[700];
	char *pid;

	snprintf(path, sizeof path, "%s/mariadbd.pid", s->dir);
	pid = read_file(path);
	if (!pid)
		TEST_FAILF("%s is not running", s->name);
	kill((pid_t)atol(pid), SIGKILL);
	for (int i = 0; i < 100 && kill((pid_t)atol(pid), 0) == 0; i++)
		usleep(50000);
	free(pid);
	unlink(path);
}

void th_restart_server(const struct th_server *s)
{
	char parent[512];

	server_dir_parent(s, parent, sizeof parent);
	if (servers_sh("restart '%s' '%s' >>'%s/%s.restart.log' 2>&1", parent, s->name, parent,
		       s->name) != 0)
		TEST_FAILF("could not restart %s; see %s/error.log", s->name, s->dir);
}

MYSQL *th_try_connect(const struct th_server *s, const char *user, const char *password,
		      const char *db, char *errbuf, size_t errlen)
{
	MYSQL *c = mysql_init(NULL);
	unsigned timeout = 10;

	if (!c) {
		snprintf(errbuf, errlen, "mysql_init failed");
		return NULL;
	}
	mysql_options(c, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (s->tls_ca[0]) {
		my_bool on = 1;

		mysql_ssl_set(c, NULL, NULL, s->tls_ca, NULL, NULL);
		mysql_options(c, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
		mysql_options(c, MYSQL_OPT_SSL_ENFORCE, &on);
	}
	if (!mysql_real_connect(c, s->host, user, password, db, s->port, NULL, 0)) {
		snprintf(errbuf, errlen, "%s (%u)", mysql_error(c), mysql_errno(c));
		mysql_close(c);
		return NULL;
	}
	return c;
}

MYSQL *th_connect(const struct th_server *s, const char *db)
{
	char err[512];
	MYSQL *c = th_try_connect(s, s->admin_user, s->admin_password, db, err, sizeof err);

	if (!c)
		TEST_FAILF("connect to %s (127.0.0.1:%u) as %s: %s", s->name, s->port, s->admin_user,
			   err);
	return c;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		TEST_FAILF("out of memory");
	return s;
}

void th_exec(MYSQL *c, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	MYSQL_RES *res;

	va_start(ap, fmt);
	sql = vformat(fmt, ap);
	va_end(ap);
	if (mysql_real_query(c, sql, strlen(sql)) != 0) {
		fprintf(stderr, "  SQL: %.2000s\n", sql);
		free(sql);
		TEST_FAILF("%s (%u)", mysql_error(c), mysql_errno(c));
	}
	free(sql);
	res = mysql_store_result(c);
	if (res)
		mysql_free_result(res);
}

static char *query_value_v(MYSQL *c, const char *fmt, va_list ap)
{
	char *sql = vformat(fmt, ap);
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *value;

	if (mysql_real_query(c, sql, strlen(sql)) != 0) {
		fprintf(stderr, "  SQL: %.2000s\n", sql);
		free(sql);
		TEST_FAILF("%s (%u)", mysql_error(c), mysql_errno(c));
	}
	free(sql);
	res = mysql_store_result(c);
	if (!res)
		return strdup("");
	row = mysql_fetch_row(res);
	if (!row)
		value = strdup("");
	else if (!row[0])
		value = NULL;
	else
		value = strndup(row[0], mysql_fetch_lengths(res)[0]);
	mysql_free_result(res);
	return value;
}

char *th_query_value(MYSQL *c, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = query_value_v(c, fmt, ap);
	va_end(ap);
	return v;
}

long long th_query_int(MYSQL *c, const char *fmt, ...)
{
	va_list ap;
	char *v;
	long long n;

	va_start(ap, fmt);
	v = query_value_v(c, fmt, ap);
	va_end(ap);
	if (!v || !*v) {
		free(v);
		TEST_FAILF("query returned no value");
	}
	n = atoll(v);
	free(v);
	return n;
}

/* Backtick-quote name into dst. */
static void quote_ident(char *dst, size_t n, const char *name)
{
	size_t o = 0;

	dst[o++] = '`';
	for (const char *p = name; *p && o < n - 3; p++) {
		if (*p == '`')
			dst[o++] = '`';
		dst[o++] = *p;
	}
	dst[o++] = '`';
	dst[o] = '\0';
}

/*
 * The ORDER BY list for a table: its primary key columns, else every column by position compared
 * as bytes, so that both servers return rows in the same order.
 */
static char *order_by(MYSQL *c, const char *db, const char *table)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *list = NULL, *sql = NULL;
	char edb[1200], etable[1200];
	size_t len = 0;
	FILE *f = open_memstream(&list, &len);
	int n = 0;

	mysql_real_escape_string(c, edb, db, strlen(db) > 500 ? 500 : strlen(db));
	mysql_real_escape_string(c, etable, table, strlen(table) > 500 ? 500 : strlen(table));
	for (int pk = 1; pk >= 0 && n == 0; pk--) {
		if (asprintf(&sql,
			     "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='%s' "
			     "AND TABLE_NAME='%s' %s ORDER BY ORDINAL_POSITION",
			     edb, etable, pk ? "AND COLUMN_KEY='PRI'" : "") < 0)
			TEST_FAILF("out of memory");
		if (mysql_query(c, sql) != 0)
			TEST_FAILF("%s", mysql_error(c));
		free(sql);
		res = mysql_store_result(c);
		while ((row = mysql_fetch_row(res)) != NULL) {
			char q[600];

			quote_ident(q, sizeof q, row[0]);
			if (pk)
				fprintf(f, "%s%s", n++ ? "," : "", q);
			else
				fprintf(f, "%sCAST(%s AS BINARY)", n++ ? "," : "", q);
		}
		mysql_free_result(res);
	}
	fclose(f);
	if (n == 0)
		TEST_FAILF("table %s.%s has no columns (does it exist?)", db, table);
	return list;
}

void th_fresh_db(const struct th_server *s, const char *name)
{
	MYSQL *c = th_connect(s, NULL);
	char q[600];

	quote_ident(q, sizeof q, name);
	th_exec(c, "DROP DATABASE IF EXISTS %s", q);
	th_exec(c, "CREATE DATABASE %s", q);
	mysql_close(c);
}

void th_forget_job(const struct th_server *s, const char *job)
{
	MYSQL *c = th_connect(s, NULL);
	char lit[300];

	if (strlen(job) >= 100 || strpbrk(job, "'\\"))
		TEST_FAILF("th_forget_job: job name %s is not a plain name", job);
	snprintf(lit, sizeof lit, "'%s'", job);
	for (const char *const *mt = (const char *const[]){"jobs", "tables", "chunks", "positions",
							   NULL};
	     *mt; mt++)
		if (th_query_int(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
				    "TABLE_SCHEMA = 'barge_meta' AND TABLE_NAME = '%s'", *mt) > 0)
			th_exec(c, "DELETE FROM barge_meta.`%s` WHERE job = %s", *mt, lit);
	mysql_close(c);
}

/* `a`.`b` into dst */
static void qname(char *dst, size_t n, const char *db, const char *table)
{
	char qd[600], qt[600];

	quote_ident(qd, sizeof qd, db);
	quote_ident(qt, sizeof qt, table);
	snprintf(dst, n, "%s.%s", qd, qt);
}

long long th_compare_tables(const struct th_server *a, const char *db_a, const char *table_a,
			    const struct th_server *b, const char *db_b, const char *table_b)
{
	MYSQL *ca = th_connect(a, NULL), *cb = th_connect(b, NULL);
	char qa[1300], qb[1300];
	char *ord = order_by(ca, db_a, table_a);
	char *sql;
	MYSQL_RES *ra, *rb;
	MYSQL_ROW rowa, rowb;
	long long rows = 0;
	unsigned ncol;

	qname(qa, sizeof qa, db_a, table_a);
	qname(qb, sizeof qb, db_b, table_b);
	th_exec(ca, "SET time_zone='+00:00'");
	th_exec(cb, "SET time_zone='+00:00'");
	if (asprintf(&sql, "SELECT * FROM %s ORDER BY %s", qa, ord) < 0)
		TEST_FAILF("out of memory");
	if (mysql_query(ca, sql) != 0)
		TEST_FAILF("%s: %s", sql, mysql_error(ca));
	free(sql);
	ra = mysql_use_result(ca);
	if (asprintf(&sql, "SELECT * FROM %s ORDER BY %s", qb, ord) < 0)
		TEST_FAILF("out of memory");
	if (mysql_query(cb, sql) != 0)
		TEST_FAILF("%s: %s", sql, mysql_error(cb));
	free(sql);
	rb = mysql_use_result(cb);
	ncol = mysql_num_fields(ra);
	if (ncol != mysql_num_fields(rb))
		TEST_FAILF("%s has %u columns, %s has %u", qa, ncol, qb, mysql_num_fields(rb));
	for (;;) {
		unsigned long *la, *lb;

		rowa = mysql_fetch_row(ra);
		rowb = mysql_fetch_row(rb);
		if (!rowa || !rowb) {
			if (rowa || rowb)
				TEST_FAILF("%s and %s differ in row count: %s has more than %lld rows",
					   qa, qb, rowa ? qa : qb, rows);
			break;
		}
		la = mysql_fetch_lengths(ra);
		lb = mysql_fetch_lengths(rb);
		for (unsigned i = 0; i < ncol; i++) {
			bool same = (!rowa[i] && !rowb[i]) ||
				    (rowa[i] && rowb[i] && la[i] == lb[i] &&
				     memcmp(rowa[i], rowb[i], la[i]) == 0);
			if (!same)
				TEST_FAILF("%s row %lld column %s differs: %s'%.*s' vs %s'%.*s'", qa,
					   rows + 1, mysql_fetch_field_direct(ra, i)->name,
					   rowa[i] ? "" : "NULL ", rowa[i] ? (int)la[i] : 0,
					   rowa[i] ? rowa[i] : "", rowb[i] ? "" : "NULL ",
					   rowb[i] ? (int)lb[i] : 0, rowb[i] ? rowb[i] : "");
		}
		rows++;
	}
	mysql_free_result(ra);
	mysql_free_result(rb);
	free(ord);
	mysql_close(ca);
	mysql_close(cb);
	return rows;
}

int th_run(char **out, const char *const *env, const char *fmt, ...)
{
	va_list ap;
	char *cmd, *full = NULL, *buf = NULL;
	size_t len = 0;
	FILE *mem, *p;
	char chunk[4096];
	size_t n;
	int status;

	va_start(ap, fmt);
	cmd = vformat(fmt, ap);
	va_end(ap);
	mem = open_memstream(&full, &len);
	for (const char *const *e = env; e && *e; e++)
		fprintf(mem, "%s ", *e);
	fprintf(mem, "%s 2>&1", cmd);
	fclose(mem);
	free(cmd);
	p = popen(full, "r");
	if (!p)
		TEST_FAILF("popen: %s", strerror(errno));
	mem = open_memstream(&buf, &len);
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		fwrite(chunk, 1, n, mem);
	fclose(mem);
	status = pclose(p);
	free(full);
	if (out)
		*out = buf;
	else
		free(buf);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

const char *th_write_job(const char *name, const char *mode, const char *src_user,
			 const char *spec_extra)
{
	const struct th_servers *s = th_servers();
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.yaml", th_tmpdir(), name);
	f = fopen(path, "w");
	if (!f)
		TEST_FAILF("cannot write %s", path);
	fprintf(f,
		"apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: %s}\nspec:\n"
		"  mode: %s\n"
		"  source: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_SRC}\"}\n"
		"  target: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_TGT}\"}\n"
		"%s",
		name, mode, s->source.port, src_user ? src_user : s->source.src_user, s->target.port,
		s->target.tgt_user, spec_extra);
	fclose(f);
	return path;
}

pid_t th_start_barge(const char *log, const char *const *env, const char *const *args)
{
	const char *bin = th_barge_bin();
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		char *argv[32] = {(char *)bin};
		size_t n = 1;
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		/* never outlive the test, however it ends */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || fd < 0)
			_exit(127);
		for (; env && *env; env++)
			putenv((char *)*env);
		for (; args && *args && n < 31; args++)
			argv[n++] = (char *)*args;
		argv[n] = NULL;
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		TEST_FAILF("fork: %s", strerror(errno));
	return pid;
}

json_t *th_check_item(json_t *doc, const char *id)
{
	json_t *items = json_object_get(json_array_get(json_object_get(doc, "jobs"), 0), "items");
	size_t i;
	json_t *it;

	json_array_foreach(items, i, it)
		if (strcmp(json_string_value(json_object_get(it, "id")), id) == 0)
			return it;
	TEST_FAILF("no item %s in the output", id);
	return NULL;
}

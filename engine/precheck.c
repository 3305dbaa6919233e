/*
 * precheck.c — the items of `barge check` (see precheck.h and docs/precheck.md).
 *
 * Each item is a function over a shared context (both connections, the job, its rules and its
 * selected tables, each fetched once) that sets its result.  A failing query inside an item
 * makes that item Failed with the server's message; it never stops the other items.
 */
#include "engine/precheck.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/buf.h"
#include "engine/db.h"
#include "engine/dump.h"
#include "rules/rules.h"

/* ---------------------------------------------------------------- items and their ids */

struct item {
	const char *id;
	const char *title;
};

static const struct item items[] = {
	{"source-connect", "the source accepts the job's login"},
	{"target-connect", "the target accepts the job's login"},
	{"source-version", "the source's version is supported"},
	{"source-privileges", "the source user has the required privileges"},
	{"target-privileges", "the target user has the required privileges"},
	{"binlog-enabled", "the source writes a binary log"},
	{"binlog-format", "binlog_format is ROW"},
	{"binlog-row-image", "binlog_row_image is FULL"},
	{"binlog-row-value-options", "binlog_row_value_options has no PARTIAL_JSON"},
	{"binlog-retention", "binlogs are kept for at least 24 hours"},
	{"binlog-start-position", "the configured start binlog still exists"},
	{"server-id", "the job's replica server id is not in use"},
	{"source-connection-limit", "the source has room for barge's connections"},
	{"target-connection-limit", "the target has room for barge's connections"},
	{"table-keys", "every selected table has a primary or not-null unique key"},
	{"tidb-charsets", "character sets and collations are supported by TiDB"},
	{"tidb-indexes", "no spatial or full-text indexes"},
	{"tidb-foreign-keys", "no foreign keys"},
	{"tidb-storage-engines", "every table uses InnoDB"},
	{"tidb-unmigrated-objects", "no triggers, routines or events"},
	{"target-tables", "existing target tables match the source's definition"},
	{"target-storage", "the target has room for the selected data"},
};
#define N_ITEMS (sizeof items / sizeof items[0])

const char *const barge_precheck_item_ids[] = {
	"source-connect", "target-connect", "source-version", "source-privileges",
	"target-privileges", "binlog-enabled", "binlog-format", "binlog-row-image",
	"binlog-row-value-options", "binlog-retention", "binlog-start-position", "server-id",
	"source-connection-limit", "target-connection-limit", "table-keys", "tidb-charsets",
	"tidb-indexes", "tidb-foreign-keys", "tidb-storage-engines", "tidb-unmigrated-objects",
	"target-tables", "target-storage", "all", NULL};

const char *barge_precheck_item_title(const char *id)
{
	for (size_t i = 0; i < N_ITEMS; i++)
		if (strcmp(items[i].id, id) == 0)
			return items[i].title;
	return NULL;
}

const char *barge_check_state_name(enum barge_check_state s)
{
	switch (s) {
	case BARGE_CHECK_PASS: return "Pass";
	case BARGE_CHECK_WARNING: return "Warning";
	case BARGE_CHECK_FAILED: return "Failed";
	case BARGE_CHECK_SKIPPED: return "Skipped";
	}
	return "?";
}

/* ---------------------------------------------------------------- SHOW GRANTS parsing */

static const struct {
	const char *name;
	uint32_t bits;
} priv_names[] = {
	{"SELECT", BARGE_PRIV_SELECT},
	{"INSERT", BARGE_PRIV_INSERT},
	{"UPDATE", BARGE_PRIV_UPDATE},
	{"DELETE", BARGE_PRIV_DELETE},
	{"CREATE", BARGE_PRIV_CREATE},
	{"DROP", BARGE_PRIV_DROP},
	{"RELOAD", BARGE_PRIV_RELOAD},
	{"INDEX", BARGE_PRIV_INDEX},
	{"ALTER", BARGE_PRIV_ALTER},
	{"LOCK TABLES", BARGE_PRIV_LOCK_TABLES},
	{"REPLICATION SLAVE", BARGE_PRIV_REPL_SLAVE},
	{"REPLICATION CLIENT", BARGE_PRIV_REPL_CLIENT},
	{"BINLOG MONITOR", BARGE_PRIV_REPL_CLIENT}, /* MariaDB 10.5+ name */
	{"SUPER", BARGE_PRIV_SUPER},
	{"ALL PRIVILEGES", BARGE_PRIV_ALL},
	{"ALL", BARGE_PRIV_ALL},
};

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Whether p starts with keyword kw (case-insensitive) followed by a non-word character. */
static bool keyword_at(const char *p, const char *kw)
{
	size_t n = strlen(kw);

	return strncasecmp(p, kw, n) == 0 && !(isalnum((unsigned char)p[n]) || p[n] == '_');
}

/* Read a name: `quoted` (with `` for a backquote), 'quoted', "quoted", * or a bare word.
 * Returns the position after it and sets *name (NULL for *), or NULL on a syntax error. */
static const char *read_name(const char *p, char **name)
{
	struct barge_buf b;

	*name = NULL;
	if (*p == '*')
		return p + 1;
	barge_buf_init(&b, 1024);
	if (*p == '`' || *p == '\'' || *p == '"') {
		char q = *p++;

		for (;; p++) {
			if (!*p) {
				barge_buf_dispose(&b);
				return NULL;
			}
			if (*p == q) {
				if (p[1] != q)
					break;
				p++;
			}
			barge_buf_putc(&b, *p);
		}
		p++;
	} else {
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '$' || *p == '%' ||
		       *p == '\\')
			barge_buf_putc(&b, *p++);
		if (b.len == 0) {
			barge_buf_dispose(&b);
			return NULL;
		}
	}
	*name = barge_buf_detach(&b);
	return p;
}

/* The bits of one privilege name as SHOW GRANTS writes it; 0 for ones the precheck ignores. */
static uint32_t priv_bits(const char *name, size_t len)
{
	while (len && name[len - 1] == ' ')
		len--;
	for (size_t i = 0; i < sizeof priv_names / sizeof priv_names[0]; i++)
		if (strlen(priv_names[i].name) == len &&
		    strncasecmp(priv_names[i].name, name, len) == 0)
			return priv_names[i].bits;
	return 0;
}

int barge_grant_parse(const char *line, struct barge_grant *out)
{
	const char *p = skip_space(line);
	uint32_t privs = 0;
	char *schema = NULL, *table = NULL;

	if (!keyword_at(p, "GRANT"))
		return BARGE_EINVAL;
	p = skip_space(p + 5);
	/* the privilege list, up to ON at depth 0; column lists "SELECT (a, b)" are skipped
	 * whole, as column privileges do not let barge read a table */
	for (;;) {
		const char *start = p;
		bool column_priv = false;

		while (*p && *p != ',' && *p != '(' && !(p > start && p[-1] == ' ' &&
							 keyword_at(p, "ON")) &&
		       !(p > start && p[-1] == ' ' && keyword_at(p, "TO")))
			p++;
		{
			size_t len = (size_t)(p - start);

			if (*p == '(') {
				int depth = 0;

				column_priv = true;
				for (; *p; p++) {
					if (*p == '(')
						depth++;
					else if (*p == ')' && --depth == 0) {
						p++;
						break;
					}
				}
			}
			if (!column_priv)
				privs |= priv_bits(start, len);
		}
		p = skip_space(p);
		if (*p == ',') {
			p = skip_space(p + 1);
			continue;
		}
		break;
	}
	if (!keyword_at(p, "ON") || privs == 0)
		return 0; /* GRANT role TO user, GRANT PROXY, USAGE, column privileges */
	p = skip_space(p + 2);
	if (keyword_at(p, "FUNCTION") || keyword_at(p, "PROCEDURE") || keyword_at(p, "PACKAGE"))
		return 0;
	if (keyword_at(p, "TABLE"))
		p = skip_space(p + 5);
	p = read_name(p, &schema);
	if (!p)
		return BARGE_EINVAL;
	if (*p == '.') {
		p = read_name(p + 1, &table);
		if (!p) {
			free(schema);
			return BARGE_EINVAL;
		}
	} else if (schema) {
		/* "ON t": a table of the current database, which SHOW GRANTS never writes */
		free(schema);
		return BARGE_EINVAL;
	}
	out->privs = privs;
	out->schema = schema;
	out->table = table;
	return 1;
}

/*
 * MySQL's LIKE over a database grant: % any run, _ one character, \ escapes.  Greedy with one
 * backtrack point (the last %), so a pattern of many %s costs O(pattern x name) instead of the
 * exponential time a recursive retry at every % takes: grants come from the server, and a
 * hostile one must not hang the precheck.
 */
static bool like_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*pat == '%') {
			while (*pat == '%')
				pat++;
			star = pat;
			resume = s;
			continue;
		}
		if (*pat && (*pat == '_' ||
			     (*pat == '\\' && pat[1] ? pat[1] == *s : *pat == *s))) {
			pat += (*pat == '\\' && pat[1]) ? 2 : 1;
			s++;
			continue;
		}
		if (!star)
			return false;
		pat = star;
		s = ++resume;
	}
	while (*pat == '%')
		pat++;
	return *pat == '\0';
}

uint32_t barge_grants_effective(const struct barge_grant *grants, size_t n, const char *schema,
				const char *table)
{
	uint32_t privs = 0;

	for (size_t i = 0; i < n; i++) {
		const struct barge_grant *g = &grants[i];

		if (!g->schema)
			privs |= g->privs;
		else if (!schema)
			continue;
		else if (!g->table && like_match(g->schema, schema))
			privs |= g->privs;
		else if (g->table && table && strcmp(g->schema, schema) == 0 &&
			 strcmp(g->table, table) == 0)
			privs |= g->privs;
	}
	return privs;
}

void barge_privs_format(uint32_t privs, char *buf, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof priv_names / sizeof priv_names[0]; i++) {
		uint32_t b = priv_names[i].bits;

		if (b == BARGE_PRIV_ALL || (b & (b - 1)) || !(privs & b))
			continue;
		if (i > 0 && priv_names[i - 1].bits == b)
			continue; /* BINLOG MONITOR: the same bit as REPLICATION CLIENT */
		o += (size_t)snprintf(buf + o, o < size ? size - o : 0, "%s%s", o ? ", " : "",
				      priv_names[i].name);
	}
}

int barge_size_parse(const char *text, uint64_t *out)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {
		{"", 1},      {"B", 1},
		{"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
		{"TiB", 1099511627776.0}, {"PiB", 1125899906842624.0},
		{"KB", 1024.0}, {"MB", 1048576.0}, {"GB", 1073741824.0},
		{"TB", 1099511627776.0}, {"PB", 1125899906842624.0},
		{"K", 1024.0}, {"M", 1048576.0}, {"G", 1073741824.0}, {"T", 1099511627776.0},
	};
	char *end = NULL;
	double v;

	if (!text)
		return BARGE_EINVAL;
	text = skip_space(text);
	if (!isdigit((unsigned char)*text))
		return BARGE_EINVAL;
	v = strtod(text, &end);
	end = (char *)skip_space(end);
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(end, units[i].unit) == 0) {
			double bytes = v * units[i].mult;

			if (bytes >= 1.8e19)
				return BARGE_EINVAL;
			*out = (uint64_t)bytes;
			return 0;
		}
	}
	return BARGE_EINVAL;
}

/* ---------------------------------------------------------------- the context */

struct ctx {
	const struct barge_job *job;
	char *base_dir;
	struct barge_db *src, *tgt;
	char src_fail[BARGE_ERR_MSG_MAX], tgt_fail[BARGE_ERR_MSG_MAX];
	struct barge_rules *rules;
	struct barge_table_info *tables;
	size_t n_tables;
	bool tables_listed;
	char tables_fail[BARGE_ERR_MSG_MAX];
};

static bool has_full(const struct ctx *c)
{
	return c->job->mode != BARGE_MODE_INCREMENTAL;
}

static bool has_incremental(const struct ctx *c)
{
	return c->job->mode != BARGE_MODE_FULL;
}

static void set_result(struct barge_check_result *r, enum barge_check_state state,
		       const char *instruction, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_result(struct barge_check_result *r, enum barge_check_state state,
		       const char *instruction, const char *fmt, ...)
{
	struct barge_buf b;
	va_list ap;

	barge_buf_init(&b, 4096);
	va_start(ap, fmt);
	barge_buf_appendv(&b, fmt, ap);
	va_end(ap);
	/* one line: server messages may hold newlines */
	for (char *p = b.data; p && *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	free(r->message);
	free(r->instruction);
	r->state = state;
	r->message = barge_buf_detach(&b);
	r->instruction = state == BARGE_CHECK_PASS || !instruction ? NULL
								     : barge_xstrdup(instruction);
}

/* An item that could not run because a query failed. */
static void set_query_failed(struct barge_check_result *r, const struct barge_err *err)
{
	set_result(r, BARGE_CHECK_FAILED,
		   "Fix the error in the message (a missing privilege or an unreachable server), "
		   "then check again.",
		   "could not be checked: %s", err->msg);
	r->cause = err->code;
}

/* Whether the side is connected; if not, r says so and the caller returns. */
static bool need_src(struct ctx *c, struct barge_check_result *r)
{
	if (c->src)
		return true;
	set_result(r, BARGE_CHECK_FAILED, "Fix the source connection (see source-connect).",
		   "not checked: no connection to the source");
	return false;
}

static bool need_tgt(struct ctx *c, struct barge_check_result *r)
{
	if (c->tgt)
		return true;
	set_result(r, BARGE_CHECK_FAILED, "Fix the target connection (see target-connect).",
		   "not checked: no connection to the target");
	return false;
}

/* The selected tables, listed on first use.  false (and r Failed) when they cannot be. */
static bool need_tables(struct ctx *c, struct barge_check_result *r)
{
	struct barge_err err = {0};

	if (!need_src(c, r))
		return false;
	if (!c->tables_listed && !c->tables_fail[0]) {
		if (barge_dump_list_tables(c->src, c->rules, &c->tables, &c->n_tables, &err) == 0)
			c->tables_listed = true;
		else
			snprintf(c->tables_fail, sizeof c->tables_fail, "%s", err.msg);
	}
	if (c->tables_listed)
		return true;
	set_result(r, BARGE_CHECK_FAILED,
		   "Fix the error in the message, then check again.",
		   "could not list the selected tables: %s", c->tables_fail);
	return false;
}

/* A global variable's value (SHOW GLOBAL VARIABLES, so an unknown one is not an error):
 * *out is a heap string or NULL when the server has no such variable. */
static int global_var(struct barge_db *db, const char *name, char **out, struct barge_err *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	*out = NULL;
	rc = barge_db_query(db, "SHOW GLOBAL VARIABLES", &res, err);
	if (rc)
		return rc;
	while ((row = mysql_fetch_row(res)) != NULL)
		if (row[0] && strcasecmp(row[0], name) == 0) {
			*out = barge_xstrdup(row[1] ? row[1] : "");
			break;
		}
	mysql_free_result(res);
	return 0;
}

static int global_status(struct barge_db *db, const char *name, char **out,
			 struct barge_err *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char q[200];
	int rc;

	*out = NULL;
	snprintf(q, sizeof q, "SHOW GLOBAL STATUS LIKE '%s'", name);
	rc = barge_db_query(db, q, &res, err);
	if (rc)
		return rc;
	if ((row = mysql_fetch_row(res)) != NULL && row[1])
		*out = barge_xstrdup(row[1]);
	mysql_free_result(res);
	return 0;
}

/* The user the server knows us as, quoted for a GRANT: 'user'@'host'. */
static char *grant_user(struct barge_db *db)
{
	struct barge_err err = {0};
	char *cu = NULL, *at, *res;

	if (barge_db_query_value(db, "SELECT CURRENT_USER()", &cu, NULL, &err) != 0 || !cu)
		return barge_xstrdup("'your_user'@'your_IP_address_of_host'");
	at = strrchr(cu, '@');
	if (at) {
		*at = '\0';
		res = barge_xasprintf("'%s'@'%s'", cu, at + 1);
	} else {
		res = barge_xasprintf("'%s'", cu);
	}
	free(cu);
	return res;
}

/* Every grant of the current user; *n of them in *out (free with grants_free). */
static int load_grants(struct barge_db *db, struct barge_grant **out, size_t *n,
		       struct barge_err *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct barge_grant *g = NULL;
	size_t count = 0;
	int rc;

	rc = barge_db_query(db, "SHOW GRANTS FOR CURRENT_USER()", &res, err);
	if (rc)
		return rc;
	while ((row = mysql_fetch_row(res)) != NULL) {
		struct barge_grant one = {0};

		if (!row[0] || barge_grant_parse(row[0], &one) != 1)
			continue;
		g = barge_xrealloc(g, (count + 1) * sizeof *g);
		g[count++] = one;
	}
	mysql_free_result(res);
	*out = g;
	*n = count;
	return 0;
}

static void grants_free(struct barge_grant *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].schema);
		free(g[i].table);
	}
	free(g);
}

/* ---------------------------------------------------------------- items */

static void check_source_version(struct ctx *c, struct barge_check_result *r)
{
	struct barge_db *db = c->src;
	unsigned long v, major, minor;
	const char *what;
	char *aurora = NULL;
	struct barge_err err = {0};

	if (!need_src(c, r))
		return;
	v = db->server_version;
	major = v / 10000;
	minor = v / 100 % 100;
	if (db->flavor == BARGE_FLAVOR_TIDB) {
		set_result(r, BARGE_CHECK_FAILED,
			   "Use TiCDC or BR to copy between TiDB clusters; barge reads from MySQL "
			   "and MariaDB.",
			   "the source is TiDB (%s), which is not supported as a source", db->version);
		return;
	}
	if (db->flavor == BARGE_FLAVOR_MARIADB) {
		if (major == 10 || major == 11)
			set_result(r, BARGE_CHECK_PASS, NULL, "MariaDB %lu.%lu (%s)", major, minor,
				   db->version);
		else
			set_result(r, BARGE_CHECK_WARNING,
				   "Use MariaDB 10.x or 11.x, or test the migration carefully.",
				   "MariaDB %lu.%lu (%s) is not a tested version (10.x and 11.x are)",
				   major, minor, db->version);
		return;
	}
	if (db->flavor == BARGE_FLAVOR_AURORA) {
		(void)barge_db_query_value(db, "SELECT @@aurora_version", &aurora, NULL, &err);
		what = "Amazon Aurora MySQL";
	} else {
		what = db->rds ? "Amazon RDS for MySQL" : "MySQL";
	}
	if (v < 50600) {
		set_result(r, BARGE_CHECK_FAILED, "Upgrade the source to MySQL 5.6 or later.",
			   "%s %lu.%lu (%s) is older than 5.6, the oldest supported", what, major,
			   minor, db->version);
	} else if (v >= 80500) {
		set_result(r, BARGE_CHECK_WARNING,
			   "Test the migration carefully: versions after 8.4 are not tested.",
			   "%s %lu.%lu (%s) is newer than 8.4, the newest tested", what, major, minor,
			   db->version);
	} else {
		set_result(r, BARGE_CHECK_PASS, NULL, "%s %lu.%lu (%s)%s%s%s%s", what, major, minor,
			   db->version, aurora ? ", aurora_version " : "", aurora ? aurora : "",
			   major == 8 ? "; MySQL 8.x is still experimental on TiDB Cloud" : "",
			   db->flavor == BARGE_FLAVOR_AURORA || db->rds
				   ? "; supported cloud versions: Aurora MySQL 5.6/5.7, RDS 5.7"
				   : "");
	}
	free(aurora);
}

/* The distinct target schemas of the selected tables, plus extra (may be NULL). */
static size_t target_schemas(const struct ctx *c, const char *extra, const char ***out)
{
	const char **s = barge_xcalloc(c->n_tables + 2, sizeof *s);
	size_t n = 0;

	if (extra)
		s[n++] = extra;
	for (size_t i = 0; i < c->n_tables; i++) {
		bool seen = false;

		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(s[j], c->tables[i].to_schema) == 0;
		if (!seen)
			s[n++] = c->tables[i].to_schema;
	}
	*out = s;
	return n;
}

static void check_source_privileges(struct ctx *c, struct barge_check_result *r)
{
	struct barge_grant *g = NULL;
	size_t n = 0;
	struct barge_err err = {0};
	uint32_t global, missing = 0;
	char names[300], *user = NULL, *fix = NULL;
	const char *where = "";

	if (!need_tables(c, r))
		return;
	if (load_grants(c->src, &g, &n, &err) != 0) {
		set_query_failed(r, &err);
		return;
	}
	global = barge_grants_effective(g, n, NULL, NULL);
	if (has_incremental(c))
		missing |= (BARGE_PRIV_REPL_SLAVE | BARGE_PRIV_REPL_CLIENT) & ~global;
	if (has_full(c) && !(global & (BARGE_PRIV_LOCK_TABLES | BARGE_PRIV_RELOAD))) {
		/* LOCK TABLES may also be granted per database */
		for (size_t i = 0; i < c->n_tables; i++)
			if (!(barge_grants_effective(g, n, c->tables[i].schema, NULL) &
			      BARGE_PRIV_LOCK_TABLES)) {
				missing |= BARGE_PRIV_LOCK_TABLES;
				where = where[0] ? where : c->tables[i].schema;
			}
	}
	for (size_t i = 0; i < c->n_tables; i++)
		if (!(barge_grants_effective(g, n, c->tables[i].schema, c->tables[i].name) &
		      BARGE_PRIV_SELECT)) {
			missing |= BARGE_PRIV_SELECT;
			if (!where[0])
				where = c->tables[i].schema;
		}
	grants_free(g, n);
	if (c->n_tables == 0 && (global & BARGE_PRIV_SELECT) && !missing) {
		/* the user may read everything: the rules select nothing the source has yet */
		set_result(r, BARGE_CHECK_WARNING,
			   "Check objects.allow; tables created later are migrated when the rules "
			   "select their whole database.",
			   "the job selects no table the source has now");
		return;
	}
	if (c->n_tables == 0) {
		/* information_schema hides the tables a user may not read */
		user = grant_user(c->src);
		fix = barge_xasprintf("Check objects.allow, and grant SELECT on the databases to "
				      "migrate, e.g. GRANT SELECT,LOCK TABLES,REPLICATION SLAVE,"
				      "REPLICATION CLIENT ON *.* TO %s",
				      user);
		set_result(r, BARGE_CHECK_FAILED, fix,
			   "the source user sees no table the job selects: SELECT may be missing");
		free(user);
		free(fix);
		return;
	}
	if (!missing) {
		set_result(r, BARGE_CHECK_PASS, NULL,
			   "SELECT on %zu selected table%s%s%s", c->n_tables,
			   c->n_tables == 1 ? "" : "s",
			   has_full(c) ? ", LOCK TABLES or RELOAD" : "",
			   has_incremental(c) ? ", REPLICATION SLAVE, REPLICATION CLIENT" : "");
		return;
	}
	barge_privs_format(missing, names, sizeof names);
	user = grant_user(c->src);
	fix = barge_xasprintf("Grant the privileges, e.g. GRANT SELECT,LOCK TABLES,REPLICATION "
			      "SLAVE,REPLICATION CLIENT ON *.* TO %s",
			      user);
	set_result(r, BARGE_CHECK_FAILED, fix, "the source user lacks %s%s%s%s", names,
		   where[0] ? " (first missing on database " : "", where, where[0] ? ")" : "");
	free(user);
	free(fix);
}

static void check_target_privileges(struct ctx *c, struct barge_check_result *r)
{
	const uint32_t need = BARGE_PRIV_CREATE | BARGE_PRIV_SELECT | BARGE_PRIV_INSERT |
			      BARGE_PRIV_UPDATE | BARGE_PRIV_DELETE | BARGE_PRIV_ALTER |
			      BARGE_PRIV_DROP | BARGE_PRIV_INDEX;
	struct barge_grant *g = NULL;
	size_t n = 0, ns;
	const char **schemas = NULL;
	struct barge_err err = {0};
	uint32_t missing = 0;
	const char *where = NULL;
	char names[300], *user = NULL, *fix = NULL;

	if (!need_tgt(c, r) || !need_tables(c, r))
		return;
	if (load_grants(c->tgt, &g, &n, &err) != 0) {
		set_query_failed(r, &err);
		return;
	}
	ns = target_schemas(c, c->job->target.meta_schema, &schemas);
	for (size_t i = 0; i < ns; i++) {
		uint32_t m = need & ~barge_grants_effective(g, n, schemas[i], NULL);

		if (m && !where)
			where = schemas[i];
		missing |= m;
	}
	grants_free(g, n);
	if (!missing) {
		set_result(r, BARGE_CHECK_PASS, NULL,
			   "CREATE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP (covers TRUNCATE), "
			   "INDEX on %zu database%s",
			   ns, ns == 1 ? "" : "s");
		free(schemas);
		return;
	}
	barge_privs_format(missing, names, sizeof names);
	user = grant_user(c->tgt);
	if (c->tgt->flavor == BARGE_FLAVOR_TIDB)
		fix = barge_xasprintf("Grant the privileges, e.g. GRANT CREATE,SELECT,INSERT,UPDATE,"
				      "DELETE,ALTER,TRUNCATE,DROP,INDEX ON *.* TO %s",
				      user);
	else
		fix = barge_xasprintf("Grant the privileges, e.g. GRANT CREATE,SELECT,INSERT,UPDATE,"
				      "DELETE,ALTER,DROP,INDEX ON *.* TO %s (DROP covers TRUNCATE "
				      "on MySQL and MariaDB)",
				      user);
	set_result(r, BARGE_CHECK_FAILED, fix, "the target user lacks %s on database %s", names,
		   where);
	free(schemas);
	free(user);
	free(fix);
}

/* Common start of the binlog items: they only matter when the job reads the binlog. */
static bool need_binlog(struct ctx *c, struct barge_check_result *r)
{
	if (!has_incremental(c)) {
		set_result(r, BARGE_CHECK_PASS, NULL, "not needed: the job's mode is full");
		return false;
	}
	return need_src(c, r);
}

static void check_binlog_enabled(struct ctx *c, struct barge_check_result *r)
{
	struct barge_err err = {0};
	char *v = NULL;

	if (!need_binlog(c, r))
		return;
	if (global_var(c->src, "log_bin", &v, &err) != 0) {
		set_query_failed(r, &err);
		return;
	}
	if (v && (strcasecmp(v, "ON") == 0 || strcmp(v, "1") == 0))
		set_result(r, BARGE_CHECK_PASS, NULL, "log_bin is ON");
	else
		set_result(r, BARGE_CHECK_FAILED,
			   "Enable binlogs: start the source with log_bin and a server_id (on "
			   "RDS/Aurora turn on automated backups or binlog replication), then "
			   "check again.",
			   "log_bin is %s: the source writes no binary log, which incremental "
			   "migration reads",
			   v ? v : "not set");
	free(v);
}

/* An item "variable must equal want": Failed with fix otherwise; Pass when the server has no
 * such variable and missing_ok. */
static void check_var_equals(struct ctx *c, struct barge_check_result *r, const char *var,
			     const char *want, bool missing_ok, const char *fix)
{
	struct barge_err err = {0};
	char *v = NULL;

	if (!need_binlog(c, r))
		return;
	if (global_var(c->src, var, &v, &err) != 0) {
		set_query_failed(r, &err);
		return;
	}
	if (!v && missing_ok)
		set_result(r, BARGE_CHECK_PASS, NULL, "%s does not exist on this version", var);
	else if (v && strcasecmp(v, want) == 0)
		set_result(r, BARGE_CHECK_PASS, NULL, "%s is %s", var, v);
	else
		set_result(r, BARGE_CHECK_FAILED, fix, "%s is %s, not %s", var, v ? v : "not set",
			   want);
	free(v);
}

static void check_binlog_format(struct ctx *c, struct barge_check_result *r)
{
	check_var_equals(c, r, "binlog_format", "ROW", false,
			 "Run SET GLOBAL binlog_format = 'ROW' and set binlog_format=ROW in the "
			 "server's configuration (on RDS/Aurora: the DB parameter group); sessions "
			 "already open keep the old format until they reconnect.");
}

static void check_binlog_row_image(struct ctx *c, struct barge_check_result *r)
{
	check_var_equals(c, r, "binlog_row_image", "FULL", true,
			 "Run SET GLOBAL binlog_row_image = 'FULL' and set binlog_row_image=FULL in "
			 "the server's configuration (on RDS/Aurora: the DB parameter group).");
}

static void check_binlog_row_value_options(struct ctx *c, struct barge_check_result *r)
{
	struct barge_err err = {0};
	char *v = NULL;

	if (!need_binlog(c, r))
		return;
	if (global_var(c->src, "binlog_row_value_options", &v, &err) != 0) {
		set_query_failed(r, &err);
		return;
	}
	if (!v)
		set_result(r, BARGE_CHECK_PASS, NULL,
			   "binlog_row_value_options does not exist on this server");
	else if (strcasestr(v, "PARTIAL_JSON"))
		set_result(r, BARGE_CHECK_WARNING,
			   "Run SET GLOBAL binlog_row_value_options = '' (and in the server's "
			   "configuration) so JSON updates are logged whole.",
			   "binlog_row_value_options is %s: JSON updates are logged as partial "
			   "diffs, which barge cannot apply",
			   v);
	else
		set_result(r, BARGE_CHECK_PASS, NULL, "binlog_row_value_options is '%s'", v);
	free(v);
}

static void check_binlog_retention(struct ctx *c, struct barge_check_result *r)
{
	struct barge_err err = {0};
	char *secs = NULL, *days = NULL;
	double retention = 0; /* seconds; 0 = never purged by the server */
	const char *from = "expire_logs_days";

	if (!need_binlog(c, r))
		return;
	if (global_var(c->src, "binlog_expire_logs_seconds", &secs, &err) != 0 ||
	    global_var(c->src, "expire_logs_days", &days, &err) != 0) {
		free(secs);
		set_query_failed(r, &err);
		return;
	}
	if (secs && strtod(secs, NULL) > 0) {
		retention = strtod(secs, NULL);
		from = "binlog_expire_logs_seconds";
	} else if (days && strtod(days, NULL) > 0) {
		retention = strtod(days, NULL) * 86400.0;
	}
	if (retention == 0)
		set_result(r, BARGE_CHECK_PASS, NULL,
			   "binlogs are not purged automatically%s",
			   c->src->rds || c->src->flavor == BARGE_FLAVOR_AURORA
				   ? " (on RDS/Aurora also check CALL mysql.rds_show_configuration)"
				   : "");
	else if (retention < 86400.0)
		set_result(r, BARGE_CHECK_WARNING,
			   "Keep binlogs for at least 24 hours: SET GLOBAL "
			   "binlog_expire_logs_seconds = 86400 (or expire_logs_days = 1; on RDS: "
			   "CALL mysql.rds_set_configuration('binlog retention hours', 24)), and do "
			   "not PURGE BINARY LOGS a job still needs.",
			   "binlogs are kept for %.1f hours (%s); a full migration that takes longer "
			   "loses the binlogs incremental migration needs",
			   retention / 3600.0, from);
	else
		set_result(r, BARGE_CHECK_PASS, NULL, "binlogs are kept for %.1f hours (%s)",
			   retention / 3600.0, from);
	free(secs);
	free(days);
}

static void check_binlog_start(struct ctx *c, struct barge_check_result *r)
{
	const struct barge_start_point *sp = &c->job->incremental.start;
	const struct barge_errinfo *info = barge_errinfo_get(BARGE_EBINLOG_PURGED);
	struct barge_err err = {0};
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	bool found = false;
	char *first = NULL;

	if (c->job->mode != BARGE_MODE_INCREMENTAL || !sp->binlog_name) {
		set_result(r, BARGE_CHECK_PASS, NULL,
			   c->job->mode != BARGE_MODE_INCREMENTAL
				   ? "not needed: the job starts from its own snapshot"
				   : "no start binlog file configured");
		return;
	}
	if (!need_src(c, r))
		return;
	if (barge_db_query(c->src, "SHOW BINARY LOGS", &res, &err) != 0) {
		set_query_failed(r, &err);
		return;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (!first && row[0])
			first = barge_xstrdup(row[0]);
		if (row[0] && strcmp(row[0], sp->binlog_name) == 0)
			found = true;
	}
	mysql_free_result(res);
	if (found)
		set_result(r, BARGE_CHECK_PASS, NULL, "%s is still on the source",
			   sp->binlog_name);
	else
		set_result(r, BARGE_CHECK_FAILED, info->action, "%s (%s is gone; the oldest is %s)",
			   info->message, sp->binlog_name, first ? first : "none");
	free(first);
}

static void check_server_id(struct ctx *c, struct barge_check_result *r)
{
	const struct barge_errinfo *info = barge_errinfo_get(BARGE_ESERVER_ID);
	uint32_t id = c->job->source.server_id;
	struct barge_err err = {0};
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char *own = NULL;
	bool clash = false;
	const char *sql;

	if (!need_binlog(c, r))
		return;
	if (barge_db_query_value(c->src, "SELECT @@server_id", &own, NULL, &err) != 0) {
		set_query_failed(r, &err);
		return;
	}
	if (own && strtoul(own, NULL, 10) == id) {
		set_result(r, BARGE_CHECK_FAILED, info->action,
			   "%s (%u is the source's own server_id)", info->message, id);
		free(own);
		return;
	}
	free(own);
	/* MySQL 8.4 dropped SHOW SLAVE HOSTS; MariaDB and older MySQL know it */
	sql = c->src->flavor != BARGE_FLAVOR_MARIADB && c->src->server_version >= 80022
		      ? "SHOW REPLICAS"
		      : "SHOW SLAVE HOSTS";
	if (barge_db_query(c->src, sql, &res, &err) != 0) {
		if (err.db_errno == 1227) /* MariaDB 10.5+: REPLICATION MASTER ADMIN */
			set_result(r, BARGE_CHECK_WARNING,
				   "Grant the source user REPLICATION MASTER ADMIN so this can be "
				   "checked, or make sure no replica of the source uses this id.",
				   "server id %u cannot be checked: %s needs a privilege the source "
				   "user lacks (%s)",
				   id, sql, err.msg);
		else
			set_query_failed(r, &err);
		return;
	}
	while ((row = mysql_fetch_row(res)) != NULL)
		if (row[0] && strtoul(row[0], NULL, 10) == id)
			clash = true;
	mysql_free_result(res);
	if (clash)
		set_result(r, BARGE_CHECK_FAILED, info->action,
			   "%s (server id %u is listed by %s)", info->message, id, sql);
	else
		set_result(r, BARGE_CHECK_PASS, NULL, "server id %u is not used by another replica",
			   id);
}

static void check_connection_limit(struct barge_check_result *r, struct barge_db *db, unsigned need, const char *side)
{
	struct barge_err err = {0};
	char *max = NULL, *used = NULL;
	long long free_conns;

	if (global_var(db, "max_connections", &max, &err) != 0 ||
	    global_status(db, "Threads_connected", &used, &err) != 0) {
		free(max);
		set_query_failed(r, &err);
		return;
	}
	free_conns = (max ? atoll(max) : 0) - (used ? atoll(used) : 0);
	if (free_conns < (long long)need)
		set_result(r, BARGE_CHECK_FAILED,
			   "Raise max_connections on the server or lower full.threads / "
			   "incremental.workers, and close idle connections.",
			   "the %s allows %s connections and %s are in use: %lld free, barge needs "
			   "%u; it would fail with \"the maximum connections have been reached\"",
			   side, max ? max : "?", used ? used : "?", free_conns, need);
	else
		set_result(r, BARGE_CHECK_PASS, NULL,
			   "%lld of %s connections free, barge needs %u", free_conns,
			   max ? max : "?", need);
	free(max);
	free(used);
}

static void check_source_connection_limit(struct ctx *c, struct barge_check_result *r)
{
	/* dump threads and the snapshot's coordinator; the stream and its schema reader */
	unsigned need = (has_full(c) ? c->job->full.threads + 1 : 0) + (has_incremental(c) ? 2 : 0);

	if (need_src(c, r))
		check_connection_limit(r, c->src, need, "source");
}

static void check_target_connection_limit(struct ctx *c, struct barge_check_result *r)
{
	unsigned need = has_full(c) ? c->job->full.threads : 0;

	if (has_incremental(c) && c->job->incremental.workers > need)
		need = c->job->incremental.workers;
	need += 1; /* checkpoints and DDL */
	if (need_tgt(c, r))
		check_connection_limit(r, c->tgt, need, "target");
}

/* Append "a.b" names to a list, at most 5 then "and N more". */
struct namelist {
	struct barge_buf b;
	size_t n;
};

static void names_add(struct namelist *l, const char *schema, const char *table,
		      const char *extra)
{
	if (l->n < 5)
		barge_buf_appendf(&l->b, "%s%s%s%s%s%s%s", l->n ? ", " : "", schema,
				  table ? "." : "", table ? table : "", extra ? " (" : "",
				  extra ? extra : "", extra ? ")" : "");
	l->n++;
}

static const char *names_str(struct namelist *l)
{
	if (l->n > 5)
		barge_buf_appendf(&l->b, " and %zu more", l->n - 5);
	return barge_buf_cstr(&l->b);
}

static void check_table_keys(struct ctx *c, struct barge_check_result *r)
{
	struct namelist l = {0};

	if (!need_tables(c, r))
		return;
	barge_buf_init(&l.b, 8192);
	for (size_t i = 0; i < c->n_tables; i++)
		if (c->tables[i].keyless)
			names_add(&l, c->tables[i].schema, c->tables[i].name, NULL);
	if (l.n == 0)
		set_result(r, BARGE_CHECK_PASS, NULL, "all %zu selected tables have a key",
			   c->n_tables);
	else
		set_result(r, BARGE_CHECK_WARNING,
			   "Add a primary key or a NOT NULL unique key to these tables before "
			   "migrating, or accept possible duplicate rows.",
			   "%zu table%s without a primary key or not-null unique index: %s. In safe "
			   "mode some data might be duplicated in the downstream cluster because the "
			   "data might be inserted repeatedly to the downstream",
			   l.n, l.n == 1 ? "" : "s", names_str(&l));
	barge_buf_dispose(&l.b);
}

/* The TiDB items only run for dialect tidb. */
static bool need_tidb(struct ctx *c, struct barge_check_result *r)
{
	if (c->job->target.dialect != BARGE_DIALECT_TIDB) {
		set_result(r, BARGE_CHECK_PASS, NULL, "not needed: the target dialect is %s",
			   barge_dialect_name(c->job->target.dialect));
		return false;
	}
	return need_tables(c, r);
}

/*
 * Run sql on the source; for each row whose first two columns (schema, table — table may be
 * NULL for schema objects) are selected, add "schema.table (col3 col4)" to l.  by_schema: the
 * object belongs to a schema (routines, events), selected when the schema is.
 */
static int collect(struct ctx *c, const char *sql, bool by_schema, struct namelist *l,
		   struct barge_err *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	unsigned nf;
	int rc = barge_db_query(c->src, sql, &res, err);

	if (rc)
		return rc;
	nf = mysql_num_fields(res);
	while ((row = mysql_fetch_row(res)) != NULL) {
		char extra[300] = "";

		if (!row[0] || !row[1])
			continue;
		if (by_schema ? !barge_rules_schema_selected(c->rules, row[0])
			      : !barge_rules_table_selected(c->rules, row[0], row[1]))
			continue;
		for (unsigned i = 2; i < nf; i++)
			snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "%s%s",
				 i > 2 ? " " : "", row[i] ? row[i] : "NULL");
		names_add(l, row[0], row[1], extra[0] ? extra : NULL);
	}
	mysql_free_result(res);
	return 0;
}

/* A TiDB item over one or more collecting queries: Warning listing what they found. */
static void tidb_item(struct ctx *c, struct barge_check_result *r, const char *const *sqls,
		      const bool *by_schema, const char *found_fmt, const char *fix,
		      const char *pass_msg)
{
	struct namelist l = {0};
	struct barge_err err = {0};

	if (!need_tidb(c, r))
		return;
	barge_buf_init(&l.b, 8192);
	for (size_t i = 0; sqls[i]; i++)
		if (collect(c, sqls[i], by_schema[i], &l, &err) != 0) {
			set_query_failed(r, &err);
			barge_buf_dispose(&l.b);
			return;
		}
	if (l.n == 0)
		set_result(r, BARGE_CHECK_PASS, NULL, "%s", pass_msg);
	else
		set_result(r, BARGE_CHECK_WARNING, fix, found_fmt, l.n, names_str(&l));
	barge_buf_dispose(&l.b);
}

/* Charsets and collations TiDB 7.5+ supports (utf8mb3_* as MariaDB names utf8's). */
#define TIDB_CHARSETS "'ascii','binary','gbk','latin1','utf8','utf8mb3','utf8mb4'"
#define TIDB_COLLATIONS                                                                       \
	"'ascii_bin','binary','gbk_bin','gbk_chinese_ci','latin1_bin','utf8_bin',"            \
	"'utf8_general_ci','utf8_unicode_ci','utf8mb3_bin','utf8mb3_general_ci',"             \
	"'utf8mb3_unicode_ci','utf8mb4_bin','utf8mb4_general_ci','utf8mb4_unicode_ci',"       \
	"'utf8mb4_0900_ai_ci','utf8mb4_0900_bin'"

static void check_tidb_charsets(struct ctx *c, struct barge_check_result *r)
{
	static const char *const sqls[] = {
		"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLLATION_NAME"
		" FROM information_schema.COLUMNS WHERE COLLATION_NAME IS NOT NULL AND"
		" (CHARACTER_SET_NAME NOT IN (" TIDB_CHARSETS ") OR"
		" COLLATION_NAME NOT IN (" TIDB_COLLATIONS "))"
		" ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
		NULL};
	static const bool by_schema[] = {false};

	tidb_item(c, r, sqls, by_schema,
		  "%zu column(s) with a character set or collation TiDB does not support: %s",
		  "barge rewrites them to the nearest supported collation (e.g. latin1_swedish_ci "
		  "to latin1_bin, which compares case-sensitively); convert the columns on the "
		  "source first if comparisons must stay the same.",
		  "every column's character set and collation is supported by TiDB");
}

static void check_tidb_indexes(struct ctx *c, struct barge_check_result *r)
{
	static const char *const sqls[] = {
		"SELECT DISTINCT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, INDEX_TYPE"
		" FROM information_schema.STATISTICS WHERE INDEX_TYPE IN ('SPATIAL', 'FULLTEXT')"
		" ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME",
		NULL};
	static const bool by_schema[] = {false};

	tidb_item(c, r, sqls, by_schema, "%zu spatial or full-text index(es) TiDB cannot use: %s",
		  "barge leaves these indexes out on TiDB (spatial columns are not supported at "
		  "all): drop them or exclude the tables, and move full-text search elsewhere.",
		  "no spatial or full-text indexes");
}

static void check_tidb_foreign_keys(struct ctx *c, struct barge_check_result *r)
{
	static const char *const sqls[] = {
		/* KEY_COLUMN_USAGE, not TABLE_CONSTRAINTS: MariaDB shows the latter only to
		 * users with more than SELECT */
		"SELECT DISTINCT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME"
		" FROM information_schema.KEY_COLUMN_USAGE WHERE REFERENCED_TABLE_NAME IS NOT NULL"
		" ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME",
		NULL};
	static const bool by_schema[] = {false};

	tidb_item(c, r, sqls, by_schema, "%zu foreign key(s): %s",
		  "TiDB before 6.6 parses foreign keys but does not enforce them, and barge loads "
		  "with foreign_key_checks off: make sure the application does not rely on them.",
		  "no foreign keys");
}

static void check_tidb_engines(struct ctx *c, struct barge_check_result *r)
{
	static const char *const sqls[] = {
		"SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE FROM information_schema.TABLES"
		" WHERE TABLE_TYPE = 'BASE TABLE' AND ENGINE IS NOT NULL AND ENGINE <> 'InnoDB'"
		" ORDER BY TABLE_SCHEMA, TABLE_NAME",
		NULL};
	static const bool by_schema[] = {false};

	tidb_item(c, r, sqls, by_schema, "%zu table(s) not on InnoDB: %s",
		  "TiDB stores every table in TiKV: the storage engine's own behaviour (MyISAM's "
		  "missing transactions, MEMORY, CONNECT...) is not kept; check these tables.",
		  "every selected table uses InnoDB");
}

static void check_tidb_objects(struct ctx *c, struct barge_check_result *r)
{
	static const char *const sqls[] = {
		"SELECT EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, 'trigger', TRIGGER_NAME"
		" FROM information_schema.TRIGGERS ORDER BY 1, 2, 4",
		"SELECT ROUTINE_SCHEMA, ROUTINE_NAME, LOWER(ROUTINE_TYPE)"
		" FROM information_schema.ROUTINES ORDER BY 1, 2",
		"SELECT EVENT_SCHEMA, EVENT_NAME, 'event' FROM information_schema.EVENTS"
		" ORDER BY 1, 2",
		NULL};
	static const bool by_schema[] = {false, true, true};

	tidb_item(c, r, sqls, by_schema, "%zu trigger(s), routine(s) or event(s) not migrated: %s",
		  "TiDB supports no triggers, stored procedures, functions or events: move their "
		  "logic into the application before switching over.",
		  "no triggers, routines or events (triggers are only visible to a user with "
		  "the TRIGGER privilege)");
}

/* A column type with integer display widths dropped ("int(11) unsigned" -> "int unsigned"),
 * lower-cased, so MySQL 8 and MariaDB/TiDB spellings compare equal. */
static void normalize_type(const char *in, char *out, size_t size)
{
	static const char *const ints[] = {"tinyint(", "smallint(", "mediumint(", "int(",
					   "bigint(", NULL};
	size_t o = 0;

	for (size_t i = 0; in[i] && o + 1 < size; i++)
		out[o++] = (char)tolower((unsigned char)in[i]);
	out[o] = '\0';
	for (size_t k = 0; ints[k]; k++) {
		size_t n = strlen(ints[k]);

		if (strncmp(out, ints[k], n) == 0) {
			char *close = strchr(out + n, ')');

			if (close)
				memmove(out + n - 1, close + 1, strlen(close + 1) + 1);
			break;
		}
	}
}

struct tcol {
	char *schema, *table, *column, *type;
};

static void check_target_tables(struct ctx *c, struct barge_check_result *r)
{
	struct barge_buf q, diff;
	struct barge_err err = {0};
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct tcol *tc = NULL;
	size_t ntc = 0, ns, n_exist = 0, n_diff = 0;
	const char **schemas = NULL;

	if (!need_tgt(c, r) || !need_tables(c, r))
		return;
	ns = target_schemas(c, NULL, &schemas);
	if (ns == 0) {
		set_result(r, BARGE_CHECK_PASS, NULL, "no tables selected");
		free(schemas);
		return;
	}
	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE"
			   " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (");
	for (size_t i = 0; i < ns; i++) {
		if (i)
			barge_buf_putc(&q, ',');
		barge_buf_append_literal(&q, schemas[i], strlen(schemas[i]));
	}
	barge_buf_puts(&q, ") ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION");
	free(schemas);
	if (barge_db_query(c->tgt, barge_buf_cstr(&q), &res, &err) != 0) {
		barge_buf_dispose(&q);
		set_query_failed(r, &err);
		return;
	}
	barge_buf_dispose(&q);
	while ((row = mysql_fetch_row(res)) != NULL) {
		tc = barge_xrealloc(tc, (ntc + 1) * sizeof *tc);
		tc[ntc].schema = barge_xstrdup(row[0] ? row[0] : "");
		tc[ntc].table = barge_xstrdup(row[1] ? row[1] : "");
		tc[ntc].column = barge_xstrdup(row[2] ? row[2] : "");
		tc[ntc].type = barge_xstrdup(row[3] ? row[3] : "");
		ntc++;
	}
	mysql_free_result(res);

	barge_buf_init(&diff, 8192);
	for (size_t i = 0; i < c->n_tables; i++) {
		const struct barge_table_info *t = &c->tables[i];
		size_t first = ntc, k = 0;
		char why[600] = "";

		for (size_t j = 0; j < ntc && first == ntc; j++)
			if (strcmp(tc[j].schema, t->to_schema) == 0 &&
			    strcmp(tc[j].table, t->to_name) == 0)
				first = j;
		if (first == ntc)
			continue; /* not on the target yet: barge creates it */
		n_exist++;
		for (k = 0; first + k < ntc && strcmp(tc[first + k].schema, t->to_schema) == 0 &&
			    strcmp(tc[first + k].table, t->to_name) == 0;
		     k++) {
			char a[256], b[256];

			if (k >= t->n_cols) {
				snprintf(why, sizeof why, "extra target column %s",
					 tc[first + k].column);
				break;
			}
			if (strcasecmp(tc[first + k].column, t->cols[k].name) != 0) {
				snprintf(why, sizeof why, "column %zu is %s on the target, %s on the "
					 "source", k + 1, tc[first + k].column, t->cols[k].name);
				break;
			}
			normalize_type(tc[first + k].type, a, sizeof a);
			normalize_type(t->cols[k].column_type, b, sizeof b);
			if (strcmp(a, b) != 0) {
				snprintf(why, sizeof why, "column %s is %s on the target, %s on the "
					 "source", t->cols[k].name, tc[first + k].type,
					 t->cols[k].column_type);
				break;
			}
		}
		if (!why[0] && k < t->n_cols)
			snprintf(why, sizeof why, "source column %s is missing on the target",
				 t->cols[k].name);
		if (why[0]) {
			if (n_diff < 3)
				barge_buf_appendf(&diff, "%s%s.%s: %s", n_diff ? "; " : "",
						  t->to_schema, t->to_name, why);
			n_diff++;
		}
	}
	for (size_t j = 0; j < ntc; j++) {
		free(tc[j].schema);
		free(tc[j].table);
		free(tc[j].column);
		free(tc[j].type);
	}
	free(tc);
	if (n_diff == 0)
		set_result(r, BARGE_CHECK_PASS, NULL,
			   "%zu of %zu selected tables already exist on the target, all with the "
			   "source's columns",
			   n_exist, c->n_tables);
	else
		set_result(r, BARGE_CHECK_WARNING,
			   "Make the target tables match the source (or drop them and let barge "
			   "create them), or route the tables elsewhere; rows are written by "
			   "column name and may fail or be converted.",
			   "%zu target table%s differ%s from the source: %s%s", n_diff,
			   n_diff == 1 ? "" : "s", n_diff == 1 ? "s" : "", barge_buf_cstr(&diff),
			   n_diff > 3 ? "; ..." : "");
	barge_buf_dispose(&diff);
}

static void format_bytes(uint64_t v, char *buf, size_t size)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double d = (double)v;
	size_t i = 0;

	while (d >= 1024.0 && i + 1 < sizeof u / sizeof u[0]) {
		d /= 1024.0;
		i++;
	}
	snprintf(buf, size, "%.1f %s", d, u[i]);
}

static void check_target_storage(struct ctx *c, struct barge_check_result *r)
{
	const struct barge_errinfo *info = barge_errinfo_get(BARGE_ETGT_FULL);
	struct barge_err err = {0};
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	uint64_t data = 0, avail = 0, need, replicas = 3;
	char dbuf[64], abuf[64], nbuf[64];
	unsigned stores = 0;

	if (!need_tgt(c, r) || !need_tables(c, r))
		return;
	for (size_t i = 0; i < c->n_tables; i++)
		data += c->tables[i].bytes_estimated;
	format_bytes(data, dbuf, sizeof dbuf);
	if (!has_full(c)) {
		set_result(r, BARGE_CHECK_PASS, NULL,
			   "not needed: the job copies no existing data (mode incremental)");
		return;
	}
	if (c->tgt->flavor != BARGE_FLAVOR_TIDB) {
		set_result(r, BARGE_CHECK_WARNING,
			   "Make sure the target's disk has room for the data plus its indexes.",
			   "free space cannot be checked on a %s target; the selected data is about "
			   "%s",
			   barge_flavor_name(c->tgt->flavor), dbuf);
		return;
	}
	if (barge_db_query(c->tgt,
			   "SELECT AVAILABLE, LABEL FROM INFORMATION_SCHEMA.TIKV_STORE_STATUS"
			   " WHERE STORE_STATE_NAME = 'Up'",
			   &res, &err) != 0) {
		set_result(r, BARGE_CHECK_WARNING,
			   "Make sure the cluster has room for the data times its replica count.",
			   "free space cannot be checked (TIKV_STORE_STATUS: %s); the selected data "
			   "is about %s",
			   err.msg, dbuf);
		return;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		uint64_t a;

		if (row[1] && strstr(row[1], "tiflash"))
			continue;
		if (row[0] && barge_size_parse(row[0], &a) == 0) {
			avail += a;
			stores++;
		}
	}
	mysql_free_result(res);
	if (barge_db_query(c->tgt, "SHOW CONFIG WHERE type = 'pd' AND name = "
				   "'replication.max-replicas'",
			   &res, &err) == 0) {
		if ((row = mysql_fetch_row(res)) != NULL && mysql_num_fields(res) >= 4 && row[3] &&
		    strtoull(row[3], NULL, 10) > 0)
			replicas = strtoull(row[3], NULL, 10);
		mysql_free_result(res);
	}
	need = data * replicas;
	format_bytes(avail, abuf, sizeof abuf);
	format_bytes(need, nbuf, sizeof nbuf);
	if (stores == 0)
		set_result(r, BARGE_CHECK_WARNING,
			   "Make sure the cluster has room for the data times its replica count.",
			   "free space cannot be checked: TIKV_STORE_STATUS lists no TiKV store that "
			   "is Up; the selected data is about %s",
			   dbuf);
	else if (avail < need)
		set_result(r, BARGE_CHECK_FAILED, info->action,
			   "%s (%s free on %u TiKV stores; the selected data is about %s, %s with %llu "
			   "replicas)",
			   info->message, abuf, stores, dbuf, nbuf, (unsigned long long)replicas);
	else
		set_result(r, BARGE_CHECK_PASS, NULL,
			   "%s free on %u TiKV stores for about %s (%llu replicas)", abuf, stores,
			   nbuf, (unsigned long long)replicas);
}

/* ---------------------------------------------------------------- running */

static bool ignored(const struct barge_job *job, const char *id)
{
	for (size_t i = 0; i < job->n_precheck_ignore; i++)
		if (strcmp(job->precheck_ignore[i], id) == 0 ||
		    strcmp(job->precheck_ignore[i], "all") == 0)
			return true;
	return false;
}

static void connect_side(struct ctx *c, struct barge_check_result *r, bool source)
{
	const struct barge_endpoint *ep = source ? &c->job->source : &c->job->target;
	struct barge_db_opts opts = {.connect_timeout_s = 10, .read_timeout_s = 60};
	struct barge_err err = {0};
	struct barge_db **db = source ? &c->src : &c->tgt;

	if (barge_db_connect(ep, source ? BARGE_DB_SOURCE : BARGE_DB_TARGET, c->base_dir, &opts,
			     db, &err) == 0) {
		set_result(r, BARGE_CHECK_PASS, NULL, "connected to %s (%s %s)", (*db)->where,
			   barge_flavor_name((*db)->flavor), (*db)->version);
		return;
	}
	*db = NULL;
	{
		const struct barge_errinfo *info = barge_errinfo_get(err.code);

		set_result(r, BARGE_CHECK_FAILED,
			   info ? info->action : "Check the connection settings.", "%s%s%s",
			   info ? info->message : "", info ? " " : "", err.msg);
	}
}

int barge_precheck_run(const struct barge_job *job, struct barge_precheck_report *out,
		       struct barge_err *err)
{
	struct ctx c = {0};
	struct barge_check_result *res = NULL;
	int rc;

	rc = barge_job_compile_rules(job, &c.rules, NULL, err);
	if (rc)
		return rc;
	c.job = job;
	c.base_dir = barge_job_base_dir(job);
	res = barge_xcalloc(N_ITEMS, sizeof *res);
	for (size_t i = 0; i < N_ITEMS; i++) {
		res[i].id = items[i].id;
		res[i].title = items[i].title;
	}
	/* the connections are made even when their items are ignored: the others need them */
	connect_side(&c, &res[0], true);
	connect_side(&c, &res[1], false);
	for (size_t i = 0; i < N_ITEMS; i++) {
		struct barge_check_result *r = &res[i];
		static void (*const fns[])(struct ctx *, struct barge_check_result *) = {
			NULL,
			NULL,
			check_source_version,
			check_source_privileges,
			check_target_privileges,
			check_binlog_enabled,
			check_binlog_format,
			check_binlog_row_image,
			check_binlog_row_value_options,
			check_binlog_retention,
			check_binlog_start,
			check_server_id,
			check_source_connection_limit,
			check_target_connection_limit,
			check_table_keys,
			check_tidb_charsets,
			check_tidb_indexes,
			check_tidb_foreign_keys,
			check_tidb_engines,
			check_tidb_objects,
			check_target_tables,
			check_target_storage,
		};
		_Static_assert(sizeof fns / sizeof fns[0] == N_ITEMS, "one function per item");

		if (ignored(job, r->id)) {
			set_result(r, BARGE_CHECK_SKIPPED, NULL, "ignored by precheck.ignore");
			continue;
		}
		if (fns[i])
			fns[i](&c, r);
	}
	memset(out, 0, sizeof *out);
	out->job = barge_xstrdup(job->name);
	out->items = res;
	out->count = N_ITEMS;
	for (size_t i = 0; i < N_ITEMS; i++) {
		switch (res[i].state) {
		case BARGE_CHECK_PASS: out->n_pass++; break;
		case BARGE_CHECK_WARNING: out->n_warning++; break;
		case BARGE_CHECK_FAILED: out->n_failed++; break;
		case BARGE_CHECK_SKIPPED: out->n_skipped++; break;
		}
	}
	barge_tables_free(c.tables, c.n_tables);
	barge_rules_free(c.rules);
	barge_db_close(c.src);
	barge_db_close(c.tgt);
	free(c.base_dir);
	return 0;
}

void barge_precheck_report_dispose(struct barge_precheck_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++) {
		free(r->items[i].message);
		free(r->items[i].instruction);
	}
	free(r->items);
	free(r->job);
	memset(r, 0, sizeof *r);
}

/*
 * test_chaos.c — the chaos test: a random schema over every column type with odd identifiers,
 * a random workload (single statements, multi-statement transactions, rollbacks, DDL) on the
 * source while a `mode: all` job runs as a separate `barge run` process, and chaos at random
 * moments: barge is killed with SIGKILL and started again, the target is killed with kill -9
 * and restarted, barge's source connections are cut with KILL.  At the end barge must catch up
 * with the source's binlog head, stop cleanly, and every table must equal the source's row by
 * row, with the same columns.
 *
 * Everything random comes from one seed, printed first so that a failure can be replayed:
 *
 *   BARGE_CHAOS_SEED=N       the seed (default: from the clock and the pid)
 *   BARGE_CHAOS_SECONDS=S    how long the workload and the chaos last (default 60; 35 under a
 *                            sanitizer, where barge runs several times slower)
 *
 * The schema, the rows, the statements and the order of the chaos events follow from the seed;
 * the moments at which the events land relative to barge's work are timing and cannot be
 * replayed exactly.  scripts/chaos.sh runs the long version.
 *
 * The shared target server is killed and restarted here: integration tests run one at a time
 * (RESOURCE_LOCK servers), and an exit handler restarts it and kills barge whatever way the
 * case ends.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/harness.h"
#include "tests/test.h"

#if defined(__SANITIZE_ADDRESS__)
#define CHAOS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHAOS_SANITIZED 1
#endif
#endif
#ifndef CHAOS_SANITIZED
#define CHAOS_SANITIZED 0
#endif

#define DB "chaos db"     /* the source and target database (a space on purpose) */
#define JOB "chaos"
#define MAX_TABLES 16
#define MAX_COLS 32

/* ---- the random source: splitmix64, one stream per thread, all derived from the seed ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned below(struct rng *r, unsigned n)
{
	return n ? (unsigned)(rnd(r) % n) : 0;
}

static bool chance(struct rng *r, unsigned percent)
{
	return below(r, 100) < percent;
}

/* ---- column types and their literals ---- */

enum ctype {
	C_TINY, C_UTINY, C_SMALL, C_USMALL, C_MED, C_UMED, C_INT, C_UINT, C_BIG, C_UBIG,
	C_DEC, C_FLOAT, C_DOUBLE, C_BIT1, C_BIT64, C_DATE, C_DATETIME, C_TIMESTAMP, C_TIME,
	C_YEAR, C_CHAR, C_VARCHAR, C_TEXT, C_LATIN1, C_VARBIN, C_BLOB, C_ENUM, C_SET, C_JSON,
	C_NTYPES
};

static const char *const type_sql[C_NTYPES] = {
	"TINYINT", "TINYINT UNSIGNED", "SMALLINT", "SMALLINT UNSIGNED", "MEDIUMINT",
	"MEDIUMINT UNSIGNED", "INT", "INT UNSIGNED", "BIGINT", "BIGINT UNSIGNED",
	"DECIMAL(65,30)", "FLOAT", "DOUBLE", "BIT(1)", "BIT(64)", "DATE", "DATETIME(6)",
	"TIMESTAMP(6)", "TIME(3)", "YEAR",
	"CHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
	"VARCHAR(100) CHARACTER SET utf8mb4", "TEXT CHARACTER SET utf8mb4",
	"VARCHAR(30) CHARACTER SET latin1", "VARBINARY(40)", "BLOB",
	"ENUM('a','b','c d','\xc3\xa9')", "SET('x','y','\xc3\xbc','w w')", "JSON",
};

/* integer widths in bits, and whether signed */
static const int int_bits[] = {8, 8, 16, 16, 24, 24, 32, 32, 64, 64};

/* Characters strings are drawn from: ASCII, quotes and backslash, 2-, 3- and 4-byte UTF-8. */
static const char *const utf8_alphabet[] = {
	"a", "Z", "0", " ", "'", "\\", "\"", "%", "_", "`", "\t", "\n", "\xc3\xa9", "\xc3\x9f",
	"\xe4\xb8\xad", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf0\x9f\x9a\x80", "\xf0\x9d\x84\x9e",
};

static void put_hex(FILE *f, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02X", p[i]);
}

/* A utf8mb4 string of up to max characters, as _utf8mb4 X'..' (no escaping to get wrong). */
static void gen_utf8(struct rng *r, FILE *f, unsigned max)
{
	unsigned n = below(r, max + 1);
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);

	for (unsigned i = 0; i < n; i++)
		fputs(utf8_alphabet[below(r, sizeof utf8_alphabet / sizeof *utf8_alphabet)], m);
	fclose(m);
	if (len == 0) {
		fputs("''", f);
	} else {
		fputs("_utf8mb4 X'", f);
		put_hex(f, (const unsigned char *)s, len);
		fputc('\'', f);
	}
	free(s);
}

/* Up to max bytes, NUL and 0xFF favoured. */
static void gen_bytes(struct rng *r, FILE *f, const char *introducer, unsigned max)
{
	unsigned n = below(r, max + 1);

	if (n == 0) {
		fprintf(f, "%s''", introducer);
		return;
	}
	fprintf(f, "%sX'", introducer);
	for (unsigned i = 0; i < n; i++) {
		unsigned k = below(r, 10);

		fprintf(f, "%02X", k == 0 ? 0 : k == 1 ? 0xFF : below(r, 256));
	}
	fputc('\'', f);
}

static void gen_json(struct rng *r, FILE *f, int depth)
{
	unsigned k = below(r, depth > 0 ? 8 : 5);

	switch (k) {
	case 0: fputs("null", f); break;
	case 1: fputs(chance(r, 50) ? "true" : "false", f); break;
	case 2:
		fprintf(f, "%s%llu", chance(r, 30) ? "-" : "", (unsigned long long)(rnd(r) >> below(r, 64)));
		break;
	case 3: fprintf(f, "%u.%ue%d", below(r, 1000), below(r, 1000), (int)below(r, 40) - 20); break;
	case 4: {
		/* a string with escapes and multi-byte characters */
		static const char *const parts[] = {"a", "\\\"", "\\\\", "\\n", "\\u00e9", "\xc3\xbc",
						    "\xf0\x9f\x98\x80", " ", "\\ud83d\\ude80", "/"};
		unsigned n = below(r, 8);

		fputc('"', f);
		for (unsigned i = 0; i < n; i++)
			fputs(parts[below(r, sizeof parts / sizeof *parts)], f);
		fputc('"', f);
		break;
	}
	case 5: case 6: {
		unsigned n = below(r, 4);

		fputc('[', f);
		for (unsigned i = 0; i < n; i++) {
			if (i)
				fputs(", ", f);
			gen_json(r, f, depth - 1);
		}
		fputc(']', f);
		break;
	}
	default: {
		unsigned n = below(r, 4);

		fputc('{', f);
		for (unsigned i = 0; i < n; i++)
			fprintf(f, "%s\"k%u\xc3\xa9\": ", i ? ", " : "", i), gen_json(r, f, depth - 1);
		fputc('}', f);
	}
	}
}

/* A literal of type t (NULL sometimes when nullable), written to f. */
static void gen_value(struct rng *r, FILE *f, enum ctype t, bool nullable)
{
	if (nullable && chance(r, 8)) {
		fputs("NULL", f);
		return;
	}
	if (t <= C_UBIG) {
		int bits = int_bits[t];
		bool is_signed = (t % 2) == 0;
		unsigned k = below(r, 10);
		uint64_t u = bits == 64 ? rnd(r) : rnd(r) >> (64 - bits);

		if (is_signed) {
			int64_t lo = bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
			int64_t hi = bits == 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
			int64_t v = bits == 64 ? (int64_t)u : (int64_t)u + lo;

			fprintf(f, "%" PRId64, k == 0 ? lo : k == 1 ? hi : k == 2 ? 0 : v);
		} else {
			uint64_t hi = bits == 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1);

			fprintf(f, "%" PRIu64, k == 0 ? 0 : k == 1 ? hi : u);
		}
		return;
	}
	switch (t) {
	case C_DEC: {
		unsigned ni = 1 + below(r, 35), nf = below(r, 31);

		if (chance(r, 40))
			fputc('-', f);
		for (unsigned i = 0; i < ni; i++)
			fputc((char)('0' + (i == 0 && ni > 1 ? 1 + below(r, 9) : below(r, 10))), f);
		if (nf) {
			fputc('.', f);
			for (unsigned i = 0; i < nf; i++)
				fputc((char)('0' + below(r, 10)), f);
		}
		break;
	}
	case C_FLOAT:
		fprintf(f, "%s%u.%06ue%d", chance(r, 40) ? "-" : "", below(r, 10), below(r, 1000000),
			(int)below(r, 76) - 38);
		break;
	case C_DOUBLE: {
		double d;
		uint64_t bits;

		do {
			bits = rnd(r);
			memcpy(&d, &bits, sizeof d);
		} while (d != d || d - d != 0); /* NaN, infinities */
		fprintf(f, "%.17g", d);
		break;
	}
	case C_BIT1: fputs(chance(r, 50) ? "b'1'" : "b'0'", f); break;
	case C_BIT64:
		fputs("b'", f);
		for (int i = 0; i < 64; i++)
			fputc(chance(r, 50) ? '1' : '0', f);
		fputc('\'', f);
		break;
	case C_DATE:
		if (chance(r, 5))
			fputs("'0000-00-00'", f);
		else
			fprintf(f, "'%04u-%02u-%02u'", 1000 + below(r, 9000), 1 + below(r, 12),
				1 + below(r, 28));
		break;
	case C_DATETIME:
		fprintf(f, "'%04u-%02u-%02u %02u:%02u:%02u.%06u'", 1000 + below(r, 9000),
			1 + below(r, 12), 1 + below(r, 28), below(r, 24), below(r, 60), below(r, 60),
			below(r, 1000000));
		break;
	case C_TIMESTAMP: {
		time_t secs = (time_t)(1 + below(r, 2147483646u));
		struct tm tm;

		gmtime_r(&secs, &tm);
		fprintf(f, "'%04d-%02d-%02d %02d:%02d:%02d.%06u'", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, below(r, 1000000));
		break;
	}
	case C_TIME:
		if (chance(r, 5))
			fputs(chance(r, 50) ? "'838:59:59'" : "'-838:59:59'", f);
		else
			fprintf(f, "'%s%u:%02u:%02u.%03u'", chance(r, 30) ? "-" : "", below(r, 838),
				below(r, 60), below(r, 60), below(r, 1000));
		break;
	case C_YEAR: fprintf(f, "%u", chance(r, 5) ? 0 : 1901 + below(r, 255)); break;
	case C_CHAR: gen_utf8(r, f, 10); break;
	case C_VARCHAR: gen_utf8(r, f, 100); break;
	case C_TEXT: gen_utf8(r, f, chance(r, 10) ? 3000 : 60); break;
	case C_LATIN1: gen_bytes(r, f, "_latin1 ", 30); break;
	case C_VARBIN: gen_bytes(r, f, "", 40); break;
	case C_BLOB: gen_bytes(r, f, "", chance(r, 10) ? 4000 : 64); break;
	case C_ENUM: {
		static const char *const v[] = {"'a'", "'b'", "'c d'", "'\xc3\xa9'"};

		fputs(v[below(r, 4)], f);
		break;
	}
	case C_SET: {
		static const char *const v[] = {"x", "y", "\xc3\xbc", "w w"};
		bool first = true;

		fputc('\'', f);
		for (int i = 0; i < 4; i++)
			if (chance(r, 40)) {
				fprintf(f, "%s%s", first ? "" : ",", v[i]);
				first = false;
			}
		fputc('\'', f);
		break;
	}
	case C_JSON: {
		char *s = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&s, &len);

		gen_json(r, m, 3);
		fclose(m);
		fputs("_utf8mb4 X'", f);
		put_hex(f, (const unsigned char *)s, len);
		fputc('\'', f);
		free(s);
		break;
	}
	default: break;
	}
}

/*
 * A DEFAULT for a column added by ALTER TABLE.  MariaDB 10.11 keeps default expressions as
 * 3-byte UTF-8 text and parses them again later: a 4-byte character is refused ("Invalid
 * default value") and an _utf8mb4 X'..' literal holding a quote fails that second parse, so
 * strings here are plain quoted literals of BMP characters.
 */
static void gen_default(struct rng *r, FILE *f, enum ctype t, bool nullable)
{
	static const char *const text[] = {
		"''", "'d\xc3\xa9" "faut'", "'it''s \\\\ \xe4\xb8\xad'", "'caf\xc3\xa9 \xc3\x9f'",
	};
	static const char *const json[] = {"'{}'", "'[1, 2.5, null]'",
					   "'{\"k\xc3\xa9\": \"\\\\u00e9 \xc3\xbc\"}'"};

	if (nullable && chance(r, 20)) {
		fputs("NULL", f);
		return;
	}
	switch (t) {
	case C_CHAR: case C_VARCHAR: case C_TEXT: case C_LATIN1:
		fputs(text[below(r, sizeof text / sizeof *text)], f);
		break;
	case C_VARBIN: case C_BLOB:
		gen_bytes(r, f, "", 8);
		break;
	case C_JSON:
		fputs(json[below(r, sizeof json / sizeof *json)], f);
		break;
	default:
		gen_value(r, f, t, false);
	}
}

/* ---- the schema model ---- */

enum tkind { K_INT, K_COMP, K_STR, K_NONE, K_UNIQ, K_NKINDS };
static const char *const kind_name[] = {"int key", "composite key", "string key", "no key",
					"unique key"};

struct col {
	char name[96];
	enum ctype type;
	bool not_null; /* added by ALTER TABLE ... NOT NULL DEFAULT */
};

struct table {
	char name[96];
	enum tkind kind;
	enum ctype key_type; /* K_INT, K_UNIQ: the key column's integer type */
	struct col cols[MAX_COLS];
	int ncols;
	unsigned keyspace;
};

struct schema {
	struct table t[MAX_TABLES];
	int n;
	int name_seq; /* suffix that keeps generated names unique */
};

static const char *const table_names[] = {
	"order", "select", "my table", "back`tick", "t\xc3\xa2\x62l\xc3\xa9", "\xe8\xa1\xa8",
	"group by", "key", "a.b", "\xce\xa9-omega", "#hash", "from", "Upper Case", "\xd0\xb4\xd0\xb0",
};
static const char *const col_names[] = {
	"value", "desc", "col with space", "quo`te", "\xc3\xbcn\xc3\xaf", "\xe5\x88\x97", "from",
	"int", "x.y", "$dollar", "-dash", "index", "NULL", "\xf0\x9f\x98\x80",
};

/* Backtick-quote name. */
static void put_ident(FILE *f, const char *name)
{
	fputc('`', f);
	for (const char *p = name; *p; p++) {
		if (*p == '`')
			fputc('`', f);
		fputc(*p, f);
	}
	fputc('`', f);
}

static void new_table_name(struct rng *r, struct schema *s, char *out, size_t n)
{
	snprintf(out, n, "%s %d", table_names[below(r, sizeof table_names / sizeof *table_names)],
		 ++s->name_seq);
}

static void new_col_name(struct rng *r, struct schema *s, char *out, size_t n)
{
	const char *base;

	/* a 4-byte character is not allowed in identifiers: skip the emoji there */
	do
		base = col_names[below(r, sizeof col_names / sizeof *col_names)];
	while ((unsigned char)base[0] == 0xf0);
	snprintf(out, n, "%s %d", base, ++s->name_seq);
}

/* The key columns' definition and PRIMARY/UNIQUE clause, by kind. */
static void put_key_columns(FILE *f, const struct table *t)
{
	switch (t->kind) {
	case K_INT:
		fprintf(f, "`id` %s NOT NULL PRIMARY KEY", type_sql[t->key_type]);
		break;
	case K_COMP:
		fputs("`gr\xc3\xbcppe` INT NOT NULL, `n\xc3\xa4me` VARCHAR(30) CHARACTER SET utf8mb4 "
		      "NOT NULL, PRIMARY KEY (`n\xc3\xa4me`, `gr\xc3\xbcppe`)", f);
		break;
	case K_STR:
		fputs("`c\xc3\xb3\x64igo` VARCHAR(40) CHARACTER SET utf8mb4 NOT NULL PRIMARY KEY", f);
		break;
	case K_UNIQ:
		fprintf(f, "`uk` %s NOT NULL, UNIQUE KEY `u` (`uk`)", type_sql[t->key_type]);
		break;
	default:
		break;
	}
}

/* The key of row number k: its columns set (SET/VALUES form) or matched (WHERE form). */
static void put_key_where(FILE *f, const struct table *t, unsigned k)
{
	switch (t->kind) {
	case K_INT: fprintf(f, "`id` = %u", k); break;
	case K_UNIQ: fprintf(f, "`uk` = %u", k); break;
	case K_COMP:
		fprintf(f, "`n\xc3\xa4me` = 'n\xf0\x9f\x98\x80%u' AND `gr\xc3\xbcppe` = %u", k / 7,
			k % 7);
		break;
	case K_STR: fprintf(f, "`c\xc3\xb3\x64igo` = 'k-\xc3\xbc-%u-\xf0\x9f\x9a\x80'", k); break;
	default: break;
	}
}

static void put_key_values(FILE *f, const struct table *t, unsigned k)
{
	switch (t->kind) {
	case K_INT:
	case K_UNIQ: fprintf(f, "%u", k); break;
	case K_COMP: fprintf(f, "%u, 'n\xf0\x9f\x98\x80%u'", k % 7, k / 7); break;
	case K_STR: fprintf(f, "'k-\xc3\xbc-%u-\xf0\x9f\x9a\x80'", k); break;
	default: break;
	}
}

static void put_key_names(FILE *f, const struct table *t)
{
	switch (t->kind) {
	case K_INT: fputs("`id`", f); break;
	case K_UNIQ: fputs("`uk`", f); break;
	case K_COMP: fputs("`gr\xc3\xbcppe`, `n\xc3\xa4me`", f); break;
	case K_STR: fputs("`c\xc3\xb3\x64igo`", f); break;
	default: break;
	}
}

static bool keyed(const struct table *t)
{
	return t->kind != K_NONE;
}

/* A new table of kind k whose value columns are `types` (ntypes of them) plus a few random. */
static void plan_table(struct rng *r, struct schema *s, struct table *t, enum tkind kind,
		       const enum ctype *types, int ntypes)
{
	static const enum ctype key_types[] = {C_USMALL, C_INT, C_UINT, C_BIG, C_UBIG, C_UMED};

	memset(t, 0, sizeof *t);
	new_table_name(r, s, t->name, sizeof t->name);
	t->kind = kind;
	t->key_type = key_types[below(r, sizeof key_types / sizeof *key_types)];
	for (int i = 0; i < ntypes && t->ncols < MAX_COLS - 4; i++) {
		new_col_name(r, s, t->cols[t->ncols].name, sizeof t->cols[0].name);
		t->cols[t->ncols++].type = types[i];
	}
	for (unsigned extra = below(r, 4); extra > 0 && t->ncols < MAX_COLS - 4; extra--) {
		new_col_name(r, s, t->cols[t->ncols].name, sizeof t->cols[0].name);
		t->cols[t->ncols++].type = (enum ctype)below(r, C_NTYPES);
	}
}

static char *create_table_sql(const struct table *t)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);
	bool first = true;

	fputs("CREATE TABLE ", f);
	put_ident(f, t->name);
	fputs(" (", f);
	if (keyed(t)) {
		put_key_columns(f, t);
		first = false;
	}
	for (int i = 0; i < t->ncols; i++) {
		fputs(first ? "" : ", ", f);
		first = false;
		put_ident(f, t->cols[i].name);
		fprintf(f, " %s NULL%s", type_sql[t->cols[i].type],
			t->cols[i].type == C_TIMESTAMP ? " DEFAULT NULL" : "");
	}
	fputs(") DEFAULT CHARSET=utf8mb4", f);
	fclose(f);
	return sql;
}

/* INSERT of n rows with keys[] (keyed tables) and random values; same: every row the same
 * values (exact duplicates in a table without keys). */
static char *insert_rows_sql(struct rng *r, const struct table *t, const char *verb,
			     unsigned *keys, unsigned n, bool same)
{
	struct rng first = *r;

	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);

	fprintf(f, "%s INTO ", verb);
	put_ident(f, t->name);
	fputs(" (", f);
	if (keyed(t))
		put_key_names(f, t);
	for (int i = 0; i < t->ncols; i++) {
		fputs(i || keyed(t) ? ", " : "", f);
		put_ident(f, t->cols[i].name);
	}
	fputs(") VALUES ", f);
	for (unsigned row = 0; row < n; row++) {
		fputs(row ? ", (" : "(", f);
		if (same && row > 0)
			*r = first;
		if (keyed(t))
			put_key_values(f, t, keys[row]);
		for (int i = 0; i < t->ncols; i++) {
			fputs(i || keyed(t) ? ", " : "", f);
			gen_value(r, f, t->cols[i].type, !t->cols[i].not_null);
		}
		fputc(')', f);
	}
	fclose(f);
	return sql;
}

/* ---- a connection that reports errors instead of failing the case (for the workload) ---- */

struct conn {
	MYSQL *c;
	unsigned errnum;
	char err[2048];
};

/* Run sql; 0, or -1 with the server's error and the statement in c->err. */
static int q(struct conn *c, const char *sql)
{
	MYSQL_RES *res;

	c->errnum = 0;
	if (mysql_real_query(c->c, sql, strlen(sql)) != 0) {
		c->errnum = mysql_errno(c->c);
		snprintf(c->err, sizeof c->err, "%s (%u) in: %.1500s", mysql_error(c->c),
			 mysql_errno(c->c), sql);
		return -1;
	}
	res = mysql_store_result(c->c);
	if (res)
		mysql_free_result(res);
	return 0;
}

/* ---- the workload ---- */

struct workload {
	struct schema *s;
	struct rng r;
	double seconds;           /* DDL is scheduled over this span */
	atomic_bool stop;
	atomic_bool failed;
	char err[2048];
	long statements, transactions, rollbacks, ddl, lock_conflicts;
	pthread_t thread;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Random value columns set: "`a` = v, `b` = w". */
static void put_sets(struct rng *r, FILE *f, const struct table *t)
{
	unsigned n = 1 + below(r, 3);

	for (unsigned i = 0; i < n; i++) {
		const struct col *c = &t->cols[below(r, (unsigned)t->ncols)];

		fputs(i ? ", " : "", f);
		put_ident(f, c->name);
		fputs(" = ", f);
		gen_value(r, f, c->type, !c->not_null);
	}
}

/* One DML statement on a random table. */
static char *dml_sql(struct rng *r, const struct schema *s)
{
	const struct table *t = &s->t[below(r, (unsigned)s->n)];
	char *sql = NULL;
	size_t len = 0;
	FILE *f;
	unsigned op = below(r, 100), k = below(r, t->keyspace);

	if (keyed(t) && op < 30) {
		unsigned keys[5], n = 1 + below(r, 5);
		static const char *const verbs[] = {"INSERT IGNORE", "REPLACE", "INSERT"};
		unsigned v = below(r, 3);

		for (unsigned i = 0; i < n; i++)
			keys[i] = below(r, t->keyspace);
		if (v == 2) { /* INSERT ... ON DUPLICATE KEY UPDATE, one row */
			char *ins = insert_rows_sql(r, t, "INSERT", keys, 1, false);

			f = open_memstream(&sql, &len);
			fprintf(f, "%s ON DUPLICATE KEY UPDATE ", ins);
			put_sets(r, f, t);
			fclose(f);
			free(ins);
			return sql;
		}
		return insert_rows_sql(r, t, verbs[v], keys, n, false);
	}
	if (!keyed(t) && op < 45) {
		/* exact duplicates sometimes (not by INSERT ... SELECT from the same table: that
		 * crashes MariaDB 10.11 in ha_maria::drop_table on some rows with BLOBs) */
		return insert_rows_sql(r, t, "INSERT", NULL, 1 + below(r, 4), chance(r, 30));
	}
	f = open_memstream(&sql, &len);
	if (!keyed(t)) {
		if (op < 72) {
			fputs("UPDATE ", f);
			put_ident(f, t->name);
			fputs(" SET ", f);
			put_sets(r, f, t);
			fprintf(f, " LIMIT %u", 1 + below(r, 3));
		} else {
			fputs("DELETE FROM ", f);
			put_ident(f, t->name);
			if (chance(r, 50)) {
				fputs(" WHERE ", f);
				put_ident(f, t->cols[below(r, (unsigned)t->ncols)].name);
				fputs(" IS NULL", f);
			}
			fprintf(f, " LIMIT %u", 1 + below(r, 2));
		}
	} else if (op < 62) {
		fputs("UPDATE ", f);
		put_ident(f, t->name);
		fputs(" SET ", f);
		put_sets(r, f, t);
		if ((t->kind == K_INT || t->kind == K_UNIQ) && chance(r, 15))
			fprintf(f, " WHERE %s BETWEEN %u AND %u", t->kind == K_INT ? "`id`" : "`uk`", k,
				k + below(r, 20));
		else
			fputs(" WHERE ", f), put_key_where(f, t, k);
	} else if (op < 72) {
		/* the key itself changes */
		fputs("UPDATE IGNORE ", f);
		put_ident(f, t->name);
		fputs(" SET ", f);
		switch (t->kind) {
		case K_INT: fprintf(f, "`id` = %u", below(r, t->keyspace)); break;
		case K_UNIQ: fprintf(f, "`uk` = %u", below(r, t->keyspace)); break;
		case K_COMP: fprintf(f, "`gr\xc3\xbcppe` = %u", below(r, 7)); break;
		default: put_key_where(f, t, below(r, t->keyspace)); break; /* `c` = '..' */
		}
		if (chance(r, 50))
			fputs(", ", f), put_sets(r, f, t);
		fputs(" WHERE ", f);
		put_key_where(f, t, k);
	} else {
		fputs("DELETE FROM ", f);
		put_ident(f, t->name);
		if ((t->kind == K_INT || t->kind == K_UNIQ) && chance(r, 15))
			fprintf(f, " WHERE %s BETWEEN %u AND %u", t->kind == K_INT ? "`id`" : "`uk`", k,
				k + below(r, 10));
		else
			fputs(" WHERE ", f), put_key_where(f, t, k);
	}
	fclose(f);
	return sql;
}

static int run_free(struct conn *c, char *sql)
{
	int rc = q(c, sql);

	free(sql);
	return rc;
}

/* Create table t on the source with rows initial rows. */
static int create_and_fill(struct rng *r, struct conn *c, struct table *t, unsigned rows)
{
	unsigned keys[100];

	t->keyspace = rows * 2 + 20;
	if (run_free(c, create_table_sql(t)))
		return -1;
	for (unsigned done = 0; done < rows;) {
		unsigned n = rows - done < 100 ? rows - done : 100;

		for (unsigned i = 0; i < n; i++)
			keys[i] = (done + i) * 2; /* every other key: inserts and key changes land */
		if (run_free(c, insert_rows_sql(r, t, "INSERT", keys, n, false)))
			return -1;
		done += n;
	}
	return 0;
}

/* One DDL statement of kind k: 0 ADD COLUMN with a default, 1 CREATE TABLE + rows, 2 RENAME. */
static int ddl(struct workload *w, struct conn *c, unsigned k)
{
	struct rng *r = &w->r;
	struct schema *s = w->s;
	struct table *t = &s->t[below(r, (unsigned)s->n)];
	char *sql = NULL;
	size_t len = 0;
	FILE *f;

	if (k == 1 && s->n < MAX_TABLES) {
		enum ctype types[4];
		struct table *nt = &s->t[s->n];

		for (int i = 0; i < 4; i++)
			types[i] = (enum ctype)below(r, C_NTYPES);
		plan_table(r, s, nt, (enum tkind)below(r, K_NKINDS), types, 4);
		if (create_and_fill(r, c, nt, 20 + below(r, 60)))
			return -1;
		s->n++;
		return 0;
	}
	f = open_memstream(&sql, &len);
	if (k == 2) {
		char name[96];

		new_table_name(r, s, name, sizeof name);
		fputs("RENAME TABLE ", f);
		put_ident(f, t->name);
		fputs(" TO ", f);
		put_ident(f, name);
		fclose(f);
		if (run_free(c, sql))
			return -1;
		snprintf(t->name, sizeof t->name, "%s", name);
		return 0;
	}
	if (t->ncols >= MAX_COLS) {
		fclose(f);
		free(sql);
		return 0;
	}
	{
		struct col *nc = &t->cols[t->ncols];
		bool not_null = chance(r, 50);
		unsigned where = below(r, 3);
		int after = (int)below(r, (unsigned)t->ncols);

		new_col_name(r, s, nc->name, sizeof nc->name);
		nc->type = (enum ctype)below(r, C_NTYPES);
		nc->not_null = not_null;
		fputs("ALTER TABLE ", f);
		put_ident(f, t->name);
		fputs(" ADD COLUMN ", f);
		put_ident(f, nc->name);
		fprintf(f, " %s %s DEFAULT ", type_sql[nc->type], not_null ? "NOT NULL" : "NULL");
		gen_default(r, f, nc->type, !not_null);
		if (where == 1 && !keyed(t)) {
			fputs(" FIRST", f);
		} else if (where == 2) {
			fputs(" AFTER ", f);
			put_ident(f, t->cols[after].name);
		}
		fclose(f);
		if (run_free(c, sql))
			return -1;
		/* keep the model's order the table's order: value columns after the key columns */
		if (where == 1 && !keyed(t)) {
			struct col moved = *nc;

			memmove(&t->cols[1], &t->cols[0], sizeof *nc * (size_t)t->ncols);
			t->cols[0] = moved;
		} else if (where == 2) {
			struct col moved = *nc;

			memmove(&t->cols[after + 2], &t->cols[after + 1],
				sizeof *nc * (size_t)(t->ncols - after - 1));
			t->cols[after + 1] = moved;
		}
		t->ncols++;
	}
	return 0;
}

/*
 * A deadlock or lock wait timeout on the source: barge's snapshot (FLUSH TABLES WITH READ LOCK,
 * its consistent reads) can meet the workload's locks.  The server rolled the statement or
 * transaction back, so it is simply not part of the history.
 */
static bool lock_conflict(unsigned e)
{
	return e == 1213 || e == 1205;
}

static void *workload_main(void *arg)
{
	struct workload *w = arg;
	const struct th_servers *s = th_servers();
	struct conn c = {0};
	double start = now_s(), ddl_at[8];
	unsigned ddl_kind[8], nddl = 3 + below(&w->r, 4), next_ddl = 0;
	char err[512];

	c.c = th_try_connect(&s->source, s->source.admin_user, s->source.admin_password, DB, err,
			     sizeof err);
	if (!c.c) {
		snprintf(w->err, sizeof w->err, "workload: connect: %s", err);
		atomic_store(&w->failed, true);
		return NULL;
	}
	/* DDL at random moments over the first 80% of the run; each kind at least once */
	for (unsigned i = 0; i < nddl; i++) {
		ddl_at[i] = w->seconds * (0.05 + 0.75 * (double)below(&w->r, 1000) / 1000.0);
		ddl_kind[i] = i < 3 ? i : below(&w->r, 3);
	}
	for (unsigned i = 0; i + 1 < nddl; i++) /* in time order */
		for (unsigned j = i + 1; j < nddl; j++)
			if (ddl_at[j] < ddl_at[i]) {
				double d = ddl_at[i];

				ddl_at[i] = ddl_at[j];
				ddl_at[j] = d;
			}
	if (q(&c, "SET time_zone = '+00:00'"))
		goto fail;
	while (!atomic_load(&w->stop)) {
		if (next_ddl < nddl && now_s() - start >= ddl_at[next_ddl]) {
			if (ddl(w, &c, ddl_kind[next_ddl++]))
				goto fail;
			w->ddl++;
		} else if (chance(&w->r, 15)) {
			unsigned n = 2 + below(&w->r, 5);
			bool rollback = chance(&w->r, 10);

			if (q(&c, "BEGIN"))
				goto fail;
			for (unsigned i = 0; i < n; i++) {
				if (run_free(&c, dml_sql(&w->r, w->s)))
					break;
				w->statements++;
			}
			if (c.errnum && !lock_conflict(c.errnum))
				goto fail;
			if (c.errnum) { /* the server rolled it back: it never happened */
				w->lock_conflicts++;
				rollback = true;
			}
			if (q(&c, rollback ? "ROLLBACK" : "COMMIT"))
				goto fail;
			w->transactions++;
			w->rollbacks += rollback;
		} else {
			if (run_free(&c, dml_sql(&w->r, w->s))) {
				if (!lock_conflict(c.errnum))
					goto fail;
				w->lock_conflicts++;
			} else {
				w->statements++;
			}
		}
		usleep(below(&w->r, 3000));
	}
	mysql_close(c.c);
	return NULL;
fail:
	snprintf(w->err, sizeof w->err, "workload: %s", c.err);
	atomic_store(&w->failed, true);
	mysql_close(c.c);
	return NULL;
}

/* ---- barge as a process, and the cleanup that runs however the case ends ---- */

static pid_t barge_pid;
static char barge_log[600];
static volatile int target_down;
static struct workload *live_workload;

static pid_t start_barge(const char *path)
{
	const struct th_servers *s = th_servers();
	static char e1[128], e2[128];
	const char *args[] = {"run", "--progress", "1", path, NULL}, *env[] = {e1, e2, NULL};

	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", s->source.src_password);
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s", s->target.tgt_password);
	return th_start_barge(barge_log, env, args);
}

static void kill_barge(void)
{
	int status;

	if (barge_pid > 0) {
		kill(barge_pid, SIGKILL);
		waitpid(barge_pid, &status, 0);
		barge_pid = 0;
	}
}

static void chaos_cleanup(void)
{
	if (live_workload) {
		atomic_store(&live_workload->stop, true);
		pthread_join(live_workload->thread, NULL);
		live_workload = NULL;
	}
	kill_barge();
	if (target_down) {
		const struct th_server *t = &th_servers()->target;
		char cmd[2000], parent[512], *slash;

		snprintf(parent, sizeof parent, "%s", t->dir);
		slash = strrchr(parent, '/');
		if (slash)
			*slash = '\0';
		snprintf(cmd, sizeof cmd, "'%s/tests/integration/servers.sh' restart '%s' '%s' >/dev/null 2>&1",
			 BARGE_SOURCE_DIR, parent, t->name);
		if (system(cmd) != 0)
			fprintf(stderr, "chaos: could not restart the target server\n");
		target_down = 0;
	}
}

/* The last lines of barge's log, for failure messages (heap). */
static char *log_tail(void)
{
	char *text = test_read_file(barge_log, NULL);
	size_t len;

	if (!text)
		return strdup("(no log)");
	len = strlen(text);
	if (len > 6000)
		memmove(text, text + len - 6000, 6001);
	return text;
}

/* Fail when barge ended by itself: it must survive everything this test does to it. */
static void check_barge_alive(void)
{
	int status;

	if (barge_pid > 0 && waitpid(barge_pid, &status, WNOHANG) == barge_pid) {
		barge_pid = 0;
		TEST_FAILF("barge exited by itself (status %d) during chaos; its log ends:\n%s",
			   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			   log_tail());
	}
}

/* KILL barge's source connections: its binlog dump when there is one, else (full phase) all of
 * them.  Returns how many were killed. */
static int cut_source(void)
{
	const struct th_servers *s = th_servers();
	MYSQL *c = th_connect(&s->source, NULL);
	MYSQL_RES *res;
	MYSQL_ROW row;
	char sql[400];
	int killed = 0;

	for (int dump_only = 1; dump_only >= 0 && killed == 0; dump_only--) {
		snprintf(sql, sizeof sql,
			 "SELECT ID FROM information_schema.PROCESSLIST WHERE USER IN ('%s', '%s')%s",
			 s->source.src_user, s->source.src_reload_user,
			 dump_only ? " AND COMMAND LIKE 'Binlog Dump%'" : "");
		if (mysql_query(c, sql) || !(res = mysql_store_result(c)))
			TEST_FAILF("source processlist: %s", mysql_error(c));
		while ((row = mysql_fetch_row(res)) != NULL) {
			snprintf(sql, sizeof sql, "KILL CONNECTION %s", row[0]);
			/* 1094: it ended by itself meanwhile */
			if (mysql_query(c, sql) == 0)
				killed++;
			else if (mysql_errno(c) != 1094)
				TEST_FAILF("%s: %s", sql, mysql_error(c));
		}
		mysql_free_result(res);
	}
	mysql_close(c);
	return killed;
}

/* A value of a one-row query, or NULL when it fails (the target may be starting up). */
static char *try_value(MYSQL *c, const char *sql, int col)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *v = NULL;

	if (mysql_query(c, sql) || !(res = mysql_store_result(c)))
		return NULL;
	row = mysql_fetch_row(res);
	if (row && row[col])
		v = strdup(row[col]);
	mysql_free_result(res);
	return v;
}

/*
 * Whether every apply worker's checkpoint has reached the source's binlog head (nothing is
 * written to the source meanwhile, so the head is fixed): then every change is on the target.
 * why describes the state otherwise.
 */
static bool caught_up(char *why, size_t n)
{
	const struct th_servers *s = th_servers();
	MYSQL *src = th_connect(&s->source, NULL), *tgt;
	char err[300], sql[600], *file = try_value(src, "SHOW MASTER STATUS", 0);
	char *pos = try_value(src, "SHOW MASTER STATUS", 1), *behind = NULL, *workers = NULL;
	bool ok = false;

	mysql_close(src);
	if (!file || !pos)
		TEST_FAILF("SHOW MASTER STATUS on the source returned nothing");
	tgt = th_try_connect(&s->target, s->target.admin_user, s->target.admin_password, NULL, err,
			     sizeof err);
	if (!tgt) {
		snprintf(why, n, "target: %s", err);
		goto done;
	}
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*), SUM(binlog_file < '%s' OR (binlog_file = '%s' AND binlog_pos < %s)), "
		 "GROUP_CONCAT(CONCAT(worker, '@', binlog_file, ':', binlog_pos)) "
		 "FROM barge_meta.positions WHERE job = '" JOB "'",
		 file, file, pos);
	workers = try_value(tgt, sql, 0);
	behind = try_value(tgt, sql, 1);
	{
		char *list = try_value(tgt, sql, 2);

		snprintf(why, n, "source head %s:%s, workers %s", file, pos, list ? list : "(none)");
		free(list);
	}
	ok = workers && atoi(workers) > 0 && behind && atoi(behind) == 0;
	mysql_close(tgt);
done:
	free(file);
	free(pos);
	free(workers);
	free(behind);
	return ok;
}

/* The tables of DB on a server, sorted, one per line (heap). */
static char *table_list(const struct th_server *srv)
{
	MYSQL *c = th_connect(srv, NULL);
	char *v = th_query_value(c, "SELECT GROUP_CONCAT(TABLE_NAME ORDER BY BINARY TABLE_NAME "
				    "SEPARATOR '\\n') FROM information_schema.TABLES WHERE "
				    "TABLE_SCHEMA = '" DB "'");

	mysql_close(c);
	return v ? v : strdup("");
}

/* A table's columns on a server: name, position, type, nullability, key (heap). */
static char *column_list(const struct th_server *srv, const char *table)
{
	MYSQL *c = th_connect(srv, NULL);
	char esc[400], *v;

	mysql_real_escape_string(c, esc, table, strlen(table));
	th_exec(c, "SET SESSION group_concat_max_len = 1000000");
	v = th_query_value(c, "SELECT GROUP_CONCAT(CONCAT_WS(' ', ORDINAL_POSITION, COLUMN_NAME, "
			      "COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY) ORDER BY ORDINAL_POSITION "
			      "SEPARATOR '\\n') FROM information_schema.COLUMNS WHERE "
			      "TABLE_SCHEMA = '" DB "' AND TABLE_NAME = '%s'", esc);
	mysql_close(c);
	return v ? v : strdup("");
}

static double env_double(const char *name, double dflt)
{
	const char *v = getenv(name);

	return v && *v ? atof(v) : dflt;
}

TEST(chaos_under_writes_kills_and_cuts_loses_and_doubles_nothing)
{
	const struct th_servers *s;
	static struct schema schema;
	static struct workload wl;
	struct rng r, chaos;
	const char *seed_env = getenv("BARGE_CHAOS_SEED");
	uint64_t seed = seed_env && *seed_env ? strtoull(seed_env, NULL, 0)
					      : ((uint64_t)time(NULL) << 16) ^ (uint64_t)getpid();
	double seconds = env_double("BARGE_CHAOS_SECONDS", CHAOS_SANITIZED ? 35 : 60);
	double t0 = now_s(), chaos_end, next_event;
	int barge_kills = 0, target_restarts = 0, source_cuts = 0, events = 0;
	unsigned workers, batch, chunk_rows;
	const char *safe_mode, *path;
	char spec[600], why[2000] = "";
	struct conn c = {0};
	long long rows = 0;
	char *src_tables, *tgt_tables;

	/* first, so that a failure can always be replayed */
	fprintf(stderr, "chaos: seed %" PRIu64 " (replay: BARGE_CHAOS_SEED=%" PRIu64
		" BARGE_CHAOS_SECONDS=%g)\n", seed, seed, seconds);
	fflush(stderr);
	r.s = seed;
	chaos.s = seed ^ 0x5eed5eed5eed5eedULL;
	wl.r.s = seed ^ 0xa5a5a5a5a5a5a5a5ULL;
	s = th_servers();
	snprintf(barge_log, sizeof barge_log, "%s/chaos.log", th_tmpdir());
	atexit(chaos_cleanup);

	/* the schema: one table per kind, then random kinds; every type in some table */
	th_fresh_db(&s->source, DB);
	{
		MYSQL *t = th_connect(&s->target, NULL);

		th_exec(t, "DROP DATABASE IF EXISTS `" DB "`");
		/* a previous run's checkpoints of this job would make this run resume them */
		th_forget_job(&s->target, JOB);
		mysql_close(t);
	}
	c.c = th_connect(&s->source, DB);
	th_exec(c.c, "SET time_zone = '+00:00'");
	schema.n = 4 + (int)below(&r, 3);
	{
		enum ctype order[C_NTYPES];

		for (int i = 0; i < C_NTYPES; i++)
			order[i] = (enum ctype)i;
		for (int i = C_NTYPES - 1; i > 0; i--) {
			int j = (int)below(&r, (unsigned)i + 1);
			enum ctype x = order[i];

			order[i] = order[j];
			order[j] = x;
		}
		for (int i = 0; i < schema.n; i++) {
			/* the types dealt round-robin, so each appears once across the first tables */
			enum ctype mine[C_NTYPES];
			int nmine = 0;
			enum tkind kind = i < 4 ? (enum tkind)i : (enum tkind)below(&r, K_NKINDS);

			for (int k = i; k < C_NTYPES; k += schema.n)
				mine[nmine++] = order[k];
			plan_table(&r, &schema, &schema.t[i], kind, mine, nmine);
			if (create_and_fill(&r, &c, &schema.t[i], 200 + below(&r, 1300)))
				TEST_FAILF("%s", c.err);
			fprintf(stderr, "chaos: table `%s` (%s, %d value columns, %u initial rows)\n",
				schema.t[i].name, kind_name[kind], schema.t[i].ncols,
				(schema.t[i].keyspace - 20) / 2);
		}
	}
	mysql_close(c.c);

	workers = 1 + below(&r, 4);
	batch = 5 + below(&r, 200);
	chunk_rows = 100 + below(&r, 500);
	/* auto or never: both keep tables without keys exact (see the comparison below) */
	safe_mode = chance(&r, 75) ? "auto" : "never";
	snprintf(spec, sizeof spec,
		 "  objects: {allow: [{schema: \"" DB "\"}]}\n"
		 "  full: {threads: 2, chunkRows: %u}\n"
		 "  incremental: {workers: %u, batch: %u, safeMode: %s}\n",
		 chunk_rows, workers, batch, safe_mode);
	fprintf(stderr, "chaos: job: chunkRows %u, workers %u, batch %u, safeMode %s; %.0f s of chaos\n",
		chunk_rows, workers, batch, safe_mode, seconds);
	path = th_write_job(JOB, "all", NULL, spec);

	/* the workload and barge start together: the first events may land in the full phase */
	wl.s = &schema;
	wl.seconds = seconds;
	atomic_store(&wl.stop, false);
	atomic_store(&wl.failed, false);
	if (pthread_create(&wl.thread, NULL, workload_main, &wl) != 0)
		TEST_FAILF("pthread_create failed");
	live_workload = &wl;
	barge_pid = start_barge(path);

	chaos_end = now_s() + seconds;
	next_event = now_s() + 0.5 + (double)below(&chaos, 2500) / 1000.0;
	while (now_s() < chaos_end) {
		unsigned kind;

		usleep(50000);
		if (atomic_load(&wl.failed))
			TEST_FAILF("%s", wl.err);
		check_barge_alive();
		if (now_s() < next_event)
			continue;
		/* the first three events are one of each kind, then any */
		kind = events < 3 ? (unsigned)((events + seed) % 3) : below(&chaos, 3);
		events++;
		if (kind == 0) {
			fprintf(stderr, "chaos: %5.1f s: SIGKILL barge\n", now_s() - t0);
			kill_barge();
			barge_kills++;
			usleep(below(&chaos, 1500) * 1000);
			barge_pid = start_barge(path);
		} else if (kind == 1) {
			unsigned down_ms = below(&chaos, 3000);

			fprintf(stderr, "chaos: %5.1f s: kill -9 the target, down %u ms\n", now_s() - t0,
				down_ms);
			target_down = 1;
			th_kill_server(&s->target);
			usleep(down_ms * 1000);
			th_restart_server(&s->target);
			target_down = 0;
			target_restarts++;
		} else {
			int n = cut_source();

			fprintf(stderr, "chaos: %5.1f s: cut %d source connection(s) of barge\n",
				now_s() - t0, n);
			source_cuts += n > 0;
			if (n == 0 && events <= 3) { /* between connections: the first cut again soon */
				events--;
				next_event = now_s() + 0.3;
				continue;
			}
		}
		/* the first three come sooner, so that even a short run has one of each */
		next_event = now_s() + 1.0 + (double)below(&chaos, events < 3 ? 2000 : 5000) / 1000.0;
	}
	atomic_store(&wl.stop, true);
	pthread_join(wl.thread, NULL);
	live_workload = NULL;
	if (atomic_load(&wl.failed))
		TEST_FAILF("%s", wl.err);
	fprintf(stderr, "chaos: %5.1f s: workload stopped: %ld statements, %ld transactions (%ld "
		"rolled back), %ld DDL, %ld deadlocks or lock timeouts on the source\n", now_s() - t0,
		wl.statements, wl.transactions, wl.rollbacks, wl.ddl, wl.lock_conflicts);
	/* every kind of event happened, or the run proved less than it claims */
	ASSERT_TRUE(barge_kills > 0);
	ASSERT_TRUE(target_restarts > 0);
	ASSERT_TRUE(source_cuts > 0);
	ASSERT_TRUE(wl.ddl >= 3);

	/* catch up: every worker's checkpoint at the source's head (the backoff after target
	 * restarts is at most 30 s) */
	{
		double deadline = now_s() + 150;

		while (!caught_up(why, sizeof why)) {
			check_barge_alive();
			if (now_s() > deadline)
				TEST_FAILF("barge did not catch up within 150 s of the workload's end: %s; "
					   "its log ends:\n%s", why, log_tail());
			usleep(200000);
		}
		fprintf(stderr, "chaos: %5.1f s: caught up: %s\n", now_s() - t0, why);
	}
	/* a clean stop after all that */
	{
		int status = 0;

		kill(barge_pid, SIGTERM);
		for (int i = 0; i < 300 && waitpid(barge_pid, &status, WNOHANG) != barge_pid; i++)
			usleep(100000);
		if (kill(barge_pid, 0) == 0)
			TEST_FAILF("barge did not stop within 30 s of SIGTERM; its log ends:\n%s",
				   log_tail());
		barge_pid = 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			TEST_FAILF("barge exited with status %d on SIGTERM; its log ends:\n%s",
				   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
				   log_tail());
	}

	/* the same tables, with the same columns... */
	src_tables = table_list(&s->source);
	tgt_tables = table_list(&s->target);
	ASSERT_EQ_STR(tgt_tables, src_tables);
	for (int i = 0; i < schema.n; i++) {
		char *a = column_list(&s->source, schema.t[i].name);
		char *b = column_list(&s->target, schema.t[i].name);

		ASSERT_EQ_STR(b, a);
		free(a);
		free(b);
	}
	/*
	 * ...and the same rows.  Tables with a key: exactly, in key order.  Tables without a key:
	 * exactly too, as multisets (ordered by every column): safeMode here is auto or never,
	 * and docs/incremental.md says neither puts a keyless table in safe mode — exactness for
	 * them comes from the per-worker positions, and a keyless table interrupted in the full
	 * phase is recopied whole — so DESIGN.md's allowance (duplicates in safe mode only) never
	 * applies: a lost or doubled row is a failure.
	 */
	for (int i = 0; i < schema.n; i++) {
		long long n = th_compare_tables(&s->source, DB, schema.t[i].name, &s->target, DB,
						schema.t[i].name);

		fprintf(stderr, "chaos: `%s` (%s): %lld rows equal\n", schema.t[i].name,
			kind_name[schema.t[i].kind], n);
		rows += n;
	}
	ASSERT_TRUE(rows > 0);
	fprintf(stderr,
		"chaos: PASS seed %" PRIu64 ": %d barge kills, %d target restarts, %d source cuts "
		"survived; %ld statements, %ld DDL; %d tables, %lld rows compared; %.0f s\n",
		seed, barge_kills, target_restarts, source_cuts, wl.statements, wl.ddl, schema.n, rows,
		now_s() - t0);
	free(src_tables);
	free(tgt_tables);
}

TEST_MAIN()

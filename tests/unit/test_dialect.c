/*
 * test_dialect.c — definitions for the target (engine/dialect).  The TiDB rewrites are driven
 * by tests/data/dialect/tidb.cases (format at its top).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dialect.h"
#include "tests/test.h"

TEST(create_table_gets_the_routed_name_and_if_not_exists)
{
	struct barge_dialect_ctx ctx = {BARGE_DIALECT_MYSQL, "10.11.6-MariaDB", NULL};
	struct barge_buf out;
	struct barge_dialect_warnings w = {0};
	struct barge_err err = {0};

	barge_buf_init(&out, BARGE_BUF_NOCAP);
	ASSERT_OK(barge_dialect_create_table(&ctx, "CREATE TABLE `a``b` (\n  `id` int\n)", "sh`op",
					     "t 1", &out, &w, &err));
	ASSERT_EQ_STR(out.data, "CREATE TABLE IF NOT EXISTS `sh``op`.`t 1` (\n  `id` int\n)");
	barge_buf_reset(&out);
	ASSERT_OK(barge_dialect_create_database(&ctx,
						"CREATE DATABASE `shop` /*!40100 DEFAULT CHARACTER "
						"SET utf8mb4 */",
						"shop_v2", &out, &w, &err));
	ASSERT_EQ_STR(out.data, "CREATE DATABASE IF NOT EXISTS `shop_v2` /*!40100 DEFAULT CHARACTER "
				"SET utf8mb4 */");
	barge_buf_reset(&out);
	ASSERT_EQ_INT(barge_dialect_create_table(&ctx, "CREATE VIEW v AS SELECT 1", "a", "b", &out,
						 &w, &err),
		      BARGE_EDDL);
	barge_buf_dispose(&out);
	barge_dialect_warnings_dispose(&w);
}

TEST(secondary_indexes_are_split_out_and_commas_fixed)
{
	const char *in = "CREATE TABLE IF NOT EXISTS `s`.`t` (\n"
			 "  `id` int(11) NOT NULL,\n"
			 "  `k` int(11) NOT NULL DEFAULT 0,\n"
			 "  `c` char(10) NOT NULL,\n"
			 "  PRIMARY KEY (`id`),\n"
			 "  UNIQUE KEY `uc` (`c`),\n"
			 "  KEY `k_1` (`k`),\n"
			 "  FULLTEXT KEY `ft` (`c`)\n"
			 ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
	struct barge_buf table, clauses;

	barge_buf_init(&table, BARGE_BUF_NOCAP);
	barge_buf_init(&clauses, BARGE_BUF_NOCAP);
	ASSERT_EQ_INT(barge_dialect_split_indexes(in, &table, &clauses), 2);
	ASSERT_EQ_STR(table.data, "CREATE TABLE IF NOT EXISTS `s`.`t` (\n"
				  "  `id` int(11) NOT NULL,\n"
				  "  `k` int(11) NOT NULL DEFAULT 0,\n"
				  "  `c` char(10) NOT NULL,\n"
				  "  PRIMARY KEY (`id`),\n"
				  "  UNIQUE KEY `uc` (`c`)\n"
				  ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
	ASSERT_EQ_STR(clauses.data, "KEY `k_1` (`k`)\nFULLTEXT KEY `ft` (`c`)\n");
	barge_buf_dispose(&table);
	barge_buf_dispose(&clauses);
}

TEST(tables_without_secondary_indexes_or_with_foreign_keys_are_unchanged)
{
	const char *plain = "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n)";
	const char *fk = "CREATE TABLE `c` (\n  `id` int NOT NULL,\n  `p` int,\n  KEY `p` (`p`),\n"
			 "  CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `par` (`id`)\n)";
	struct barge_buf table, clauses;

	barge_buf_init(&table, BARGE_BUF_NOCAP);
	barge_buf_init(&clauses, BARGE_BUF_NOCAP);
	ASSERT_EQ_INT(barge_dialect_split_indexes(plain, &table, &clauses), 0);
	ASSERT_EQ_STR(table.data, plain);
	barge_buf_reset(&table);
	ASSERT_EQ_INT(barge_dialect_split_indexes(fk, &table, &clauses), 0);
	ASSERT_EQ_STR(table.data, fk);
	ASSERT_EQ_INT(clauses.len, 0);
	barge_buf_dispose(&table);
	barge_buf_dispose(&clauses);
}

/*
 * The worker rewrites a table, then splits its secondary indexes out to build them after the
 * load: the rewrite must keep SHOW CREATE TABLE's one-element-per-line layout for that.
 */
TEST(tidb_rewrite_keeps_the_layout_split_indexes_reads)
{
	const char *mysql8 = "CREATE TABLE `orders` (\n"
			     "  `id` bigint NOT NULL AUTO_INCREMENT,\n"
			     "  `note` text COLLATE utf8mb4_0900_ai_ci,\n"
			     "  `k` int DEFAULT NULL /*!80023 INVISIBLE */,\n"
			     "  PRIMARY KEY (`id`),\n"
			     "  KEY `k` (`k`),\n"
			     "  FULLTEXT KEY `ft` (`note`) /*!50100 WITH PARSER `ngram` */ \n"
			     ") ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 "
			     "COLLATE=utf8mb4_0900_ai_ci";
	struct barge_dialect_ctx ctx = {BARGE_DIALECT_TIDB, "5.7.25-TiDB-v6.5.3", "8.0.36"};
	struct barge_dialect_warnings w = {0};
	struct barge_err err = {0};
	struct barge_buf out, table, clauses;

	barge_buf_init(&out, BARGE_BUF_NOCAP);
	barge_buf_init(&table, BARGE_BUF_NOCAP);
	barge_buf_init(&clauses, BARGE_BUF_NOCAP);
	ASSERT_OK(barge_dialect_create_table(&ctx, mysql8, "shop", "orders", &out, &w, &err));
	ASSERT_EQ_INT(barge_dialect_split_indexes(out.data, &table, &clauses), 1);
	ASSERT_EQ_STR(table.data, "CREATE TABLE IF NOT EXISTS `shop`.`orders` (\n"
				  "  `id` bigint NOT NULL AUTO_INCREMENT,\n"
				  "  `note` text COLLATE utf8mb4_general_ci,\n"
				  "  `k` int DEFAULT NULL,\n"
				  "  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */\n"
				  ") AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 "
				  "COLLATE=utf8mb4_general_ci");
	ASSERT_EQ_STR(clauses.data, "KEY `k` (`k`)\n");
	ASSERT_EQ_INT(w.count, 6);
	barge_buf_dispose(&out);
	barge_buf_dispose(&table);
	barge_buf_dispose(&clauses);
	barge_dialect_warnings_dispose(&w);
}

/* A failed rewrite leaves what the caller already had untouched. */
TEST(failed_tidb_rewrite_leaves_output_and_warnings_alone)
{
	struct barge_dialect_ctx ctx = {BARGE_DIALECT_TIDB, "8.0.11-TiDB-v7.5.1", NULL};
	struct barge_dialect_warnings w = {0};
	struct barge_err err = {0};
	struct barge_buf out;

	barge_buf_init(&out, BARGE_BUF_NOCAP);
	ASSERT_OK(barge_dialect_create_table(&ctx, "CREATE TABLE `a` (`x` int) ENGINE=InnoDB", "s",
					     "a", &out, &w, &err));
	ASSERT_EQ_INT(w.count, 1);
	barge_buf_putc(&out, ';');
	ASSERT_EQ_INT(barge_dialect_create_table(&ctx,
						 "CREATE TABLE `b` (`x` int, `g` point) "
						 "ENGINE=MyISAM",
						 "s", "b", &out, &w, &err),
		      BARGE_EDDL);
	ASSERT_CONTAINS(err.msg, "table `s`.`b`: column `g`: spatial type point");
	ASSERT_EQ_STR(out.data, "CREATE TABLE IF NOT EXISTS `s`.`a` (`x` int);");
	ASSERT_EQ_INT(w.count, 1);
	barge_buf_dispose(&out);
	barge_dialect_warnings_dispose(&w);
}

/* ---- tests/data/dialect/tidb.cases ---- */

#define CASE_TEXT 8192
#define CASE_MAX_WARN 16
#define CASE_MAX_EXPECT 8

struct expectation {
	char target[128];
	char out[CASE_TEXT];
	char error[512];
	char warn[CASE_MAX_WARN][512];
	int n_warn;
	int line;
};

struct dialect_case {
	bool database, mysql, has_in;
	char in[CASE_TEXT];
	char to[256];
	char source[128];
	struct expectation exp[CASE_MAX_EXPECT];
	int n_exp;
	int line;
	char *cont; /* the value a "| " line continues */
};

/* Each warn fragment must be in its own warning, and no warning may be left over. */
static int check_warnings(const struct expectation *e, const struct barge_dialect_warnings *w)
{
	bool used[64] = {false};
	int bad = 0;

	for (int i = 0; i < e->n_warn; i++) {
		size_t k = 0;

		while (k < w->count && (k >= 64 || used[k] || !strstr(w->items[k], e->warn[i])))
			k++;
		if (k < w->count && k < 64) {
			used[k] = true;
			continue;
		}
		fprintf(stderr, "  line %d: no warning contains \"%s\"\n", e->line, e->warn[i]);
		bad++;
	}
	if ((size_t)e->n_warn != w->count) {
		fprintf(stderr, "  line %d: %zu warnings, expected %d:\n", e->line, w->count, e->n_warn);
		for (size_t k = 0; k < w->count; k++)
			fprintf(stderr, "    %s\n", w->items[k]);
		bad++;
	}
	return bad;
}

/* Run one expectation of c; returns the number of mismatches (printed). */
static int run_expectation(const struct dialect_case *c, const struct expectation *e)
{
	struct barge_dialect_ctx ctx = {c->mysql ? BARGE_DIALECT_MYSQL : BARGE_DIALECT_TIDB,
					e->target[0] ? e->target : "8.0.11-TiDB-v7.5.1",
					c->source[0] ? c->source : NULL};
	struct barge_dialect_warnings w = {0};
	struct barge_err err = {0};
	struct barge_buf out;
	char schema[256], *dot;
	const char *table = NULL;
	int rc, bad = 0;

	snprintf(schema, sizeof schema, "%s", c->to[0] ? c->to : "db");
	if (!c->database) {
		dot = strchr(schema, '.');
		table = dot ? dot + 1 : "t";
		if (dot)
			*dot = '\0';
	}
	barge_buf_init(&out, BARGE_BUF_NOCAP);
	rc = c->database ? barge_dialect_create_database(&ctx, c->in, schema, &out, &w, &err)
			 : barge_dialect_create_table(&ctx, c->in, schema, table, &out, &w, &err);
	if (e->error[0]) {
		if (rc != BARGE_EDDL || !strstr(err.msg, e->error)) {
			fprintf(stderr, "  line %d: expected BARGE_EDDL with \"%s\", got %d \"%s\" "
					"and \"%s\"\n",
				e->line, e->error, rc, err.msg, barge_buf_cstr(&out));
			bad++;
		} else if (out.len || w.count) {
			fprintf(stderr, "  line %d: a failed rewrite left output or warnings\n",
				e->line);
			bad++;
		}
	} else if (rc != 0) {
		fprintf(stderr, "  line %d: failed: %s\n", e->line, err.msg);
		bad++;
	} else {
		if (strcmp(barge_buf_cstr(&out), e->out) != 0) {
			fprintf(stderr, "  line %d:\n    got:      %s\n    expected: %s\n", e->line,
				barge_buf_cstr(&out), e->out);
			bad++;
		}
		bad += check_warnings(e, &w);
	}
	barge_buf_dispose(&out);
	barge_dialect_warnings_dispose(&w);
	return bad;
}

static struct expectation *current(struct dialect_case *c)
{
	if (c->n_exp == 0)
		c->n_exp = 1;
	return &c->exp[c->n_exp - 1];
}

/* Copy value to dst (size n), or append it on a new line for a "| " continuation. */
static bool set_text(char *dst, size_t n, const char *value, bool append)
{
	size_t len = append ? strlen(dst) : 0;

	return (size_t)snprintf(dst + len, n - len, "%s%s", append ? "\n" : "", value) < n - len;
}

/* Take one line of a case; false when it cannot be read. */
static bool case_line(struct dialect_case *c, const char *line, int lineno)
{
	const char *v = strchr(line, ':');
	struct expectation *e;

	if (line[0] == '|') {
		if (!c->cont)
			return false;
		return set_text(c->cont, CASE_TEXT, line[1] == ' ' ? line + 2 : line + 1, true);
	}
	if (!v || v[1] != ' ')
		return false;
	v += 2;
	c->cont = NULL;
#define KEY(k) (strncmp(line, k ":", strlen(k) + 1) == 0)
	if (KEY("table") || KEY("database")) {
		c->database = KEY("database");
		c->has_in = true;
		c->cont = c->in;
		return set_text(c->in, sizeof c->in, v, false);
	}
	if (KEY("to"))
		return set_text(c->to, sizeof c->to, v, false);
	if (KEY("source"))
		return set_text(c->source, sizeof c->source, v, false);
	if (KEY("dialect")) {
		c->mysql = strcmp(v, "mysql") == 0;
		return c->mysql || strcmp(v, "tidb") == 0;
	}
	if (KEY("target")) {
		if (c->n_exp == CASE_MAX_EXPECT)
			return false;
		e = &c->exp[c->n_exp++];
		e->line = lineno;
		return set_text(e->target, sizeof e->target, v, false);
	}
	e = current(c);
	if (!e->line)
		e->line = lineno;
	if (KEY("out")) {
		c->cont = e->out;
		return set_text(e->out, sizeof e->out, v, false);
	}
	if (KEY("error"))
		return set_text(e->error, sizeof e->error, v, false);
	if (KEY("warn") && e->n_warn < CASE_MAX_WARN)
		return set_text(e->warn[e->n_warn++], sizeof e->warn[0], v, false);
#undef KEY
	return false;
}

/* Read every case of the file into a heap array; returns how many. */
static int read_cases(const char *path, struct dialect_case **out)
{
	FILE *f = fopen(path, "r");
	char line[CASE_TEXT];
	struct dialect_case *cases = NULL, *c = NULL;
	int n = 0, lineno = 0;

	if (!f)
		TEST_FAILF("cannot open %s", path);
	while (fgets(line, sizeof line, f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#')
			continue;
		if (line[0] == '\0') {
			c = NULL;
			continue;
		}
		if (!c) {
			cases = realloc(cases, (size_t)(n + 1) * sizeof *cases);
			c = &cases[n++];
			memset(c, 0, sizeof *c);
			c->line = lineno;
		}
		if (!case_line(c, line, lineno))
			TEST_FAILF("%s line %d: cannot read \"%s\"", path, lineno, line);
	}
	fclose(f);
	for (int i = 0; i < n; i++)
		if (!cases[i].has_in || cases[i].n_exp == 0)
			TEST_FAILF("%s line %d: a case needs a table: or database: and an expectation",
				   path, cases[i].line);
	*out = cases;
	return n;
}

TEST(tidb_rewrite_cases)
{
	struct dialect_case *cases = NULL;
	int n = read_cases(BARGE_TEST_DATA "/dialect/tidb.cases", &cases), runs = 0, bad = 0;

	for (int i = 0; i < n; i++)
		for (int k = 0; k < cases[i].n_exp; k++, runs++)
			bad += run_expectation(&cases[i], &cases[i].exp[k]);
	free(cases);
	fprintf(stderr, "  %d cases, %d expectations, %d mismatches\n", n, runs, bad);
	ASSERT_EQ_INT(bad, 0);
	ASSERT_TRUE(n >= 80);
}

/* Truncations and random damage of every case input must fail cleanly or rewrite, never crash. */
TEST(tidb_rewrite_survives_damaged_input)
{
	static const char alphabet[] = "`'\"\\/*!-#(),= \nabKEYPARTITIONDEFAULT0123";
	struct dialect_case *cases = NULL;
	int n = read_cases(BARGE_TEST_DATA "/dialect/tidb.cases", &cases);
	unsigned seed = 11;

	for (int i = 0; i < n; i++) {
		size_t len = strlen(cases[i].in);
		char *s = malloc(len + 1);

		for (size_t cut = 0; cut <= len; cut += 1 + len / 97) {
			for (int round = 0; round < 4; round++) {
				struct barge_dialect_ctx ctx = {BARGE_DIALECT_TIDB,
								round & 1 ? "5.7.25-TiDB-v6.5.3"
									  : "8.0.11-TiDB-v8.5.0",
								NULL};
				struct barge_dialect_warnings w = {0};
				struct barge_err err = {0};
				struct barge_buf out;

				memcpy(s, cases[i].in, cut);
				s[cut] = '\0';
				if (round >= 2 && cut > 0)
					s[(size_t)rand_r(&seed) % cut] =
						alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)];
				barge_buf_init(&out, BARGE_BUF_NOCAP);
				if (cases[i].database)
					barge_dialect_create_database(&ctx, s, "db", &out, &w, &err);
				else
					barge_dialect_create_table(&ctx, s, "db", "t", &out, &w, &err);
				barge_buf_dispose(&out);
				barge_dialect_warnings_dispose(&w);
			}
		}
		free(s);
	}
	free(cases);
}

TEST_MAIN()

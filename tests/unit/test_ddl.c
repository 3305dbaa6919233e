/*
 * test_ddl.c — DDL classification and name routing (engine/ddl), driven by
 * tests/data/ddl/cases.ddl (format at its top).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/ddl.h"
#include "tests/test.h"

/* The routes the rewrite cases use: shop -> shop_v2, orders -> orders_all. */
static int route(void *user, const char *schema, const char *table, char **to_schema,
		 char **to_table, struct barge_err *err)
{
	(void)user;
	(void)err;
	*to_schema = strdup(strcmp(schema, "shop") == 0 ? "shop_v2" : schema);
	*to_table = table ? strdup(strcmp(table, "orders") == 0 ? "orders_all" : table) : NULL;
	return 0;
}

static void unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			*o++ = '\n';
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

struct ddl_case {
	char sql[2048], def[256], kind[64], names[1024], rewrite[2048], error[256];
	int line;
};

static void run_case(const struct ddl_case *c)
{
	struct barge_ddl d;
	struct barge_err err = {0};
	int rc = barge_ddl_parse(c->sql, strlen(c->sql), c->def[0] ? c->def : NULL, &d, &err);

	if (c->error[0]) {
		if (rc == 0)
			TEST_FAILF("line %d: \"%s\" parsed, expected an error", c->line, c->sql);
		if (!strstr(err.msg, c->error))
			TEST_FAILF("line %d: error \"%s\" lacks \"%s\"", c->line, err.msg, c->error);
		return;
	}
	if (rc)
		TEST_FAILF("line %d: \"%s\": %s", c->line, c->sql, err.msg);
	if (strcmp(barge_ddl_kind_name(d.kind), c->kind) != 0)
		TEST_FAILF("line %d: \"%s\" is %s, expected %s", c->line, c->sql,
			   barge_ddl_kind_name(d.kind), c->kind);
	if (c->names[0]) {
		struct barge_buf names;

		barge_buf_init(&names, BARGE_BUF_NOCAP);
		for (size_t i = 0; i < d.n_names; i++)
			barge_buf_appendf(&names, "%s%s%s%s", i ? ", " : "", d.names[i].schema,
					  d.names[i].table ? "." : "",
					  d.names[i].table ? d.names[i].table : "");
		if (strcmp(barge_buf_cstr(&names), c->names) != 0)
			TEST_FAILF("line %d: names %s, expected %s", c->line, barge_buf_cstr(&names),
				   c->names);
		barge_buf_dispose(&names);
	}
	if (c->rewrite[0]) {
		struct barge_buf out;

		barge_buf_init(&out, BARGE_BUF_NOCAP);
		ASSERT_OK(barge_ddl_rewrite(&d, c->sql, strlen(c->sql), route, NULL, &out, &err));
		if (strcmp(barge_buf_cstr(&out), c->rewrite) != 0)
			TEST_FAILF("line %d: rewrite\n    got:      %s\n    expected: %s", c->line,
				   barge_buf_cstr(&out), c->rewrite);
		barge_buf_dispose(&out);
	}
	barge_ddl_dispose(&d);
}

TEST(data_driven_cases)
{
	FILE *f = fopen(BARGE_TEST_DATA "/ddl/cases.ddl", "r");
	char line[4096];
	struct ddl_case c;
	int n = 0, lineno = 0;
	bool open_case = false;

	ASSERT_TRUE(f != NULL);
	memset(&c, 0, sizeof c);
	for (;;) {
		bool eof = !fgets(line, sizeof line, f);

		lineno++;
		if (!eof)
			line[strcspn(line, "\n")] = '\0';
		if (eof || line[0] == '\0') {
			if (open_case) {
				run_case(&c);
				n++;
			}
			memset(&c, 0, sizeof c);
			open_case = false;
			if (eof)
				break;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (!open_case)
			c.line = lineno;
		open_case = true;
#define FIELD(prefix, dst)                                                                        \
	if (strncmp(line, prefix, strlen(prefix)) == 0) {                                         \
		snprintf(dst, sizeof dst, "%s", line + strlen(prefix));                           \
		unescape(dst);                                                                     \
		continue;                                                                          \
	}
		FIELD("sql: ", c.sql)
		FIELD("default: ", c.def)
		FIELD("kind: ", c.kind)
		FIELD("names: ", c.names)
		FIELD("rewrite: ", c.rewrite)
		FIELD("error: ", c.error)
#undef FIELD
		TEST_FAILF("cases.ddl line %d: cannot read \"%s\"", lineno, line);
	}
	fclose(f);
	fprintf(stderr, "  %d cases\n", n);
	ASSERT_TRUE(n >= 45);
}

TEST(hostile_statements_never_crash)
{
	static const char *const nasty[] = {"", "CREATE", "CREATE TABLE", "CREATE TABLE `",
					    "DROP TABLE a,", "RENAME TABLE a TO", "/*!", "/*",
					    "ALTER TABLE a RENAME", "CREATE TABLE a.", "`", "'"};
	unsigned seed = 7;

	for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
		struct barge_ddl d;
		struct barge_err err = {0};

		if (barge_ddl_parse(nasty[i], strlen(nasty[i]), "db", &d, &err) == 0)
			barge_ddl_dispose(&d);
	}
	for (int round = 0; round < 20000; round++) {
		char s[64];
		size_t n = (size_t)(rand_r(&seed) % 63);
		struct barge_ddl d;
		struct barge_err err = {0};
		static const char alphabet[] = "CREATEDROPTABLE `'\"/*!-#.,()\n abt";

		for (size_t k = 0; k < n; k++)
			s[k] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
		s[n] = '\0';
		if (barge_ddl_parse(s, n, round & 1 ? "db" : NULL, &d, &err) == 0) {
			struct barge_buf out;

			barge_buf_init(&out, BARGE_BUF_NOCAP);
			barge_ddl_rewrite(&d, s, n, route, NULL, &out, &err);
			barge_buf_dispose(&out);
			barge_ddl_dispose(&d);
		}
	}
}

TEST_MAIN()

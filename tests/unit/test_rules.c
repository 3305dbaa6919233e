/*
 * test_rules.c — block/allow lists, routes and filters (rules/), mostly driven by the case
 * files in tests/data/rules/ (*.rules files).  The format, one directive per line:
 *
 *   == a case title              starts a case (its rules follow, then "--", then checks)
 *   allow SCHEMA [TABLE]         objects.allow entry (omit TABLE for the whole schema)
 *   block SCHEMA [TABLE]         objects.block entry
 *   route SCHEMA [TABLE] -> TO_SCHEMA [TO_TABLE]
 *   filter SCHEMA [TABLE] ignore EVENT... [sql REGEX...]
 *   --
 *   select SCHEMA TABLE -> yes|no
 *   schema SCHEMA -> yes|no
 *   route SCHEMA TABLE -> TO_SCHEMA.TO_TABLE | error "message part"
 *   route-schema SCHEMA -> TO_SCHEMA
 *   event SCHEMA TABLE|- EVENT ["SQL"] -> ignored|applied
 *   compile-error "exact message"
 *
 * Tokens are separated by blanks; "double quotes" keep blanks and take \" and \\ escapes.
 * Lines starting with # are comments.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "rules/rules.h"
#include "tests/test.h"

#define MAX_TOK 32
#define MAX_RULES 32

struct line {
	char *tok[MAX_TOK];
	int n;
};

static void split(const char *s, struct line *out)
{
	out->n = 0;
	while (*s && out->n < MAX_TOK) {
		struct barge_buf b;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '\n')
			break;
		barge_buf_init(&b, BARGE_BUF_NOCAP);
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				barge_buf_putc(&b, *s);
			}
			if (*s == '"')
				s++;
		} else {
			while (*s && *s != ' ' && *s != '\t' && *s != '\n')
				barge_buf_putc(&b, *s++);
		}
		out->tok[out->n++] = barge_buf_detach(&b);
	}
}

static void line_free(struct line *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->tok[i]);
	l->n = 0;
}

struct case_rules {
	struct barge_rule_pattern allow[MAX_RULES], block[MAX_RULES];
	struct barge_rule_route routes[MAX_RULES];
	struct barge_rule_filter filters[MAX_RULES];
	const char *sql[MAX_RULES][8];
	struct barge_rules_spec spec;
	struct line keep[4 * MAX_RULES]; /* the token storage the spec points into */
	int n_keep;
	struct barge_rules *compiled;
	struct barge_err err;
	int rc;
};

static const char *tok_or_null(const struct line *l, int i)
{
	return i < l->n && strcmp(l->tok[i], "-") != 0 ? l->tok[i] : NULL;
}

static void add_rule(struct case_rules *c, struct line *l, const char *where)
{
	struct barge_rules_spec *s = &c->spec;
	int arrow = -1;

	for (int i = 0; i < l->n; i++)
		if (strcmp(l->tok[i], "->") == 0)
			arrow = i;
	if (strcmp(l->tok[0], "allow") == 0) {
		c->allow[s->n_allow].schema = l->tok[1];
		c->allow[s->n_allow++].table = tok_or_null(l, 2);
	} else if (strcmp(l->tok[0], "block") == 0) {
		c->block[s->n_block].schema = l->tok[1];
		c->block[s->n_block++].table = tok_or_null(l, 2);
	} else if (strcmp(l->tok[0], "route") == 0) {
		struct barge_rule_route *r = &c->routes[s->n_routes++];

		if (arrow < 2)
			TEST_FAILF("%s: route needs \"->\"", where);
		r->from.schema = l->tok[1];
		r->from.table = arrow > 2 ? tok_or_null(l, 2) : NULL;
		r->to_schema = arrow + 1 < l->n ? l->tok[arrow + 1] : NULL;
		r->to_table = arrow + 2 < l->n ? l->tok[arrow + 2] : NULL;
	} else if (strcmp(l->tok[0], "filter") == 0) {
		struct barge_rule_filter *f = &c->filters[s->n_filters];
		int i = 2, n_sql = 0;

		f->match.schema = l->tok[1];
		f->match.table = NULL;
		if (i < l->n && strcmp(l->tok[i], "ignore") != 0 && strcmp(l->tok[i], "sql") != 0)
			f->match.table = tok_or_null(l, i++);
		if (i < l->n && strcmp(l->tok[i], "ignore") == 0)
			for (i++; i < l->n && strcmp(l->tok[i], "sql") != 0; i++) {
				uint32_t bits;

				if (barge_event_parse(l->tok[i], &bits) != 0)
					TEST_FAILF("%s: unknown event %s", where, l->tok[i]);
				f->ignore |= bits;
			}
		if (i < l->n && strcmp(l->tok[i], "sql") == 0)
			for (i++; i < l->n && n_sql < 8; i++)
				c->sql[s->n_filters][n_sql++] = l->tok[i];
		f->sql_patterns = c->sql[s->n_filters];
		f->n_sql_patterns = (size_t)n_sql;
		s->n_filters++;
	} else {
		TEST_FAILF("%s: unknown rule \"%s\"", where, l->tok[0]);
	}
	c->keep[c->n_keep++] = *l; /* keep the tokens alive */
	l->n = 0;
}

static int check(struct case_rules *c, const struct line *l, const char *where)
{
	const char *want = l->n >= 2 ? l->tok[l->n - 1] : "";

	if (strcmp(l->tok[0], "compile-error") == 0) {
		if (c->rc == 0)
			TEST_FAILF("%s: expected a compile error, the rules compiled", where);
		if (strcmp(c->err.msg, l->tok[1]) != 0)
			TEST_FAILF("%s: compile error\n    got:      %s\n    expected: %s", where,
				   c->err.msg, l->tok[1]);
		return 1;
	}
	if (c->rc != 0)
		TEST_FAILF("%s: rules failed to compile: %s", where, c->err.msg);
	if (strcmp(l->tok[0], "select") == 0 && l->n == 5) {
		bool got = barge_rules_table_selected(c->compiled, l->tok[1], l->tok[2]);

		if (got != (strcmp(want, "yes") == 0))
			TEST_FAILF("%s: select %s.%s: got %s", where, l->tok[1], l->tok[2],
				   got ? "yes" : "no");
	} else if (strcmp(l->tok[0], "schema") == 0 && l->n == 4) {
		bool got = barge_rules_schema_selected(c->compiled, l->tok[1]);

		if (got != (strcmp(want, "yes") == 0))
			TEST_FAILF("%s: schema %s: got %s", where, l->tok[1], got ? "yes" : "no");
	} else if (strcmp(l->tok[0], "route") == 0) {
		char *ts = NULL, *tt = NULL, got[512];
		struct barge_err err = {0};
		int rc = barge_rules_route(c->compiled, l->tok[1], l->tok[2], &ts, &tt, &err);

		if (l->n == 6 && strcmp(l->tok[4], "error") == 0) {
			if (rc == 0)
				TEST_FAILF("%s: route %s.%s: expected an error, got %s.%s", where,
					   l->tok[1], l->tok[2], ts, tt);
			if (!strstr(err.msg, l->tok[5]))
				TEST_FAILF("%s: route error \"%s\" lacks \"%s\"", where, err.msg,
					   l->tok[5]);
		} else {
			if (rc != 0)
				TEST_FAILF("%s: route failed: %s", where, err.msg);
			snprintf(got, sizeof got, "%s.%s", ts, tt);
			if (strcmp(got, want) != 0)
				TEST_FAILF("%s: route %s.%s: got %s, expected %s", where, l->tok[1],
					   l->tok[2], got, want);
		}
		free(ts);
		free(tt);
	} else if (strcmp(l->tok[0], "route-schema") == 0) {
		char *ts = NULL;
		struct barge_err err = {0};

		if (barge_rules_route_schema(c->compiled, l->tok[1], &ts, &err) != 0)
			TEST_FAILF("%s: route-schema failed: %s", where, err.msg);
		if (strcmp(ts, want) != 0)
			TEST_FAILF("%s: route-schema %s: got %s, expected %s", where, l->tok[1], ts,
				   want);
		free(ts);
	} else if (strcmp(l->tok[0], "event") == 0 && (l->n == 6 || l->n == 7)) {
		uint32_t ev;
		bool got;

		if (barge_event_parse(l->tok[3], &ev) != 0)
			TEST_FAILF("%s: unknown event %s", where, l->tok[3]);
		got = barge_rules_event_ignored(c->compiled, l->tok[1], tok_or_null(l, 2), ev,
						l->n == 7 ? l->tok[4] : NULL);
		if (got != (strcmp(want, "ignored") == 0))
			TEST_FAILF("%s: event %s on %s.%s: got %s", where, l->tok[3], l->tok[1],
				   l->tok[2], got ? "ignored" : "applied");
	} else {
		TEST_FAILF("%s: cannot read this check", where);
	}
	return 1;
}

static void case_reset(struct case_rules *c)
{
	barge_rules_free(c->compiled);
	for (int i = 0; i < c->n_keep; i++)
		line_free(&c->keep[i]);
	memset(c, 0, sizeof *c);
}

/* Run every case file; returns the number of checks made. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[4096], where[600];
	static struct case_rules c;
	int lineno = 0, checks = 0, in_checks = 0;

	if (!f)
		TEST_FAILF("cannot open %s", path);
	memset(&c, 0, sizeof c);
	while (fgets(buf, sizeof buf, f)) {
		struct line l;

		lineno++;
		snprintf(where, sizeof where, "%s:%d", path, lineno);
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0] == '#' || buf[0] == '\0')
			continue;
		if (strncmp(buf, "==", 2) == 0) {
			case_reset(&c);
			in_checks = 0;
			continue;
		}
		if (strcmp(buf, "--") == 0) {
			c.spec.allow = c.allow;
			c.spec.block = c.block;
			c.spec.routes = c.routes;
			c.spec.filters = c.filters;
			c.rc = barge_rules_compile(&c.spec, &c.compiled, NULL, &c.err);
			in_checks = 1;
			continue;
		}
		split(buf, &l);
		if (l.n == 0)
			continue;
		if (!in_checks)
			add_rule(&c, &l, where);
		else
			checks += check(&c, &l, where);
		line_free(&l);
	}
	case_reset(&c);
	fclose(f);
	return checks;
}

TEST(data_driven_cases)
{
	DIR *d = opendir(BARGE_TEST_DATA "/rules");
	struct dirent *e;
	int checks = 0, files = 0;

	ASSERT_TRUE(d != NULL);
	while ((e = readdir(d)) != NULL) {
		char path[1024];
		size_t len = strlen(e->d_name);

		if (len < 7 || strcmp(e->d_name + len - 6, ".rules") != 0)
			continue;
		snprintf(path, sizeof path, "%s/rules/%s", BARGE_TEST_DATA, e->d_name);
		checks += run_file(path);
		files++;
	}
	closedir(d);
	fprintf(stderr, "  %d checks in %d files\n", checks, files);
	ASSERT_TRUE(files >= 1);
	ASSERT_TRUE(checks >= 80);
}

TEST(event_names_round_trip)
{
	uint32_t bits;

	ASSERT_OK(barge_event_parse("  Truncate   TABLE ", &bits));
	ASSERT_EQ_UINT(bits, BARGE_EV_TRUNCATE_TABLE);
	ASSERT_EQ_STR(barge_event_name(BARGE_EV_TRUNCATE_TABLE), "truncate table");
	ASSERT_OK(barge_event_parse("create schema", &bits));
	ASSERT_EQ_UINT(bits, BARGE_EV_CREATE_DATABASE);
	ASSERT_OK(barge_event_parse("all dml", &bits));
	ASSERT_EQ_UINT(bits, BARGE_EV_INSERT | BARGE_EV_UPDATE | BARGE_EV_DELETE);
	ASSERT_EQ_INT(barge_event_parse("insrt", &bits), BARGE_ERULES);
	ASSERT_EQ_INT(barge_event_parse("", &bits), BARGE_ERULES);
}

TEST(error_location_names_the_rule)
{
	struct barge_rule_pattern allow[] = {{"shop", NULL}, {"x", "~(("}};
	struct barge_rules_spec spec = {.allow = allow, .n_allow = 2};
	struct barge_rules_error_at at;
	struct barge_rules *r = NULL;
	struct barge_err err = {0};

	ASSERT_EQ_INT(barge_rules_compile(&spec, &r, &at, &err), BARGE_ERULES);
	ASSERT_TRUE(r == NULL);
	ASSERT_EQ_INT(at.list, BARGE_RULES_AT_ALLOW);
	ASSERT_EQ_INT(at.index, 1);
	ASSERT_CONTAINS(err.msg, "objects.allow[1].table: bad regex \"~((\" at offset 3");
}

struct race {
	const struct barge_rules *r;
	int bad;
};

static void *hammer(void *arg)
{
	struct race *race = arg;
	char t[32];

	for (int i = 0; i < 20000; i++) {
		snprintf(t, sizeof t, "orders_%d", i);
		if (!barge_rules_table_selected(race->r, "shard_12", t) ||
		    barge_rules_table_selected(race->r, "shard_x", t) ||
		    !barge_rules_event_ignored(race->r, "shard_12", t, BARGE_EV_TRUNCATE_TABLE, NULL))
			__atomic_add_fetch(&race->bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST(one_rule_set_serves_many_threads)
{
	struct barge_rule_pattern allow[] = {{"~^shard_[0-9]+$", "~^orders_"}};
	const char *const no_sql[] = {NULL};
	struct barge_rule_filter filters[] = {
		{{"~^shard_", NULL}, BARGE_EV_TRUNCATE_TABLE, no_sql, 0}};
	struct barge_rules_spec spec = {.allow = allow, .n_allow = 1, .filters = filters,
					.n_filters = 1};
	struct barge_rules *r = NULL;
	struct barge_err err = {0};
	struct race race = {0};
	pthread_t th[4];

	ASSERT_OK(barge_rules_compile(&spec, &r, NULL, &err));
	race.r = r;
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, &race);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ASSERT_EQ_INT(race.bad, 0);
	barge_rules_free(r);
}

TEST_MAIN()

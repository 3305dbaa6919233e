/*
 * rules.c — block/allow lists, routes and event filters (see rules.h and docs/rules.md).
 *
 * Every pattern is compiled once into a struct pattern: a PCRE2 code (JIT-compiled where the
 * platform allows) for "~regex", or the wildcard text itself, matched by a small backtracking
 * glob that never allocates.  Regex matching uses one match-data block per thread, so a compiled
 * rule set can be queried from any number of threads without locks or allocation.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules/rules.h"

#include <ctype.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/buf.h"

struct pattern {
	char *text;        /* as written, with the "~" */
	pcre2_code *re;    /* NULL for wildcards */
	bool any;          /* "*": matches everything, no work needed */
};

struct route {
	struct pattern schema;
	struct pattern table; /* text NULL when the route has no table pattern */
	bool has_table;
	char *to_schema;
	char *to_table;       /* NULL = keep the name */
};

struct filter {
	struct pattern schema;
	struct pattern table;
	bool has_table;
	uint32_t ignore;
	struct pattern *sql;
	size_t n_sql;
};

struct pair {
	struct pattern schema;
	struct pattern table;
	bool has_table;
};

struct barge_rules {
	struct pair *allow;
	size_t n_allow;
	struct pair *block;
	size_t n_block;
	struct route *routes;
	size_t n_routes;
	struct filter *filters;
	size_t n_filters;
};

/* ---- event names ---- */

static const struct {
	const char *name;
	uint32_t bits;
} event_names[] = {
	{"insert", BARGE_EV_INSERT},
	{"update", BARGE_EV_UPDATE},
	{"delete", BARGE_EV_DELETE},
	{"create database", BARGE_EV_CREATE_DATABASE},
	{"create schema", BARGE_EV_CREATE_DATABASE},
	{"drop database", BARGE_EV_DROP_DATABASE},
	{"drop schema", BARGE_EV_DROP_DATABASE},
	{"create table", BARGE_EV_CREATE_TABLE},
	{"alter table", BARGE_EV_ALTER_TABLE},
	{"drop table", BARGE_EV_DROP_TABLE},
	{"truncate table", BARGE_EV_TRUNCATE_TABLE},
	{"rename table", BARGE_EV_RENAME_TABLE},
	{"create index", BARGE_EV_CREATE_INDEX},
	{"drop index", BARGE_EV_DROP_INDEX},
	{"all dml", BARGE_EV_ALL_DML},
	{"all ddl", BARGE_EV_ALL_DDL},
	{"all", BARGE_EV_ALL},
};

int barge_event_parse(const char *name, uint32_t *bits)
{
	char norm[64];
	size_t o = 0;
	bool space = false;

	/* lower-case, trim, and collapse runs of blanks so "All  DML" reads as "all dml" */
	for (const char *p = name; *p; p++) {
		if (isspace((unsigned char)*p)) {
			space = o > 0;
			continue;
		}
		if (space && o + 1 < sizeof norm)
			norm[o++] = ' ';
		space = false;
		if (o + 1 >= sizeof norm)
			return BARGE_ERULES;
		norm[o++] = (char)tolower((unsigned char)*p);
	}
	norm[o] = '\0';
	for (size_t i = 0; i < sizeof event_names / sizeof event_names[0]; i++) {
		if (strcmp(norm, event_names[i].name) == 0) {
			*bits = event_names[i].bits;
			return 0;
		}
	}
	return BARGE_ERULES;
}

const char *barge_event_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof event_names / sizeof event_names[0]; i++)
		if (event_names[i].bits == bit)
			return event_names[i].name;
	return NULL;
}

bool barge_rules_is_system_schema(const char *schema)
{
	static const char *const system[] = {"mysql", "information_schema", "performance_schema",
					     "sys"};

	for (size_t i = 0; i < sizeof system / sizeof system[0]; i++)
		if (strcasecmp(schema, system[i]) == 0)
			return true;
	return false;
}

/* ---- patterns ---- */

/* Whole-string wildcard match: '*' any run (including none), '?' exactly one byte. */
static bool glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_free(void *md)
{
	pcre2_match_data_free(md);
}

static void md_key_init(void)
{
	pthread_key_create(&md_key, md_free);
}

/* This thread's match data (one ovector pair is all a yes/no match needs). */
static pcre2_match_data *thread_md(void)
{
	pcre2_match_data *md;

	pthread_once(&md_once, md_key_init);
	md = pthread_getspecific(md_key);
	if (!md) {
		md = pcre2_match_data_create(1, NULL);
		if (!md)
			abort();
		pthread_setspecific(md_key, md);
	}
	return md;
}

static bool pattern_match(const struct pattern *p, const char *s)
{
	int rc;

	if (p->any)
		return true;
	if (!p->re)
		return glob_match(p->text, s);
	rc = pcre2_match(p->re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, thread_md(), NULL);
	return rc >= 0;
}

static void pattern_dispose(struct pattern *p)
{
	free(p->text);
	pcre2_code_free(p->re);
	p->text = NULL;
	p->re = NULL;
}

/*
 * Compile text into p.  what names the key for messages ("objects.allow[1].table").
 * regex_only: the text is a regex without the "~" (filters' sqlPattern).
 */
static int pattern_compile(struct pattern *p, const char *text, const char *what, bool regex_only,
			   uint32_t extra_options, struct barge_err *err)
{
	int errcode = 0;
	PCRE2_SIZE erroff = 0;
	const char *re_text;
	size_t shift;

	memset(p, 0, sizeof *p);
	if (!text || !*text)
		return barge_err_set(err, BARGE_ERULES, "%s: the pattern is empty", what);
	p->text = barge_xstrdup(text);
	if (!regex_only && text[0] != '~') {
		p->any = strcmp(text, "*") == 0;
		return 0;
	}
	re_text = regex_only ? text : text + 1;
	shift = regex_only ? 0 : 1;
	if (!*re_text) {
		pattern_dispose(p);
		return barge_err_set(err, BARGE_ERULES, "%s: the regex after \"~\" is empty", what);
	}
	p->re = pcre2_compile((PCRE2_SPTR)re_text, PCRE2_ZERO_TERMINATED,
			      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | extra_options, &errcode, &erroff,
			      NULL);
	if (!p->re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof msg);
		pattern_dispose(p);
		return barge_err_set(err, BARGE_ERULES, "%s: bad regex \"%s\" at offset %zu: %s", what,
				     text, (size_t)erroff + shift, (const char *)msg);
	}
	/* JIT where the platform has it; the interpreter is the silent fallback */
	(void)pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE);
	return 0;
}

/* ---- compile ---- */

/* Compile a schema/table pair; key names it in messages ("objects.allow[1]", "routes[0].from"). */
static int pair_compile(struct pair *dst, const struct barge_rule_pattern *src, const char *key,
			struct barge_err *err)
{
	char what[96];
	int rc;

	snprintf(what, sizeof what, "%s.schema", key);
	rc = pattern_compile(&dst->schema, src->schema, what, false, 0, err);
	if (rc)
		return rc;
	dst->has_table = src->table != NULL;
	if (dst->has_table) {
		snprintf(what, sizeof what, "%s.table", key);
		rc = pattern_compile(&dst->table, src->table, what, false, 0, err);
	}
	return rc;
}

static void pair_dispose(struct pair *p)
{
	pattern_dispose(&p->schema);
	pattern_dispose(&p->table);
}

static void set_at(struct barge_rules_error_at *at, int list, size_t index)
{
	if (at) {
		at->list = list;
		at->index = index;
	}
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int barge_rules_compile(const struct barge_rules_spec *spec, struct barge_rules **out,
			struct barge_rules_error_at *at, struct barge_err *err)
{
	struct barge_rules *r = barge_xcalloc(1, sizeof *r);
	char what[96];
	int rc = 0;

	set_at(at, BARGE_RULES_AT_NONE, 0);
	r->allow = barge_xcalloc(spec->n_allow ? spec->n_allow : 1, sizeof *r->allow);
	for (; r->n_allow < spec->n_allow; r->n_allow++) {
		snprintf(what, sizeof what, "objects.allow[%zu]", r->n_allow);
		rc = pair_compile(&r->allow[r->n_allow], &spec->allow[r->n_allow], what, err);
		if (rc) {
			set_at(at, BARGE_RULES_AT_ALLOW, r->n_allow);
			r->n_allow++; /* dispose the half-compiled one too */
			goto done;
		}
	}
	r->block = barge_xcalloc(spec->n_block ? spec->n_block : 1, sizeof *r->block);
	for (; r->n_block < spec->n_block; r->n_block++) {
		snprintf(what, sizeof what, "objects.block[%zu]", r->n_block);
		rc = pair_compile(&r->block[r->n_block], &spec->block[r->n_block], what, err);
		if (rc) {
			set_at(at, BARGE_RULES_AT_BLOCK, r->n_block);
			r->n_block++;
			goto done;
		}
	}
	r->routes = barge_xcalloc(spec->n_routes ? spec->n_routes : 1, sizeof *r->routes);
	while (r->n_routes < spec->n_routes) {
		const struct barge_rule_route *src = &spec->routes[r->n_routes];
		struct route *dst = &r->routes[r->n_routes];
		size_t i = r->n_routes;
		struct pair tmp;

		memset(&tmp, 0, sizeof tmp);
		snprintf(what, sizeof what, "routes[%zu].from", i);
		rc = pair_compile(&tmp, &src->from, what, err);
		dst->schema = tmp.schema;
		dst->table = tmp.table;
		dst->has_table = tmp.has_table;
		r->n_routes++; /* from here on, barge_rules_free disposes this route */
		if (rc) {
			set_at(at, BARGE_RULES_AT_ROUTE, i);
			goto done;
		}
		if (!src->to_schema || !*src->to_schema) {
			rc = barge_err_set(err, BARGE_ERULES, "routes[%zu].to.schema: required", i);
			set_at(at, BARGE_RULES_AT_ROUTE, i);
			goto done;
		}
		if (!dst->has_table && src->to_table) {
			rc = barge_err_set(err, BARGE_ERULES,
					   "routes[%zu].to.table: a route without from.table renames "
					   "a whole schema and cannot name a target table",
					   i);
			set_at(at, BARGE_RULES_AT_ROUTE, i);
			goto done;
		}
		dst->to_schema = barge_xstrdup(src->to_schema);
		dst->to_table = src->to_table ? barge_xstrdup(src->to_table) : NULL;
		for (size_t j = 0; j < i; j++) {
			const struct barge_rule_route *o = &spec->routes[j];

			if (same_text(o->from.schema, src->from.schema) &&
			    same_text(o->from.table, src->from.table)) {
				rc = barge_err_set(err, BARGE_ERULES,
						   "routes[%zu].from: the same tables as routes[%zu] "
						   "(a table may match only one route)",
						   i, j);
				set_at(at, BARGE_RULES_AT_ROUTE, i);
				goto done;
			}
		}
	}
	r->filters = barge_xcalloc(spec->n_filters ? spec->n_filters : 1, sizeof *r->filters);
	for (; r->n_filters < spec->n_filters; r->n_filters++) {
		const struct barge_rule_filter *src = &spec->filters[r->n_filters];
		struct filter *dst = &r->filters[r->n_filters];
		size_t i = r->n_filters;
		struct pair tmp;

		memset(&tmp, 0, sizeof tmp);
		snprintf(what, sizeof what, "filters[%zu]", i);
		rc = pair_compile(&tmp, &src->match, what, err);
		dst->schema = tmp.schema;
		dst->table = tmp.table;
		dst->has_table = tmp.has_table;
		dst->ignore = src->ignore;
		if (rc) {
			set_at(at, BARGE_RULES_AT_FILTER, i);
			r->n_filters++;
			goto done;
		}
		dst->sql = barge_xcalloc(src->n_sql_patterns ? src->n_sql_patterns : 1,
					 sizeof *dst->sql);
		for (; dst->n_sql < src->n_sql_patterns; dst->n_sql++) {
			snprintf(what, sizeof what, "filters[%zu].sqlPattern[%zu]", i, dst->n_sql);
			rc = pattern_compile(&dst->sql[dst->n_sql], src->sql_patterns[dst->n_sql],
					     what, true, PCRE2_CASELESS, err);
			if (rc) {
				set_at(at, BARGE_RULES_AT_FILTER, i);
				r->n_filters++;
				goto done;
			}
		}
	}
done:
	if (rc) {
		barge_rules_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void barge_rules_free(struct barge_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_allow; i++)
		pair_dispose(&r->allow[i]);
	free(r->allow);
	for (size_t i = 0; i < r->n_block; i++)
		pair_dispose(&r->block[i]);
	free(r->block);
	for (size_t i = 0; i < r->n_routes; i++) {
		pattern_dispose(&r->routes[i].schema);
		pattern_dispose(&r->routes[i].table);
		free(r->routes[i].to_schema);
		free(r->routes[i].to_table);
	}
	free(r->routes);
	for (size_t i = 0; i < r->n_filters; i++) {
		pattern_dispose(&r->filters[i].schema);
		pattern_dispose(&r->filters[i].table);
		for (size_t j = 0; j < r->filters[i].n_sql; j++)
			pattern_dispose(&r->filters[i].sql[j]);
		free(r->filters[i].sql);
	}
	free(r->filters);
	free(r);
}

/* ---- queries ---- */

bool barge_rules_schema_selected(const struct barge_rules *r, const char *schema)
{
	bool listed = false;

	if (barge_rules_is_system_schema(schema))
		return false;
	for (size_t i = 0; i < r->n_block; i++)
		if (!r->block[i].has_table && pattern_match(&r->block[i].schema, schema))
			return false;
	if (r->n_allow == 0)
		return true;
	for (size_t i = 0; i < r->n_allow && !listed; i++)
		listed = pattern_match(&r->allow[i].schema, schema);
	return listed;
}

bool barge_rules_table_selected(const struct barge_rules *r, const char *schema, const char *table)
{
	if (barge_rules_is_system_schema(schema))
		return false;
	for (size_t i = 0; i < r->n_block; i++) {
		const struct pair *b = &r->block[i];

		if (pattern_match(&b->schema, schema) &&
		    (!b->has_table || pattern_match(&b->table, table)))
			return false;
	}
	if (r->n_allow == 0)
		return true;
	for (size_t i = 0; i < r->n_allow; i++) {
		const struct pair *a = &r->allow[i];

		if (pattern_match(&a->schema, schema) &&
		    (!a->has_table || pattern_match(&a->table, table)))
			return true;
	}
	return false;
}

int barge_rules_route(const struct barge_rules *r, const char *schema, const char *table,
		      char **to_schema, char **to_table, struct barge_err *err)
{
	const struct route *hit = NULL;
	size_t hit_index = 0;

	/* table routes first: they are more specific than schema routes (as in DM's router) */
	for (int pass = 0; pass < 2 && !hit; pass++) {
		for (size_t i = 0; i < r->n_routes; i++) {
			const struct route *rt = &r->routes[i];

			if (rt->has_table != (pass == 0))
				continue;
			if (!pattern_match(&rt->schema, schema) ||
			    (rt->has_table && !pattern_match(&rt->table, table)))
				continue;
			if (hit)
				return barge_err_set(err, BARGE_ERULES,
						     "table %s.%s matches both routes[%zu] and "
						     "routes[%zu]; a table may match only one route",
						     schema, table, hit_index, i);
			hit = rt;
			hit_index = i;
		}
	}
	*to_schema = barge_xstrdup(hit ? hit->to_schema : schema);
	*to_table = barge_xstrdup(hit && hit->to_table ? hit->to_table : table);
	return 0;
}

int barge_rules_route_schema(const struct barge_rules *r, const char *schema, char **to_schema,
			     struct barge_err *err)
{
	const struct route *hit = NULL;
	size_t hit_index = 0;

	for (size_t i = 0; i < r->n_routes; i++) {
		const struct route *rt = &r->routes[i];

		if (rt->has_table || !pattern_match(&rt->schema, schema))
			continue;
		if (hit)
			return barge_err_set(err, BARGE_ERULES,
					     "schema %s matches both routes[%zu] and routes[%zu]; a "
					     "schema may match only one route",
					     schema, hit_index, i);
		hit = rt;
		hit_index = i;
	}
	*to_schema = barge_xstrdup(hit ? hit->to_schema : schema);
	return 0;
}

bool barge_rules_event_ignored(const struct barge_rules *r, const char *schema, const char *table,
			       uint32_t ev, const char *sql)
{
	for (size_t i = 0; i < r->n_filters; i++) {
		const struct filter *f = &r->filters[i];

		if (!pattern_match(&f->schema, schema))
			continue;
		if (f->has_table && (!table || !pattern_match(&f->table, table)))
			continue;
		if (f->ignore & ev)
			return true;
		if (sql && (ev & BARGE_EV_ALL_DDL))
			for (size_t j = 0; j < f->n_sql; j++)
				if (pattern_match(&f->sql[j], sql))
					return true;
	}
	return false;
}

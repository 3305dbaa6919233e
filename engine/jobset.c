/*
 * jobset.c — job files into job specs, checked key by key, all or nothing (see jobset.h).
 *
 * Each mapping level of the job file has a key list below; walk_*() functions read one level,
 * report every unknown key (with a "did you mean" from the key list), every wrong type, bad
 * enum value and missing required key as one diagnostic each, apply the defaults of job.h, and
 * carry on so that one run reports every problem.  A document with any diagnostic produces no
 * job, and a set with any diagnostic returns none.
 */
#include "engine/jobset.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "engine/buf.h"
#include "engine/gtid.h"
#include "engine/precheck.h"
#include "engine/secret.h"
#include "engine/yaml.h"
#include "rules/rules.h"

#define JOB_FILE_MAX (16 * 1024 * 1024)
#define API_VERSION "barge/v1"
#define KIND "MigrationJob"

/* ---- diagnostics ---- */

struct walk {
	const char *file;          /* owned by the jobset being built */
	struct barge_diags *diags;
	unsigned errors;
};

static void diags_add(struct barge_diags *d, const char *file, unsigned line, unsigned col,
		      char *message)
{
	d->items = barge_xrealloc(d->items, (d->count + 1) * sizeof *d->items);
	d->items[d->count].file = barge_xstrdup(file ? file : "");
	d->items[d->count].line = line;
	d->items[d->count].col = col;
	d->items[d->count].message = message;
	d->count++;
}

static void diag_at(struct walk *w, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void diag_at(struct walk *w, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	diags_add(w->diags, w->file, line, col, msg);
	w->errors++;
}

#define DIAG(w, node, ...) diag_at((w), (node)->line, (node)->col, __VA_ARGS__)

char *barge_diag_format(const struct barge_diag *d)
{
	if (d->line)
		return barge_xasprintf("%s:%u:%u: %s", d->file, d->line, d->col, d->message);
	return barge_xasprintf("%s: %s", d->file, d->message);
}

void barge_diags_dispose(struct barge_diags *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->items[i].file);
		free(d->items[i].message);
	}
	free(d->items);
	d->items = NULL;
	d->count = 0;
}

/* ---- key lists and "did you mean" ---- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
						    tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof *prev);
	}
	return prev[lb];
}

/* The closest known key within a small distance, or NULL. */
static const char *suggest(const char *key, const char *const *known)
{
	const char *best = NULL;
	size_t best_d = 99, limit = strlen(key) <= 4 ? 1 : 3;

	for (size_t i = 0; known[i]; i++) {
		size_t d = edit_distance(key, known[i]);

		if (d < best_d) {
			best_d = d;
			best = known[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

static bool known_key(const char *key, const char *const *known)
{
	for (size_t i = 0; known[i]; i++)
		if (strcmp(key, known[i]) == 0)
			return true;
	return false;
}

/* Report each key of map that is not in known.  path names the mapping ("spec.full"). */
static void check_keys(struct walk *w, const struct barge_ynode *map, const char *path,
		       const char *const *known)
{
	for (size_t i = 0; i < map->n; i++) {
		const char *key = map->keys[i]->scalar;
		const char *hint;

		if (known_key(key, known))
			continue;
		hint = suggest(key, known);
		if (hint)
			DIAG(w, map->keys[i], "%s: unknown key \"%s\" (did you mean \"%s\"?)", path, key,
			     hint);
		else
			DIAG(w, map->keys[i], "%s: unknown key \"%s\"", path, key);
	}
}

/* ---- typed readers: each reports its own problems and returns false on one ---- */

static bool want_kind(struct walk *w, const struct barge_ynode *n, enum barge_ynode_kind kind,
		      const char *path)
{
	static const char *const names[] = {"a string", "a mapping", "a list"};

	if (n->kind == kind)
		return true;
	if (n->kind == BARGE_Y_SCALAR && n->len > 0)
		DIAG(w, n, "%s: expected %s, got \"%.60s\"", path, names[kind], n->scalar);
	else
		DIAG(w, n, "%s: expected %s, got %s", path, names[kind], barge_ynode_kind_name(n));
	return false;
}

static void missing(struct walk *w, const struct barge_ynode *map, const char *path,
		    const char *key)
{
	DIAG(w, map, "%s: missing required key \"%s\"", path, key);
}

/* A string value; *out is a fresh heap string.  Empty strings are refused. */
static bool read_string(struct walk *w, const struct barge_ynode *n, const char *path, char **out)
{
	if (!want_kind(w, n, BARGE_Y_SCALAR, path))
		return false;
	if (barge_ynode_is_null(n) || n->len == 0) {
		DIAG(w, n, "%s: expected a string, got %s", path,
		     n->len == 0 ? "an empty value" : "null");
		return false;
	}
	if (memchr(n->scalar, '\0', n->len)) {
		DIAG(w, n, "%s: the value holds a NUL character", path);
		return false;
	}
	*out = barge_xstrdup(n->scalar);
	return true;
}

static bool read_uint(struct walk *w, const struct barge_ynode *n, const char *path, uint64_t min,
		      uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (!want_kind(w, n, BARGE_Y_SCALAR, path))
		return false;
	p = n->scalar;
	if (!n->plain || !*p) {
		DIAG(w, n, "%s: expected an integer, got \"%.60s\"", path, n->scalar);
		return false;
	}
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p) || v > (UINT64_MAX - 9) / 10) {
			DIAG(w, n, "%s: expected an integer, got \"%.60s\"", path, n->scalar);
			return false;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max) {
		DIAG(w, n, "%s: %llu is out of range (%llu to %llu)", path, (unsigned long long)v,
		     (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

static bool read_bool(struct walk *w, const struct barge_ynode *n, const char *path, bool *out)
{
	if (!want_kind(w, n, BARGE_Y_SCALAR, path))
		return false;
	if (n->plain && (strcmp(n->scalar, "true") == 0 || strcmp(n->scalar, "false") == 0)) {
		*out = n->scalar[0] == 't';
		return true;
	}
	DIAG(w, n, "%s: expected true or false, got \"%.60s\"", path, n->scalar);
	return false;
}

/* One of names[] (NULL-terminated); *out is its index. */
static bool read_enum(struct walk *w, const struct barge_ynode *n, const char *path,
		      const char *const *names, int *out)
{
	struct barge_buf allowed;

	if (!want_kind(w, n, BARGE_Y_SCALAR, path))
		return false;
	for (int i = 0; names[i]; i++) {
		if (strcmp(n->scalar, names[i]) == 0) {
			*out = i;
			return true;
		}
	}
	barge_buf_init(&allowed, 4096);
	for (int i = 0; names[i]; i++)
		barge_buf_appendf(&allowed, "%s%s", i ? ", " : "", names[i]);
	DIAG(w, n, "%s: \"%.60s\" is not one of: %s", path, n->scalar, barge_buf_cstr(&allowed));
	barge_buf_dispose(&allowed);
	return false;
}

static bool read_duration(struct walk *w, const struct barge_ynode *n, const char *path,
			  uint64_t *out)
{
	if (!want_kind(w, n, BARGE_Y_SCALAR, path))
		return false;
	if (barge_duration_parse(n->scalar, out) != 0) {
		DIAG(w, n, "%s: \"%.60s\" is not a duration (like 500ms, 30s, 5m, 1h or 1h30m)",
		     path, n->scalar);
		return false;
	}
	return true;
}

/* A secret: only ${env:NAME} or ${file:PATH}.  The value is never echoed in the message. */
static bool read_secret(struct walk *w, const struct barge_ynode *n, const char *path,
			const char *what, char **out)
{
	if (!want_kind(w, n, BARGE_Y_SCALAR, path))
		return false;
	if (!barge_secret_is_ref(n->scalar)) {
		if (strncmp(n->scalar, "${", 2) == 0)
			DIAG(w, n, "%s: not a valid secret reference; use ${env:NAME} (letters, "
				   "digits, _) or ${file:PATH}", path);
		else
			DIAG(w, n, "%s: a literal %s is not allowed; use ${env:NAME} or "
				   "${file:PATH}", path, what);
		return false;
	}
	*out = barge_xstrdup(n->scalar);
	return true;
}

static struct barge_srcloc loc_of(const struct walk *w, const struct barge_ynode *n)
{
	struct barge_srcloc l = {w->file, n->line, n->col};

	return l;
}

/* ---- the job file, level by level ---- */

static const char *const top_keys[] = {"apiVersion", "kind", "metadata", "spec", NULL};
static const char *const metadata_keys[] = {"name", "labels", "annotations", NULL};
static const char *const spec_keys[] = {"state", "restartGeneration", "mode", "source", "target",
					"objects", "routes", "filters", "full", "incremental",
					"notify", "precheck", NULL};
static const char *const source_keys[] = {"host", "port", "user", "password", "tls", "serverId",
					  NULL};
static const char *const target_keys[] = {"host", "port", "user", "password", "tls", "dialect",
					  "metaSchema", NULL};
static const char *const tls_keys[] = {"ca", "cert", "key", "verify", NULL};
static const char *const objects_keys[] = {"allow", "block", NULL};
static const char *const pattern_keys[] = {"schema", "table", NULL};
static const char *const route_keys[] = {"from", "to", NULL};
static const char *const filter_keys[] = {"schema", "table", "ignore", "sqlPattern", NULL};
static const char *const full_keys[] = {"threads", "chunkRows", "onDuplicate", NULL};
static const char *const incremental_keys[] = {"start", "workers", "batch", "safeMode", NULL};
static const char *const start_keys[] = {"binlogName", "binlogPos", "gtid", NULL};
static const char *const notify_keys[] = {"url", "format", "events", "secret", "lagThreshold",
					  NULL};
static const char *const precheck_keys[] = {"ignore", NULL};

static const char *const mode_names[] = {"full", "incremental", "all", NULL};
static const char *const state_names[] = {"running", "paused", NULL};
static const char *const dialect_names[] = {"mysql", "tidb", NULL};
static const char *const ondup_names[] = {"replace", "ignore", "error", NULL};
static const char *const safe_names[] = {"auto", "always", "never", NULL};
static const char *const format_names[] = {"json", "slack", NULL};
static const char *const notify_event_names[] = {"stage", "error", "lag", "finish", "all", NULL};

/* Precheck items a job may ignore: precheck.h lists them. */
#define precheck_items barge_precheck_item_ids

static bool is_identifierish(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '$'))
			return false;
	return true;
}

static void walk_tls(struct walk *w, const struct barge_ynode *n, const char *path,
		     struct barge_tls *tls)
{
	const struct barge_ynode *v;
	char sub[128];

	tls->verify = true;
	if (!want_kind(w, n, BARGE_Y_MAP, path))
		return;
	tls->enabled = true;
	check_keys(w, n, path, tls_keys);
	if ((v = barge_ynode_get(n, "ca")) != NULL) {
		snprintf(sub, sizeof sub, "%s.ca", path);
		read_string(w, v, sub, &tls->ca);
	}
	if ((v = barge_ynode_get(n, "cert")) != NULL) {
		snprintf(sub, sizeof sub, "%s.cert", path);
		read_string(w, v, sub, &tls->cert);
	}
	if ((v = barge_ynode_get(n, "key")) != NULL) {
		snprintf(sub, sizeof sub, "%s.key", path);
		read_string(w, v, sub, &tls->key);
	}
	if ((v = barge_ynode_get(n, "verify")) != NULL) {
		snprintf(sub, sizeof sub, "%s.verify", path);
		read_bool(w, v, sub, &tls->verify);
	}
	if (!tls->cert != !tls->key)
		DIAG(w, n, "%s: %s is given without %s; a client certificate needs both cert and "
			   "key", path, tls->cert ? "cert" : "key", tls->cert ? "key" : "cert");
	if (!tls->ca && !tls->cert && !tls->key && w->errors == 0)
		DIAG(w, n, "%s: give ca, cert and key, or ca alone, or cert and key", path);
}

/* A stable server id for a job that did not choose one: far from the usual small ids. */
static uint32_t default_server_id(const char *name)
{
	uLong crc = crc32(0L, (const Bytef *)name, (uInt)strlen(name));

	return 1000000000u + (uint32_t)(crc % 1000000000u);
}

static void walk_endpoint(struct walk *w, const struct barge_ynode *n, const char *path,
			  struct barge_endpoint *e, bool source)
{
	const struct barge_ynode *v;
	char sub[128];
	uint64_t u;
	int idx;

	e->port = 3306;
	e->tls.verify = true;
	if (!source)
		e->meta_schema = barge_xstrdup("barge_meta");
	if (!want_kind(w, n, BARGE_Y_MAP, path))
		return;
	check_keys(w, n, path, source ? source_keys : target_keys);
	if ((v = barge_ynode_get(n, "host")) != NULL) {
		snprintf(sub, sizeof sub, "%s.host", path);
		read_string(w, v, sub, &e->host);
	} else {
		missing(w, n, path, "host");
	}
	if ((v = barge_ynode_get(n, "port")) != NULL) {
		snprintf(sub, sizeof sub, "%s.port", path);
		if (read_uint(w, v, sub, 1, 65535, &u))
			e->port = (unsigned)u;
	}
	if ((v = barge_ynode_get(n, "user")) != NULL) {
		snprintf(sub, sizeof sub, "%s.user", path);
		read_string(w, v, sub, &e->user);
	} else {
		missing(w, n, path, "user");
	}
	if ((v = barge_ynode_get(n, "password")) != NULL && !barge_ynode_is_null(v)) {
		snprintf(sub, sizeof sub, "%s.password", path);
		read_secret(w, v, sub, "password", &e->password);
	}
	if ((v = barge_ynode_get(n, "tls")) != NULL) {
		snprintf(sub, sizeof sub, "%s.tls", path);
		walk_tls(w, v, sub, &e->tls);
	}
	if (source && (v = barge_ynode_get(n, "serverId")) != NULL) {
		snprintf(sub, sizeof sub, "%s.serverId", path);
		if (read_uint(w, v, sub, 1, UINT32_MAX, &u))
			e->server_id = (uint32_t)u;
	}
	if (!source && (v = barge_ynode_get(n, "dialect")) != NULL) {
		snprintf(sub, sizeof sub, "%s.dialect", path);
		if (read_enum(w, v, sub, dialect_names, &idx))
			e->dialect = (enum barge_dialect)idx;
	}
	if (!source && (v = barge_ynode_get(n, "metaSchema")) != NULL) {
		char *meta = NULL;

		snprintf(sub, sizeof sub, "%s.metaSchema", path);
		if (read_string(w, v, sub, &meta)) {
			if (!is_identifierish(meta)) {
				DIAG(w, v, "%s: \"%.64s\" is not a valid schema name (letters, "
					   "digits, _ and $, at most 64)", sub, meta);
				free(meta);
			} else {
				free(e->meta_schema);
				e->meta_schema = meta;
			}
		}
	}
}

static bool walk_pattern(struct walk *w, const struct barge_ynode *n, const char *path,
			 const char *const *keys, struct barge_pattern *p, bool table_required)
{
	const struct barge_ynode *v;
	char sub[128];
	unsigned before = w->errors;

	p->loc = loc_of(w, n);
	if (!want_kind(w, n, BARGE_Y_MAP, path))
		return false;
	check_keys(w, n, path, keys);
	if ((v = barge_ynode_get(n, "schema")) != NULL) {
		snprintf(sub, sizeof sub, "%s.schema", path);
		read_string(w, v, sub, &p->schema);
	} else {
		missing(w, n, path, "schema");
	}
	if ((v = barge_ynode_get(n, "table")) != NULL) {
		snprintf(sub, sizeof sub, "%s.table", path);
		read_string(w, v, sub, &p->table);
	} else if (table_required) {
		missing(w, n, path, "table");
	}
	return w->errors == before;
}

static void walk_pattern_list(struct walk *w, const struct barge_ynode *n, const char *path,
			      struct barge_pattern **out, size_t *count)
{
	char sub[128];

	if (!want_kind(w, n, BARGE_Y_SEQ, path))
		return;
	*out = barge_xcalloc(n->n ? n->n : 1, sizeof **out);
	for (size_t i = 0; i < n->n; i++) {
		snprintf(sub, sizeof sub, "%s[%zu]", path, i);
		walk_pattern(w, n->items[i], sub, pattern_keys, &(*out)[i], false);
		(*count)++;
	}
}

static void walk_objects(struct walk *w, const struct barge_ynode *n, struct barge_job *job)
{
	const struct barge_ynode *v;

	if (!want_kind(w, n, BARGE_Y_MAP, "spec.objects"))
		return;
	check_keys(w, n, "spec.objects", objects_keys);
	if ((v = barge_ynode_get(n, "allow")) != NULL)
		walk_pattern_list(w, v, "spec.objects.allow", &job->allow, &job->n_allow);
	if ((v = barge_ynode_get(n, "block")) != NULL)
		walk_pattern_list(w, v, "spec.objects.block", &job->block, &job->n_block);
}

static void walk_routes(struct walk *w, const struct barge_ynode *n, struct barge_job *job)
{
	char sub[128];

	if (!want_kind(w, n, BARGE_Y_SEQ, "spec.routes"))
		return;
	job->routes = barge_xcalloc(n->n ? n->n : 1, sizeof *job->routes);
	for (size_t i = 0; i < n->n; i++) {
		const struct barge_ynode *r = n->items[i], *v;
		struct barge_route *route = &job->routes[job->n_routes++];

		snprintf(sub, sizeof sub, "spec.routes[%zu]", i);
		route->loc = loc_of(w, r);
		if (!want_kind(w, r, BARGE_Y_MAP, sub))
			continue;
		check_keys(w, r, sub, route_keys);
		if ((v = barge_ynode_get(r, "from")) != NULL) {
			snprintf(sub, sizeof sub, "spec.routes[%zu].from", i);
			walk_pattern(w, v, sub, pattern_keys, &route->from, false);
		} else {
			missing(w, r, sub, "from");
		}
		snprintf(sub, sizeof sub, "spec.routes[%zu]", i);
		if ((v = barge_ynode_get(r, "to")) != NULL) {
			struct barge_pattern to;

			memset(&to, 0, sizeof to);
			snprintf(sub, sizeof sub, "spec.routes[%zu].to", i);
			walk_pattern(w, v, sub, pattern_keys, &to, false);
			route->to_schema = to.schema;
			route->to_table = to.table;
			if (to.schema && to.schema[0] == '~')
				DIAG(w, v, "%s.schema: a route's target is a name, not a pattern", sub);
			if (to.table && to.table[0] == '~')
				DIAG(w, v, "%s.table: a route's target is a name, not a pattern", sub);
		} else {
			missing(w, r, sub, "to");
		}
	}
}

static void walk_string_list(struct walk *w, const struct barge_ynode *n, const char *path,
			     char ***out, size_t *count)
{
	char sub[128];

	if (!want_kind(w, n, BARGE_Y_SEQ, path))
		return;
	*out = barge_xcalloc(n->n ? n->n : 1, sizeof **out);
	for (size_t i = 0; i < n->n; i++) {
		snprintf(sub, sizeof sub, "%s[%zu]", path, i);
		if (read_string(w, n->items[i], sub, &(*out)[*count]))
			(*count)++;
	}
}

static void walk_filters(struct walk *w, const struct barge_ynode *n, struct barge_job *job)
{
	char sub[128], sub2[160];

	if (!want_kind(w, n, BARGE_Y_SEQ, "spec.filters"))
		return;
	job->filters = barge_xcalloc(n->n ? n->n : 1, sizeof *job->filters);
	for (size_t i = 0; i < n->n; i++) {
		const struct barge_ynode *f = n->items[i], *v;
		struct barge_filter *filter = &job->filters[job->n_filters++];

		snprintf(sub, sizeof sub, "spec.filters[%zu]", i);
		filter->loc = loc_of(w, f);
		if (!walk_pattern(w, f, sub, filter_keys, &filter->match, false))
			continue;
		if ((v = barge_ynode_get(f, "ignore")) != NULL) {
			snprintf(sub2, sizeof sub2, "%s.ignore", sub);
			if (want_kind(w, v, BARGE_Y_SEQ, sub2)) {
				for (size_t j = 0; j < v->n; j++) {
					uint32_t bits;
					char sub3[192];

					snprintf(sub3, sizeof sub3, "%s[%zu]", sub2, j);
					if (!want_kind(w, v->items[j], BARGE_Y_SCALAR, sub3))
						continue;
					if (barge_event_parse(v->items[j]->scalar, &bits) != 0)
						DIAG(w, v->items[j],
						     "%s: unknown event \"%.60s\"; use insert, update, "
						     "delete, create database, drop database, create "
						     "table, alter table, drop table, truncate table, "
						     "rename table, create index, drop index, all dml, "
						     "all ddl or all",
						     sub3, v->items[j]->scalar);
					else
						filter->ignore |= bits;
				}
			}
		}
		if ((v = barge_ynode_get(f, "sqlPattern")) != NULL) {
			snprintf(sub2, sizeof sub2, "%s.sqlPattern", sub);
			walk_string_list(w, v, sub2, &filter->sql_patterns, &filter->n_sql_patterns);
		}
		if (!barge_ynode_get(f, "ignore") && !barge_ynode_get(f, "sqlPattern"))
			DIAG(w, f, "%s: a filter needs ignore (event kinds) or sqlPattern", sub);
	}
}

static void walk_full(struct walk *w, const struct barge_ynode *n, struct barge_full_spec *full)
{
	const struct barge_ynode *v;
	uint64_t u;
	int idx;

	if (!want_kind(w, n, BARGE_Y_MAP, "spec.full"))
		return;
	check_keys(w, n, "spec.full", full_keys);
	if ((v = barge_ynode_get(n, "threads")) != NULL && read_uint(w, v, "spec.full.threads", 1, 64, &u))
		full->threads = (unsigned)u;
	if ((v = barge_ynode_get(n, "chunkRows")) != NULL &&
	    read_uint(w, v, "spec.full.chunkRows", 1, 100000000, &u))
		full->chunk_rows = u;
	if ((v = barge_ynode_get(n, "onDuplicate")) != NULL &&
	    read_enum(w, v, "spec.full.onDuplicate", ondup_names, &idx))
		full->on_duplicate = (enum barge_on_duplicate)idx;
}

/* A MariaDB GTID position ("0-1-100,1-2-5") or a MySQL GTID set. */
static bool gtid_text_valid(const char *text)
{
	struct barge_gtid_set *set = NULL;
	struct barge_err err = {0};
	const char *p = text;
	uint32_t d, sv;
	uint64_t q;
	int rc, n = 0;

	while ((rc = barge_maria_gtid_next(&p, &d, &sv, &q)) == 1)
		n++;
	if (rc == 0 && n > 0)
		return true;
	if (barge_gtid_set_parse(text, &set, &err) != 0)
		return false;
	barge_gtid_set_free(set);
	return true;
}

static void walk_incremental(struct walk *w, const struct barge_ynode *n, struct barge_job *job,
			     const struct barge_ynode **start_node)
{
	struct barge_incremental_spec *inc = &job->incremental;
	const struct barge_ynode *v, *s;
	uint64_t u;
	int idx;

	if (!want_kind(w, n, BARGE_Y_MAP, "spec.incremental"))
		return;
	check_keys(w, n, "spec.incremental", incremental_keys);
	if ((v = barge_ynode_get(n, "workers")) != NULL &&
	    read_uint(w, v, "spec.incremental.workers", 1, 64, &u))
		inc->workers = (unsigned)u;
	if ((v = barge_ynode_get(n, "batch")) != NULL &&
	    read_uint(w, v, "spec.incremental.batch", 1, 10000, &u))
		inc->batch = (unsigned)u;
	if ((v = barge_ynode_get(n, "safeMode")) != NULL &&
	    read_enum(w, v, "spec.incremental.safeMode", safe_names, &idx))
		inc->safe_mode = (enum barge_safe_mode)idx;
	if ((s = barge_ynode_get(n, "start")) == NULL)
		return;
	*start_node = s;
	if (!want_kind(w, s, BARGE_Y_MAP, "spec.incremental.start"))
		return;
	check_keys(w, s, "spec.incremental.start", start_keys);
	if ((v = barge_ynode_get(s, "binlogName")) != NULL)
		read_string(w, v, "spec.incremental.start.binlogName", &inc->start.binlog_name);
	if ((v = barge_ynode_get(s, "binlogPos")) != NULL &&
	    read_uint(w, v, "spec.incremental.start.binlogPos", 4, UINT64_MAX, &u))
		inc->start.binlog_pos = u;
	if ((v = barge_ynode_get(s, "gtid")) != NULL &&
	    read_string(w, v, "spec.incremental.start.gtid", &inc->start.gtid) &&
	    !gtid_text_valid(inc->start.gtid))
		DIAG(w, v, "spec.incremental.start.gtid: \"%.60s\" is neither a MySQL GTID set "
			   "(uuid:1-100,uuid2:1-5) nor a MariaDB GTID position (0-1-100,1-2-5)",
		     inc->start.gtid);
	if (inc->start.gtid && (inc->start.binlog_name || barge_ynode_get(s, "binlogPos")))
		DIAG(w, s, "spec.incremental.start: give either gtid or binlogName and binlogPos, "
			   "not both");
	else if (!inc->start.gtid && !inc->start.binlog_name && !barge_ynode_get(s, "binlogName"))
		DIAG(w, s, "spec.incremental.start: give gtid, or binlogName and binlogPos");
	else if (inc->start.binlog_name && !barge_ynode_get(s, "binlogPos"))
		missing(w, s, "spec.incremental.start", "binlogPos");
	else if (!inc->start.binlog_name && barge_ynode_get(s, "binlogPos") && !inc->start.gtid)
		missing(w, s, "spec.incremental.start", "binlogName");
}

static void walk_notify(struct walk *w, const struct barge_ynode *n, struct barge_job *job)
{
	char sub[128], sub2[160];

	if (!want_kind(w, n, BARGE_Y_SEQ, "spec.notify"))
		return;
	job->notify = barge_xcalloc(n->n ? n->n : 1, sizeof *job->notify);
	for (size_t i = 0; i < n->n; i++) {
		const struct barge_ynode *t = n->items[i], *v;
		struct barge_notify *nt = &job->notify[job->n_notify++];
		int idx;

		nt->format = BARGE_NOTIFY_JSON;
		nt->events = BARGE_NOTIFY_ALL;
		nt->lag_threshold_ms = 30000;
		nt->loc = loc_of(w, t);
		snprintf(sub, sizeof sub, "spec.notify[%zu]", i);
		if (!want_kind(w, t, BARGE_Y_MAP, sub))
			continue;
		check_keys(w, t, sub, notify_keys);
		if ((v = barge_ynode_get(t, "url")) != NULL) {
			snprintf(sub2, sizeof sub2, "%s.url", sub);
			if (read_string(w, v, sub2, &nt->url) && !barge_secret_is_ref(nt->url) &&
			    strncmp(nt->url, "http://", 7) != 0 && strncmp(nt->url, "https://", 8) != 0)
				DIAG(w, v, "%s: expected an http:// or https:// URL, or a secret "
					   "reference", sub2);
		} else {
			missing(w, t, sub, "url");
		}
		if ((v = barge_ynode_get(t, "format")) != NULL) {
			snprintf(sub2, sizeof sub2, "%s.format", sub);
			if (read_enum(w, v, sub2, format_names, &idx))
				nt->format = (enum barge_notify_format)idx;
		}
		if ((v = barge_ynode_get(t, "events")) != NULL) {
			snprintf(sub2, sizeof sub2, "%s.events", sub);
			if (want_kind(w, v, BARGE_Y_SEQ, sub2)) {
				nt->events = 0;
				for (size_t j = 0; j < v->n; j++) {
					char sub3[192];

					snprintf(sub3, sizeof sub3, "%s[%zu]", sub2, j);
					if (read_enum(w, v->items[j], sub3, notify_event_names, &idx))
						nt->events |= idx == 4 ? BARGE_NOTIFY_ALL : 1u << idx;
				}
				if (v->n == 0)
					DIAG(w, v, "%s: an empty list sends nothing; remove the target "
						   "or name events", sub2);
			}
		}
		if ((v = barge_ynode_get(t, "secret")) != NULL) {
			snprintf(sub2, sizeof sub2, "%s.secret", sub);
			read_secret(w, v, sub2, "webhook secret", &nt->secret);
		}
		if ((v = barge_ynode_get(t, "lagThreshold")) != NULL) {
			snprintf(sub2, sizeof sub2, "%s.lagThreshold", sub);
			read_duration(w, v, sub2, &nt->lag_threshold_ms);
		}
	}
}

/* The job name rules of the seed: say which one is broken. */
static void check_name(struct walk *w, const struct barge_ynode *n, const char *name)
{
	size_t len = strlen(name);

	if (!isalpha((unsigned char)name[0]) || !isascii((unsigned char)name[0]))
		DIAG(w, n, "metadata.name: \"%.80s\" must start with a letter", name);
	else if (len > BARGE_JOB_NAME_MAX)
		DIAG(w, n, "metadata.name: \"%.80s\" must be less than 60 characters (it has %zu)",
		     name, len);
	else if (!barge_job_name_valid(name)) {
		const char *bad = name;

		while (*bad && (isalnum((unsigned char)*bad) || *bad == '_' || *bad == '-') &&
		       isascii((unsigned char)*bad))
			bad++;
		DIAG(w, n, "metadata.name: \"%.80s\" may contain only letters (A-Z, a-z), digits, "
			   "\"_\" and \"-\" (found \"%c\")", name, *bad);
	}
}

int barge_job_compile_rules(const struct barge_job *job, struct barge_rules **out,
			    struct barge_rules_error_at *at, struct barge_err *err)
{
	struct barge_rules_spec spec;
	struct barge_rule_pattern *allow = barge_xcalloc(job->n_allow + 1, sizeof *allow);
	struct barge_rule_pattern *block = barge_xcalloc(job->n_block + 1, sizeof *block);
	struct barge_rule_route *routes = barge_xcalloc(job->n_routes + 1, sizeof *routes);
	struct barge_rule_filter *filters = barge_xcalloc(job->n_filters + 1, sizeof *filters);
	int rc;

	for (size_t i = 0; i < job->n_allow; i++)
		allow[i] = (struct barge_rule_pattern){job->allow[i].schema, job->allow[i].table};
	for (size_t i = 0; i < job->n_block; i++)
		block[i] = (struct barge_rule_pattern){job->block[i].schema, job->block[i].table};
	for (size_t i = 0; i < job->n_routes; i++) {
		routes[i].from = (struct barge_rule_pattern){job->routes[i].from.schema,
							     job->routes[i].from.table};
		routes[i].to_schema = job->routes[i].to_schema;
		routes[i].to_table = job->routes[i].to_table;
	}
	for (size_t i = 0; i < job->n_filters; i++) {
		filters[i].match = (struct barge_rule_pattern){job->filters[i].match.schema,
							       job->filters[i].match.table};
		filters[i].ignore = job->filters[i].ignore;
		filters[i].sql_patterns = (const char *const *)job->filters[i].sql_patterns;
		filters[i].n_sql_patterns = job->filters[i].n_sql_patterns;
	}
	spec = (struct barge_rules_spec){allow, job->n_allow, block, job->n_block,
					 routes, job->n_routes, filters, job->n_filters};
	rc = barge_rules_compile(&spec, out, at, err);
	free(allow);
	free(block);
	free(routes);
	free(filters);
	return rc;
}

/* Compile the job's rules to report bad patterns at their rule's place. */
static void check_rules(struct walk *w, const struct barge_job *job)
{
	struct barge_rules_error_at at;
	struct barge_rules *rules = NULL;
	struct barge_err err = {0};

	if (barge_job_compile_rules(job, &rules, &at, &err) != 0) {
		struct barge_srcloc l = job->loc;

		switch (at.list) {
		case BARGE_RULES_AT_ALLOW: l = job->allow[at.index].loc; break;
		case BARGE_RULES_AT_BLOCK: l = job->block[at.index].loc; break;
		case BARGE_RULES_AT_ROUTE: l = job->routes[at.index].loc; break;
		case BARGE_RULES_AT_FILTER: l = job->filters[at.index].loc; break;
		default: break;
		}
		/* rules name keys from objects/routes/filters; in the file they live under spec. */
		diag_at(w, l.line, l.col, "spec.%s", err.msg);
	}
	barge_rules_free(rules);
}

/* ---- canonical form and hash ---- */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *pattern_json(const struct barge_pattern *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "schema", jstr(p->schema));
	json_object_set_new(o, "table", jstr(p->table));
	return o;
}

static json_t *endpoint_json(const struct barge_endpoint *e, bool source)
{
	json_t *o = json_object(), *t = json_object();

	json_object_set_new(o, "host", jstr(e->host));
	json_object_set_new(o, "port", json_integer(e->port));
	json_object_set_new(o, "user", jstr(e->user));
	json_object_set_new(o, "password", jstr(e->password));
	json_object_set_new(t, "enabled", json_boolean(e->tls.enabled));
	json_object_set_new(t, "ca", jstr(e->tls.ca));
	json_object_set_new(t, "cert", jstr(e->tls.cert));
	json_object_set_new(t, "key", jstr(e->tls.key));
	json_object_set_new(t, "verify", json_boolean(e->tls.verify));
	json_object_set_new(o, "tls", t);
	if (source) {
		json_object_set_new(o, "serverId", json_integer(e->server_id));
	} else {
		json_object_set_new(o, "dialect", json_string(barge_dialect_name(e->dialect)));
		json_object_set_new(o, "metaSchema", jstr(e->meta_schema));
	}
	return o;
}

json_t *barge_job_to_json(const struct barge_job *job)
{
	json_t *o = json_object(), *a;

	json_object_set_new(o, "name", jstr(job->name));
	json_object_set_new(o, "state", json_string(barge_desired_state_name(job->state)));
	json_object_set_new(o, "restartGeneration", json_integer((json_int_t)job->restart_generation));
	json_object_set_new(o, "mode", json_string(barge_mode_name(job->mode)));
	json_object_set_new(o, "source", endpoint_json(&job->source, true));
	json_object_set_new(o, "target", endpoint_json(&job->target, false));
	a = json_array();
	for (size_t i = 0; i < job->n_allow; i++)
		json_array_append_new(a, pattern_json(&job->allow[i]));
	json_object_set_new(o, "allow", a);
	a = json_array();
	for (size_t i = 0; i < job->n_block; i++)
		json_array_append_new(a, pattern_json(&job->block[i]));
	json_object_set_new(o, "block", a);
	a = json_array();
	for (size_t i = 0; i < job->n_routes; i++) {
		json_t *r = json_object();

		json_object_set_new(r, "from", pattern_json(&job->routes[i].from));
		json_object_set_new(r, "toSchema", jstr(job->routes[i].to_schema));
		json_object_set_new(r, "toTable", jstr(job->routes[i].to_table));
		json_array_append_new(a, r);
	}
	json_object_set_new(o, "routes", a);
	a = json_array();
	for (size_t i = 0; i < job->n_filters; i++) {
		json_t *f = pattern_json(&job->filters[i].match), *s = json_array();

		json_object_set_new(f, "ignore", json_integer(job->filters[i].ignore));
		for (size_t j = 0; j < job->filters[i].n_sql_patterns; j++)
			json_array_append_new(s, json_string(job->filters[i].sql_patterns[j]));
		json_object_set_new(f, "sqlPattern", s);
		json_array_append_new(a, f);
	}
	json_object_set_new(o, "filters", a);
	json_object_set_new(o, "threads", json_integer(job->full.threads));
	json_object_set_new(o, "chunkRows", json_integer((json_int_t)job->full.chunk_rows));
	json_object_set_new(o, "onDuplicate",
			    json_string(barge_on_duplicate_name(job->full.on_duplicate)));
	json_object_set_new(o, "startBinlogName", jstr(job->incremental.start.binlog_name));
	json_object_set_new(o, "startBinlogPos",
			    json_integer((json_int_t)job->incremental.start.binlog_pos));
	json_object_set_new(o, "startGtid", jstr(job->incremental.start.gtid));
	json_object_set_new(o, "workers", json_integer(job->incremental.workers));
	json_object_set_new(o, "batch", json_integer(job->incremental.batch));
	json_object_set_new(o, "safeMode",
			    json_string(barge_safe_mode_name(job->incremental.safe_mode)));
	a = json_array();
	for (size_t i = 0; i < job->n_notify; i++) {
		json_t *n = json_object();

		json_object_set_new(n, "url", jstr(job->notify[i].url));
		json_object_set_new(n, "format", json_string(job->notify[i].format ==
								     BARGE_NOTIFY_SLACK ? "slack"
											: "json"));
		json_object_set_new(n, "events", json_integer(job->notify[i].events));
		json_object_set_new(n, "secret", jstr(job->notify[i].secret));
		json_object_set_new(n, "lagThresholdMs",
				    json_integer((json_int_t)job->notify[i].lag_threshold_ms));
		json_array_append_new(a, n);
	}
	json_object_set_new(o, "notify", a);
	a = json_array();
	for (size_t i = 0; i < job->n_precheck_ignore; i++)
		json_array_append_new(a, json_string(job->precheck_ignore[i]));
	json_object_set_new(o, "precheckIgnore", a);
	return o;
}

static void compute_hash(struct barge_job *job)
{
	json_t *doc = barge_job_to_json(job);
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	static const char hex[] = "0123456789abcdef";

	if (!text)
		abort();
	EVP_Digest(text, strlen(text), md, &md_len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32 && i < md_len; i++) {
		job->spec_hash[2 * i] = hex[md[i] >> 4];
		job->spec_hash[2 * i + 1] = hex[md[i] & 15];
	}
	job->spec_hash[64] = '\0';
	free(text);
	json_decref(doc);
}

/* ---- back from the canonical form (a recorded spec) ---- */

static void set_defaults(struct barge_job *job);

struct from {
	const char *what; /* the first key that was missing or of the wrong type */
};

static const json_t *member(struct from *f, const json_t *o, const char *key, int type)
{
	const json_t *v = json_object_get(o, key);

	if (!v || (type >= 0 && (int)json_typeof(v) != type && !(type == JSON_STRING && json_is_null(v)))) {
		if (!f->what)
			f->what = key;
		return NULL;
	}
	return v;
}

static char *str_member(struct from *f, const json_t *o, const char *key)
{
	const json_t *v = member(f, o, key, JSON_STRING);

	return v && json_is_string(v) ? barge_xstrdup(json_string_value(v)) : NULL;
}

static uint64_t int_member(struct from *f, const json_t *o, const char *key)
{
	const json_t *v = member(f, o, key, JSON_INTEGER);
	json_int_t i = v ? json_integer_value(v) : 0;

	return i > 0 ? (uint64_t)i : 0;
}

static bool bool_member(struct from *f, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v)) {
		if (!f->what)
			f->what = key;
		return false;
	}
	return json_is_true(v);
}

static int enum_member(struct from *f, const json_t *o, const char *key, const char *const *names)
{
	const json_t *v = member(f, o, key, JSON_STRING);

	for (int i = 0; v && json_is_string(v) && names[i]; i++)
		if (strcmp(names[i], json_string_value(v)) == 0)
			return i;
	if (!f->what)
		f->what = key;
	return 0;
}

static void pattern_from(struct from *f, const json_t *o, struct barge_pattern *p)
{
	if (!json_is_object(o)) {
		f->what = f->what ? f->what : "pattern";
		return;
	}
	p->schema = str_member(f, o, "schema");
	p->table = str_member(f, o, "table");
}

static void endpoint_from(struct from *f, const json_t *o, struct barge_endpoint *e, bool source)
{
	const json_t *t = member(f, o, "tls", JSON_OBJECT);

	if (!json_is_object(o)) {
		f->what = f->what ? f->what : (source ? "source" : "target");
		return;
	}
	e->host = str_member(f, o, "host");
	e->port = (unsigned)int_member(f, o, "port");
	e->user = str_member(f, o, "user");
	e->password = str_member(f, o, "password");
	if (t) {
		e->tls.enabled = bool_member(f, t, "enabled");
		e->tls.verify = bool_member(f, t, "verify");
		e->tls.ca = str_member(f, t, "ca");
		e->tls.cert = str_member(f, t, "cert");
		e->tls.key = str_member(f, t, "key");
	}
	if (source) {
		e->server_id = (uint32_t)int_member(f, o, "serverId");
	} else {
		e->dialect = (enum barge_dialect)enum_member(f, o, "dialect", dialect_names);
		e->meta_schema = str_member(f, o, "metaSchema");
	}
}

static const json_t *array_member(struct from *f, const json_t *o, const char *key, size_t *n)
{
	const json_t *a = member(f, o, key, JSON_ARRAY);

	*n = a ? json_array_size(a) : 0;
	return a;
}

int barge_job_from_json(const char *text, struct barge_job **out, struct barge_err *err)
{
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	struct barge_job *job;
	struct from f = {NULL};
	const json_t *a;
	size_t n;

	*out = NULL;
	if (!json_is_object(o)) {
		json_decref(o);
		return barge_err_set(err, BARGE_ESTORE, "the recorded spec is not a JSON object: %s",
				     jerr.text);
	}
	job = barge_xcalloc(1, sizeof *job);
	set_defaults(job);
	job->name = str_member(&f, o, "name");
	job->file = json_is_string(json_object_get(o, "file"))
			    ? barge_xstrdup(json_string_value(json_object_get(o, "file")))
			    : NULL;
	job->state = (enum barge_desired_state)enum_member(&f, o, "state", state_names);
	job->restart_generation = int_member(&f, o, "restartGeneration");
	job->mode = (enum barge_mode)enum_member(&f, o, "mode", mode_names);
	endpoint_from(&f, member(&f, o, "source", JSON_OBJECT), &job->source, true);
	endpoint_from(&f, member(&f, o, "target", JSON_OBJECT), &job->target, false);

	if ((a = array_member(&f, o, "allow", &n)) != NULL && n) {
		job->allow = barge_xcalloc(n, sizeof *job->allow);
		for (job->n_allow = 0; job->n_allow < n; job->n_allow++)
			pattern_from(&f, json_array_get(a, job->n_allow), &job->allow[job->n_allow]);
	}
	if ((a = array_member(&f, o, "block", &n)) != NULL && n) {
		job->block = barge_xcalloc(n, sizeof *job->block);
		for (job->n_block = 0; job->n_block < n; job->n_block++)
			pattern_from(&f, json_array_get(a, job->n_block), &job->block[job->n_block]);
	}
	if ((a = array_member(&f, o, "routes", &n)) != NULL && n) {
		job->routes = barge_xcalloc(n, sizeof *job->routes);
		for (job->n_routes = 0; job->n_routes < n; job->n_routes++) {
			const json_t *r = json_array_get(a, job->n_routes);
			struct barge_route *rt = &job->routes[job->n_routes];

			pattern_from(&f, json_object_get(r, "from"), &rt->from);
			rt->to_schema = str_member(&f, r, "toSchema");
			rt->to_table = str_member(&f, r, "toTable");
		}
	}
	if ((a = array_member(&f, o, "filters", &n)) != NULL && n) {
		job->filters = barge_xcalloc(n, sizeof *job->filters);
		for (job->n_filters = 0; job->n_filters < n; job->n_filters++) {
			const json_t *fo = json_array_get(a, job->n_filters), *sp;
			struct barge_filter *fl = &job->filters[job->n_filters];
			size_t m;

			pattern_from(&f, fo, &fl->match);
			fl->ignore = (uint32_t)int_member(&f, fo, "ignore");
			if ((sp = array_member(&f, fo, "sqlPattern", &m)) != NULL && m) {
				fl->sql_patterns = barge_xcalloc(m, sizeof *fl->sql_patterns);
				for (size_t j = 0; j < m; j++) {
					const json_t *s = json_array_get(sp, j);

					if (!json_is_string(s)) {
						f.what = f.what ? f.what : "sqlPattern";
						continue;
					}
					fl->sql_patterns[fl->n_sql_patterns++] =
						barge_xstrdup(json_string_value(s));
				}
			}
		}
	}
	job->full.threads = (unsigned)int_member(&f, o, "threads");
	job->full.chunk_rows = int_member(&f, o, "chunkRows");
	job->full.on_duplicate = (enum barge_on_duplicate)enum_member(&f, o, "onDuplicate",
								       ondup_names);
	job->incremental.start.binlog_name = str_member(&f, o, "startBinlogName");
	job->incremental.start.binlog_pos = int_member(&f, o, "startBinlogPos");
	job->incremental.start.gtid = str_member(&f, o, "startGtid");
	job->incremental.workers = (unsigned)int_member(&f, o, "workers");
	job->incremental.batch = (unsigned)int_member(&f, o, "batch");
	job->incremental.safe_mode = (enum barge_safe_mode)enum_member(&f, o, "safeMode",
									safe_names);
	if ((a = array_member(&f, o, "notify", &n)) != NULL && n) {
		job->notify = barge_xcalloc(n, sizeof *job->notify);
		for (job->n_notify = 0; job->n_notify < n; job->n_notify++) {
			const json_t *no = json_array_get(a, job->n_notify);
			struct barge_notify *nt = &job->notify[job->n_notify];

			nt->url = str_member(&f, no, "url");
			nt->format = (enum barge_notify_format)enum_member(&f, no, "format",
									    format_names);
			nt->events = (unsigned)int_member(&f, no, "events");
			nt->secret = str_member(&f, no, "secret");
			nt->lag_threshold_ms = int_member(&f, no, "lagThresholdMs");
		}
	}
	if ((a = array_member(&f, o, "precheckIgnore", &n)) != NULL && n) {
		job->precheck_ignore = barge_xcalloc(n, sizeof *job->precheck_ignore);
		for (size_t i = 0; i < n; i++) {
			const json_t *s = json_array_get(a, i);

			if (json_is_string(s))
				job->precheck_ignore[job->n_precheck_ignore++] =
					barge_xstrdup(json_string_value(s));
			else
				f.what = f.what ? f.what : "precheckIgnore";
		}
	}
	json_decref(o);
	if (!f.what && (!job->name || !barge_job_name_valid(job->name)))
		f.what = "name";
	if (!f.what && (!job->source.host || !job->target.host || !job->target.meta_schema))
		f.what = !job->source.host ? "source.host" : "target.host";
	if (f.what) {
		int rc = barge_err_set(err, BARGE_ESTORE, "the recorded spec%s%s is not one barge "
				       "wrote: its \"%s\" is missing or not what it should be",
				       job->name ? " of job " : "", job->name ? job->name : "", f.what);

		barge_job_free(job);
		return rc;
	}
	barge_job_relink_locs(job);
	compute_hash(job);
	*out = job;
	return 0;
}

/* ---- one document ---- */

static void set_defaults(struct barge_job *job)
{
	job->state = BARGE_DESIRED_RUNNING;
	job->full.threads = 4;
	job->full.chunk_rows = 100000;
	job->full.on_duplicate = BARGE_ONDUP_REPLACE;
	job->incremental.workers = 8;
	job->incremental.batch = 256;
	job->incremental.safe_mode = BARGE_SAFE_AUTO;
}

static struct barge_job *walk_document(struct walk *w, const struct barge_ynode *doc)
{
	struct barge_job *job = barge_xcalloc(1, sizeof *job);
	const struct barge_ynode *v, *meta, *spec, *start_node = NULL;
	unsigned before = w->errors;
	uint64_t u;
	int idx;

	set_defaults(job);
	job->loc = loc_of(w, doc);
	if (!want_kind(w, doc, BARGE_Y_MAP, "the document"))
		goto done;
	check_keys(w, doc, "the document", top_keys);
	if ((v = barge_ynode_get(doc, "apiVersion")) == NULL)
		missing(w, doc, "the document", "apiVersion");
	else if (want_kind(w, v, BARGE_Y_SCALAR, "apiVersion") && strcmp(v->scalar, API_VERSION))
		DIAG(w, v, "apiVersion: \"%.60s\" is not supported; use %s", v->scalar, API_VERSION);
	if ((v = barge_ynode_get(doc, "kind")) == NULL)
		missing(w, doc, "the document", "kind");
	else if (want_kind(w, v, BARGE_Y_SCALAR, "kind") && strcmp(v->scalar, KIND))
		DIAG(w, v, "kind: \"%.60s\" is not supported; use %s", v->scalar, KIND);

	if ((meta = barge_ynode_get(doc, "metadata")) == NULL) {
		missing(w, doc, "the document", "metadata");
	} else if (want_kind(w, meta, BARGE_Y_MAP, "metadata")) {
		check_keys(w, meta, "metadata", metadata_keys);
		if ((v = barge_ynode_get(meta, "name")) == NULL)
			missing(w, meta, "metadata", "name");
		else if (read_string(w, v, "metadata.name", &job->name))
			check_name(w, v, job->name);
		if ((v = barge_ynode_get(meta, "labels")) != NULL)
			want_kind(w, v, BARGE_Y_MAP, "metadata.labels");
		if ((v = barge_ynode_get(meta, "annotations")) != NULL)
			want_kind(w, v, BARGE_Y_MAP, "metadata.annotations");
	}

	if ((spec = barge_ynode_get(doc, "spec")) == NULL) {
		missing(w, doc, "the document", "spec");
		goto done;
	}
	if (!want_kind(w, spec, BARGE_Y_MAP, "spec"))
		goto done;
	check_keys(w, spec, "spec", spec_keys);
	if ((v = barge_ynode_get(spec, "state")) != NULL &&
	    read_enum(w, v, "spec.state", state_names, &idx))
		job->state = (enum barge_desired_state)idx;
	if ((v = barge_ynode_get(spec, "restartGeneration")) != NULL &&
	    read_uint(w, v, "spec.restartGeneration", 0, INT64_MAX, &u))
		job->restart_generation = u;
	if ((v = barge_ynode_get(spec, "mode")) == NULL)
		missing(w, spec, "spec", "mode");
	else if (read_enum(w, v, "spec.mode", mode_names, &idx))
		job->mode = (enum barge_mode)idx;
	if ((v = barge_ynode_get(spec, "source")) == NULL)
		missing(w, spec, "spec", "source");
	else
		walk_endpoint(w, v, "spec.source", &job->source, true);
	if ((v = barge_ynode_get(spec, "target")) == NULL) {
		missing(w, spec, "spec", "target");
		job->target.meta_schema = barge_xstrdup("barge_meta");
	} else {
		walk_endpoint(w, v, "spec.target", &job->target, false);
	}
	if ((v = barge_ynode_get(spec, "objects")) != NULL)
		walk_objects(w, v, job);
	if ((v = barge_ynode_get(spec, "routes")) != NULL)
		walk_routes(w, v, job);
	if ((v = barge_ynode_get(spec, "filters")) != NULL)
		walk_filters(w, v, job);
	if ((v = barge_ynode_get(spec, "full")) != NULL)
		walk_full(w, v, &job->full);
	if ((v = barge_ynode_get(spec, "incremental")) != NULL)
		walk_incremental(w, v, job, &start_node);
	if ((v = barge_ynode_get(spec, "notify")) != NULL)
		walk_notify(w, v, job);
	if ((v = barge_ynode_get(spec, "precheck")) != NULL &&
	    want_kind(w, v, BARGE_Y_MAP, "spec.precheck")) {
		const struct barge_ynode *ig;

		check_keys(w, v, "spec.precheck", precheck_keys);
		if ((ig = barge_ynode_get(v, "ignore")) != NULL &&
		    want_kind(w, ig, BARGE_Y_SEQ, "spec.precheck.ignore")) {
			job->precheck_ignore = barge_xcalloc(ig->n ? ig->n : 1,
							     sizeof *job->precheck_ignore);
			for (size_t i = 0; i < ig->n; i++) {
				char sub[64];

				snprintf(sub, sizeof sub, "spec.precheck.ignore[%zu]", i);
				if (read_enum(w, ig->items[i], sub, precheck_items, &idx))
					job->precheck_ignore[job->n_precheck_ignore++] =
						barge_xstrdup(precheck_items[idx]);
			}
		}
	}
	if (start_node && job->mode != BARGE_MODE_INCREMENTAL && barge_ynode_get(spec, "mode"))
		DIAG(w, start_node, "spec.incremental.start: only valid with mode: incremental (mode "
				    "%s starts where the full copy's snapshot was taken)",
		     barge_mode_name(job->mode));
	if (job->name && !job->source.server_id)
		job->source.server_id = default_server_id(job->name);
	if (w->errors == before)
		check_rules(w, job);
done:
	if (w->errors != before) {
		barge_job_free(job);
		return NULL;
	}
	job->file = barge_xstrdup(w->file);
	barge_job_relink_locs(job);
	compute_hash(job);
	return job;
}

/* ---- files and sets ---- */

struct builder {
	struct barge_jobset *set;
	struct barge_diags *diags;
	unsigned errors;
	int io_error;
};

static const char *keep_file(struct barge_jobset *set, const char *path)
{
	set->files = barge_xrealloc(set->files, (set->n_files + 1) * sizeof *set->files);
	set->files[set->n_files] = barge_xstrdup(path);
	return set->files[set->n_files++];
}

static void add_jobs_from_buffer(struct builder *b, const char *file, const char *buf, size_t len)
{
	struct barge_ynode **docs = NULL;
	size_t n_docs = 0;
	struct barge_yaml_error yerr;
	struct walk w = {file, b->diags, 0};

	if (barge_yaml_parse(buf, len, &docs, &n_docs, &yerr) != 0) {
		diag_at(&w, yerr.line, yerr.col, "%s", yerr.message);
		b->errors += w.errors;
		return;
	}
	for (size_t i = 0; i < n_docs; i++) {
		struct barge_job *job;

		if (!docs[i])
			continue;
		job = walk_document(&w, docs[i]);
		if (!job)
			continue;
		b->set->jobs = barge_xrealloc(b->set->jobs, (b->set->count + 1) * sizeof *b->set->jobs);
		b->set->jobs[b->set->count++] = job;
	}
	b->errors += w.errors;
	barge_yaml_docs_free(docs, n_docs);
}

static void add_file(struct builder *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	struct barge_buf buf;
	char chunk[65536];
	size_t n;
	const char *file = keep_file(b->set, path);

	if (!f) {
		diags_add(b->diags, path, 0, 0, barge_xasprintf("cannot read: %s", strerror(errno)));
		b->errors++;
		b->io_error = 1;
		return;
	}
	barge_buf_init(&buf, JOB_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (barge_buf_append(&buf, chunk, n) != 0) {
			diags_add(b->diags, path, 0, 0,
				  barge_xasprintf("larger than %d MiB; a job file this large is "
						  "surely a mistake", JOB_FILE_MAX >> 20));
			b->errors++;
			fclose(f);
			barge_buf_dispose(&buf);
			return;
		}
	}
	if (ferror(f)) {
		diags_add(b->diags, path, 0, 0, barge_xasprintf("cannot read: %s", strerror(errno)));
		b->errors++;
		b->io_error = 1;
	} else {
		add_jobs_from_buffer(b, file, barge_buf_cstr(&buf), buf.len);
	}
	fclose(f);
	barge_buf_dispose(&buf);
}

static bool yaml_name(const char *name)
{
	size_t len = strlen(name);

	return (len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
	       (len > 4 && strcmp(name + len - 4, ".yml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_path(struct builder *b, const char *path, int depth)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (stat(path, &st) != 0) {
		diags_add(b->diags, path, 0, 0, barge_xasprintf("cannot read: %s", strerror(errno)));
		b->errors++;
		b->io_error = 1;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_file(b, path);
		return;
	}
	if (depth > 32)
		return;
	d = opendir(path);
	if (!d) {
		diags_add(b->diags, path, 0, 0, barge_xasprintf("cannot read: %s", strerror(errno)));
		b->errors++;
		b->io_error = 1;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue; /* ., .., and hidden files such as .git */
		names = barge_xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = barge_xasprintf("%s%s%s", path,
					     path[strlen(path) - 1] == '/' ? "" : "/", e->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat cst;

		if (stat(names[i], &cst) == 0 && (S_ISDIR(cst.st_mode) || yaml_name(names[i])))
			add_path(b, names[i], depth + 1);
		free(names[i]);
	}
	free(names);
}

static int cmp_job(const void *a, const void *b)
{
	return strcmp((*(struct barge_job *const *)a)->name, (*(struct barge_job *const *)b)->name);
}

static int cmp_diag(const void *a, const void *b)
{
	const struct barge_diag *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

/* Checks across documents: unique names and the job limit. */
static void check_set(struct builder *b)
{
	struct barge_jobset *set = b->set;

	for (size_t i = 0; i < set->count; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(set->jobs[i]->name, set->jobs[j]->name) != 0)
				continue;
			diags_add(b->diags, set->jobs[i]->loc.file, set->jobs[i]->loc.line,
				  set->jobs[i]->loc.col,
				  barge_xasprintf("metadata.name: job \"%s\" is already defined at "
						  "%s:%u:%u; job names must be unique",
						  set->jobs[i]->name, set->jobs[j]->loc.file,
						  set->jobs[j]->loc.line, set->jobs[j]->loc.col));
			b->errors++;
			break;
		}
	}
	if (set->count > BARGE_JOBS_MAX) {
		const struct barge_job *extra = set->jobs[BARGE_JOBS_MAX];

		diags_add(b->diags, extra->loc.file, extra->loc.line, extra->loc.col,
			  barge_xasprintf("too many jobs: %zu are defined, at most %d are allowed",
					  set->count, BARGE_JOBS_MAX));
		b->errors++;
	}
}

static int finish(struct builder *b, struct barge_jobset **out, struct barge_diags *diags,
		  struct barge_err *err, size_t diags_before)
{
	if (b->errors == 0)
		check_set(b);
	if (b->errors) {
		size_t files = 0;
		const char *last = NULL;

		qsort(diags->items + diags_before, diags->count - diags_before, sizeof *diags->items,
		      cmp_diag);
		for (size_t i = diags_before; i < diags->count; i++)
			if (!last || strcmp(last, diags->items[i].file) != 0) {
				files++;
				last = diags->items[i].file;
			}
		barge_err_set(err, b->io_error ? BARGE_EIO : BARGE_ECONFIG,
			      "%u error%s in %zu file%s", b->errors, b->errors == 1 ? "" : "s",
			      files, files == 1 ? "" : "s");
		barge_jobset_free(b->set);
		return b->io_error ? BARGE_EIO : BARGE_ECONFIG;
	}
	if (b->set->count > 1)
		qsort(b->set->jobs, b->set->count, sizeof *b->set->jobs, cmp_job);
	*out = b->set;
	return 0;
}

int barge_jobset_load(const char *const *paths, size_t n_paths, struct barge_jobset **out,
		      struct barge_diags *diags, struct barge_err *err)
{
	struct builder b = {barge_xcalloc(1, sizeof *b.set), diags, 0, 0};
	size_t before = diags->count;

	for (size_t i = 0; i < n_paths; i++)
		add_path(&b, paths[i], 0);
	return finish(&b, out, diags, err, before);
}

int barge_jobset_load_buffer(const char *name, const char *buf, size_t len,
			     struct barge_jobset **out, struct barge_diags *diags,
			     struct barge_err *err)
{
	struct builder b = {barge_xcalloc(1, sizeof *b.set), diags, 0, 0};
	size_t before = diags->count;

	add_jobs_from_buffer(&b, keep_file(b.set, name), buf, len);
	return finish(&b, out, diags, err, before);
}

void barge_jobset_free(struct barge_jobset *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		barge_job_free(set->jobs[i]);
	free(set->jobs);
	for (size_t i = 0; i < set->n_files; i++)
		free(set->files[i]);
	free(set->files);
	free(set);
}

struct barge_job *barge_jobset_find(const struct barge_jobset *set, const char *name)
{
	for (size_t i = 0; i < set->count; i++)
		if (strcmp(set->jobs[i]->name, name) == 0)
			return set->jobs[i];
	return NULL;
}

char *barge_job_base_dir(const struct barge_job *job)
{
	char *copy, *dir;

	if (!job->loc.file || !*job->loc.file)
		return barge_xstrdup(".");
	copy = barge_xstrdup(job->loc.file);
	dir = barge_xstrdup(dirname(copy));
	free(copy);
	return dir;
}

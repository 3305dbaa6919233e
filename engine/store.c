/*
 * store.c — records, their JSON form, store URLs and the dispatch to a backend (see store.h).
 *
 * The backends live in store_dir.c and store_mysql.c; this file keeps what they share:
 * the record's document format, so every backend stores the same fields under the same names,
 * and the checks on arguments, so a backend sees only valid job names and owners.
 */
#include "engine/store.h"

#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/buf.h"

#define RECORD_FORMAT 1

/* ---- records ---- */

void barge_record_init(struct barge_record *r, const char *name)
{
	memset(r, 0, sizeof *r);
	r->name = name ? barge_xstrdup(name) : NULL;
	r->desired_state = BARGE_DESIRED_RUNNING;
	r->stage = BARGE_STAGE_NEW;
	r->paused_from = BARGE_STAGE_NEW;
	r->progress.eta_seconds = -1;
	r->lag_seconds = -1;
}

static void error_dispose(struct barge_record_error *e)
{
	free(e->code);
	free(e->message);
	free(e->position);
	free(e->statement);
	memset(e, 0, sizeof *e);
}

void barge_record_dispose(struct barge_record *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->spec_json);
	free(r->acted_spec_json);
	free(r->status);
	error_dispose(&r->error);
	free(r->webhook.last_failure);
	free(r->lease_owner);
	memset(r, 0, sizeof *r);
}

static char *dup_or_null(const char *s)
{
	return s ? barge_xstrdup(s) : NULL;
}

void barge_record_copy(struct barge_record *dst, const struct barge_record *src)
{
	*dst = *src;
	dst->name = dup_or_null(src->name);
	dst->spec_json = dup_or_null(src->spec_json);
	dst->acted_spec_json = dup_or_null(src->acted_spec_json);
	dst->status = dup_or_null(src->status);
	dst->error.code = dup_or_null(src->error.code);
	dst->error.message = dup_or_null(src->error.message);
	dst->error.position = dup_or_null(src->error.position);
	dst->error.statement = dup_or_null(src->error.statement);
	dst->webhook.last_failure = dup_or_null(src->webhook.last_failure);
	dst->lease_owner = dup_or_null(src->lease_owner);
}

void barge_records_free(struct barge_record *recs, size_t n)
{
	if (!recs)
		return;
	for (size_t i = 0; i < n; i++)
		barge_record_dispose(&recs[i]);
	free(recs);
}

void barge_record_set_spec(struct barge_record *r, const struct barge_job *job)
{
	json_t *doc = barge_job_to_json(job);
	char *text, *abs = job->file ? realpath(job->file, NULL) : NULL;

	/* where the file was, for its relative paths; not part of the spec's hash */
	if (abs || job->file)
		json_object_set_new(doc, "file", json_string(abs ? abs : job->file));
	free(abs);
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	if (!text)
		abort(); /* jansson fails only when out of memory */
	free(r->spec_json);
	r->spec_json = barge_xstrdup(text);
	free(text);
	snprintf(r->spec_hash, sizeof r->spec_hash, "%s", job->spec_hash);
	r->desired_state = job->state;
	r->desired_generation = job->restart_generation;
}

void barge_record_set_error(struct barge_record *r, const struct barge_err *err,
			    const char *position, const char *statement, int64_t at_ms)
{
	error_dispose(&r->error);
	if (!err || err->code == 0)
		return;
	r->error.code = barge_xstrdup(barge_err_name(err->code));
	r->error.message = barge_xstrdup(err->msg);
	r->error.position = dup_or_null(position);
	r->error.statement = dup_or_null(statement);
	r->error.at_ms = at_ms;
}

/* ---- the document ---- */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * A JSON string for text that may not be UTF-8 (server messages and statements can carry any
 * bytes): bytes that are not valid UTF-8 become '?', so the record still stores.
 */
static json_t *jstr(const char *s)
{
	json_t *v;
	char *clean;
	size_t n, i = 0, k;

	if (!s)
		return json_null();
	v = json_string(s);
	if (v)
		return v;
	n = strlen(s);
	clean = barge_xmalloc(n + 1);
	while (i < n) {
		k = utf8_len((const unsigned char *)s + i, n - i);
		if (k == 0) {
			clean[i++] = '?';
			continue;
		}
		memcpy(clean + i, s + i, k);
		i += k;
	}
	clean[n] = '\0';
	v = json_string(clean);
	free(clean);
	if (!v)
		abort();
	return v;
}

static json_t *juint(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static const char *delivery_name(enum barge_delivery d)
{
	switch (d) {
	case BARGE_DELIVERY_OK: return "ok";
	case BARGE_DELIVERY_FAILED: return "failed";
	default: return "none";
	}
}

/* A spec text as an embedded object (so the file reads as JSON, not as an escaped string). */
static int spec_value(const char *text, const char *what, json_t **out, struct barge_err *err)
{
	json_error_t jerr;
	json_t *v;

	if (!text) {
		*out = json_null();
		return 0;
	}
	v = json_loads(text, 0, &jerr);
	if (!v || !json_is_object(v)) {
		json_decref(v);
		return barge_err_set(err, BARGE_EINVAL, "%s is not a JSON object", what);
	}
	*out = v;
	return 0;
}

int barge_record_to_json_text(const struct barge_record *r, char **out, struct barge_err *err)
{
	json_t *doc = NULL, *spec = NULL, *acted = NULL, *o;
	char *text;
	int rc;

	rc = spec_value(r->spec_json, "spec_json", &spec, err);
	if (rc == 0)
		rc = spec_value(r->acted_spec_json, "acted_spec_json", &acted, err);
	if (rc != 0)
		goto done;
	doc = json_object();
	json_object_set_new(doc, "format", json_integer(RECORD_FORMAT));
	json_object_set_new(doc, "name", jstr(r->name));
	json_object_set_new(doc, "version", juint(r->version));
	json_object_set_new(doc, "spec", spec);
	spec = NULL;
	json_object_set_new(doc, "specHash", jstr(r->spec_hash));
	json_object_set_new(doc, "desiredState",
			    json_string(barge_desired_state_name(r->desired_state)));
	json_object_set_new(doc, "desiredGeneration", juint(r->desired_generation));
	json_object_set_new(doc, "deleteRequested", json_boolean(r->delete_requested));
	json_object_set_new(doc, "actedSpec", acted);
	acted = NULL;
	json_object_set_new(doc, "actedGeneration", juint(r->acted_generation));
	json_object_set_new(doc, "stage", json_string(barge_stage_name(r->stage)));
	json_object_set_new(doc, "pausedFrom", json_string(barge_stage_name(r->paused_from)));
	json_object_set_new(doc, "status", jstr(r->status));

	o = json_object();
	json_object_set_new(o, "rowsDone", juint(r->progress.rows_done));
	json_object_set_new(o, "rowsTotal", juint(r->progress.rows_total));
	json_object_set_new(o, "bytesDone", juint(r->progress.bytes_done));
	json_object_set_new(o, "bytesTotal", juint(r->progress.bytes_total));
	json_object_set_new(o, "rate", json_real(r->progress.rate));
	json_object_set_new(o, "etaSeconds", json_integer(r->progress.eta_seconds));
	json_object_set_new(doc, "progress", o);
	json_object_set_new(doc, "lagSeconds", json_real(r->lag_seconds));

	if (r->error.code) {
		o = json_object();
		json_object_set_new(o, "code", jstr(r->error.code));
		json_object_set_new(o, "message", jstr(r->error.message));
		json_object_set_new(o, "position", jstr(r->error.position));
		json_object_set_new(o, "statement", jstr(r->error.statement));
		json_object_set_new(o, "atMs", json_integer(r->error.at_ms));
		json_object_set_new(doc, "error", o);
	} else {
		json_object_set_new(doc, "error", json_null());
	}

	o = json_object();
	json_object_set_new(o, "last", json_string(delivery_name(r->webhook.last)));
	json_object_set_new(o, "failures", juint(r->webhook.failures));
	json_object_set_new(o, "lastFailure", jstr(r->webhook.last_failure));
	json_object_set_new(o, "lastAtMs", json_integer(r->webhook.last_at_ms));
	json_object_set_new(doc, "webhook", o);

	json_object_set_new(doc, "createdMs", json_integer(r->created_ms));
	json_object_set_new(doc, "updatedMs", json_integer(r->updated_ms));
	if (r->lease_owner) {
		o = json_object();
		json_object_set_new(o, "owner", jstr(r->lease_owner));
		json_object_set_new(o, "expiresMs", json_integer(r->lease_expires_ms));
		json_object_set_new(doc, "lease", o);
	} else {
		json_object_set_new(doc, "lease", json_null());
	}

	/* valid UTF-8 is all jansson accepts; escape the rest so any message survives */
	text = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (!text)
		abort();
	*out = barge_xstrdup(text);
	free(text);
done:
	json_decref(spec);
	json_decref(acted);
	json_decref(doc);
	return rc;
}

/* Reading: each getter checks the type and names the key on failure. */
struct reader {
	struct barge_err *err;
	int rc;
};

static json_t *member(struct reader *rd, json_t *obj, const char *key, bool nullable)
{
	json_t *v = json_object_get(obj, key);

	if (rd->rc != 0)
		return NULL;
	if (!v && nullable)
		return NULL;
	if (!v) {
		rd->rc = barge_err_set(rd->err, BARGE_ESTORE, "key \"%s\" missing", key);
		return NULL;
	}
	if (json_is_null(v)) {
		if (!nullable)
			rd->rc = barge_err_set(rd->err, BARGE_ESTORE, "key \"%s\" is null", key);
		return NULL;
	}
	return v;
}

static char *get_str(struct reader *rd, json_t *obj, const char *key, bool nullable)
{
	json_t *v = member(rd, obj, key, nullable);

	if (!v)
		return NULL;
	if (!json_is_string(v)) {
		rd->rc = barge_err_set(rd->err, BARGE_ESTORE, "key \"%s\" is not a string", key);
		return NULL;
	}
	return barge_xstrndup(json_string_value(v), json_string_length(v));
}

static int64_t get_int(struct reader *rd, json_t *obj, const char *key)
{
	json_t *v = member(rd, obj, key, false);

	if (!v)
		return 0;
	if (!json_is_integer(v)) {
		rd->rc = barge_err_set(rd->err, BARGE_ESTORE, "key \"%s\" is not an integer", key);
		return 0;
	}
	return json_integer_value(v);
}

static uint64_t get_uint(struct reader *rd, json_t *obj, const char *key)
{
	int64_t v = get_int(rd, obj, key);

	if (v < 0 && rd->rc == 0)
		rd->rc = barge_err_set(rd->err, BARGE_ESTORE, "key \"%s\" is negative", key);
	return v < 0 ? 0 : (uint64_t)v;
}

static double get_real(struct reader *rd, json_t *obj, const char *key)
{
	json_t *v = member(rd, obj, key, false);

	if (!v)
		return 0;
	if (!json_is_number(v)) {
		rd->rc = barge_err_set(rd->err, BARGE_ESTORE, "key \"%s\" is not a number", key);
		return 0;
	}
	return json_number_value(v);
}

static bool get_bool(struct reader *rd, json_t *obj, const char *key)
{
	json_t *v = member(rd, obj, key, false);

	if (!v)
		return false;
	if (!json_is_boolean(v)) {
		rd->rc = barge_err_set(rd->err, BARGE_ESTORE, "key \"%s\" is not a boolean", key);
		return false;
	}
	return json_is_true(v);
}

static json_t *get_obj(struct reader *rd, json_t *obj, const char *key, bool nullable)
{
	json_t *v = member(rd, obj, key, nullable);

	if (v && !json_is_object(v)) {
		rd->rc = barge_err_set(rd->err, BARGE_ESTORE, "key \"%s\" is not an object", key);
		return NULL;
	}
	return v;
}

static char *get_spec(struct reader *rd, json_t *obj, const char *key)
{
	json_t *v = get_obj(rd, obj, key, true);
	char *text, *copy;

	if (!v)
		return NULL;
	text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		abort();
	copy = barge_xstrdup(text);
	free(text);
	return copy;
}

static enum barge_stage get_stage(struct reader *rd, json_t *obj, const char *key)
{
	char *name = get_str(rd, obj, key, false);
	int s = name ? barge_stage_parse(name) : 0;

	if (s < 0)
		rd->rc = barge_err_set(rd->err, BARGE_ESTORE, "key \"%s\": unknown stage \"%s\"",
				       key, name);
	free(name);
	return s < 0 ? BARGE_STAGE_NEW : (enum barge_stage)s;
}

int barge_record_from_json_text(const char *text, size_t len, struct barge_record *out,
				struct barge_err *err)
{
	struct barge_record r;
	struct reader rd = {err, 0};
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, 0, &jerr), *o;
	char *s;

	barge_record_init(&r, NULL);
	if (!doc || !json_is_object(doc)) {
		rd.rc = barge_err_set(err, BARGE_ESTORE, "not a JSON object (line %d: %s)",
				      jerr.line, doc ? "not an object" : jerr.text);
		goto done;
	}
	if (get_int(&rd, doc, "format") != RECORD_FORMAT && rd.rc == 0) {
		rd.rc = barge_err_set(err, BARGE_ESTORE,
				      "record format %lld is not %d (written by another barge?)",
				      (long long)json_integer_value(json_object_get(doc, "format")),
				      RECORD_FORMAT);
		goto done;
	}
	r.name = get_str(&rd, doc, "name", false);
	if (rd.rc == 0 && !barge_job_name_valid(r.name)) {
		rd.rc = barge_err_set(err, BARGE_ESTORE, "\"%s\" is not a job name", r.name);
		goto done;
	}
	r.version = get_uint(&rd, doc, "version");
	r.spec_json = get_spec(&rd, doc, "spec");
	s = get_str(&rd, doc, "specHash", false);
	if (s && strlen(s) >= sizeof r.spec_hash && rd.rc == 0)
		rd.rc = barge_err_set(err, BARGE_ESTORE, "key \"specHash\" is too long");
	if (s)
		snprintf(r.spec_hash, sizeof r.spec_hash, "%s", s);
	free(s);
	s = get_str(&rd, doc, "desiredState", false);
	if (s && strcmp(s, "paused") == 0)
		r.desired_state = BARGE_DESIRED_PAUSED;
	else if (s && strcmp(s, "running") != 0 && rd.rc == 0)
		rd.rc = barge_err_set(err, BARGE_ESTORE,
				      "key \"desiredState\": unknown state \"%s\"", s);
	free(s);
	r.desired_generation = get_uint(&rd, doc, "desiredGeneration");
	r.delete_requested = get_bool(&rd, doc, "deleteRequested");
	r.acted_spec_json = get_spec(&rd, doc, "actedSpec");
	r.acted_generation = get_uint(&rd, doc, "actedGeneration");
	r.stage = get_stage(&rd, doc, "stage");
	r.paused_from = get_stage(&rd, doc, "pausedFrom");
	r.status = get_str(&rd, doc, "status", true);

	o = get_obj(&rd, doc, "progress", false);
	if (o) {
		r.progress.rows_done = get_uint(&rd, o, "rowsDone");
		r.progress.rows_total = get_uint(&rd, o, "rowsTotal");
		r.progress.bytes_done = get_uint(&rd, o, "bytesDone");
		r.progress.bytes_total = get_uint(&rd, o, "bytesTotal");
		r.progress.rate = get_real(&rd, o, "rate");
		r.progress.eta_seconds = get_int(&rd, o, "etaSeconds");
	}
	r.lag_seconds = get_real(&rd, doc, "lagSeconds");

	o = get_obj(&rd, doc, "error", true);
	if (o) {
		r.error.code = get_str(&rd, o, "code", false);
		r.error.message = get_str(&rd, o, "message", true);
		r.error.position = get_str(&rd, o, "position", true);
		r.error.statement = get_str(&rd, o, "statement", true);
		r.error.at_ms = get_int(&rd, o, "atMs");
	}

	o = get_obj(&rd, doc, "webhook", false);
	if (o) {
		s = get_str(&rd, o, "last", false);
		if (s && strcmp(s, "ok") == 0)
			r.webhook.last = BARGE_DELIVERY_OK;
		else if (s && strcmp(s, "failed") == 0)
			r.webhook.last = BARGE_DELIVERY_FAILED;
		else if (s && strcmp(s, "none") != 0 && rd.rc == 0)
			rd.rc = barge_err_set(err, BARGE_ESTORE,
					      "key \"last\": unknown delivery outcome \"%s\"", s);
		free(s);
		r.webhook.failures = get_uint(&rd, o, "failures");
		r.webhook.last_failure = get_str(&rd, o, "lastFailure", true);
		r.webhook.last_at_ms = get_int(&rd, o, "lastAtMs");
	}

	r.created_ms = get_int(&rd, doc, "createdMs");
	r.updated_ms = get_int(&rd, doc, "updatedMs");
	o = get_obj(&rd, doc, "lease", true);
	if (o) {
		r.lease_owner = get_str(&rd, o, "owner", false);
		r.lease_expires_ms = get_int(&rd, o, "expiresMs");
	}
done:
	json_decref(doc);
	if (rd.rc != 0) {
		barge_record_dispose(&r);
		return rd.rc;
	}
	*out = r;
	return 0;
}

/* ---- URLs ---- */

void barge_store_url_dispose(struct barge_store_url *url)
{
	if (!url)
		return;
	free(url->path);
	free(url->user);
	free(url->host);
	free(url->database);
	memset(url, 0, sizeof *url);
}

static int parse_mysql(const char *text, struct barge_store_url *u, struct barge_err *err)
{
	const char *p = text + strlen("mysql://"), *at, *slash, *host_end, *port_text = NULL;
	char *end = NULL;

	slash = strchr(p, '/');
	if (!slash)
		return barge_err_set(err, BARGE_EUSAGE,
				     "store URL \"%s\": no database (mysql://user@host:port/db)",
				     text);
	at = memchr(p, '@', (size_t)(slash - p));
	if (!at || at == p)
		return barge_err_set(err, BARGE_EUSAGE,
				     "store URL \"%s\": no user (mysql://user@host:port/db)", text);
	if (memchr(p, ':', (size_t)(at - p)))
		return barge_err_set(err, BARGE_EUSAGE,
				     "store URL: a password does not belong in the URL, where "
				     "process lists and shell history show it");
	u->user = barge_xstrndup(p, (size_t)(at - p));
	p = at + 1;
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(slash - p));
		if (!host_end)
			return barge_err_set(err, BARGE_EUSAGE,
					     "store URL \"%s\": unclosed [ in the host", text);
		u->host = barge_xstrndup(p + 1, (size_t)(host_end - p - 1));
		p = host_end + 1;
		if (*p == ':')
			port_text = p + 1;
		else if (p != slash)
			return barge_err_set(err, BARGE_EUSAGE,
					     "store URL \"%s\": unexpected text after ]", text);
	} else {
		host_end = memchr(p, ':', (size_t)(slash - p));
		if (host_end)
			port_text = host_end + 1;
		else
			host_end = slash;
		u->host = barge_xstrndup(p, (size_t)(host_end - p));
	}
	if (!u->host[0])
		return barge_err_set(err, BARGE_EUSAGE, "store URL \"%s\": no host", text);
	u->port = 3306;
	if (port_text) {
		unsigned long port;

		errno = 0;
		port = strtoul(port_text, &end, 10);
		if (end == port_text || end != slash || errno || port == 0 || port > 65535 ||
		    *port_text == '-' || *port_text == '+')
			return barge_err_set(err, BARGE_EUSAGE,
					     "store URL \"%s\": the port must be 1-65535", text);
		u->port = (unsigned)port;
	}
	if (!slash[1] || strpbrk(slash + 1, "/?#"))
		return barge_err_set(err, BARGE_EUSAGE,
				     "store URL \"%s\": the database must be one plain name after "
				     "the host",
				     text);
	u->database = barge_xstrdup(slash + 1);
	return 0;
}

int barge_store_url_parse(const char *text, struct barge_store_url *out, struct barge_err *err)
{
	struct barge_store_url u = {0};
	int rc = 0;

	if (!text || !*text) {
		rc = barge_err_set(err, BARGE_EUSAGE, "the store URL is empty");
	} else if (strncmp(text, "dir:", 4) == 0) {
		u.kind = BARGE_STORE_DIR;
		if (!text[4])
			rc = barge_err_set(err, BARGE_EUSAGE,
					   "store URL \"dir:\" names no directory (dir:PATH)");
		else
			u.path = barge_xstrdup(text + 4);
	} else if (strncmp(text, "mysql://", 8) == 0) {
		u.kind = BARGE_STORE_MYSQL;
		rc = parse_mysql(text, &u, err);
	} else {
		rc = barge_err_set(err, BARGE_EUSAGE,
				   "store URL \"%s\": expected dir:PATH or "
				   "mysql://user@host:port/db",
				   text);
	}
	if (rc != 0) {
		barge_store_url_dispose(&u);
		return rc;
	}
	*out = u;
	return 0;
}

int barge_store_default_url(char **out, struct barge_err *err)
{
	const char *env = getenv("BARGE_STORE"), *home;
	struct passwd pw, *found = NULL;
	char pwbuf[4096];

	if (env && *env) {
		*out = barge_xstrdup(env);
		return 0;
	}
	env = getenv("XDG_STATE_HOME");
	/* the XDG spec says relative values are invalid and to be ignored */
	if (env && env[0] == '/') {
		*out = barge_xasprintf("dir:%s/barge", env);
		return 0;
	}
	home = getenv("HOME");
	if (!home || !*home) {
		if (getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &found) == 0 && found &&
		    found->pw_dir && *found->pw_dir)
			home = found->pw_dir;
		else
			return barge_err_set(err, BARGE_EUSAGE,
					     "no home directory for the default store: give "
					     "--store or set BARGE_STORE");
	}
	*out = barge_xasprintf("dir:%s%s.local/state/barge", home,
			       home[strlen(home) - 1] == '/' ? "" : "/");
	return 0;
}

/* ---- dispatch ---- */

int64_t barge_store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int check_name(const char *name, struct barge_err *err)
{
	if (!name || !barge_job_name_valid(name))
		return barge_err_set(err, BARGE_EINVAL, "store: \"%s\" is not a job name",
				     name ? name : "(null)");
	return 0;
}

static int check_owner(const char *owner, struct barge_err *err)
{
	if (!owner || !*owner || strlen(owner) > 255)
		return barge_err_set(err, BARGE_EINVAL,
				     "store: a lease owner is a non-empty name under 256 bytes");
	return 0;
}

int barge_store_open(const char *url, struct barge_store **out, struct barge_err *err)
{
	struct barge_store_url u;
	struct barge_store *s = NULL;
	char *fallback = NULL;
	int rc = 0;

	if (!url) {
		rc = barge_store_default_url(&fallback, err);
		if (rc != 0)
			return rc;
		url = fallback;
	}
	rc = barge_store_url_parse(url, &u, err);
	if (rc != 0) {
		free(fallback);
		return rc;
	}
	switch (u.kind) {
	case BARGE_STORE_DIR: rc = barge_store_dir_ops.open(&u, &s, err); break;
	case BARGE_STORE_MYSQL: rc = barge_store_mysql_ops.open(&u, &s, err); break;
	}
	barge_store_url_dispose(&u);
	if (rc == 0) {
		s->url = barge_xstrdup(url);
		*out = s;
	}
	free(fallback);
	return rc;
}

int barge_store_lock(struct barge_store *s, struct barge_err *err)
{
	return s->ops->lock(s, err);
}

int barge_store_list(struct barge_store *s, struct barge_record **out, size_t *n,
		     struct barge_err *err)
{
	return s->ops->list(s, out, n, err);
}

int barge_store_get(struct barge_store *s, const char *name, struct barge_record *out,
		    struct barge_err *err)
{
	int rc = check_name(name, err);

	return rc ? rc : s->ops->get(s, name, out, err);
}

int barge_store_put(struct barge_store *s, struct barge_record *r, struct barge_err *err)
{
	int rc = check_name(r->name, err);

	return rc ? rc : s->ops->put(s, r, err);
}

int barge_store_delete(struct barge_store *s, const char *name, uint64_t version,
		       struct barge_err *err)
{
	int rc = check_name(name, err);

	return rc ? rc : s->ops->del(s, name, version, err);
}

int barge_store_lease_acquire(struct barge_store *s, const char *name, const char *owner,
			      int64_t ttl_ms, struct barge_err *err)
{
	int rc = check_name(name, err);

	if (rc == 0)
		rc = check_owner(owner, err);
	if (rc == 0 && ttl_ms <= 0)
		rc = barge_err_set(err, BARGE_EINVAL, "store: a lease lasts a positive time");
	return rc ? rc : s->ops->lease_acquire(s, name, owner, ttl_ms, err);
}

int barge_store_lease_renew(struct barge_store *s, const char *name, const char *owner,
			    int64_t ttl_ms, struct barge_err *err)
{
	int rc = check_name(name, err);

	if (rc == 0)
		rc = check_owner(owner, err);
	if (rc == 0 && ttl_ms <= 0)
		rc = barge_err_set(err, BARGE_EINVAL, "store: a lease lasts a positive time");
	return rc ? rc : s->ops->lease_renew(s, name, owner, ttl_ms, err);
}

int barge_store_lease_release(struct barge_store *s, const char *name, const char *owner,
			      struct barge_err *err)
{
	int rc = check_name(name, err);

	if (rc == 0)
		rc = check_owner(owner, err);
	return rc ? rc : s->ops->lease_release(s, name, owner, err);
}

void barge_store_close(struct barge_store *s)
{
	if (!s)
		return;
	free(s->url);
	s->url = NULL;
	s->ops->close(s);
}

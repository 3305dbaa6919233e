/*
 * job.c — the job spec's lifetime, names and durations (see job.h).  Parsing a spec from YAML
 * lives in jobset.c, which fills these structs.
 */
#include "engine/job.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/error.h"

static void free_pattern(struct barge_pattern *p)
{
	free(p->schema);
	free(p->table);
}

static void free_endpoint(struct barge_endpoint *e)
{
	free(e->host);
	free(e->user);
	free(e->password);
	free(e->tls.ca);
	free(e->tls.cert);
	free(e->tls.key);
	free(e->meta_schema);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void barge_job_free(struct barge_job *job)
{
	if (!job)
		return;
	free(job->name);
	free(job->file);
	free_endpoint(&job->source);
	free_endpoint(&job->target);
	for (size_t i = 0; i < job->n_allow; i++)
		free_pattern(&job->allow[i]);
	free(job->allow);
	for (size_t i = 0; i < job->n_block; i++)
		free_pattern(&job->block[i]);
	free(job->block);
	for (size_t i = 0; i < job->n_routes; i++) {
		free_pattern(&job->routes[i].from);
		free(job->routes[i].to_schema);
		free(job->routes[i].to_table);
	}
	free(job->routes);
	for (size_t i = 0; i < job->n_filters; i++) {
		free_pattern(&job->filters[i].match);
		free_strv(job->filters[i].sql_patterns, job->filters[i].n_sql_patterns);
	}
	free(job->filters);
	free(job->incremental.start.binlog_name);
	free(job->incremental.start.gtid);
	for (size_t i = 0; i < job->n_notify; i++) {
		free(job->notify[i].url);
		free(job->notify[i].secret);
	}
	free(job->notify);
	free_strv(job->precheck_ignore, job->n_precheck_ignore);
	free(job);
}

static char *dup_or_null(const char *s)
{
	return s ? barge_xstrdup(s) : NULL;
}

static void dup_pattern(struct barge_pattern *dst, const struct barge_pattern *src)
{
	dst->schema = dup_or_null(src->schema);
	dst->table = dup_or_null(src->table);
	dst->loc = src->loc;
}

static void dup_endpoint(struct barge_endpoint *dst, const struct barge_endpoint *src)
{
	*dst = *src;
	dst->host = dup_or_null(src->host);
	dst->user = dup_or_null(src->user);
	dst->password = dup_or_null(src->password);
	dst->tls.ca = dup_or_null(src->tls.ca);
	dst->tls.cert = dup_or_null(src->tls.cert);
	dst->tls.key = dup_or_null(src->tls.key);
	dst->meta_schema = dup_or_null(src->meta_schema);
}

static char **dup_strv(char *const *v, size_t n)
{
	char **out;

	if (!n)
		return NULL;
	out = barge_xcalloc(n, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = barge_xstrdup(v[i]);
	return out;
}

static struct barge_pattern *dup_patterns(const struct barge_pattern *v, size_t n)
{
	struct barge_pattern *out;

	if (!n)
		return NULL;
	out = barge_xcalloc(n, sizeof *out);
	for (size_t i = 0; i < n; i++)
		dup_pattern(&out[i], &v[i]);
	return out;
}

struct barge_job *barge_job_dup(const struct barge_job *job)
{
	struct barge_job *d = barge_xcalloc(1, sizeof *d);

	*d = *job;
	d->name = dup_or_null(job->name);
	d->file = dup_or_null(job->file);
	dup_endpoint(&d->source, &job->source);
	dup_endpoint(&d->target, &job->target);
	d->allow = dup_patterns(job->allow, job->n_allow);
	d->block = dup_patterns(job->block, job->n_block);
	d->routes = job->n_routes ? barge_xcalloc(job->n_routes, sizeof *d->routes) : NULL;
	for (size_t i = 0; i < job->n_routes; i++) {
		dup_pattern(&d->routes[i].from, &job->routes[i].from);
		d->routes[i].to_schema = dup_or_null(job->routes[i].to_schema);
		d->routes[i].to_table = dup_or_null(job->routes[i].to_table);
		d->routes[i].loc = job->routes[i].loc;
	}
	d->filters = job->n_filters ? barge_xcalloc(job->n_filters, sizeof *d->filters) : NULL;
	for (size_t i = 0; i < job->n_filters; i++) {
		d->filters[i] = job->filters[i];
		dup_pattern(&d->filters[i].match, &job->filters[i].match);
		d->filters[i].sql_patterns =
			dup_strv(job->filters[i].sql_patterns, job->filters[i].n_sql_patterns);
	}
	d->incremental.start.binlog_name = dup_or_null(job->incremental.start.binlog_name);
	d->incremental.start.gtid = dup_or_null(job->incremental.start.gtid);
	d->notify = job->n_notify ? barge_xcalloc(job->n_notify, sizeof *d->notify) : NULL;
	for (size_t i = 0; i < job->n_notify; i++) {
		d->notify[i] = job->notify[i];
		d->notify[i].url = dup_or_null(job->notify[i].url);
		d->notify[i].secret = dup_or_null(job->notify[i].secret);
	}
	d->precheck_ignore = dup_strv(job->precheck_ignore, job->n_precheck_ignore);
	barge_job_relink_locs(d);
	return d;
}

void barge_job_relink_locs(struct barge_job *job)
{
	job->loc.file = job->file;
	for (size_t i = 0; i < job->n_allow; i++)
		job->allow[i].loc.file = job->file;
	for (size_t i = 0; i < job->n_block; i++)
		job->block[i].loc.file = job->file;
	for (size_t i = 0; i < job->n_routes; i++) {
		job->routes[i].loc.file = job->file;
		job->routes[i].from.loc.file = job->file;
	}
	for (size_t i = 0; i < job->n_filters; i++) {
		job->filters[i].loc.file = job->file;
		job->filters[i].match.loc.file = job->file;
	}
	for (size_t i = 0; i < job->n_notify; i++)
		job->notify[i].loc.file = job->file;
}

bool barge_job_name_valid(const char *name)
{
	size_t len;

	if (!name || !isalpha((unsigned char)name[0]) || !isascii((unsigned char)name[0]))
		return false;
	len = strlen(name);
	if (len > BARGE_JOB_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isascii(c) || !(isalnum(c) || c == '_' || c == '-'))
			return false;
	}
	return true;
}

const char *barge_mode_name(enum barge_mode mode)
{
	switch (mode) {
	case BARGE_MODE_FULL: return "full";
	case BARGE_MODE_INCREMENTAL: return "incremental";
	case BARGE_MODE_ALL: return "all";
	}
	return "?";
}

const char *barge_dialect_name(enum barge_dialect dialect)
{
	return dialect == BARGE_DIALECT_TIDB ? "tidb" : "mysql";
}

const char *barge_safe_mode_name(enum barge_safe_mode mode)
{
	switch (mode) {
	case BARGE_SAFE_AUTO: return "auto";
	case BARGE_SAFE_ALWAYS: return "always";
	case BARGE_SAFE_NEVER: return "never";
	}
	return "?";
}

const char *barge_on_duplicate_name(enum barge_on_duplicate d)
{
	switch (d) {
	case BARGE_ONDUP_REPLACE: return "replace";
	case BARGE_ONDUP_IGNORE: return "ignore";
	case BARGE_ONDUP_ERROR: return "error";
	}
	return "?";
}

const char *barge_desired_state_name(enum barge_desired_state s)
{
	return s == BARGE_DESIRED_PAUSED ? "paused" : "running";
}

int barge_duration_parse(const char *text, uint64_t *out_ms)
{
	const char *p = text;
	uint64_t total = 0;
	int parts = 0;

	if (!text || !*text)
		return BARGE_ECONFIG;
	while (*p) {
		uint64_t n = 0, unit;
		int digits = 0;

		while (isdigit((unsigned char)*p)) {
			if (n > (UINT64_MAX - 9) / 10)
				return BARGE_ECONFIG;
			n = n * 10 + (uint64_t)(*p++ - '0');
			digits++;
		}
		if (!digits)
			return BARGE_ECONFIG;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else if (*p == '\0' && parts == 0) {
			unit = 1000; /* a bare number is seconds */
		} else {
			return BARGE_ECONFIG;
		}
		if (n > (UINT64_MAX - total) / unit)
			return BARGE_ECONFIG;
		total += n * unit;
		parts++;
	}
	*out_ms = total;
	return 0;
}

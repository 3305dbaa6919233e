/*
 * log.c — the log sink and the secret redaction registry (see log.h).
 */
#include "engine/log.h"

#include <time.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"

#define REDACTED "******"
#define REDACT_MIN 4

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static barge_log_sink_fn log_sink;
static void *log_user;
static enum barge_log_level log_min = BARGE_LOG_INFO;

struct redaction {
	char *value;
	size_t len;
	unsigned refs;
};

static pthread_mutex_t redact_lock = PTHREAD_MUTEX_INITIALIZER;
static struct redaction *redactions;
static size_t redaction_count;

void barge_log_set_sink(barge_log_sink_fn sink, void *user, enum barge_log_level min_level)
{
	pthread_mutex_lock(&log_lock);
	log_sink = sink;
	log_user = user;
	log_min = min_level;
	pthread_mutex_unlock(&log_lock);
}

int barge_log_enabled(enum barge_log_level level)
{
	int on;

	pthread_mutex_lock(&log_lock);
	on = log_sink != NULL && level >= log_min;
	pthread_mutex_unlock(&log_lock);
	return on;
}

const char *barge_log_level_name(enum barge_log_level level)
{
	switch (level) {
	case BARGE_LOG_DEBUG: return "debug";
	case BARGE_LOG_INFO: return "info";
	case BARGE_LOG_WARN: return "warn";
	case BARGE_LOG_ERROR: return "error";
	}
	return "?";
}

void barge_logv(enum barge_log_level level, const char *job, const char *fmt, va_list ap)
{
	char line[4096];

	if (!barge_log_enabled(level))
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	barge_redact(line, sizeof line);
	pthread_mutex_lock(&log_lock);
	if (log_sink && level >= log_min)
		log_sink(level, job, line, log_user);
	pthread_mutex_unlock(&log_lock);
}

void barge_log(enum barge_log_level level, const char *job, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	barge_logv(level, job, fmt, ap);
	va_end(ap);
}

void barge_redact_add(const char *secret)
{
	size_t len;

	if (!secret || (len = strlen(secret)) < REDACT_MIN)
		return;
	pthread_mutex_lock(&redact_lock);
	for (size_t i = 0; i < redaction_count; i++) {
		if (redactions[i].len == len && memcmp(redactions[i].value, secret, len) == 0) {
			redactions[i].refs++;
			pthread_mutex_unlock(&redact_lock);
			return;
		}
	}
	redactions = barge_xrealloc(redactions, (redaction_count + 1) * sizeof *redactions);
	redactions[redaction_count].value = barge_xstrdup(secret);
	redactions[redaction_count].len = len;
	redactions[redaction_count].refs = 1;
	redaction_count++;
	pthread_mutex_unlock(&redact_lock);
}

void barge_redact_remove(const char *secret)
{
	size_t len;

	if (!secret || (len = strlen(secret)) < REDACT_MIN)
		return;
	pthread_mutex_lock(&redact_lock);
	for (size_t i = 0; i < redaction_count; i++) {
		if (redactions[i].len != len || memcmp(redactions[i].value, secret, len) != 0)
			continue;
		if (--redactions[i].refs == 0) {
			barge_free_secret(redactions[i].value);
			redactions[i] = redactions[--redaction_count];
			if (redaction_count == 0) {
				free(redactions);
				redactions = NULL;
			}
		}
		break;
	}
	pthread_mutex_unlock(&redact_lock);
}

/* Replace each occurrence of one secret in s, cutting the end if the result would not fit. */
static void redact_one(char *s, size_t cap, const struct redaction *r)
{
	const size_t rlen = sizeof REDACTED - 1;
	const char *p = s, *hit;
	struct barge_buf out;

	if (!strstr(s, r->value))
		return;
	barge_buf_init(&out, BARGE_BUF_NOCAP);
	while ((hit = strstr(p, r->value)) != NULL) {
		barge_buf_append(&out, p, (size_t)(hit - p));
		barge_buf_append(&out, REDACTED, rlen);
		p = hit + r->len;
	}
	barge_buf_puts(&out, p);
	if (out.len >= cap)
		barge_buf_truncate(&out, cap - 1);
	memcpy(s, out.data, out.len + 1);
	barge_wipe(out.data, out.cap);
	barge_buf_dispose(&out);
}

void barge_redact(char *s, size_t cap)
{
	if (!s || cap == 0)
		return;
	pthread_mutex_lock(&redact_lock);
	for (size_t i = 0; i < redaction_count; i++)
		redact_one(s, cap, &redactions[i]);
	pthread_mutex_unlock(&redact_lock);
}

double barge_clock_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

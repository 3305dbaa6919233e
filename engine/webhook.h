/*
 * webhook.h — job notifications posted to HTTP receivers (Slack and the like).
 *
 * The reconciler describes what happened to a job as a struct barge_webhook_event and hands it
 * to a notifier with barge_notifier_post().  The notifier builds the payload for each of the
 * job's notify targets that asked for that kind of event, and delivers it from a thread of its
 * own: a bounded queue, a timeout per attempt and retries with exponential backoff.  Posting
 * never blocks and never fails the migration; when the queue is full the oldest delivery is
 * dropped and counted.  Delivery health per job (delivered, failed, dropped, the last error) is
 * read with barge_notifier_health() for `barge status`.
 *
 * Payloads: `format: json` is the versioned document described by schemas/webhook.schema.json;
 * `format: slack` is a Slack message (text + blocks).  When a target has a secret, the request
 * carries `X-Barge-Signature: sha256=<hex HMAC-SHA256 of the body keyed by the secret>`; the body
 * holds its own timestamp, so a receiver can refuse replays.
 *
 * Secrets (the signing secret, and the URL when given as a reference) are resolved only for the
 * moment of a delivery and never appear in a payload, a log line or the health record, which
 * names the receiver by host only.
 */
#ifndef BARGE_ENGINE_WEBHOOK_H
#define BARGE_ENGINE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engine/error.h"
#include "engine/job.h"

#define BARGE_WEBHOOK_PAYLOAD_VERSION 1

/* What happened; `kind` is one BARGE_NOTIFY_* bit of job.h. */
struct barge_webhook_event {
	unsigned kind;
	const char *job;
	const char *stage;          /* the stage now ("Syncing") */
	const char *previous_stage; /* for stage events; NULL otherwise */
	/* error events (and stage events into Failed): */
	int error_code;             /* BARGE_E*; 0 when none */
	const char *error_message;  /* already free of secrets */
	bool error_retryable;
	const char *error_position; /* "mysql-bin.000003:4711", or NULL */
	const char *error_sql;      /* the failing statement, or NULL */
	/* lag events: */
	int64_t lag_seconds;
	uint64_t lag_threshold_ms;
	bool lag_over;              /* true: crossed above the threshold; false: back below */
	/* progress, when known (0 otherwise) */
	uint64_t rows_done, rows_estimated;
	time_t timestamp;           /* 0 = now */
};

/* The name of one event kind: "stage", "error", "lag", "finish". */
const char *barge_webhook_kind_name(unsigned kind);

/* The JSON payload (version BARGE_WEBHOOK_PAYLOAD_VERSION); a heap string the caller frees. */
char *barge_webhook_payload_json(const struct barge_webhook_event *ev);
/* A Slack message for ev; a heap string the caller frees. */
char *barge_webhook_payload_slack(const struct barge_webhook_event *ev);
/* The payload for a target's format. */
char *barge_webhook_payload(const struct barge_webhook_event *ev, enum barge_notify_format fmt);

/* Hex HMAC-SHA256 of body keyed by secret, into out (65 bytes with the NUL). */
void barge_webhook_sign(const char *secret, const void *body, size_t len, char out[65]);

/* The host part of url, for messages ("hooks.slack.com"); "?" when it cannot be parsed.
 * Writes at most n bytes including the NUL. */
void barge_webhook_host(const char *url, char *out, size_t n);

struct barge_notifier_opts {
	size_t max_queue;        /* deliveries waiting; default 1000 */
	unsigned timeout_ms;     /* per attempt; default 5000 */
	unsigned max_attempts;   /* default 6 */
	unsigned backoff_ms;     /* first retry delay, doubled each time; default 1000 */
	unsigned backoff_max_ms; /* default 60000 */
	const char *ca_file;     /* extra CA bundle for receivers (tests); NULL = system */
};

struct barge_webhook_health {
	uint64_t delivered, failed, dropped, pending;
	char last_error[512];   /* "" when the last delivery succeeded; names the host only */
	char last_host[256];
	time_t last_success, last_failure;
};

struct barge_notifier;

/* Start a notifier and its delivery thread.  opts may be NULL for the defaults. */
struct barge_notifier *barge_notifier_new(const struct barge_notifier_opts *opts);

/*
 * Queue ev for every target of targets[0..n) whose events include ev->kind.  base_dir resolves
 * relative ${file:...} references.  Copies everything it needs; returns at once.
 */
void barge_notifier_post(struct barge_notifier *n, const struct barge_notify *targets,
			 size_t n_targets, const char *base_dir, const struct barge_webhook_event *ev);

/* Delivery health of one job's notifications (all zero when none). */
void barge_notifier_health(struct barge_notifier *n, const char *job,
			   struct barge_webhook_health *out);

/* Wait up to timeout_ms for the queue to empty; true when it did. */
bool barge_notifier_drain(struct barge_notifier *n, int timeout_ms);

/* Stop the thread (pending deliveries are dropped) and free.  Accepts NULL. */
void barge_notifier_free(struct barge_notifier *n);

#endif

/*
 * webhook.c — payloads, signatures and the delivery thread for job notifications (webhook.h).
 *
 * The queue is a singly linked FIFO of deliveries, each with the time of its next attempt.  The
 * thread sleeps on a condition variable until the earliest one is due, makes one attempt with
 * libcurl, and either records success, re-queues the delivery with a doubled delay (network
 * errors, 408, 429 and 5xx answers), or records a failure (other answers, or the last attempt).
 */
#include "engine/webhook.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/log.h"
#include "engine/secret.h"

const char *barge_webhook_kind_name(unsigned kind)
{
	switch (kind) {
	case BARGE_NOTIFY_STAGE: return "stage";
	case BARGE_NOTIFY_ERROR: return "error";
	case BARGE_NOTIFY_LAG: return "lag";
	case BARGE_NOTIFY_FINISH: return "finish";
	default: return "unknown";
	}
}

static void iso8601(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static time_t event_time(const struct barge_webhook_event *ev)
{
	return ev->timestamp ? ev->timestamp : time(NULL);
}

static char *dump_json(json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);

	json_decref(doc);
	if (!text)
		abort(); /* jansson fails only when out of memory */
	return text;
}

char *barge_webhook_payload_json(const struct barge_webhook_event *ev)
{
	json_t *doc = json_object();
	char stamp[32];

	iso8601(event_time(ev), stamp);
	json_object_set_new(doc, "version", json_integer(BARGE_WEBHOOK_PAYLOAD_VERSION));
	json_object_set_new(doc, "event", json_string(barge_webhook_kind_name(ev->kind)));
	json_object_set_new(doc, "job", json_string(ev->job ? ev->job : ""));
	json_object_set_new(doc, "timestamp", json_string(stamp));
	if (ev->stage)
		json_object_set_new(doc, "stage", json_string(ev->stage));
	if (ev->previous_stage)
		json_object_set_new(doc, "previousStage", json_string(ev->previous_stage));
	if (ev->error_code) {
		json_t *e = json_object();

		json_object_set_new(e, "code", json_string(barge_err_name(ev->error_code)));
		json_object_set_new(e, "number", json_integer(-ev->error_code));
		json_object_set_new(e, "message",
				    json_string(ev->error_message ? ev->error_message : ""));
		json_object_set_new(e, "retryable", json_boolean(ev->error_retryable));
		if (ev->error_position)
			json_object_set_new(e, "position", json_string(ev->error_position));
		if (ev->error_sql)
			json_object_set_new(e, "statement", json_string(ev->error_sql));
		json_object_set_new(doc, "error", e);
	}
	if (ev->kind == BARGE_NOTIFY_LAG) {
		json_t *l = json_object();

		json_object_set_new(l, "seconds", json_integer(ev->lag_seconds));
		json_object_set_new(l, "thresholdSeconds",
				    json_real((double)ev->lag_threshold_ms / 1000.0));
		json_object_set_new(l, "over", json_boolean(ev->lag_over));
		json_object_set_new(doc, "lag", l);
	}
	if (ev->rows_done || ev->rows_estimated) {
		json_t *p = json_object();

		json_object_set_new(p, "rowsDone", json_integer((json_int_t)ev->rows_done));
		json_object_set_new(p, "rowsEstimated", json_integer((json_int_t)ev->rows_estimated));
		json_object_set_new(doc, "progress", p);
	}
	return dump_json(doc);
}

/* The one-line summary both Slack fields use. */
static void slack_summary(const struct barge_webhook_event *ev, struct barge_buf *b)
{
	const char *job = ev->job ? ev->job : "?";

	switch (ev->kind) {
	case BARGE_NOTIFY_STAGE:
		barge_buf_appendf(b, "barge job *%s*: %s → *%s*", job,
				  ev->previous_stage ? ev->previous_stage : "?",
				  ev->stage ? ev->stage : "?");
		break;
	case BARGE_NOTIFY_ERROR:
		barge_buf_appendf(b, "barge job *%s* %s: %s", job,
				  ev->error_retryable ? "hit a retryable error" : "failed",
				  ev->error_message ? ev->error_message : "");
		break;
	case BARGE_NOTIFY_LAG:
		if (ev->lag_over)
			barge_buf_appendf(b, "barge job *%s* is %llds behind the source (threshold %llus)",
					  job, (long long)ev->lag_seconds,
					  (unsigned long long)(ev->lag_threshold_ms / 1000));
		else
			barge_buf_appendf(b, "barge job *%s* caught up: %llds behind the source", job,
					  (long long)ev->lag_seconds);
		break;
	case BARGE_NOTIFY_FINISH:
		barge_buf_appendf(b, "barge job *%s* finished", job);
		if (ev->rows_done)
			barge_buf_appendf(b, ": %llu rows copied",
					  (unsigned long long)ev->rows_done);
		break;
	default:
		barge_buf_appendf(b, "barge job *%s*", job);
	}
}

char *barge_webhook_payload_slack(const struct barge_webhook_event *ev)
{
	json_t *doc = json_object(), *blocks = json_array(), *section, *text, *ctx, *elems;
	struct barge_buf b;
	char stamp[32];

	barge_buf_init(&b, 64 * 1024);
	slack_summary(ev, &b);
	json_object_set_new(doc, "text", json_string(barge_buf_cstr(&b)));

	section = json_object();
	text = json_object();
	json_object_set_new(text, "type", json_string("mrkdwn"));
	json_object_set_new(text, "text", json_string(barge_buf_cstr(&b)));
	json_object_set_new(section, "type", json_string("section"));
	json_object_set_new(section, "text", text);
	json_array_append_new(blocks, section);

	barge_buf_reset(&b);
	if (ev->error_code) {
		const struct barge_errinfo *info = barge_errinfo_get(ev->error_code);

		barge_buf_appendf(&b, "*%s*", barge_err_name(ev->error_code));
		if (ev->error_position)
			barge_buf_appendf(&b, " at `%s`", ev->error_position);
		if (ev->error_sql)
			barge_buf_appendf(&b, "\n```%.1000s```", ev->error_sql);
		if (info)
			barge_buf_appendf(&b, "\nWhat to do: %s", info->action);
		section = json_object();
		text = json_object();
		json_object_set_new(text, "type", json_string("mrkdwn"));
		json_object_set_new(text, "text", json_string(barge_buf_cstr(&b)));
		json_object_set_new(section, "type", json_string("section"));
		json_object_set_new(section, "text", text);
		json_array_append_new(blocks, section);
	}

	iso8601(event_time(ev), stamp);
	barge_buf_reset(&b);
	barge_buf_appendf(&b, "%s · stage %s", stamp, ev->stage ? ev->stage : "?");
	ctx = json_object();
	elems = json_array();
	text = json_object();
	json_object_set_new(text, "type", json_string("mrkdwn"));
	json_object_set_new(text, "text", json_string(barge_buf_cstr(&b)));
	json_array_append_new(elems, text);
	json_object_set_new(ctx, "type", json_string("context"));
	json_object_set_new(ctx, "elements", elems);
	json_array_append_new(blocks, ctx);
	json_object_set_new(doc, "blocks", blocks);
	barge_buf_dispose(&b);
	return dump_json(doc);
}

char *barge_webhook_payload(const struct barge_webhook_event *ev, enum barge_notify_format fmt)
{
	return fmt == BARGE_NOTIFY_SLACK ? barge_webhook_payload_slack(ev)
					 : barge_webhook_payload_json(ev);
}

void barge_webhook_sign(const char *secret, const void *body, size_t len, char out[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	static const char hex[] = "0123456789abcdef";

	HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, mac, &mac_len);
	for (unsigned i = 0; i < mac_len && i < 32; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[64] = '\0';
	barge_wipe(mac, sizeof mac);
}

void barge_webhook_host(const char *url, char *out, size_t n)
{
	CURLU *u = curl_url();
	char *host = NULL;

	snprintf(out, n, "?");
	if (!u)
		return;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		snprintf(out, n, "%s", host);
	curl_free(host);
	curl_url_cleanup(u);
}

/* ---- the delivery queue ---- */

struct delivery {
	struct delivery *next;
	char *job;
	char *url;      /* literal or a reference, resolved per attempt */
	char *secret;   /* reference or NULL */
	char *base_dir; /* may be NULL */
	char *body;
	char host[256];
	unsigned attempts;
	uint64_t due_ms;
};

struct job_health {
	char *job;
	struct barge_webhook_health h;
};

struct barge_notifier {
	struct barge_notifier_opts opts;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t idle;
	pthread_t thread;
	bool stopping;
	bool busy; /* an attempt is in flight */
	struct delivery *head, *tail;
	size_t queued;
	struct job_health *health;
	size_t n_health;
};

static uint64_t now_ms(void)
{
	return (uint64_t)(barge_clock_s() * 1000.0);
}

static void delivery_free(struct delivery *d)
{
	if (!d)
		return;
	free(d->job);
	free(d->url);
	free(d->secret);
	free(d->base_dir);
	free(d->body);
	free(d);
}

/* The health record of job; created on first use.  Called with the lock held. */
static struct barge_webhook_health *health_of(struct barge_notifier *n, const char *job)
{
	for (size_t i = 0; i < n->n_health; i++)
		if (strcmp(n->health[i].job, job) == 0)
			return &n->health[i].h;
	n->health = barge_xrealloc(n->health, (n->n_health + 1) * sizeof *n->health);
	n->health[n->n_health].job = barge_xstrdup(job);
	memset(&n->health[n->n_health].h, 0, sizeof n->health[n->n_health].h);
	return &n->health[n->n_health++].h;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *user)
{
	(void)ptr;
	(void)user;
	return size * nmemb;
}

/*
 * One attempt.  Returns 0 on a 2xx answer; otherwise fills why (naming the host only) and
 * returns 1 when the attempt may be retried, -1 when it may not.
 */
static int attempt(const struct barge_notifier *n, CURL *curl, const struct delivery *d,
		   char *why, size_t why_len)
{
	struct barge_err err = {0};
	struct curl_slist *headers = NULL;
	char *url = NULL, *secret = NULL;
	char header[128], sig[65];
	char curl_error[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	int result = -1;

	if (barge_secret_resolve(d->url, d->base_dir, &url, &err) != 0) {
		snprintf(why, why_len, "webhook URL: %s", err.msg);
		goto done;
	}
	if (d->secret && barge_secret_resolve(d->secret, d->base_dir, &secret, &err) != 0) {
		snprintf(why, why_len, "webhook secret: %s", err.msg);
		goto done;
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "User-Agent: barge/" BARGE_VERSION);
	if (secret) {
		barge_webhook_sign(secret, d->body, strlen(d->body), sig);
		snprintf(header, sizeof header, "X-Barge-Signature: sha256=%s", sig);
		headers = curl_slist_append(headers, header);
	}
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(d->body));
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)n->opts.timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)n->opts.timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
	if (n->opts.ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, n->opts.ca_file);
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		/* curl's messages can quote the URL; say only what failed and where */
		snprintf(why, why_len, "webhook to %s: %s", d->host, curl_easy_strerror(rc));
		/* a malformed URL, or a receiver whose certificate does not verify, will not get
		 * better by retrying: say so now rather than after every backoff */
		result = (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ||
			  rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
			  rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
				 ? -1
				 : 1;
		goto done;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		result = 0;
		goto done;
	}
	snprintf(why, why_len, "webhook to %s: HTTP %ld", d->host, status);
	result = (status == 408 || status == 429 || status >= 500) ? 1 : -1;
done:
	curl_slist_free_all(headers);
	barge_secret_release(url);
	barge_secret_release(secret);
	barge_redact(why, why_len);
	return result;
}

static void *deliver_loop(void *arg)
{
	struct barge_notifier *n = arg;
	CURL *curl = curl_easy_init();

	pthread_mutex_lock(&n->lock);
	for (;;) {
		struct delivery *d, *prev = NULL, *best = NULL, *best_prev = NULL;
		uint64_t now = now_ms();
		char why[512] = "";
		int rc;

		if (n->stopping)
			break;
		for (d = n->head; d; prev = d, d = d->next)
			if (!best || d->due_ms < best->due_ms) {
				best = d;
				best_prev = prev;
			}
		if (!best) {
			pthread_cond_broadcast(&n->idle);
			pthread_cond_wait(&n->wake, &n->lock);
			continue;
		}
		if (best->due_ms > now) {
			struct timespec until;
			uint64_t wait = best->due_ms - now;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += (time_t)(wait / 1000);
			until.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&n->wake, &n->lock, &until);
			continue;
		}
		/* take it off the queue while the attempt runs unlocked */
		if (best_prev)
			best_prev->next = best->next;
		else
			n->head = best->next;
		if (n->tail == best)
			n->tail = best_prev;
		best->next = NULL;
		n->queued--;
		n->busy = true;
		pthread_mutex_unlock(&n->lock);

		rc = curl ? attempt(n, curl, best, why, sizeof why) : 1;
		if (!curl)
			snprintf(why, sizeof why, "webhook: libcurl could not start");
		best->attempts++;

		pthread_mutex_lock(&n->lock);
		n->busy = false;
		{
			struct barge_webhook_health *h = health_of(n, best->job);

			snprintf(h->last_host, sizeof h->last_host, "%s", best->host);
			if (rc == 0) {
				h->delivered++;
				h->last_error[0] = '\0';
				h->last_success = time(NULL);
				delivery_free(best);
			} else if (rc > 0 && best->attempts < n->opts.max_attempts && !n->stopping) {
				uint64_t delay = n->opts.backoff_ms;

				for (unsigned i = 1; i < best->attempts && delay < n->opts.backoff_max_ms; i++)
					delay *= 2;
				if (delay > n->opts.backoff_max_ms)
					delay = n->opts.backoff_max_ms;
				snprintf(h->last_error, sizeof h->last_error, "%s (attempt %u, retrying)",
					 why, best->attempts);
				best->due_ms = now_ms() + delay;
				if (n->tail)
					n->tail->next = best;
				else
					n->head = best;
				n->tail = best;
				n->queued++;
			} else {
				h->failed++;
				h->last_failure = time(NULL);
				snprintf(h->last_error, sizeof h->last_error, "%s (gave up after %u attempt%s)",
					 why, best->attempts, best->attempts == 1 ? "" : "s");
				barge_log(BARGE_LOG_WARN, best->job, "%s", h->last_error);
				delivery_free(best);
			}
		}
	}
	pthread_cond_broadcast(&n->idle);
	pthread_mutex_unlock(&n->lock);
	if (curl)
		curl_easy_cleanup(curl);
	return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct barge_notifier *barge_notifier_new(const struct barge_notifier_opts *opts)
{
	struct barge_notifier *n = barge_xcalloc(1, sizeof *n);

	pthread_once(&curl_once, curl_init_once);
	if (opts)
		n->opts = *opts;
	if (!n->opts.max_queue)
		n->opts.max_queue = 1000;
	if (!n->opts.timeout_ms)
		n->opts.timeout_ms = 5000;
	if (!n->opts.max_attempts)
		n->opts.max_attempts = 6;
	if (!n->opts.backoff_ms)
		n->opts.backoff_ms = 1000;
	if (!n->opts.backoff_max_ms)
		n->opts.backoff_max_ms = 60000;
	n->opts.ca_file = opts && opts->ca_file ? barge_xstrdup(opts->ca_file) : NULL;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->wake, NULL);
	pthread_cond_init(&n->idle, NULL);
	if (pthread_create(&n->thread, NULL, deliver_loop, n) != 0)
		abort(); /* no thread, no notifications: the process is out of resources */
	return n;
}

void barge_notifier_post(struct barge_notifier *n, const struct barge_notify *targets,
			 size_t n_targets, const char *base_dir, const struct barge_webhook_event *ev)
{
	if (!n)
		return;
	for (size_t i = 0; i < n_targets; i++) {
		const struct barge_notify *t = &targets[i];
		struct delivery *d;

		if (!(t->events & ev->kind) || !t->url)
			continue;
		d = barge_xcalloc(1, sizeof *d);
		d->job = barge_xstrdup(ev->job ? ev->job : "");
		d->url = barge_xstrdup(t->url);
		d->secret = t->secret ? barge_xstrdup(t->secret) : NULL;
		d->base_dir = base_dir ? barge_xstrdup(base_dir) : NULL;
		d->body = barge_webhook_payload(ev, t->format);
		if (barge_secret_is_ref(t->url))
			snprintf(d->host, sizeof d->host, "(%s)", "URL from a secret reference");
		else
			barge_webhook_host(t->url, d->host, sizeof d->host);
		d->due_ms = now_ms();

		pthread_mutex_lock(&n->lock);
		if (n->queued >= n->opts.max_queue && n->head) {
			struct delivery *old = n->head;

			n->head = old->next;
			if (n->tail == old)
				n->tail = NULL;
			n->queued--;
			health_of(n, old->job)->dropped++;
			delivery_free(old);
		}
		if (n->tail)
			n->tail->next = d;
		else
			n->head = d;
		n->tail = d;
		n->queued++;
		pthread_cond_signal(&n->wake);
		pthread_mutex_unlock(&n->lock);
	}
}

void barge_notifier_health(struct barge_notifier *n, const char *job,
			   struct barge_webhook_health *out)
{
	memset(out, 0, sizeof *out);
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	for (size_t i = 0; i < n->n_health; i++)
		if (strcmp(n->health[i].job, job) == 0)
			*out = n->health[i].h;
	out->pending = 0;
	for (struct delivery *d = n->head; d; d = d->next)
		if (strcmp(d->job, job) == 0)
			out->pending++;
	pthread_mutex_unlock(&n->lock);
}

bool barge_notifier_drain(struct barge_notifier *n, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	bool empty;

	if (!n)
		return true;
	pthread_mutex_lock(&n->lock);
	while ((n->head || n->busy) && (timeout_ms < 0 || now_ms() < deadline)) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 50 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&n->idle, &n->lock, &until);
	}
	empty = !n->head && !n->busy;
	pthread_mutex_unlock(&n->lock);
	return empty;
}

void barge_notifier_free(struct barge_notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stopping = true;
	pthread_cond_broadcast(&n->wake);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->thread, NULL);
	while (n->head) {
		struct delivery *d = n->head;

		n->head = d->next;
		delivery_free(d);
	}
	for (size_t i = 0; i < n->n_health; i++)
		free(n->health[i].job);
	free(n->health);
	free((char *)n->opts.ca_file);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->wake);
	pthread_cond_destroy(&n->idle);
	free(n);
}

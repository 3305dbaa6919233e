/*
 * test_webhook.c — webhook payloads, signatures, and delivery with retries against a loopback
 * HTTP receiver (engine/webhook).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/webhook.h"
#include "tests/support/http_receiver.h"
#include "tests/test.h"

static struct barge_webhook_event stage_event(void)
{
	struct barge_webhook_event ev = {0};

	ev.kind = BARGE_NOTIFY_STAGE;
	ev.job = "orders-to-tidb";
	ev.stage = "Syncing";
	ev.previous_stage = "Loading";
	ev.timestamp = 1767225600; /* 2026-01-01T00:00:00Z */
	return ev;
}

TEST(json_payload_is_versioned_and_complete)
{
	struct barge_webhook_event ev = stage_event();
	char *text = barge_webhook_payload_json(&ev);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);

	ASSERT_TRUE(doc != NULL);
	ASSERT_EQ_INT(json_integer_value(json_object_get(doc, "version")), 1);
	ASSERT_EQ_STR(json_string_value(json_object_get(doc, "event")), "stage");
	ASSERT_EQ_STR(json_string_value(json_object_get(doc, "job")), "orders-to-tidb");
	ASSERT_EQ_STR(json_string_value(json_object_get(doc, "stage")), "Syncing");
	ASSERT_EQ_STR(json_string_value(json_object_get(doc, "previousStage")), "Loading");
	ASSERT_EQ_STR(json_string_value(json_object_get(doc, "timestamp")), "2026-01-01T00:00:00Z");
	ASSERT_TRUE(json_object_get(doc, "error") == NULL);
	json_decref(doc);
	free(text);
}

TEST(json_error_payload_names_code_position_and_statement)
{
	struct barge_webhook_event ev = {0};
	char *text;
	json_t *doc, *e;

	ev.kind = BARGE_NOTIFY_ERROR;
	ev.job = "j";
	ev.stage = "Failed";
	ev.error_code = BARGE_EDUP_KEY;
	ev.error_message = "Duplicate entry '7' for key 'PRIMARY'";
	ev.error_position = "mysql-bin.000003:4711";
	ev.error_sql = "INSERT INTO `shop`.`orders` VALUES (7)";
	text = barge_webhook_payload_json(&ev);
	doc = json_loads(text, 0, NULL);
	e = json_object_get(doc, "error");
	ASSERT_TRUE(e != NULL);
	ASSERT_EQ_STR(json_string_value(json_object_get(e, "code")), "DUP_KEY");
	ASSERT_EQ_INT(json_integer_value(json_object_get(e, "number")), 46);
	ASSERT_EQ_STR(json_string_value(json_object_get(e, "position")), "mysql-bin.000003:4711");
	ASSERT_CONTAINS(json_string_value(json_object_get(e, "statement")), "`shop`.`orders`");
	ASSERT_FALSE(json_is_true(json_object_get(e, "retryable")));
	json_decref(doc);
	free(text);
}

TEST(slack_payload_reads_well)
{
	struct barge_webhook_event ev = {0};
	char *text;
	json_t *doc;

	ev.kind = BARGE_NOTIFY_LAG;
	ev.job = "orders";
	ev.stage = "Syncing";
	ev.lag_seconds = 45;
	ev.lag_threshold_ms = 30000;
	ev.lag_over = true;
	text = barge_webhook_payload_slack(&ev);
	doc = json_loads(text, 0, NULL);
	ASSERT_TRUE(doc != NULL);
	ASSERT_EQ_STR(json_string_value(json_object_get(doc, "text")),
		      "barge job *orders* is 45s behind the source (threshold 30s)");
	ASSERT_TRUE(json_array_size(json_object_get(doc, "blocks")) >= 2);
	json_decref(doc);
	free(text);
}

TEST(signature_is_hmac_sha256_hex)
{
	char sig[65];

	/* RFC 4231 test case 2 */
	barge_webhook_sign("Jefe", "what do ya want for nothing?", 28, sig);
	ASSERT_EQ_STR(sig, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(host_is_extracted_for_messages)
{
	char host[64];

	barge_webhook_host("https://hooks.slack.com/services/T000/B000/XXXX", host, sizeof host);
	ASSERT_EQ_STR(host, "hooks.slack.com");
	barge_webhook_host("not a url", host, sizeof host);
	ASSERT_EQ_STR(host, "?");
}

static struct barge_notify target(const char *url, const char *secret, unsigned events)
{
	struct barge_notify t = {0};

	t.url = (char *)url;
	t.secret = (char *)secret;
	t.events = events;
	t.format = BARGE_NOTIFY_JSON;
	return t;
}

TEST(delivery_retries_after_500_and_signs_the_body)
{
	int statuses[] = {500, 200};
	struct http_receiver *r = http_receiver_start(statuses, 2);
	struct barge_notifier_opts opts = {.backoff_ms = 50, .timeout_ms = 2000};
	struct barge_notifier *n = barge_notifier_new(&opts);
	struct barge_webhook_event ev = stage_event();
	struct barge_webhook_health h;
	const struct http_request *req;
	char url[128], header[128], expect[80], sig[65];
	struct barge_notify t;

	setenv("BARGE_TEST_HOOK_SECRET", "s3cret-value", 1);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/hook", http_receiver_port(r));
	t = target(url, "${env:BARGE_TEST_HOOK_SECRET}", BARGE_NOTIFY_ALL);
	barge_notifier_post(n, &t, 1, NULL, &ev);
	ASSERT_TRUE(barge_notifier_drain(n, 10000));
	ASSERT_EQ_INT(http_receiver_wait(r, 2, 5000), 2);
	req = http_receiver_request(r, 1);
	ASSERT_EQ_STR(req->method, "POST");
	ASSERT_EQ_STR(req->path, "/hook");
	ASSERT_EQ_INT(req->status, 200);
	ASSERT_CONTAINS(req->body, "\"event\":\"stage\"");
	ASSERT_NOT_CONTAINS(req->body, "s3cret-value");
	http_request_header(req, "X-Barge-Signature", header, sizeof header);
	barge_webhook_sign("s3cret-value", req->body, req->body_len, sig);
	snprintf(expect, sizeof expect, "sha256=%s", sig);
	ASSERT_EQ_STR(header, expect);
	barge_notifier_health(n, "orders-to-tidb", &h);
	ASSERT_EQ_UINT(h.delivered, 1);
	ASSERT_EQ_UINT(h.failed, 0);
	ASSERT_EQ_STR(h.last_error, "");
	ASSERT_EQ_STR(h.last_host, "127.0.0.1");
	barge_notifier_free(n);
	http_receiver_stop(r);
}

TEST(delivery_gives_up_and_reports_health_without_secrets)
{
	int statuses[] = {503};
	struct http_receiver *r = http_receiver_start(statuses, 1);
	struct barge_notifier_opts opts = {.backoff_ms = 10, .max_attempts = 3};
	struct barge_notifier *n = barge_notifier_new(&opts);
	struct barge_webhook_event ev = stage_event();
	struct barge_webhook_health h;
	char url[128];
	struct barge_notify t;

	snprintf(url, sizeof url, "http://127.0.0.1:%u/hook?token=tok-abcdef", http_receiver_port(r));
	setenv("BARGE_TEST_HOOK_URL", url, 1);
	t = target("${env:BARGE_TEST_HOOK_URL}", NULL, BARGE_NOTIFY_STAGE);
	barge_notifier_post(n, &t, 1, NULL, &ev);
	ASSERT_TRUE(barge_notifier_drain(n, 10000));
	ASSERT_EQ_INT(http_receiver_wait(r, 3, 5000), 3);
	barge_notifier_health(n, "orders-to-tidb", &h);
	ASSERT_EQ_UINT(h.delivered, 0);
	ASSERT_EQ_UINT(h.failed, 1);
	ASSERT_CONTAINS(h.last_error, "HTTP 503");
	ASSERT_CONTAINS(h.last_error, "gave up after 3 attempts");
	ASSERT_NOT_CONTAINS(h.last_error, "tok-abcdef");
	ASSERT_NOT_CONTAINS(h.last_host, "tok-abcdef");
	barge_notifier_free(n);
	http_receiver_stop(r);
}

TEST(client_errors_are_not_retried_and_unselected_events_not_sent)
{
	int statuses[] = {404};
	struct http_receiver *r = http_receiver_start(statuses, 1);
	struct barge_notifier_opts opts = {.backoff_ms = 10};
	struct barge_notifier *n = barge_notifier_new(&opts);
	struct barge_webhook_event ev = stage_event();
	struct barge_webhook_health h;
	char url[128];
	struct barge_notify t;

	snprintf(url, sizeof url, "http://127.0.0.1:%u/", http_receiver_port(r));
	t = target(url, NULL, BARGE_NOTIFY_ERROR); /* stage events not selected */
	barge_notifier_post(n, &t, 1, NULL, &ev);
	t.events = BARGE_NOTIFY_STAGE;
	barge_notifier_post(n, &t, 1, NULL, &ev);
	ASSERT_TRUE(barge_notifier_drain(n, 10000));
	ASSERT_EQ_INT(http_receiver_wait(r, 2, 500), 1);
	barge_notifier_health(n, "orders-to-tidb", &h);
	ASSERT_EQ_UINT(h.failed, 1);
	ASSERT_CONTAINS(h.last_error, "gave up after 1 attempt");
	barge_notifier_free(n);
	http_receiver_stop(r);
}

TEST(a_full_queue_drops_the_oldest_and_counts_it)
{
	struct barge_notifier_opts opts = {.max_queue = 2, .backoff_ms = 100000,
					   .timeout_ms = 200};
	struct barge_notifier *n = barge_notifier_new(&opts);
	struct barge_webhook_event ev = stage_event();
	struct barge_webhook_health h;
	struct barge_notify t = target("http://127.0.0.1:1/", NULL, BARGE_NOTIFY_ALL);

	for (int i = 0; i < 6; i++)
		barge_notifier_post(n, &t, 1, NULL, &ev);
	barge_notifier_health(n, "orders-to-tidb", &h);
	ASSERT_TRUE(h.dropped >= 3);
	ASSERT_TRUE(h.pending <= 2);
	barge_notifier_free(n);
}

TEST_MAIN()

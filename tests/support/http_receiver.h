/*
 * http_receiver.h — a tiny HTTP/1.1 server on 127.0.0.1 for webhook tests.
 *
 * It accepts one request per connection, stores the request's headers and body, and answers
 * with the next status from a script (e.g. {500, 200}: the first request gets 500, every later
 * one 200).  Runs in its own thread; no external service is involved.
 */
#ifndef BARGE_TESTS_HTTP_RECEIVER_H
#define BARGE_TESTS_HTTP_RECEIVER_H

#include <stddef.h>

#define HTTP_RECEIVER_MAX 64

struct http_request {
	char method[16];
	char path[256];
	char *headers; /* raw header block */
	char *body;
	size_t body_len;
	int status;    /* what we answered */
};

struct http_receiver;

/* Start on a free port; statuses[0..n) are answered in turn, the last one repeated. */
struct http_receiver *http_receiver_start(const int *statuses, size_t n);
unsigned http_receiver_port(const struct http_receiver *r);
/* Wait up to timeout_ms until at least count requests arrived; returns how many did. */
size_t http_receiver_wait(struct http_receiver *r, size_t count, int timeout_ms);
/* Request i (0-based), or NULL. */
const struct http_request *http_receiver_request(struct http_receiver *r, size_t i);
/* The value of header name in request (case-insensitive), into out; "" when absent. */
void http_request_header(const struct http_request *req, const char *name, char *out, size_t n);
void http_receiver_stop(struct http_receiver *r);

#endif

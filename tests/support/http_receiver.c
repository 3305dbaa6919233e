/*
 * http_receiver.c — a tiny HTTP/1.1 server for webhook tests (see http_receiver.h).
 */
#include "tests/support/http_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http_receiver {
	int fd;
	unsigned port;
	int statuses[16];
	size_t n_statuses;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	struct http_request reqs[HTTP_RECEIVER_MAX];
	size_t count;
};

static void handle(struct http_receiver *r, int c)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, header_end = 0, content_length = 0;
	struct http_request req;
	char reply[128];
	int status;

	memset(&req, 0, sizeof req);
	for (;;) {
		ssize_t got;
		struct pollfd p = {c, POLLIN, 0};

		if (poll(&p, 1, 5000) <= 0)
			break;
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 16384;
			buf = realloc(buf, cap);
		}
		got = read(c, buf + len, cap - len - 1);
		if (got <= 0)
			break;
		len += (size_t)got;
		buf[len] = '\0';
		if (!header_end) {
			char *e = strstr(buf, "\r\n\r\n");

			if (e) {
				char *cl;

				header_end = (size_t)(e - buf) + 4;
				cl = strcasestr(buf, "\r\nContent-Length:");
				if (cl && cl < e)
					content_length = (size_t)strtoul(cl + 17, NULL, 10);
			}
		}
		if (header_end && len >= header_end + content_length)
			break;
	}
	if (!buf || !header_end) {
		free(buf);
		return;
	}
	sscanf(buf, "%15s %255s", req.method, req.path);
	req.headers = strndup(buf, header_end);
	req.body_len = len - header_end;
	req.body = malloc(req.body_len + 1);
	memcpy(req.body, buf + header_end, req.body_len);
	req.body[req.body_len] = '\0';
	free(buf);

	pthread_mutex_lock(&r->lock);
	status = r->statuses[r->count < r->n_statuses ? r->count : r->n_statuses - 1];
	req.status = status;
	if (r->count < HTTP_RECEIVER_MAX)
		r->reqs[r->count++] = req;
	else {
		free(req.headers);
		free(req.body);
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);

	snprintf(reply, sizeof reply, "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
		 status);
	if (write(c, reply, strlen(reply)) < 0)
		perror("http_receiver: write");
}

static void *serve(void *arg)
{
	struct http_receiver *r = arg;

	for (;;) {
		struct pollfd p = {r->fd, POLLIN, 0};
		int c;

		pthread_mutex_lock(&r->lock);
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		pthread_mutex_unlock(&r->lock);
		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept(r->fd, NULL, NULL);
		if (c < 0)
			continue;
		handle(r, c);
		close(c);
	}
	return NULL;
}

struct http_receiver *http_receiver_start(const int *statuses, size_t n)
{
	struct http_receiver *r = calloc(1, sizeof *r);
	struct sockaddr_in addr;
	socklen_t alen = sizeof addr;

	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    listen(r->fd, 16) != 0 || getsockname(r->fd, (struct sockaddr *)&addr, &alen) != 0) {
		perror("http_receiver");
		abort();
	}
	r->port = ntohs(addr.sin_port);
	r->n_statuses = n > 16 ? 16 : n;
	memcpy(r->statuses, statuses, r->n_statuses * sizeof *statuses);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	pthread_create(&r->thread, NULL, serve, r);
	return r;
}

unsigned http_receiver_port(const struct http_receiver *r)
{
	return r->port;
}

size_t http_receiver_wait(struct http_receiver *r, size_t count, int timeout_ms)
{
	struct timespec until;
	size_t got;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->lock);
	while (r->count < count && pthread_cond_timedwait(&r->cond, &r->lock, &until) == 0)
		;
	got = r->count;
	pthread_mutex_unlock(&r->lock);
	return got;
}

const struct http_request *http_receiver_request(struct http_receiver *r, size_t i)
{
	const struct http_request *req;

	pthread_mutex_lock(&r->lock);
	req = i < r->count ? &r->reqs[i] : NULL;
	pthread_mutex_unlock(&r->lock);
	return req;
}

void http_request_header(const struct http_request *req, const char *name, char *out, size_t n)
{
	const char *p = req->headers;
	size_t nl = strlen(name);

	out[0] = '\0';
	while (p && *p) {
		const char *eol = strstr(p, "\r\n");

		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t len;

			while (*v == ' ')
				v++;
			len = eol ? (size_t)(eol - v) : strlen(v);
			snprintf(out, n, "%.*s", (int)len, v);
			return;
		}
		p = eol ? eol + 2 : NULL;
	}
}

void http_receiver_stop(struct http_receiver *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = 1;
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	close(r->fd);
	for (size_t i = 0; i < r->count; i++) {
		free(r->reqs[i].headers);
		free(r->reqs[i].body);
	}
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

/*
 * store_suite.h — the contract of the store interface (engine/store.h), for every backend.
 *
 * Each store_suite_* function takes the URL of an empty store and checks one part of the
 * contract through the interface only, so a backend's test file runs them all against its own
 * URL: tests/unit/test_store.c for dir:, the mysql backend's integration test for mysql://.
 * store_suite_cases lists them for a runner that loops.  Include after tests/test.h.
 */
#ifndef BARGE_TESTS_STORE_SUITE_H
#define BARGE_TESTS_STORE_SUITE_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/buf.h"
#include "engine/store.h"

static struct barge_store *store_suite_open(const char *url)
{
	struct barge_store *s = NULL;
	struct barge_err err = {0};

	if (barge_store_open(url, &s, &err) != 0)
		TEST_FAILF("open %s: %s", url, err.msg);
	return s;
}

/* A record with every field set to something other than its default. */
static void store_suite_fill(struct barge_record *r, const char *name)
{
	struct barge_err e = {0};

	barge_record_init(r, name);
	r->spec_json = barge_xstrdup("{\"mode\":\"all\",\"name\":\"x\",\"workers\":8}");
	memset(r->spec_hash, 'a', 64);
	r->spec_hash[64] = '\0';
	r->desired_state = BARGE_DESIRED_PAUSED;
	r->desired_generation = 7;
	r->delete_requested = true;
	r->acted_spec_json = barge_xstrdup("{\"mode\":\"all\",\"name\":\"x\",\"workers\":4}");
	r->acted_generation = 6;
	r->stage = BARGE_STAGE_PAUSED;
	r->paused_from = BARGE_STAGE_LOADING;
	r->status = barge_xstrdup("copying shop.orders (3 of 9 tables) \xe2\x80\x94 \"quoted\"");
	r->progress = (struct barge_record_progress){1000, 5000, 1 << 20, 5 << 20, 1234.5, 42};
	r->lag_seconds = 2.5;
	barge_err_set(&e, BARGE_EDUP_KEY, "Duplicate entry '1' for key 'PRIMARY' (1062)");
	barge_record_set_error(r, &e, "mysql-bin.000003:4711",
			       "INSERT INTO `shop`.`orders` VALUES (1,'x')", 1700000000123);
	r->webhook.last = BARGE_DELIVERY_FAILED;
	r->webhook.failures = 3;
	r->webhook.last_failure = barge_xstrdup("HTTP 502 from hooks.example.com");
	r->webhook.last_at_ms = 1700000000456;
}

#define STORE_SUITE_EQ_STR(a, b)                                                           \
	do {                                                                               \
		if (!((a) == NULL && (b) == NULL))                                         \
			ASSERT_EQ_STR(a, b);                                               \
	} while (0)

/* Everything but version, timestamps and lease is as written. */
static void store_suite_assert_same(const struct barge_record *a, const struct barge_record *b)
{
	ASSERT_EQ_STR(a->name, b->name);
	STORE_SUITE_EQ_STR(a->spec_json, b->spec_json);
	ASSERT_EQ_STR(a->spec_hash, b->spec_hash);
	ASSERT_EQ_INT(a->desired_state, b->desired_state);
	ASSERT_EQ_UINT(a->desired_generation, b->desired_generation);
	ASSERT_EQ_INT(a->delete_requested, b->delete_requested);
	STORE_SUITE_EQ_STR(a->acted_spec_json, b->acted_spec_json);
	ASSERT_EQ_UINT(a->acted_generation, b->acted_generation);
	ASSERT_EQ_INT(a->stage, b->stage);
	ASSERT_EQ_INT(a->paused_from, b->paused_from);
	STORE_SUITE_EQ_STR(a->status, b->status);
	ASSERT_EQ_UINT(a->progress.rows_done, b->progress.rows_done);
	ASSERT_EQ_UINT(a->progress.rows_total, b->progress.rows_total);
	ASSERT_EQ_UINT(a->progress.bytes_done, b->progress.bytes_done);
	ASSERT_EQ_UINT(a->progress.bytes_total, b->progress.bytes_total);
	ASSERT_TRUE(a->progress.rate == b->progress.rate);
	ASSERT_EQ_INT(a->progress.eta_seconds, b->progress.eta_seconds);
	ASSERT_TRUE(a->lag_seconds == b->lag_seconds);
	STORE_SUITE_EQ_STR(a->error.code, b->error.code);
	STORE_SUITE_EQ_STR(a->error.message, b->error.message);
	STORE_SUITE_EQ_STR(a->error.position, b->error.position);
	STORE_SUITE_EQ_STR(a->error.statement, b->error.statement);
	ASSERT_EQ_INT(a->error.at_ms, b->error.at_ms);
	ASSERT_EQ_INT(a->webhook.last, b->webhook.last);
	ASSERT_EQ_UINT(a->webhook.failures, b->webhook.failures);
	STORE_SUITE_EQ_STR(a->webhook.last_failure, b->webhook.last_failure);
	ASSERT_EQ_INT(a->webhook.last_at_ms, b->webhook.last_at_ms);
}

/* A new record with only a name, stored; returns its version (1). */
static uint64_t store_suite_put_new(struct barge_store *s, const char *name)
{
	struct barge_record r;
	struct barge_err err = {0};
	uint64_t v;

	barge_record_init(&r, name);
	if (barge_store_put(s, &r, &err) != 0)
		TEST_FAILF("put %s: %s", name, err.msg);
	v = r.version;
	barge_record_dispose(&r);
	return v;
}

static void store_suite_empty(const char *url)
{
	struct barge_store *s = store_suite_open(url);
	struct barge_record *recs = NULL, r;
	struct barge_err err = {0};
	size_t n = 99;

	ASSERT_OK(barge_store_list(s, &recs, &n, &err));
	ASSERT_EQ_UINT(n, 0);
	barge_records_free(recs, n);
	ASSERT_EQ_INT(barge_store_get(s, "orders", &r, &err), BARGE_ENOTFOUND);
	ASSERT_CONTAINS(err.msg, "orders");
	ASSERT_EQ_INT(barge_store_delete(s, "orders", 0, &err), BARGE_ENOTFOUND);
	ASSERT_EQ_INT(barge_store_lease_acquire(s, "orders", "c1", 1000, &err), BARGE_ENOTFOUND);
	barge_store_close(s);
}

static void store_suite_round_trip(const char *url)
{
	struct barge_store *s = store_suite_open(url);
	struct barge_record w, r, plain;
	struct barge_err err = {0};
	int64_t before = barge_store_now_ms();

	store_suite_fill(&w, "orders-to-tidb");
	ASSERT_OK(barge_store_put(s, &w, &err));
	ASSERT_EQ_UINT(w.version, 1);
	/* stamped by the backend's clock, which need not be ours: only roughly now */
	ASSERT_TRUE(w.created_ms > before - 600000 && w.updated_ms >= w.created_ms);
	ASSERT_OK(barge_store_get(s, "orders-to-tidb", &r, &err));
	store_suite_assert_same(&w, &r);
	ASSERT_EQ_UINT(r.version, 1);
	ASSERT_EQ_INT(r.created_ms, w.created_ms);
	ASSERT_EQ_INT(r.updated_ms, w.updated_ms);
	ASSERT_TRUE(r.lease_owner == NULL);

	/* an update keeps created, moves updated, bumps the version */
	r.stage = BARGE_STAGE_SYNCING;
	r.lag_seconds = -1;
	barge_record_set_error(&r, NULL, NULL, NULL, 0);
	free(r.status);
	r.status = NULL;
	ASSERT_OK(barge_store_put(s, &r, &err));
	ASSERT_EQ_UINT(r.version, 2);
	ASSERT_EQ_INT(r.created_ms, w.created_ms);
	barge_record_dispose(&w);
	ASSERT_OK(barge_store_get(s, "orders-to-tidb", &w, &err));
	store_suite_assert_same(&r, &w);
	ASSERT_TRUE(w.error.code == NULL && w.status == NULL);
	ASSERT_EQ_UINT(w.version, 2);

	/* a bare record keeps its defaults */
	barge_record_init(&plain, "bare");
	ASSERT_OK(barge_store_put(s, &plain, &err));
	barge_record_dispose(&r);
	ASSERT_OK(barge_store_get(s, "bare", &r, &err));
	store_suite_assert_same(&plain, &r);
	ASSERT_TRUE(r.spec_json == NULL && r.acted_spec_json == NULL);
	ASSERT_EQ_INT(r.stage, BARGE_STAGE_NEW);
	ASSERT_EQ_INT(r.progress.eta_seconds, -1);
	barge_record_dispose(&plain);
	barge_record_dispose(&r);
	barge_record_dispose(&w);
	barge_store_close(s);
}

static void store_suite_compare_and_swap(const char *url)
{
	struct barge_store *s = store_suite_open(url), *s2 = store_suite_open(url);
	struct barge_record a, b, fresh;
	struct barge_err err = {0};

	ASSERT_EQ_UINT(store_suite_put_new(s, "orders"), 1);
	/* creating again is a conflict */
	barge_record_init(&fresh, "orders");
	ASSERT_EQ_INT(barge_store_put(s, &fresh, &err), BARGE_ESTORE_LOCKED);
	ASSERT_CONTAINS(err.msg, "orders");
	ASSERT_EQ_UINT(fresh.version, 0);

	/* two readers of version 1: the first writer wins, the second must read again */
	ASSERT_OK(barge_store_get(s, "orders", &a, &err));
	ASSERT_OK(barge_store_get(s2, "orders", &b, &err));
	a.stage = BARGE_STAGE_PRECHECKING;
	b.desired_state = BARGE_DESIRED_PAUSED;
	ASSERT_OK(barge_store_put(s, &a, &err));
	ASSERT_EQ_INT(barge_store_put(s2, &b, &err), BARGE_ESTORE_LOCKED);
	ASSERT_CONTAINS(err.msg, "changed since it was read");
	ASSERT_EQ_UINT(b.version, 1);
	barge_record_dispose(&b);
	ASSERT_OK(barge_store_get(s2, "orders", &b, &err));
	ASSERT_EQ_INT(b.stage, BARGE_STAGE_PRECHECKING);
	b.desired_state = BARGE_DESIRED_PAUSED;
	ASSERT_OK(barge_store_put(s2, &b, &err));
	ASSERT_EQ_UINT(b.version, 3);

	/* a version from the future is a conflict too */
	a.version = 9;
	ASSERT_EQ_INT(barge_store_put(s, &a, &err), BARGE_ESTORE_LOCKED);

	/* a record deleted since it was read */
	ASSERT_OK(barge_store_delete(s, "orders", 0, &err));
	ASSERT_EQ_INT(barge_store_put(s2, &b, &err), BARGE_ESTORE_LOCKED);
	barge_record_dispose(&a);
	barge_record_dispose(&b);
	barge_record_dispose(&fresh);
	barge_store_close(s);
	barge_store_close(s2);
}

static void store_suite_list_sorted(const char *url)
{
	static const char *const names[] = {"zeta", "Alpha", "orders-to-tidb", "b_2", "b-1"};
	static const char *const sorted[] = {"Alpha", "b-1", "b_2", "orders-to-tidb", "zeta"};
	struct barge_store *s = store_suite_open(url);
	struct barge_record *recs = NULL;
	struct barge_err err = {0};
	size_t n = 0;

	for (size_t i = 0; i < 5; i++)
		store_suite_put_new(s, names[i]);
	ASSERT_OK(barge_store_list(s, &recs, &n, &err));
	ASSERT_EQ_UINT(n, 5);
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ_STR(recs[i].name, sorted[i]);
		ASSERT_EQ_UINT(recs[i].version, 1);
	}
	barge_records_free(recs, n);
	barge_store_close(s);
}

static void store_suite_delete(const char *url)
{
	struct barge_store *s = store_suite_open(url);
	struct barge_record *recs = NULL, r;
	struct barge_err err = {0};
	size_t n = 0;

	store_suite_put_new(s, "a");
	store_suite_put_new(s, "b");
	ASSERT_EQ_INT(barge_store_delete(s, "a", 2, &err), BARGE_ESTORE_LOCKED);
	ASSERT_OK(barge_store_delete(s, "a", 1, &err));
	ASSERT_EQ_INT(barge_store_get(s, "a", &r, &err), BARGE_ENOTFOUND);
	ASSERT_EQ_INT(barge_store_delete(s, "a", 0, &err), BARGE_ENOTFOUND);
	ASSERT_OK(barge_store_list(s, &recs, &n, &err));
	ASSERT_EQ_UINT(n, 1);
	ASSERT_EQ_STR(recs[0].name, "b");
	barge_records_free(recs, n);
	/* a name can be used again, from version 1 */
	ASSERT_EQ_UINT(store_suite_put_new(s, "a"), 1);
	barge_store_close(s);
}

static void store_suite_leases(const char *url)
{
	struct barge_store *s = store_suite_open(url);
	struct barge_record r;
	struct barge_err err = {0};

	store_suite_put_new(s, "orders");
	ASSERT_OK(barge_store_lease_acquire(s, "orders", "ctl-a", 60000, &err));
	ASSERT_OK(barge_store_lease_acquire(s, "orders", "ctl-a", 60000, &err)); /* again: ok */
	ASSERT_EQ_INT(barge_store_lease_acquire(s, "orders", "ctl-b", 60000, &err),
		      BARGE_ESTORE_LOCKED);
	ASSERT_CONTAINS(err.msg, "ctl-a");
	ASSERT_OK(barge_store_lease_renew(s, "orders", "ctl-a", 60000, &err));
	ASSERT_EQ_INT(barge_store_lease_renew(s, "orders", "ctl-b", 60000, &err),
		      BARGE_ESTORE_LOCKED);

	/* leases leave the version alone, and put leaves the lease alone */
	ASSERT_OK(barge_store_get(s, "orders", &r, &err));
	ASSERT_EQ_UINT(r.version, 1);
	ASSERT_EQ_STR(r.lease_owner, "ctl-a");
	ASSERT_TRUE(r.lease_expires_ms > barge_store_now_ms() + 30000);
	free(r.lease_owner);
	r.lease_owner = barge_xstrdup("ctl-b");
	r.stage = BARGE_STAGE_PRECHECKING;
	ASSERT_OK(barge_store_put(s, &r, &err));
	ASSERT_EQ_STR(r.lease_owner, "ctl-a");
	barge_record_dispose(&r);
	ASSERT_OK(barge_store_get(s, "orders", &r, &err));
	ASSERT_EQ_STR(r.lease_owner, "ctl-a");
	ASSERT_EQ_INT(r.stage, BARGE_STAGE_PRECHECKING);
	barge_record_dispose(&r);

	/* release by a stranger does nothing; by the holder frees it for the next */
	ASSERT_OK(barge_store_lease_release(s, "orders", "ctl-b", &err));
	ASSERT_EQ_INT(barge_store_lease_acquire(s, "orders", "ctl-b", 60000, &err),
		      BARGE_ESTORE_LOCKED);
	ASSERT_OK(barge_store_lease_release(s, "orders", "ctl-a", &err));
	ASSERT_OK(barge_store_get(s, "orders", &r, &err));
	ASSERT_TRUE(r.lease_owner == NULL);
	barge_record_dispose(&r);
	ASSERT_EQ_INT(barge_store_lease_renew(s, "orders", "ctl-a", 60000, &err),
		      BARGE_ESTORE_LOCKED);
	ASSERT_CONTAINS(err.msg, "lost");
	ASSERT_OK(barge_store_lease_acquire(s, "orders", "ctl-b", 60000, &err));
	ASSERT_EQ_INT(barge_store_lease_acquire(s, "orders", "", 60000, &err), BARGE_EINVAL);
	ASSERT_EQ_INT(barge_store_lease_acquire(s, "orders", "ctl-a", 0, &err), BARGE_EINVAL);
	barge_store_close(s);
}

static void store_suite_lease_expiry(const char *url)
{
	struct barge_store *s = store_suite_open(url);
	struct barge_err err = {0};
	struct timespec pause = {0, 300 * 1000000L};

	store_suite_put_new(s, "orders");
	ASSERT_OK(barge_store_lease_acquire(s, "orders", "ctl-a", 100, &err));
	ASSERT_EQ_INT(barge_store_lease_acquire(s, "orders", "ctl-b", 100, &err),
		      BARGE_ESTORE_LOCKED);
	nanosleep(&pause, NULL);
	/* expired and untaken: still a's to renew */
	ASSERT_OK(barge_store_lease_renew(s, "orders", "ctl-a", 100, &err));
	nanosleep(&pause, NULL);
	/* expired: b takes it over, and a has lost it */
	ASSERT_OK(barge_store_lease_acquire(s, "orders", "ctl-b", 60000, &err));
	ASSERT_EQ_INT(barge_store_lease_renew(s, "orders", "ctl-a", 100, &err),
		      BARGE_ESTORE_LOCKED);
	ASSERT_CONTAINS(err.msg, "ctl-b");
	barge_store_close(s);
}

static void store_suite_bad_names(const char *url)
{
	static const char *const bad[] = {"", "../escape", "a/b", ".hidden", "1starts-with-digit",
					  "has space", "x.json"};
	struct barge_store *s = store_suite_open(url);
	struct barge_record r;
	struct barge_err err = {0};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		barge_record_init(&r, bad[i]);
		ASSERT_EQ_INT(barge_store_put(s, &r, &err), BARGE_EINVAL);
		ASSERT_CONTAINS(err.msg, "not a job name");
		barge_record_dispose(&r);
		ASSERT_EQ_INT(barge_store_get(s, bad[i], &r, &err), BARGE_EINVAL);
		ASSERT_EQ_INT(barge_store_delete(s, bad[i], 0, &err), BARGE_EINVAL);
		ASSERT_EQ_INT(barge_store_lease_acquire(s, bad[i], "c", 10, &err), BARGE_EINVAL);
	}
	barge_record_init(&r, NULL);
	ASSERT_EQ_INT(barge_store_put(s, &r, &err), BARGE_EINVAL);
	barge_record_dispose(&r);
	/* spec text that is not JSON never reaches the store */
	barge_record_init(&r, "orders");
	r.spec_json = barge_xstrdup("{not json");
	ASSERT_EQ_INT(barge_store_put(s, &r, &err), BARGE_EINVAL);
	barge_record_dispose(&r);
	ASSERT_EQ_INT(barge_store_get(s, "orders", &r, &err), BARGE_ENOTFOUND);
	barge_store_close(s);
}

#define STORE_SUITE_THREADS 4
#define STORE_SUITE_ROUNDS 25

struct store_suite_worker {
	const char *url;
	int conflicts;
	int failed;
	char msg[BARGE_ERR_MSG_MAX];
};

/* Increment rows_done STORE_SUITE_ROUNDS times with read / modify / compare-and-swap. */
static void *store_suite_incrementer(void *arg)
{
	struct store_suite_worker *w = arg;
	struct barge_store *s = NULL;
	struct barge_err err = {0};

	if (barge_store_open(w->url, &s, &err) != 0)
		goto fail;
	for (int i = 0; i < STORE_SUITE_ROUNDS;) {
		struct barge_record r;
		int rc;

		if (barge_store_get(s, "counter", &r, &err) != 0)
			goto fail;
		r.progress.rows_done++;
		rc = barge_store_put(s, &r, &err);
		barge_record_dispose(&r);
		if (rc == BARGE_ESTORE_LOCKED)
			w->conflicts++;
		else if (rc != 0)
			goto fail;
		else
			i++;
	}
	barge_store_close(s);
	return NULL;
fail:
	w->failed = 1;
	snprintf(w->msg, sizeof w->msg, "%s", err.msg);
	barge_store_close(s);
	return NULL;
}

static void store_suite_concurrent_writers(const char *url)
{
	struct barge_store *s = store_suite_open(url);
	struct store_suite_worker w[STORE_SUITE_THREADS];
	pthread_t t[STORE_SUITE_THREADS];
	struct barge_record r;
	struct barge_err err = {0};
	int conflicts = 0;

	store_suite_put_new(s, "counter");
	for (int i = 0; i < STORE_SUITE_THREADS; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].url = url;
		ASSERT_OK(pthread_create(&t[i], NULL, store_suite_incrementer, &w[i]));
	}
	for (int i = 0; i < STORE_SUITE_THREADS; i++) {
		pthread_join(t[i], NULL);
		if (w[i].failed)
			TEST_FAILF("writer %d: %s", i, w[i].msg);
		conflicts += w[i].conflicts;
	}
	ASSERT_OK(barge_store_get(s, "counter", &r, &err));
	/* no update lost: every successful put counted once */
	ASSERT_EQ_UINT(r.progress.rows_done, STORE_SUITE_THREADS * STORE_SUITE_ROUNDS);
	ASSERT_EQ_UINT(r.version, 1 + STORE_SUITE_THREADS * STORE_SUITE_ROUNDS);
	fprintf(stderr, "  %d conflicts retried\n", conflicts);
	barge_record_dispose(&r);
	barge_store_close(s);
}

struct store_suite_case {
	const char *name;
	void (*fn)(const char *url);
};

static const struct store_suite_case store_suite_cases[] = {
	{"empty", store_suite_empty},
	{"round_trip", store_suite_round_trip},
	{"compare_and_swap", store_suite_compare_and_swap},
	{"list_sorted", store_suite_list_sorted},
	{"delete", store_suite_delete},
	{"leases", store_suite_leases},
	{"lease_expiry", store_suite_lease_expiry},
	{"bad_names", store_suite_bad_names},
	{"concurrent_writers", store_suite_concurrent_writers},
};

#endif

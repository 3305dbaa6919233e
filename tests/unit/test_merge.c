/*
 * test_merge.c — joining a batch's row statements into multi-row statements (engine/merge):
 * what is joined and what is kept apart, on statements engine/apply writes; and, on random
 * histories over a small key space with a unique key, that running the joined statements gives
 * the source's end state without a duplicate key or a missed row on the way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/apply.h"
#include "engine/merge.h"
#include "tests/test.h"

/* ---- on statements engine/apply writes ---- */

static struct barge_apply_col cols[] = {
	{"id", NULL, false, false, false},
	{"n", NULL, false, false, false},
};
static size_t key[] = {0};

struct batch {
	struct barge_buf sql;
	size_t ends[80];
	struct barge_apply_shape shapes[80];
	struct barge_apply_cuts cuts;
	uint64_t keys[80][8];
	size_t nkeys[80];
	size_t n;
};

static void add(struct batch *b, const char *table, bool keyed, char kind, long long id,
		long long n)
{
	struct barge_apply_table t = {0};
	struct barge_value before[2], after[2];
	struct barge_apply_shape shapes[2];
	struct barge_err err = {0};
	size_t split = 0;

	t.schema = "db";
	t.table = (char *)table;
	t.ncols = 2;
	t.cols = cols;
	t.key = keyed ? key : NULL;
	t.n_key = keyed ? 1 : 0;
	memset(before, 0, sizeof before);
	before[0].kind = before[1].kind = BARGE_V_INT;
	before[0].width = before[1].width = 4;
	before[0].n.i = id;
	before[1].n.i = n - 1;
	after[0] = before[0];
	after[1] = before[1];
	after[1].n.i = n;
	ASSERT_OK(barge_apply_sql(&b->sql, &t, NULL, kind, false, before, after, &split, shapes,
				  &b->cuts, &err));
	ASSERT_EQ_UINT(split, 0);
	b->shapes[b->n] = shapes[0];
	b->nkeys[b->n] = barge_apply_keys(&t, kind, before, after, b->keys[b->n], 8);
	b->ends[b->n++] = b->sql.len;
}

static void end_at(void *arg, size_t at)
{
	size_t *count = arg;

	(void)at;
	(*count)++;
}

static char *merge(struct batch *b, size_t *written)
{
	struct barge_merge_stmt s[80];
	struct barge_merger m;
	struct barge_buf out;
	size_t count = 0;

	for (size_t i = 0; i < b->n; i++) {
		size_t from = i ? b->ends[i - 1] : 0;

		s[i] = (struct barge_merge_stmt){
			b->sql.data + from, b->ends[i] - from, b->cuts.v + b->shapes[i].from,
			(b->shapes[i].to - b->shapes[i].from) / 2, b->shapes[i].strict, b->keys[i],
			b->nkeys[i]};
	}
	barge_merger_init(&m);
	barge_buf_init(&out, BARGE_BUF_NOCAP);
	*written = barge_merge(&m, s, b->n, &out, end_at, &count);
	ASSERT_EQ_UINT(count, *written);
	barge_merger_dispose(&m);
	barge_buf_dispose(&b->sql);
	barge_apply_cuts_dispose(&b->cuts);
	return barge_buf_detach(&out);
}

TEST(changes_of_other_rows_become_one_statement_of_each_kind)
{
	struct batch b = {0};
	size_t written;
	char *sql;

	barge_buf_init(&b.sql, BARGE_BUF_NOCAP);
	/* two transactions of sysbench's shape: an update, a delete and an insert of one key */
	add(&b, "t", true, 'u', 5, 1);
	add(&b, "t", true, 'd', 1, 0);
	add(&b, "t", true, 'i', 1, 7);
	add(&b, "t", true, 'u', 6, 3);
	add(&b, "t", true, 'd', 2, 0);
	add(&b, "t", true, 'i', 2, 8);
	sql = merge(&b, &written);
	ASSERT_EQ_UINT(written, 3);
	ASSERT_EQ_STR(sql, "UPDATE `db`.`t` SET `n` = CASE `id` WHEN 5 THEN 1 WHEN 6 THEN 3 END "
			   "WHERE `id` IN (5, 6);"
			   "DELETE FROM `db`.`t` WHERE `id` IN (1, 2);"
			   "INSERT INTO `db`.`t` (`id`, `n`) VALUES (1, 7), (2, 8);");
	free(sql);
}

TEST(updates_of_one_row_are_never_in_one_statement)
{
	struct batch b = {0};
	size_t written;
	char *sql;

	barge_buf_init(&b.sql, BARGE_BUF_NOCAP);
	add(&b, "t", true, 'u', 5, 1);
	add(&b, "t", true, 'u', 6, 1);
	add(&b, "t", true, 'u', 5, 2); /* row 5 again: CASE would take the first */
	sql = merge(&b, &written);
	ASSERT_EQ_UINT(written, 2);
	ASSERT_EQ_STR(sql, "UPDATE `db`.`t` SET `n` = CASE `id` WHEN 5 THEN 1 WHEN 6 THEN 1 END "
			   "WHERE `id` IN (5, 6);"
			   "UPDATE `db`.`t` SET `n` = CASE `id` WHEN 5 THEN 2 END WHERE `id` IN (5);");
	free(sql);
}

TEST(a_statement_touching_a_row_changed_since_the_group_began_stays_apart)
{
	struct batch b = {0};
	size_t written;
	char *sql;

	barge_buf_init(&b.sql, BARGE_BUF_NOCAP);
	add(&b, "t", true, 'i', 1, 1);
	add(&b, "t", true, 'd', 1, 0); /* after the insert: a group of its own */
	add(&b, "t", true, 'i', 1, 2); /* after that delete: cannot join the first insert */
	add(&b, "t", true, 'i', 3, 3); /* nothing touched 3: joins the latest insert */
	sql = merge(&b, &written);
	ASSERT_EQ_UINT(written, 3);
	ASSERT_EQ_STR(sql, "INSERT INTO `db`.`t` (`id`, `n`) VALUES (1, 1);"
			   "DELETE FROM `db`.`t` WHERE `id` IN (1);"
			   "INSERT INTO `db`.`t` (`id`, `n`) VALUES (1, 2), (3, 3);");
	free(sql);
}

TEST(other_tables_and_keyless_deletes_are_never_joined)
{
	struct batch b = {0};
	size_t written;
	char *sql;

	barge_buf_init(&b.sql, BARGE_BUF_NOCAP);
	add(&b, "a", true, 'i', 1, 1);
	add(&b, "b", true, 'i', 1, 1);
	add(&b, "a", true, 'i', 2, 1);
	add(&b, "k", false, 'i', 1, 1); /* keyless: one key for the table */
	add(&b, "k", false, 'i', 2, 1); /* right after: joins */
	add(&b, "k", false, 'd', 1, 1); /* LIMIT 1: no shape */
	add(&b, "k", false, 'd', 2, 1);
	add(&b, "k", false, 'i', 3, 1); /* after the deletes of the table: apart */
	sql = merge(&b, &written);
	ASSERT_EQ_UINT(written, 6);
	ASSERT_CONTAINS(sql, "INSERT INTO `db`.`a` (`id`, `n`) VALUES (1, 1), (2, 1);"
			     "INSERT INTO `db`.`b` (`id`, `n`) VALUES (1, 1);"
			     "INSERT INTO `db`.`k` (`id`, `n`) VALUES (1, 1), (2, 1);DELETE");
	ASSERT_CONTAINS(sql, "LIMIT 1;INSERT INTO `db`.`k` (`id`, `n`) VALUES (3, 1);");
	free(sql);
}

/* Many forms at once: the oldest stop taking members, and nothing is lost or reordered. */
TEST(past_sixty_four_forms_the_oldest_is_closed)
{
	static struct batch b;
	size_t written;
	char name[16], *sql;

	memset(&b, 0, sizeof b);
	barge_buf_init(&b.sql, BARGE_BUF_NOCAP);
	for (int i = 0; i < 63; i++) {
		snprintf(name, sizeof name, "t%d", i);
		add(&b, name, true, 'i', 1, 1);
	}
	add(&b, "t62", true, 'i', 2, 2); /* still open: joins */
	add(&b, "t63", true, 'i', 1, 1); /* the 64th form */
	add(&b, "t64", true, 'i', 1, 1); /* the 65th: takes t0's place */
	add(&b, "t0", true, 'i', 2, 2);  /* closed: a statement of its own */
	sql = merge(&b, &written);
	ASSERT_EQ_UINT(written, 66);
	ASSERT_CONTAINS(sql, "INSERT INTO `db`.`t62` (`id`, `n`) VALUES (1, 1), (2, 2);");
	ASSERT_CONTAINS(sql, "INSERT INTO `db`.`t64` (`id`, `n`) VALUES (1, 1);"
			     "INSERT INTO `db`.`t0` (`id`, `n`) VALUES (2, 2);");
	free(sql);
}

TEST(a_joined_statement_holds_at_most_the_limit)
{
	struct barge_merge_stmt s[BARGE_MERGE_MAX + 1];
	uint64_t keys[BARGE_MERGE_MAX + 1];
	static const uint32_t cuts[2] = {4, 7};
	struct barge_merger m;
	struct barge_buf out;
	size_t count = 0;

	for (size_t i = 0; i <= BARGE_MERGE_MAX; i++) {
		keys[i] = i + 1;
		s[i] = (struct barge_merge_stmt){"INS (1);", 8, cuts, 1, false, &keys[i], 1};
	}
	barge_merger_init(&m);
	barge_buf_init(&out, BARGE_BUF_NOCAP);
	ASSERT_EQ_UINT(barge_merge(&m, s, BARGE_MERGE_MAX + 1, &out, end_at, &count), 2);
	ASSERT_EQ_UINT(count, 2);
	barge_merger_dispose(&m);
	barge_buf_dispose(&out);
}

/* ---- random histories on a model of two tables ---- */

#define KEYS 6
#define TABLES 2

struct model {
	bool present[TABLES][KEYS];
	int u[TABLES][KEYS];      /* the unique column's value of row k */
	bool used[TABLES][KEYS];  /* unique values in use */
};

static uint64_t hkey(int table, char what, int v)
{
	return ((uint64_t)table << 32) | ((uint64_t)(unsigned char)what << 16) | (uint64_t)v;
}

static unsigned rnd(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) & 0x7fff;
}

struct hist {
	char text[400][48];
	uint32_t cuts[400][4];
	struct barge_merge_stmt s[400];
	uint64_t keys[400][4];
	size_t n;
};

/* A statement whose slots are between the brackets of text (which are left out). */
static void stmt(struct hist *h, const char *text, bool strict, const uint64_t *keys,
		 size_t nkeys)
{
	char *out = h->text[h->n];
	uint32_t *cuts = h->cuts[h->n];
	size_t n = 0, c = 0;

	for (const char *p = text; *p; p++) {
		if (*p == '[' || *p == ']')
			cuts[c++] = (uint32_t)n;
		else
			out[n++] = *p;
	}
	out[n] = 0;
	memcpy(h->keys[h->n], keys, nkeys * sizeof *keys);
	h->s[h->n] = (struct barge_merge_stmt){out, n, cuts, c / 2, strict, h->keys[h->n], nkeys};
	h->n++;
}

/* One valid change on the source model, recorded as a statement. */
static void change(struct model *src, struct hist *h, unsigned *seed)
{
	int t = (int)(rnd(seed) % TABLES), k = (int)(rnd(seed) % KEYS), u = (int)(rnd(seed) % KEYS);
	unsigned op = rnd(seed) % 4;
	char text[48];

	if (!src->present[t][k]) {
		if (src->used[t][u])
			return;
		uint64_t keys[2] = {hkey(t, 'k', k), hkey(t, 'u', u)};

		snprintf(text, sizeof text, "I%d VALUES [(%d %d)];", t, k, u);
		stmt(h, text, false, keys, 2);
		src->present[t][k] = true;
		src->u[t][k] = u;
		src->used[t][u] = true;
	} else if (op == 0) {
		uint64_t keys[2] = {hkey(t, 'k', k), hkey(t, 'u', src->u[t][k])};

		snprintf(text, sizeof text, "D%d IN ([%d]);", t, k);
		stmt(h, text, false, keys, 2);
		src->present[t][k] = false;
		src->used[t][src->u[t][k]] = false;
	} else if (op == 1) {
		/* an update of the unique column by the key: joinable, strict */
		if (u != src->u[t][k] && src->used[t][u])
			return;
		uint64_t keys[3] = {hkey(t, 'k', k), hkey(t, 'u', u), hkey(t, 'u', src->u[t][k])};

		snprintf(text, sizeof text, "V%d CASE[ WHEN %d THEN %d] END IN ([%d]);", t, k, u, k);
		stmt(h, text, true, keys, 3);
		src->used[t][src->u[t][k]] = false;
		src->u[t][k] = u;
		src->used[t][u] = true;
	} else {
		/* an update of the key: alone */
		int k2 = (int)(rnd(seed) % KEYS);

		if ((k2 != k && src->present[t][k2]) || (u != src->u[t][k] && src->used[t][u]))
			return;
		uint64_t keys[4] = {hkey(t, 'k', k), hkey(t, 'k', k2), hkey(t, 'u', u),
				    hkey(t, 'u', src->u[t][k])};

		snprintf(text, sizeof text, "U%d %d %d %d %d;", t, k, src->u[t][k], k2, u);
		stmt(h, text, false, keys, 4);
		src->used[t][src->u[t][k]] = false;
		src->present[t][k] = false;
		src->present[t][k2] = true;
		src->u[t][k2] = u;
		src->used[t][u] = true;
	}
}

/* Run one (possibly joined) statement on the model; false on a duplicate or a missed row. */
static bool run(struct model *m, const char *p)
{
	int t = p[1] - '0', k, u, k2, u2, used;

	switch (p[0]) {
	case 'U':
		if (sscanf(p + 2, "%d %d %d %d", &k, &u, &k2, &u2) != 4 || !m->present[t][k] ||
		    m->u[t][k] != u)
			return false;
		m->present[t][k] = false;
		m->used[t][u] = false;
		if (m->present[t][k2] || m->used[t][u2])
			return false;
		m->present[t][k2] = true;
		m->u[t][k2] = u2;
		m->used[t][u2] = true;
		return true;
	case 'I': /* I0 VALUES (k u), (k u); */
		p = strchr(p, '(');
		for (;;) {
			if (sscanf(p, "(%d %d)%n", &k, &u, &used) != 2)
				return false;
			if (m->present[t][k] || m->used[t][u])
				return false;
			m->present[t][k] = true;
			m->u[t][k] = u;
			m->used[t][u] = true;
			p += used;
			if (strncmp(p, ", ", 2) != 0)
				return strcmp(p, ";") == 0;
			p += 2;
		}
	case 'V': { /* V0 CASE WHEN k THEN u WHEN k THEN u END IN (k, k); row by row, by key */
		int when[KEYS];

		for (k = 0; k < KEYS; k++)
			when[k] = -1;
		for (p = strstr(p, " WHEN "); p && sscanf(p, " WHEN %d THEN %d", &k, &u) == 2;
		     p = strstr(p + 1, " WHEN ")) {
			if (when[k] >= 0)
				return false; /* two values for one row */
			when[k] = u;
		}
		for (k = 0; k < KEYS; k++) {
			if (when[k] < 0)
				continue;
			if (!m->present[t][k])
				return false;
			if (m->u[t][k] != when[k] && m->used[t][when[k]])
				return false; /* InnoDB checks each row as it is written */
			m->used[t][m->u[t][k]] = false;
			m->u[t][k] = when[k];
			m->used[t][when[k]] = true;
		}
		return true;
	}
	case 'D': /* D0 IN (k, k); */
		p = strchr(p, '(') + 1;
		for (;;) {
			if (sscanf(p, "%d%n", &k, &used) != 1 || !m->present[t][k])
				return false;
			m->present[t][k] = false;
			m->used[t][m->u[t][k]] = false;
			p += used;
			if (strncmp(p, ", ", 2) != 0)
				return strcmp(p, ");") == 0;
			p += 2;
		}
	}
	return false;
}

struct split {
	const char *base;
	size_t from[400], to[400], n;
};

static void record_end(void *arg, size_t at)
{
	struct split *s = arg;

	s->from[s->n] = s->n ? s->to[s->n - 1] : 0;
	s->to[s->n++] = at;
}

TEST(joined_statements_reach_the_source_state_on_random_histories)
{
	struct barge_merger m;
	struct barge_buf out;
	size_t total = 0, written = 0;
	unsigned seed = 20261202;

	barge_merger_init(&m);
	barge_buf_init(&out, BARGE_BUF_NOCAP);
	for (int round = 0; round < 3000; round++) {
		static struct hist h;
		struct model src = {0}, tgt = {0};
		struct split sp = {0};
		size_t len = 1 + rnd(&seed) % 120;
		char one[4096];

		h.n = 0;
		while (h.n < len)
			change(&src, &h, &seed);
		barge_buf_truncate(&out, 0);
		written += barge_merge(&m, h.s, h.n, &out, record_end, &sp);
		total += h.n;
		for (size_t i = 0; i < sp.n; i++) {
			snprintf(one, sizeof one, "%.*s", (int)(sp.to[i] - sp.from[i]),
				 out.data + sp.from[i]);
			if (!run(&tgt, one))
				TEST_FAILF("round %d: statement %zu failed: %s", round, i, one);
		}
		ASSERT_MEM_EQ(&tgt, &src, sizeof src);
	}
	/* and joining happened: far fewer statements than changes */
	ASSERT_TRUE(written * 3 < total * 2);
	barge_merger_dispose(&m);
	barge_buf_dispose(&out);
}

TEST_MAIN()

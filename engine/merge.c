/*
 * merge.c — multi-row statements from a batch's row statements (see merge.h).
 */
#include "engine/merge.h"

#include <stdlib.h>
#include <string.h>

struct merge_slot {
	uint64_t key;
	uint32_t gen;   /* the slot is in use in this batch when gen == m->gen */
	uint32_t group; /* the latest group (in write order) that touched the key */
};

/* At most this many forms (table, kind, columns) are open for joining at once: finding a
 * statement's group is a scan of them. */
#define MERGE_OPEN_MAX 64

struct merge_open {
	uint64_t hash;  /* of the fixed parts */
	const struct barge_merge_stmt *first;
	uint32_t group;
};

void barge_merger_init(struct barge_merger *m)
{
	memset(m, 0, sizeof *m);
}

void barge_merger_dispose(struct barge_merger *m)
{
	free(m->slots);
	free(m->open);
	free(m->first);
	free(m->last);
	free(m->next);
	free(m->count);
	barge_merger_init(m);
}

/* Fixed part i of s (0 .. nslots): between slot i - 1 and slot i. */
static void fixed(const struct barge_merge_stmt *s, size_t i, const char **p, size_t *n)
{
	size_t from = i ? s->cuts[2 * i - 1] : 0, to = i < s->nslots ? s->cuts[2 * i] : s->len;

	*p = s->sql + from;
	*n = to - from;
}

static uint64_t fixed_hash(const struct barge_merge_stmt *s)
{
	uint64_t h = 14695981039346656037ull ^ s->nslots;

	for (size_t i = 0; i <= s->nslots; i++) {
		const char *p;
		size_t n;

		fixed(s, i, &p, &n);
		for (size_t k = 0; k < n; k++) {
			h ^= (unsigned char)p[k];
			h *= 1099511628211ull;
		}
		h ^= 0xff; /* where a part ends */
		h *= 1099511628211ull;
	}
	return h;
}

static bool same_fixed(const struct barge_merge_stmt *a, const struct barge_merge_stmt *b)
{
	if (a->nslots != b->nslots || a->strict != b->strict)
		return false;
	for (size_t i = 0; i <= a->nslots; i++) {
		const char *pa, *pb;
		size_t na, nb;

		fixed(a, i, &pa, &na);
		fixed(b, i, &pb, &nb);
		if (na != nb || memcmp(pa, pb, na) != 0)
			return false;
	}
	return true;
}

/* Where key is in this batch, or the free slot it would take (gen != m->gen); the table has
 * room for every key of the batch. */
static struct merge_slot *lookup(struct barge_merger *m, uint64_t key)
{
	size_t mask = m->nslots - 1, i = (size_t)(key ^ (key >> 29)) & mask;

	for (;; i = (i + 1) & mask) {
		struct merge_slot *s = &m->slots[i];

		if (s->gen != m->gen || s->key == key)
			return s;
	}
}

static void prepare(struct barge_merger *m, const struct barge_merge_stmt *s, size_t n)
{
	size_t keys = 0, want = 64;

	for (size_t i = 0; i < n; i++)
		keys += s[i].nkeys;
	while (want < keys * 2)
		want *= 2;
	if (want > m->nslots) {
		free(m->slots);
		m->slots = barge_xcalloc(want, sizeof *m->slots);
		m->nslots = want;
		m->gen = 0;
	}
	if (++m->gen == 0) { /* wrapped: every slot's gen may look current */
		memset(m->slots, 0, m->nslots * sizeof *m->slots);
		m->gen = 1;
	}
	if (n > m->cap) {
		m->cap = n;
		m->next = barge_xrealloc(m->next, n * sizeof *m->next);
		m->first = barge_xrealloc(m->first, n * sizeof *m->first);
		m->last = barge_xrealloc(m->last, n * sizeof *m->last);
		m->count = barge_xrealloc(m->count, n * sizeof *m->count);
	}
	m->nopen = 0;
}

static struct merge_open *open_group(struct barge_merger *m, const struct barge_merge_stmt *s,
				     uint64_t hash)
{
	for (size_t i = 0; i < m->nopen; i++) {
		struct merge_open *o = &m->open[i];

		if (o->hash == hash && same_fixed(o->first, s))
			return o;
	}
	return NULL;
}

/* The open group begun longest ago (its place is taken by a new one when all are in use). */
static struct merge_open *oldest(struct barge_merger *m)
{
	struct merge_open *o = &m->open[0];

	for (size_t i = 1; i < m->nopen; i++)
		if (m->open[i].group < o->group)
			o = &m->open[i];
	return o;
}

/* May statement s join group g: has nothing after g's start (nor g itself, when s is strict)
 * touched one of its keys? */
static bool may_join(struct barge_merger *m, const struct barge_merge_stmt *s, uint32_t g)
{
	if (m->count[g] >= BARGE_MERGE_MAX)
		return false;
	for (size_t k = 0; k < s->nkeys; k++) {
		const struct merge_slot *sl = lookup(m, s->keys[k]);

		if (sl->gen == m->gen && (sl->group > g || (s->strict && sl->group == g)))
			return false;
	}
	return true;
}

size_t barge_merge(struct barge_merger *m, const struct barge_merge_stmt *s, size_t n,
		   struct barge_buf *sql, void (*end)(void *arg, size_t at), void *arg)
{
	uint32_t groups = 0;

	if (n == 0)
		return 0;
	prepare(m, s, n);
	for (size_t i = 0; i < n; i++) {
		const struct barge_merge_stmt *st = &s[i];
		struct merge_open *o = NULL;
		uint64_t hash = 0;
		uint32_t g;

		if (st->nslots) {
			hash = fixed_hash(st);
			o = open_group(m, st, hash);
		}
		if (o && may_join(m, st, o->group)) {
			g = o->group;
			m->next[m->last[g]] = (uint32_t)i;
			m->last[g] = (uint32_t)i;
			m->count[g]++;
		} else {
			g = groups++;
			m->first[g] = m->last[g] = (uint32_t)i;
			m->count[g] = 1;
			if (st->nslots) {
				if (!o && m->nopen == MERGE_OPEN_MAX)
					o = oldest(m);
				if (!o) {
					if (m->nopen == m->capopen) {
						m->capopen = m->capopen ? m->capopen * 2 : 16;
						m->open = barge_xrealloc(m->open,
									 m->capopen * sizeof *m->open);
					}
					o = &m->open[m->nopen++];
				}
				o->hash = hash;
				o->first = st;
				o->group = g;
			}
		}
		m->next[i] = UINT32_MAX;
		for (size_t k = 0; k < st->nkeys; k++) {
			struct merge_slot *sl = lookup(m, st->keys[k]);

			if (sl->gen != m->gen) {
				sl->gen = m->gen;
				sl->key = st->keys[k];
				sl->group = g;
			} else if (sl->group < g) {
				sl->group = g;
			}
		}
	}
	for (uint32_t g = 0; g < groups; g++) {
		const struct barge_merge_stmt *f = &s[m->first[g]];

		if (m->count[g] == 1) {
			barge_buf_append(sql, f->sql, f->len);
		} else {
			for (size_t slot = 0; slot <= f->nslots; slot++) {
				const char *part;
				size_t plen;

				fixed(f, slot, &part, &plen);
				barge_buf_append(sql, part, plen);
				if (slot == f->nslots)
					break;
				for (uint32_t i = m->first[g]; i != UINT32_MAX; i = m->next[i]) {
					const struct barge_merge_stmt *st = &s[i];

					if (i != m->first[g] && slot == f->nslots - 1)
						barge_buf_puts(sql, ", ");
					barge_buf_append(sql, st->sql + st->cuts[2 * slot],
							 st->cuts[2 * slot + 1] - st->cuts[2 * slot]);
				}
			}
		}
		end(arg, sql->len);
	}
	return groups;
}

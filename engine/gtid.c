/*
 * gtid.c — MySQL GTID sets (see gtid.h).
 */
#include "engine/gtid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"

#define TAG_MAX 32 /* MySQL's limit on a tag's length */

struct interval { int64_t lo, hi; }; /* inclusive */

struct entry {
	uint8_t sid[16];
	char tag[TAG_MAX + 1];
	struct interval *iv;
	size_t n, cap;
};

struct barge_gtid_set {
	struct entry *e;
	size_t n, cap;
};

struct barge_gtid_set *barge_gtid_set_new(void)
{
	return barge_xcalloc(1, sizeof(struct barge_gtid_set));
}

void barge_gtid_set_free(struct barge_gtid_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].iv);
	free(s->e);
	free(s);
}

static int entry_cmp(const uint8_t sid[16], const char *tag, const struct entry *e)
{
	int c = memcmp(sid, e->sid, 16);

	return c ? c : strcmp(tag, e->tag);
}

/* The entry for (sid, tag), made (in order) when missing and make is set. */
static struct entry *entry_get(struct barge_gtid_set *s, const uint8_t sid[16], const char *tag,
			       bool make)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = entry_cmp(sid, tag, &s->e[mid]);

		if (c == 0)
			return &s->e[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (!make)
		return NULL;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->e = barge_xrealloc(s->e, s->cap * sizeof *s->e);
	}
	memmove(&s->e[lo + 1], &s->e[lo], (s->n - lo) * sizeof *s->e);
	memset(&s->e[lo], 0, sizeof *s->e);
	memcpy(s->e[lo].sid, sid, 16);
	snprintf(s->e[lo].tag, sizeof s->e[lo].tag, "%s", tag);
	s->n++;
	return &s->e[lo];
}

/* Add [lo, hi] to e, keeping intervals sorted, disjoint and merged when adjacent. */
static void entry_add(struct entry *e, int64_t lo, int64_t hi)
{
	size_t i = 0, j;

	while (i < e->n && e->iv[i].hi < lo - 1)
		i++;
	j = i;
	while (j < e->n && e->iv[j].lo <= hi + 1) {
		if (e->iv[j].lo < lo)
			lo = e->iv[j].lo;
		if (e->iv[j].hi > hi)
			hi = e->iv[j].hi;
		j++;
	}
	if (j == i) { /* no overlap: insert at i */
		if (e->n == e->cap) {
			e->cap = e->cap ? e->cap * 2 : 4;
			e->iv = barge_xrealloc(e->iv, e->cap * sizeof *e->iv);
		}
		memmove(&e->iv[i + 1], &e->iv[i], (e->n - i) * sizeof *e->iv);
		e->n++;
	} else if (j > i + 1) { /* [i, j) merge into i */
		memmove(&e->iv[i + 1], &e->iv[j], (e->n - j) * sizeof *e->iv);
		e->n -= j - i - 1;
	}
	e->iv[i].lo = lo;
	e->iv[i].hi = hi;
}

static void tag_of(char out[TAG_MAX + 1], const char *tag, size_t len)
{
	if (!tag)
		len = 0;
	if (len > TAG_MAX)
		len = TAG_MAX;
	memcpy(out, tag ? tag : "", len);
	out[len] = '\0';
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)out[i]); /* tags compare case-insensitively */
}

void barge_gtid_set_add(struct barge_gtid_set *s, const uint8_t sid[16], const char *tag,
			size_t tag_len, int64_t gno)
{
	char t[TAG_MAX + 1];

	tag_of(t, tag, tag_len);
	entry_add(entry_get(s, sid, t, true), gno, gno);
}

bool barge_gtid_set_contains(const struct barge_gtid_set *s, const uint8_t sid[16],
			     const char *tag, size_t tag_len, int64_t gno)
{
	char t[TAG_MAX + 1];
	const struct entry *e;

	tag_of(t, tag, tag_len);
	e = entry_get((struct barge_gtid_set *)s, sid, t, false);
	for (size_t i = 0; e && i < e->n; i++)
		if (gno >= e->iv[i].lo && gno <= e->iv[i].hi)
			return true;
	return false;
}

bool barge_gtid_set_subset(const struct barge_gtid_set *a, const struct barge_gtid_set *b)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct entry *ea = &a->e[i];
		const struct entry *eb = entry_get((struct barge_gtid_set *)b, ea->sid, ea->tag,
						   false);

		for (size_t k = 0; k < ea->n; k++) {
			bool covered = false;

			for (size_t m = 0; eb && m < eb->n && !covered; m++)
				covered = ea->iv[k].lo >= eb->iv[m].lo && ea->iv[k].hi <= eb->iv[m].hi;
			if (!covered)
				return false;
		}
	}
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int bad(struct barge_err *err, const char *text, const char *at, const char *what)
{
	return barge_err_set(err, BARGE_EINVAL, "GTID set \"%.80s\": %s at offset %zu", text, what,
			     (size_t)(at - text));
}

static bool read_num(const char **p, int64_t *out)
{
	int64_t v = 0;
	const char *q = *p;

	if (!isdigit((unsigned char)*q))
		return false;
	while (isdigit((unsigned char)*q)) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*q++ - '0');
	}
	*p = q;
	*out = v;
	return true;
}

int barge_gtid_set_parse(const char *text, struct barge_gtid_set **out, struct barge_err *err)
{
	struct barge_gtid_set *s = barge_gtid_set_new();
	const char *p = text ? text : "";

	*out = NULL;
	for (;;) {
		uint8_t sid[16];
		char tag[TAG_MAX + 1] = "";
		int nib = 0;

		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (!*p)
			break;
		while (nib < 32 && *p && *p != ':') {
			int h = hexval((unsigned char)*p);

			if (*p == '-') {
				p++;
				continue;
			}
			if (h < 0)
				break;
			if (nib % 2 == 0)
				sid[nib / 2] = (uint8_t)(h << 4);
			else
				sid[nib / 2] |= (uint8_t)h;
			nib++;
			p++;
		}
		if (nib != 32 || *p != ':') {
			barge_gtid_set_free(s);
			return bad(err, text, p, "expected a UUID followed by ':'");
		}
		while (*p == ':') {
			const char *at;
			int64_t lo, hi;

			p++;
			if (isalpha((unsigned char)*p) || *p == '_') {
				const char *t = p;

				while (isalnum((unsigned char)*p) || *p == '_')
					p++;
				if ((size_t)(p - t) > TAG_MAX) {
					barge_gtid_set_free(s);
					return bad(err, text, t, "a tag longer than 32 characters");
				}
				tag_of(tag, t, (size_t)(p - t));
				continue;
			}
			at = p;
			if (!read_num(&p, &lo) || lo < 1) {
				barge_gtid_set_free(s);
				return bad(err, text, at, "expected a transaction number from 1");
			}
			hi = lo;
			if (*p == '-' && (p++, !read_num(&p, &hi) || hi < lo)) {
				barge_gtid_set_free(s);
				return bad(err, text, p, "expected an interval's end, not below its start");
			}
			entry_add(entry_get(s, sid, tag, true), lo, hi);
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p && *p != ',') {
			barge_gtid_set_free(s);
			return bad(err, text, p, "expected ',' between UUIDs");
		}
	}
	*out = s;
	return 0;
}

char *barge_gtid_set_text(const struct barge_gtid_set *s)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	for (size_t i = 0; i < s->n; i++) {
		const struct entry *e = &s->e[i];
		const uint8_t *u = e->sid;

		if (!e->n)
			continue;
		barge_buf_appendf(&b, "%s%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
				  "%02x%02x%02x%02x%02x%02x", b.len ? "," : "", u[0], u[1], u[2],
				  u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
				  u[13], u[14], u[15]);
		if (e->tag[0])
			barge_buf_appendf(&b, ":%s", e->tag);
		for (size_t k = 0; k < e->n; k++) {
			if (e->iv[k].lo == e->iv[k].hi)
				barge_buf_appendf(&b, ":%lld", (long long)e->iv[k].lo);
			else
				barge_buf_appendf(&b, ":%lld-%lld", (long long)e->iv[k].lo,
						  (long long)e->iv[k].hi);
		}
	}
	return barge_buf_detach(&b);
}

long barge_gtid_pick_file(const struct barge_gtid_set *const *previous, size_t n,
			  const struct barge_gtid_set *set)
{
	for (size_t i = n; i-- > 0;)
		if (barge_gtid_set_subset(previous[i], set))
			return (long)i;
	return -1;
}

int barge_maria_gtid_next(const char **p, uint32_t *domain, uint32_t *server, uint64_t *seq)
{
	const char *q = *p;
	unsigned long d, sv;
	unsigned long long n;
	int used = 0;

	while (*q == ',' || *q == ' ')
		q++;
	if (!*q)
		return 0;
	if (!isdigit((unsigned char)*q) || sscanf(q, "%lu-%lu-%llu%n", &d, &sv, &n, &used) != 3 ||
	    (q[used] != '\0' && q[used] != ',' && q[used] != ' '))
		return -1;
	*domain = (uint32_t)d;
	*server = (uint32_t)sv;
	*seq = n;
	*p = q + used;
	return 1;
}

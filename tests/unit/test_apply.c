/*
 * test_apply.c — the statements a row change becomes (engine/apply): an UPDATE sets only the
 * columns the change changed and finds the row by its key (in the form engine/merge.c joins:
 * `SET c = CASE key WHEN v THEN new END ... WHERE key IN (v)`); safe mode writes whole rows
 * (REPLACE, and DELETE first when the key changed); a keyless table is matched on every
 * column, null-safe, one row at a time; names are quoted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/apply.h"
#include "tests/test.h"

static struct barge_apply_col cols[] = {
	{"id", NULL, false, false, false},
	{"we`ird", "utf8mb4", false, false, false},
	{"n", NULL, false, false, false},
};
static size_t key[] = {0};

static struct barge_apply_table table(bool keyed)
{
	struct barge_apply_table t = {0};

	t.schema = "db";
	t.table = "t";
	t.ncols = 3;
	t.cols = cols;
	t.key = keyed ? key : NULL;
	t.n_key = keyed ? 1 : 0;
	return t;
}

static void row(struct barge_value *r, long long id, const char *s, long long n)
{
	memset(r, 0, 3 * sizeof *r);
	r[0].kind = BARGE_V_INT;
	r[0].width = 4;
	r[0].n.i = id;
	r[1].kind = BARGE_V_STRING;
	r[1].p = (const uint8_t *)s;
	r[1].len = strlen(s);
	r[2].kind = BARGE_V_INT;
	r[2].width = 4;
	r[2].n.i = n;
}

static char *render(bool keyed, char kind, bool safe, const struct barge_value *before,
		    const struct barge_value *after)
{
	struct barge_apply_table t = table(keyed);
	struct barge_buf sql;
	struct barge_err err = {0};

	barge_buf_init(&sql, BARGE_BUF_NOCAP);
	ASSERT_OK(barge_apply_sql(&sql, &t, NULL, kind, safe, before, after, NULL, NULL, NULL, &err));
	return barge_buf_detach(&sql);
}

TEST(an_update_sets_only_what_changed)
{
	struct barge_value b[3], a[3];
	char *sql;

	row(b, 7, "x", 1);
	row(a, 7, "x", 2);
	sql = render(true, 'u', false, b, a);
	ASSERT_EQ_STR(sql, "UPDATE `db`.`t` SET `n` = CASE `id` WHEN 7 THEN 2 END WHERE `id` IN (7);");
	free(sql);

	/* nothing changed: every column is set, the statement stays a statement */
	sql = render(true, 'u', false, b, b);
	ASSERT_CONTAINS(sql, "SET `id` = CASE `id` WHEN 7 THEN 7 END, `we``ird` = ");
	ASSERT_CONTAINS(sql, ", `n` = CASE `id` WHEN 7 THEN 1 END WHERE `id` IN (7);");
	free(sql);

	/* a key change sets the key, found by the old one */
	row(a, 8, "x", 1);
	sql = render(true, 'u', false, b, a);
	ASSERT_EQ_STR(sql, "UPDATE `db`.`t` SET `id` = 8 WHERE `id` = 7;");
	free(sql);
}

TEST(a_minimal_before_image_keeps_every_after_column)
{
	struct barge_value b[3], a[3];
	char *sql;

	row(b, 7, "x", 1);
	row(a, 7, "x", 2);
	b[1].kind = BARGE_V_ABSENT; /* not in the before image: cannot tell, so it is set */
	b[2].kind = BARGE_V_ABSENT;
	sql = render(true, 'u', false, b, a);
	ASSERT_CONTAINS(sql, "SET `we``ird` = CASE `id` WHEN 7 THEN ");
	ASSERT_CONTAINS(sql, ", `n` = CASE `id` WHEN 7 THEN 2 END WHERE `id` IN (7);");
	ASSERT_NOT_CONTAINS(sql, "SET `id`");
	free(sql);
}

TEST(safe_mode_writes_whole_rows)
{
	struct barge_value b[3], a[3];
	char *sql;

	row(b, 7, "x", 1);
	row(a, 7, "x", 2);
	sql = render(true, 'u', true, b, a);
	ASSERT_CONTAINS(sql, "REPLACE INTO `db`.`t` (`id`, `we``ird`, `n`) VALUES (7, ");
	ASSERT_NOT_CONTAINS(sql, "DELETE");
	free(sql);
	row(a, 8, "x", 2);
	sql = render(true, 'u', true, b, a);
	ASSERT_CONTAINS(sql, "DELETE FROM `db`.`t` WHERE `id` IN (7);REPLACE INTO `db`.`t`");
	free(sql);
	sql = render(true, 'i', true, NULL, a);
	ASSERT_CONTAINS(sql, "REPLACE INTO");
	free(sql);
	sql = render(true, 'i', false, NULL, a);
	ASSERT_CONTAINS(sql, "INSERT INTO `db`.`t`");
	free(sql);
}

TEST(a_keyless_row_is_matched_on_every_column_one_at_a_time)
{
	struct barge_value b[3], a[3];
	char *sql;

	row(b, 7, "x", 1);
	row(a, 7, "x", 2);
	b[1].kind = BARGE_V_NULL;
	a[1].kind = BARGE_V_NULL;
	sql = render(false, 'u', false, b, a);
	ASSERT_CONTAINS(sql, "UPDATE `db`.`t` SET `n` = 2 WHERE `id` <=> 7 AND `we``ird` <=> NULL");
	ASSERT_CONTAINS(sql, " LIMIT 1;");
	free(sql);
	sql = render(false, 'd', false, b, NULL);
	ASSERT_CONTAINS(sql, "DELETE FROM `db`.`t` WHERE `id` <=> 7");
	ASSERT_CONTAINS(sql, " LIMIT 1;");
	free(sql);
}

/* Text that is well-formed UTF-8 without quotes, backslashes or control characters goes in as
 * a quoted literal; anything else in hex, so no sql_mode can change what the target reads. */
TEST(strings_are_quoted_text_only_when_nothing_in_them_needs_escaping)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"plain text", "_utf8mb4'plain text'"},
		{"f\xc3\xbcr \xf0\x9f\x98\x80", "_utf8mb4'f\xc3\xbcr \xf0\x9f\x98\x80'"},
		{"it's", "_utf8mb4 X'69742773'"},
		{"a\\b", "_utf8mb4 X'615C62'"},
		{"tab\there", "_utf8mb4 X'7461620968657265'"},
		{"\xc3(", "_utf8mb4 X'C328'"},         /* a broken sequence */
		{"\xc0\xaf", "_utf8mb4 X'C0AF'"},      /* overlong '/' */
		{"\xed\xa0\x80", "_utf8mb4 X'EDA080'"}, /* a surrogate */
		{"\xf4\x90\x80\x80", "_utf8mb4 X'F4908080'"}, /* past U+10FFFF */
		{"", "_utf8mb4''"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct barge_value b[3], a[3];
		char *sql, want[200];

		row(b, 1, "old", 1);
		row(a, 1, cases[i].in, 1);
		sql = render(true, 'u', false, b, a);
		snprintf(want, sizeof want,
			 "UPDATE `db`.`t` SET `we``ird` = CASE `id` WHEN 1 THEN %s END WHERE `id` IN (1);",
			 cases[i].want);
		ASSERT_EQ_STR(sql, want);
		free(sql);
	}
}

/* A statement with its slots in brackets: what engine/merge.c may join of it. */
static char *slotted(const struct barge_buf *sql, size_t from, size_t to,
		     const struct barge_apply_shape *sh, const struct barge_apply_cuts *cuts)
{
	struct barge_buf out;
	size_t at = from;

	barge_buf_init(&out, BARGE_BUF_NOCAP);
	for (uint32_t c = sh->from; c < sh->to; c++) {
		barge_buf_append(&out, sql->data + at, from + cuts->v[c] - at);
		barge_buf_putc(&out, (c - sh->from) % 2 ? ']' : '[');
		at = from + cuts->v[c];
	}
	barge_buf_append(&out, sql->data + at, to - at);
	return barge_buf_detach(&out);
}

static char *shaped(const struct barge_apply_table *t, char kind, bool safe,
		    const struct barge_value *before, const struct barge_value *after,
		    bool *strict)
{
	struct barge_apply_shape shapes[2];
	struct barge_apply_cuts cuts = {0};
	struct barge_buf sql, all;
	struct barge_err err = {0};
	size_t split = 0;
	char *one;

	barge_buf_init(&sql, BARGE_BUF_NOCAP);
	barge_buf_init(&all, BARGE_BUF_NOCAP);
	ASSERT_OK(barge_apply_sql(&sql, t, NULL, kind, safe, before, after, &split, shapes, &cuts,
				  &err));
	if (split) {
		one = slotted(&sql, 0, split, &shapes[0], &cuts);
		barge_buf_puts(&all, one);
		free(one);
	}
	one = slotted(&sql, split, sql.len, &shapes[split ? 1 : 0], &cuts);
	barge_buf_puts(&all, one);
	free(one);
	if (strict)
		*strict = shapes[split ? 1 : 0].strict;
	barge_buf_dispose(&sql);
	barge_apply_cuts_dispose(&cuts);
	return barge_buf_detach(&all);
}

/* The slots of each kind of statement (engine/merge.c joins statements slot by slot). */
TEST(statements_have_the_slots_a_multi_row_statement_is_built_from)
{
	static size_t two[] = {0, 2};
	struct barge_apply_table t = table(true);
	struct barge_value b[3], a[3];
	bool strict = false;
	char *sql;

	row(b, 7, "x", 1);
	row(a, 8, "y", 2);
	sql = shaped(&t, 'i', false, NULL, a, &strict);
	ASSERT_EQ_STR(sql, "INSERT INTO `db`.`t` (`id`, `we``ird`, `n`) VALUES "
			   "[(8, _utf8mb4'y', 2)];");
	ASSERT_FALSE(strict);
	free(sql);
	sql = shaped(&t, 'd', false, b, NULL, NULL);
	ASSERT_EQ_STR(sql, "DELETE FROM `db`.`t` WHERE `id` IN ([7]);");
	free(sql);
	/* a safe-mode key change: both statements have a slot */
	sql = shaped(&t, 'u', true, b, a, NULL);
	ASSERT_EQ_STR(sql, "DELETE FROM `db`.`t` WHERE `id` IN ([7]);"
			   "REPLACE INTO `db`.`t` (`id`, `we``ird`, `n`) VALUES [(8, _utf8mb4'y', 2)];");
	free(sql);
	/* an UPDATE by a key that stays: a CASE per column, strict */
	row(a, 7, "y", 2);
	sql = shaped(&t, 'u', false, b, a, &strict);
	ASSERT_EQ_STR(sql, "UPDATE `db`.`t` SET `we``ird` = CASE `id`[ WHEN 7 THEN _utf8mb4'y'] END, "
			   "`n` = CASE `id`[ WHEN 7 THEN 2] END WHERE `id` IN ([7]);");
	ASSERT_TRUE(strict);
	free(sql);
	/* an UPDATE that changes the key is written alone */
	row(a, 8, "x", 1);
	sql = shaped(&t, 'u', false, b, a, NULL);
	ASSERT_EQ_STR(sql, "UPDATE `db`.`t` SET `id` = 8 WHERE `id` = 7;");
	free(sql);

	/* a key of two columns: row constructors */
	t.key = two;
	t.n_key = 2;
	sql = shaped(&t, 'd', false, b, NULL, NULL);
	ASSERT_EQ_STR(sql, "DELETE FROM `db`.`t` WHERE (`id`, `n`) IN ([(7, 1)]);");
	free(sql);
	row(a, 7, "y", 1);
	sql = shaped(&t, 'u', false, b, a, NULL);
	ASSERT_EQ_STR(sql, "UPDATE `db`.`t` SET `we``ird` = CASE[ WHEN (`id`, `n`) = (7, 1) THEN "
			   "_utf8mb4'y'] END WHERE (`id`, `n`) IN ([(7, 1)]);");
	free(sql);

	/* a keyless table: matched on every column, one row, alone */
	t = table(false);
	sql = shaped(&t, 'd', false, b, NULL, NULL);
	ASSERT_NOT_CONTAINS(sql, "[");
	ASSERT_CONTAINS(sql, "LIMIT 1;");
	free(sql);
	sql = shaped(&t, 'u', false, b, a, NULL);
	ASSERT_NOT_CONTAINS(sql, "[");
	free(sql);
}

TEST_MAIN()

/*
 * test_apply.c — the statements a row change becomes (engine/apply): an UPDATE sets only the
 * columns the change changed and finds the row by its key; safe mode writes whole rows
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
	ASSERT_OK(barge_apply_sql(&sql, &t, NULL, kind, safe, before, after, NULL, NULL, &err));
	return barge_buf_detach(&sql);
}

TEST(an_update_sets_only_what_changed)
{
	struct barge_value b[3], a[3];
	char *sql;

	row(b, 7, "x", 1);
	row(a, 7, "x", 2);
	sql = render(true, 'u', false, b, a);
	ASSERT_EQ_STR(sql, "UPDATE `db`.`t` SET `n` = 2 WHERE `id` = 7;");
	free(sql);

	/* nothing changed: every column is set, the statement stays a statement */
	sql = render(true, 'u', false, b, b);
	ASSERT_CONTAINS(sql, "SET `id` = 7, `we``ird` = ");
	ASSERT_CONTAINS(sql, ", `n` = 1 WHERE `id` = 7;");
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
	ASSERT_CONTAINS(sql, "SET `we``ird` = ");
	ASSERT_CONTAINS(sql, ", `n` = 2 WHERE `id` = 7;");
	ASSERT_NOT_CONTAINS(sql, "`id` = 7,");
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
		snprintf(want, sizeof want, "UPDATE `db`.`t` SET `we``ird` = %s WHERE `id` = 1;",
			 cases[i].want);
		ASSERT_EQ_STR(sql, want);
		free(sql);
	}
}

/* INSERT, REPLACE and DELETE by key are head, one tuple and tail (engine/merge.h joins them);
 * UPDATE and a keyless DELETE are not. */
TEST(statements_have_the_shape_a_multi_row_statement_is_built_from)
{
	static size_t two[] = {0, 2};
	struct barge_apply_table t = table(true);
	struct barge_value b[3], a[3];
	struct barge_apply_shape shapes[2];
	struct barge_buf sql;
	struct barge_err err = {0};
	size_t split = 0;
	char head[200], tuple[200], tail[20];

#define PARTS(from, to, sh)                                                                      \
	do {                                                                                     \
		snprintf(head, sizeof head, "%.*s", (int)(sh).head, sql.data + (from));          \
		snprintf(tuple, sizeof tuple, "%.*s", (int)((to) - (from) - (sh).head - (sh).tail), \
			 sql.data + (from) + (sh).head);                                         \
		snprintf(tail, sizeof tail, "%.*s", (int)(sh).tail, sql.data + (to) - (sh).tail); \
	} while (0)

	row(b, 7, "x", 1);
	row(a, 8, "y", 2);
	barge_buf_init(&sql, BARGE_BUF_NOCAP);
	ASSERT_OK(barge_apply_sql(&sql, &t, NULL, 'i', false, NULL, a, NULL, shapes, &err));
	PARTS(0, sql.len, shapes[0]);
	ASSERT_EQ_STR(head, "INSERT INTO `db`.`t` (`id`, `we``ird`, `n`) VALUES ");
	ASSERT_EQ_STR(tuple, "(8, _utf8mb4'y', 2)");
	ASSERT_EQ_STR(tail, ";");

	barge_buf_truncate(&sql, 0);
	ASSERT_OK(barge_apply_sql(&sql, &t, NULL, 'd', false, b, NULL, NULL, shapes, &err));
	PARTS(0, sql.len, shapes[0]);
	ASSERT_EQ_STR(head, "DELETE FROM `db`.`t` WHERE `id` IN (");
	ASSERT_EQ_STR(tuple, "7");
	ASSERT_EQ_STR(tail, ");");

	/* a safe-mode key change: both statements have a shape */
	barge_buf_truncate(&sql, 0);
	ASSERT_OK(barge_apply_sql(&sql, &t, NULL, 'u', true, b, a, &split, shapes, &err));
	ASSERT_TRUE(split > 0);
	PARTS(0, split, shapes[0]);
	ASSERT_EQ_STR(tuple, "7");
	PARTS(split, sql.len, shapes[1]);
	ASSERT_EQ_STR(head, "REPLACE INTO `db`.`t` (`id`, `we``ird`, `n`) VALUES ");
	ASSERT_EQ_STR(tuple, "(8, _utf8mb4'y', 2)");

	/* a key of two columns: a row constructor */
	t.key = two;
	t.n_key = 2;
	barge_buf_truncate(&sql, 0);
	ASSERT_OK(barge_apply_sql(&sql, &t, NULL, 'd', false, b, NULL, NULL, shapes, &err));
	PARTS(0, sql.len, shapes[0]);
	ASSERT_EQ_STR(head, "DELETE FROM `db`.`t` WHERE (`id`, `n`) IN (");
	ASSERT_EQ_STR(tuple, "(7, 1)");
	ASSERT_EQ_STR(tail, ");");

	/* no shape: an UPDATE, a keyless DELETE */
	t = table(true);
	barge_buf_truncate(&sql, 0);
	ASSERT_OK(barge_apply_sql(&sql, &t, NULL, 'u', false, b, a, NULL, shapes, &err));
	ASSERT_EQ_UINT(shapes[0].head, 0);
	t = table(false);
	barge_buf_truncate(&sql, 0);
	ASSERT_OK(barge_apply_sql(&sql, &t, NULL, 'd', false, b, NULL, NULL, shapes, &err));
	ASSERT_EQ_UINT(shapes[0].head, 0);
	barge_buf_dispose(&sql);
#undef PARTS
}

TEST_MAIN()

/*
 * apply.c — row changes as statements for the target (see apply.h).
 */
#include "engine/apply.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void barge_apply_table_free(struct barge_apply_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].charset);
	}
	free(t->cols);
	free(t->key);
	for (size_t i = 0; i < t->n_uniques; i++)
		free(t->uniques[i]);
	free(t->uniques);
	free(t->unique_len);
	free(t->schema);
	free(t->table);
	free(t);
}

static void where_literal(struct barge_buf *q, const char *s)
{
	barge_buf_append_literal(q, s, strlen(s));
}

static ssize_t col_index(const struct barge_apply_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static int load_keys(struct barge_db *tgt, struct barge_apply_table *t, struct barge_err *err)
{
	struct barge_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char *cur = NULL;
	size_t cols[64], n = 0;
	bool usable = true, primary = false;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "
			   "WHERE NON_UNIQUE = 0 AND TABLE_SCHEMA = ");
	where_literal(&q, t->schema);
	barge_buf_puts(&q, " AND TABLE_NAME = ");
	where_literal(&q, t->table);
	barge_buf_puts(&q, " ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX");
	rc = barge_db_query(tgt, barge_buf_cstr(&q), &res, err);
	barge_buf_dispose(&q);
	if (rc)
		return rc;
	for (;;) {
		ssize_t c;

		row = mysql_fetch_row(res);
		if (cur && (!row || strcmp(cur, row[0]) != 0)) {
			if (n > 0) {
				size_t *copy = barge_xcalloc(n, sizeof *copy);

				memcpy(copy, cols, n * sizeof *cols);
				t->uniques = barge_xrealloc(t->uniques, (t->n_uniques + 1) * sizeof *t->uniques);
				t->unique_len = barge_xrealloc(t->unique_len,
							       (t->n_uniques + 1) * sizeof *t->unique_len);
				t->uniques[t->n_uniques] = copy;
				t->unique_len[t->n_uniques++] = n;
				/* the row's identity: PRIMARY, else the first usable unique key */
				if (usable && !t->n_key) {
					t->key = barge_xcalloc(n, sizeof *t->key);
					memcpy(t->key, cols, n * sizeof *cols);
					t->n_key = n;
				}
			}
			free(cur);
			cur = NULL;
		}
		if (!row)
			break;
		if (!cur) {
			cur = barge_xstrdup(row[0]);
			n = 0;
			primary = strcmp(row[0], "PRIMARY") == 0;
			usable = true;
		}
		c = col_index(t, row[1]);
		if (c < 0 || n >= 64) {
			usable = false;
			continue;
		}
		/* a prefix or a nullable column cannot identify a row (several NULLs may share
		 * a unique key); the primary key is never nullable */
		if (row[2] || (!primary && t->cols[c].generated))
			usable = false;
		cols[n++] = (size_t)c;
	}
	mysql_free_result(res);
	return 0;
}

int barge_apply_table_load(struct barge_db *tgt, const char *schema, const char *table,
			   struct barge_apply_table **out, struct barge_err *err)
{
	struct barge_apply_table *t = barge_xcalloc(1, sizeof *t);
	struct barge_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	bool *nullable = NULL;
	int rc;

	t->schema = barge_xstrdup(schema);
	t->table = barge_xstrdup(table);
	t->json_text = barge_db_is_mariadb(tgt);
	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT COLUMN_NAME, CHARACTER_SET_NAME, COLUMN_TYPE, EXTRA, DATA_TYPE, "
			   "IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
	where_literal(&q, schema);
	barge_buf_puts(&q, " AND TABLE_NAME = ");
	where_literal(&q, table);
	barge_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
	rc = barge_db_query(tgt, barge_buf_cstr(&q), &res, err);
	barge_buf_dispose(&q);
	if (rc)
		goto done;
	t->cols = barge_xcalloc(mysql_num_rows(res) + 1, sizeof *t->cols);
	nullable = barge_xcalloc(mysql_num_rows(res) + 1, sizeof *nullable);
	while ((row = mysql_fetch_row(res)) != NULL) {
		struct barge_apply_col *c = &t->cols[t->ncols];
		const char *extra = row[3] ? row[3] : "";

		c->name = barge_xstrdup(row[0]);
		c->charset = row[1] && strcmp(row[1], "binary") != 0 ? barge_xstrdup(row[1]) : NULL;
		c->is_unsigned = row[2] && strstr(row[2], "unsigned") != NULL;
		c->generated = strstr(extra, "VIRTUAL GENERATED") || strstr(extra, "STORED GENERATED") ||
			       !strcasecmp(extra, "VIRTUAL") || !strcasecmp(extra, "PERSISTENT");
		c->json = row[4] && !strcasecmp(row[4], "json");
		nullable[t->ncols] = row[5] && !strcmp(row[5], "YES");
		t->ncols++;
	}
	mysql_free_result(res);
	if (t->ncols == 0) {
		rc = barge_err_set(err, BARGE_ETGT_QUERY, "%s: table %s.%s does not exist",
				   tgt->where, schema, table);
		goto done;
	}
	rc = load_keys(tgt, t, err);
	/* a unique key over a nullable column cannot identify rows */
	if (rc == 0 && t->n_key) {
		for (size_t i = 0; i < t->n_key; i++)
			if (nullable[t->key[i]]) {
				free(t->key);
				t->key = NULL;
				t->n_key = 0;
				break;
			}
	}
done:
	free(nullable);
	if (rc) {
		barge_apply_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* ---- statements ---- */

static unsigned value_flags(const struct barge_apply_table *t, const struct barge_tablemap *map,
			    size_t i)
{
	bool is_unsigned = map && map->cols[i].is_unsigned >= 0 ? map->cols[i].is_unsigned == 1
								   : t->cols[i].is_unsigned;

	return (is_unsigned ? BARGE_SQL_UNSIGNED : 0) | (t->json_text ? BARGE_SQL_JSON_TEXT : 0);
}

static int value_sql(struct barge_buf *q, const struct barge_apply_table *t,
		     const struct barge_tablemap *map, size_t i, const struct barge_value *v)
{
	return barge_value_append_sql(q, v, value_flags(t, map, i), t->cols[i].charset);
}

static void table_name(struct barge_buf *q, const struct barge_apply_table *t)
{
	barge_buf_append_qname(q, t->schema, t->table);
}

/* ` WHERE k1 = v1 AND ...` over the key (or every column, null-safe, for keyless tables). */
static int where_clause(struct barge_buf *q, const struct barge_apply_table *t,
			const struct barge_tablemap *map, const struct barge_value *row)
{
	bool first = true;
	int rc = 0;

	barge_buf_puts(q, " WHERE ");
	if (t->n_key) {
		for (size_t k = 0; k < t->n_key && rc == 0; k++) {
			size_t i = t->key[k];

			if (!first)
				barge_buf_puts(q, " AND ");
			first = false;
			barge_buf_append_ident(q, t->cols[i].name);
			barge_buf_puts(q, " = ");
			rc = value_sql(q, t, map, i, &row[i]);
		}
		return rc;
	}
	for (size_t i = 0; i < t->ncols && rc == 0; i++) {
		if (t->cols[i].generated || row[i].kind == BARGE_V_ABSENT)
			continue;
		if (!first)
			barge_buf_puts(q, " AND ");
		first = false;
		barge_buf_append_ident(q, t->cols[i].name);
		barge_buf_puts(q, " <=> ");
		rc = value_sql(q, t, map, i, &row[i]);
	}
	if (rc == 0)
		barge_buf_puts(q, " LIMIT 1");
	return rc;
}

/* ---- slots (see struct barge_apply_shape) ---- */

struct shaper {
	struct barge_apply_shape *shape; /* NULL: not asked for */
	struct barge_apply_cuts *cuts;
	size_t start;                    /* the statement's start in the text */
};

static void shaper_begin(struct shaper *sh, struct barge_apply_shape *shape,
			 struct barge_apply_cuts *cuts, const struct barge_buf *q)
{
	sh->shape = shape;
	sh->cuts = cuts;
	sh->start = q->len;
	if (shape) {
		shape->from = shape->to = (uint32_t)cuts->n;
		shape->strict = false;
	}
}

static void shaper_cut(struct shaper *sh, const struct barge_buf *q)
{
	struct barge_apply_cuts *c = sh->cuts;

	if (!sh->shape)
		return;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = barge_xrealloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->n++] = (uint32_t)(q->len - sh->start);
	sh->shape->to = (uint32_t)c->n;
}

void barge_apply_cuts_dispose(struct barge_apply_cuts *cuts)
{
	free(cuts->v);
	memset(cuts, 0, sizeof *cuts);
}

/* `INSERT INTO t (cols) VALUES ` [`(values)`] `;` */
static int insert_sql(struct barge_buf *q, const struct barge_apply_table *t,
		      const struct barge_tablemap *map, bool replace, const struct barge_value *row,
		      struct shaper *sh)
{
	bool first = true;
	int rc = 0;

	barge_buf_puts(q, replace ? "REPLACE INTO " : "INSERT INTO ");
	table_name(q, t);
	barge_buf_puts(q, " (");
	for (size_t i = 0; i < t->ncols; i++) {
		if (t->cols[i].generated || row[i].kind == BARGE_V_ABSENT)
			continue;
		if (!first)
			barge_buf_puts(q, ", ");
		first = false;
		barge_buf_append_ident(q, t->cols[i].name);
	}
	barge_buf_puts(q, ") VALUES ");
	shaper_cut(sh, q);
	barge_buf_putc(q, '(');
	first = true;
	for (size_t i = 0; i < t->ncols && rc == 0; i++) {
		if (t->cols[i].generated || row[i].kind == BARGE_V_ABSENT)
			continue;
		if (!first)
			barge_buf_puts(q, ", ");
		first = false;
		rc = value_sql(q, t, map, i, &row[i]);
	}
	barge_buf_putc(q, ')');
	shaper_cut(sh, q);
	barge_buf_putc(q, ';');
	return rc;
}

/* The key's column names, `k1, k2`. */
static void key_names(struct barge_buf *q, const struct barge_apply_table *t)
{
	for (size_t k = 0; k < t->n_key; k++) {
		if (k)
			barge_buf_puts(q, ", ");
		barge_buf_append_ident(q, t->cols[t->key[k]].name);
	}
}

/* The row's key values, `v1, v2`. */
static int key_values(struct barge_buf *q, const struct barge_apply_table *t,
		      const struct barge_tablemap *map, const struct barge_value *row)
{
	int rc = 0;

	for (size_t k = 0; k < t->n_key && rc == 0; k++) {
		if (k)
			barge_buf_puts(q, ", ");
		rc = value_sql(q, t, map, t->key[k], &row[t->key[k]]);
	}
	return rc;
}

/* ` WHERE k IN (` [`v`] `)` or ` WHERE (k1, k2) IN (` [`(v1, v2)`] `)`; t has a key. */
static int key_in(struct barge_buf *q, const struct barge_apply_table *t,
		  const struct barge_tablemap *map, const struct barge_value *row, struct shaper *sh)
{
	bool many = t->n_key > 1;
	int rc;

	barge_buf_puts(q, many ? " WHERE (" : " WHERE ");
	key_names(q, t);
	barge_buf_puts(q, many ? ") IN (" : " IN (");
	shaper_cut(sh, q);
	if (many)
		barge_buf_putc(q, '(');
	rc = key_values(q, t, map, row);
	if (many)
		barge_buf_putc(q, ')');
	shaper_cut(sh, q);
	barge_buf_putc(q, ')');
	return rc;
}

/* A DELETE by key (one slot), or a keyless table's by every column, one row (none). */
static int delete_sql(struct barge_buf *q, const struct barge_apply_table *t,
		      const struct barge_tablemap *map, const struct barge_value *row,
		      struct shaper *sh)
{
	int rc;

	barge_buf_puts(q, "DELETE FROM ");
	table_name(q, t);
	if (!t->n_key) {
		rc = where_clause(q, t, map, row);
	} else {
		rc = key_in(q, t, map, row, sh);
	}
	barge_buf_putc(q, ';');
	return rc;
}

static bool same_value(const struct barge_value *a, const struct barge_value *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case BARGE_V_NULL:
	case BARGE_V_ABSENT:
		return true;
	case BARGE_V_STRING:
	case BARGE_V_DECIMAL:
	case BARGE_V_JSON:
	case BARGE_V_GEOMETRY:
	case BARGE_V_VECTOR:
		return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
	case BARGE_V_DATE:
	case BARGE_V_TIME:
	case BARGE_V_DATETIME:
		return a->t.year == b->t.year && a->t.month == b->t.month && a->t.day == b->t.day &&
		       a->t.hour == b->t.hour && a->t.hours == b->t.hours &&
		       a->t.minute == b->t.minute && a->t.second == b->t.second &&
		       a->t.usec == b->t.usec && a->t.neg == b->t.neg;
	case BARGE_V_TIMESTAMP:
		return a->n.i == b->n.i && a->t.usec == b->t.usec;
	default:
		return a->n.u == b->n.u;
	}
}

/* A column the before image has and the change left as it was. */
static bool unchanged(const struct barge_value *before, const struct barge_value *after)
{
	return before->kind != BARGE_V_ABSENT && same_value(before, after);
}

static bool key_changed(const struct barge_apply_table *t, const struct barge_value *before,
			const struct barge_value *after)
{
	for (size_t k = 0; k < t->n_key; k++)
		if (!same_value(&before[t->key[k]], &after[t->key[k]]))
			return true;
	return false;
}

static bool full_image(const struct barge_apply_table *t, const struct barge_value *row)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (!t->cols[i].generated &&
		    (row[i].kind == BARGE_V_ABSENT || row[i].kind == BARGE_V_JSON_DIFF))
			return false;
	return true;
}

/*
 * An UPDATE of the columns the change changed (the before image has the rest as the target has
 * them: less for the target to parse and write), all of them when none differs.  By a key that
 * stays: `UPDATE t SET c = CASE k WHEN v THEN new END, ... WHERE k IN (v);`, a slot per column
 * and the key's; a key change, a JSON partial update or a keyless table: `SET c = new WHERE
 * ...` without slots.
 */
static int update_sql(struct barge_buf *q, const struct barge_apply_table *t,
		      const struct barge_tablemap *map, const struct barge_value *before,
		      const struct barge_value *after, struct shaper *sh, struct barge_err *err)
{
	bool first = true, any = false, by_case = t->n_key && !key_changed(t, before, after);
	int rc = 0;

	for (size_t i = 0; i < t->ncols; i++) {
		if (!t->cols[i].generated && after[i].kind != BARGE_V_ABSENT &&
		    !unchanged(&before[i], &after[i]))
			any = true;
		if (after[i].kind == BARGE_V_JSON_DIFF)
			by_case = false;
	}
	barge_buf_puts(q, "UPDATE ");
	table_name(q, t);
	barge_buf_puts(q, " SET ");
	for (size_t i = 0; i < t->ncols && rc == 0; i++) {
		if (t->cols[i].generated || after[i].kind == BARGE_V_ABSENT ||
		    (any && unchanged(&before[i], &after[i])))
			continue;
		if (!first)
			barge_buf_puts(q, ", ");
		first = false;
		barge_buf_append_ident(q, t->cols[i].name);
		barge_buf_puts(q, " = ");
		if (by_case) {
			barge_buf_puts(q, "CASE");
			if (t->n_key == 1) {
				barge_buf_putc(q, ' ');
				barge_buf_append_ident(q, t->cols[t->key[0]].name);
			}
			shaper_cut(sh, q);
			barge_buf_puts(q, " WHEN ");
			if (t->n_key == 1) {
				rc = key_values(q, t, map, before);
			} else {
				barge_buf_putc(q, '(');
				key_names(q, t);
				barge_buf_puts(q, ") = (");
				rc = key_values(q, t, map, before);
				barge_buf_putc(q, ')');
			}
			barge_buf_puts(q, " THEN ");
			if (rc == 0)
				rc = value_sql(q, t, map, i, &after[i]);
			shaper_cut(sh, q);
			barge_buf_puts(q, " END");
		} else if (after[i].kind == BARGE_V_JSON_DIFF) {
			struct barge_buf col;

			barge_buf_init(&col, BARGE_BUF_NOCAP);
			barge_buf_append_ident(&col, t->cols[i].name);
			rc = barge_json_diff_sql(&after[i], col.data, q, err);
			barge_buf_dispose(&col);
		} else {
			rc = value_sql(q, t, map, i, &after[i]);
		}
	}
	if (rc == 0 && by_case) {
		rc = key_in(q, t, map, before, sh);
		if (sh->shape)
			sh->shape->strict = true;
	} else if (rc == 0) {
		rc = where_clause(q, t, map, before);
	}
	barge_buf_putc(q, ';');
	return rc;
}

int barge_apply_sql(struct barge_buf *sql, const struct barge_apply_table *t,
		    const struct barge_tablemap *map, char kind, bool safe,
		    const struct barge_value *before, const struct barge_value *after,
		    size_t *split, struct barge_apply_shape shapes[2], struct barge_apply_cuts *cuts,
		    struct barge_err *err)
{
	size_t start = sql->len, second = 0, cuts_at = shapes ? cuts->n : 0;
	struct shaper sh;
	int rc = 0;

	if (map && map->ncols != t->ncols)
		return barge_err_set(err, BARGE_EDDL,
				     "the binlog has %zu columns for %s.%s, the target table has %zu: "
				     "the target's definition no longer matches the source's",
				     map->ncols, t->schema, t->table, t->ncols);
	/* REPLACE writes whole rows: with a partial image (a minimal row image, a partial JSON
	 * update) safe mode falls back to the UPDATE, which is idempotent too */
	if (safe && kind == 'u' && !full_image(t, after))
		safe = false;
	shaper_begin(&sh, shapes, cuts, sql);
	switch (kind) {
	case 'i':
		rc = insert_sql(sql, t, map, safe, after, &sh);
		break;
	case 'd':
		rc = delete_sql(sql, t, map, before, &sh);
		break;
	case 'u':
		if (safe && t->n_key) {
			if (key_changed(t, before, after)) {
				rc = delete_sql(sql, t, map, before, &sh);
				second = sql->len;
				shaper_begin(&sh, shapes ? &shapes[1] : NULL, cuts, sql);
			}
			if (rc == 0)
				rc = insert_sql(sql, t, map, true, after, &sh);
			break;
		}
		rc = update_sql(sql, t, map, before, after, &sh, err);
		break;
	default:
		rc = BARGE_EINVAL;
	}
	if (rc) {
		barge_buf_truncate(sql, start);
		if (shapes)
			cuts->n = cuts_at;
		if (err && err->code == 0)
			barge_err_set(err, BARGE_EINVAL, "a value of %s.%s cannot be written as SQL",
				      t->schema, t->table);
		return err && err->code ? err->code : rc;
	}
	if (split)
		*split = second;
	return 0;
}

/* ---- keys for ordering ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t hash_value(uint64_t h, const struct barge_value *v)
{
	h = fnv(h, &v->kind, 1);
	switch (v->kind) {
	case BARGE_V_STRING:
	case BARGE_V_DECIMAL:
	case BARGE_V_JSON:
	case BARGE_V_GEOMETRY:
	case BARGE_V_VECTOR:
		return fnv(h, v->p, v->len);
	case BARGE_V_DATE:
	case BARGE_V_TIME:
	case BARGE_V_DATETIME:
		h = fnv(h, &v->t.year, sizeof v->t.year);
		h = fnv(h, &v->t.month, 1);
		h = fnv(h, &v->t.day, 1);
		h = fnv(h, &v->t.hour, 1);
		h = fnv(h, &v->t.hours, sizeof v->t.hours);
		h = fnv(h, &v->t.minute, 1);
		h = fnv(h, &v->t.second, 1);
		return fnv(h, &v->t.usec, sizeof v->t.usec);
	case BARGE_V_TIMESTAMP:
		h = fnv(h, &v->n.i, sizeof v->n.i);
		return fnv(h, &v->t.usec, sizeof v->t.usec);
	case BARGE_V_NULL:
	case BARGE_V_ABSENT:
		return h;
	default:
		return fnv(h, &v->n.u, sizeof v->n.u);
	}
}

static uint64_t table_hash(const struct barge_apply_table *t)
{
	uint64_t h = fnv(14695981039346656037ull, t->schema, strlen(t->schema) + 1);

	return fnv(h, t->table, strlen(t->table) + 1);
}

/*
 * Two changes must keep their order when the target would see them touch the same key.  A
 * string in a column with a character set compares by its collation ('a' = 'A' = 'á' under
 * utf8mb4_general_ci, trailing spaces ignored), which bytes cannot tell, so such a string adds
 * nothing to the hash: changes that differ only there are kept in order.  That costs
 * parallelism on tables keyed by text, never correctness.
 */
static uint64_t key_hash(const struct barge_apply_table *t, const size_t *cols, size_t n,
			 unsigned which, const struct barge_value *row)
{
	uint64_t h = fnv(table_hash(t), &which, sizeof which);

	for (size_t k = 0; k < n; k++) {
		const struct barge_value *v = &row[cols[k]];

		if (v->kind == BARGE_V_STRING && t->cols[cols[k]].charset)
			h = fnv(h, "s", 1);
		else
			h = hash_value(h, v);
	}
	return h;
}

size_t barge_apply_keys(const struct barge_apply_table *t, char kind,
			const struct barge_value *before, const struct barge_value *after,
			uint64_t *keys, size_t max)
{
	size_t n = 0;

	if (max == 0)
		return 0;
	if (!t->n_key) {
		/* a table without a key: its changes keep one order, on one worker */
		keys[n++] = table_hash(t);
		return n;
	}
	/* the key the change is routed by comes first */
	keys[n++] = key_hash(t, t->key, t->n_key, 0, kind == 'i' ? after : before);
	if (kind == 'u' && n < max)
		keys[n++] = key_hash(t, t->key, t->n_key, 0, after);
	for (size_t u = 0; u < t->n_uniques && n < max; u++) {
		bool has_null = false;
		const struct barge_value *row = kind == 'd' ? before : after;

		for (size_t k = 0; k < t->unique_len[u]; k++)
			has_null |= row[t->uniques[u][k]].kind == BARGE_V_NULL;
		if (!has_null)
			keys[n++] = key_hash(t, t->uniques[u], t->unique_len[u], (unsigned)u + 1, row);
		if (kind == 'u' && n < max)
			keys[n++] = key_hash(t, t->uniques[u], t->unique_len[u], (unsigned)u + 1, before);
	}
	return n;
}

/*
 * dump.c — the source side of the full phase: tables, copy keys, chunk bounds, SELECTs
 * (see dump.h).
 */
#include "engine/dump.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"

void barge_tables_free(struct barge_table_info *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		free(t[i].schema);
		free(t[i].name);
		free(t[i].to_schema);
		free(t[i].to_name);
		for (size_t c = 0; c < t[i].n_cols; c++) {
			free(t[i].cols[c].name);
			free(t[i].cols[c].data_type);
			free(t[i].cols[c].column_type);
			free(t[i].cols[c].charset);
		}
		free(t[i].cols);
		free(t[i].key);
	}
	free(t);
}

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcasecmp(s, list[i]) == 0)
			return true;
	return false;
}

static enum barge_colkind kind_of(const char *data_type, const char *charset)
{
	static const char *const ints[] = {"tinyint", "smallint", "mediumint", "int", "integer",
					   "bigint", NULL};
	static const char *const temporal[] = {"date", "time", "datetime", "timestamp", NULL};
	static const char *const texts[] = {"char", "varchar", "tinytext", "text", "mediumtext",
					    "longtext", NULL};
	static const char *const binaries[] = {"binary", "varbinary", "tinyblob", "blob",
					       "mediumblob", "longblob", NULL};
	static const char *const geometry[] = {"geometry", "point", "linestring", "polygon",
					       "multipoint", "multilinestring", "multipolygon",
					       "geometrycollection", "geomcollection", NULL};

	if (in_list(data_type, ints))
		return BARGE_COL_INT;
	if (!strcasecmp(data_type, "decimal") || !strcasecmp(data_type, "numeric"))
		return BARGE_COL_DECIMAL;
	if (!strcasecmp(data_type, "float"))
		return BARGE_COL_FLOAT;
	if (!strcasecmp(data_type, "double") || !strcasecmp(data_type, "real"))
		return BARGE_COL_DOUBLE;
	if (!strcasecmp(data_type, "bit"))
		return BARGE_COL_BIT;
	if (!strcasecmp(data_type, "year"))
		return BARGE_COL_YEAR;
	if (in_list(data_type, temporal))
		return BARGE_COL_TEMPORAL;
	if (in_list(data_type, texts))
		return charset ? BARGE_COL_STRING : BARGE_COL_BINARY;
	if (in_list(data_type, binaries))
		return BARGE_COL_BINARY;
	if (!strcasecmp(data_type, "enum"))
		return BARGE_COL_ENUM;
	if (!strcasecmp(data_type, "set"))
		return BARGE_COL_SET;
	if (!strcasecmp(data_type, "json"))
		return BARGE_COL_JSON;
	if (in_list(data_type, geometry))
		return BARGE_COL_GEOMETRY;
	return BARGE_COL_OTHER;
}

static bool chunkable_kind(enum barge_colkind k)
{
	return k == BARGE_COL_INT || k == BARGE_COL_DECIMAL || k == BARGE_COL_YEAR ||
	       k == BARGE_COL_TEMPORAL || k == BARGE_COL_STRING || k == BARGE_COL_BINARY;
}

static int cmp_table(const void *a, const void *b)
{
	const struct barge_table_info *x = a, *y = b;
	int c = strcmp(x->schema, y->schema);

	return c ? c : strcmp(x->name, y->name);
}

static struct barge_table_info *find_table(struct barge_table_info *t, size_t n, const char *schema,
					   const char *name)
{
	size_t lo = 0, hi = n;
	struct barge_table_info key;

	key.schema = (char *)schema;
	key.name = (char *)name;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_table(&key, &t[mid]);

		if (c == 0)
			return &t[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* " IN ('a','b')" over the distinct schemas of tables (sorted by schema). */
static void schema_in_list(struct barge_buf *b, const struct barge_table_info *t, size_t n)
{
	const char *last = NULL;

	barge_buf_puts(b, " IN (");
	for (size_t i = 0; i < n; i++) {
		if (last && strcmp(last, t[i].schema) == 0)
			continue;
		if (last)
			barge_buf_puts(b, ", ");
		barge_buf_append_literal(b, t[i].schema, strlen(t[i].schema));
		last = t[i].schema;
	}
	barge_buf_puts(b, ")");
}

static int load_columns(struct barge_db *src, struct barge_table_info *t, size_t n,
			struct barge_err *err)
{
	struct barge_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, "
			   "CHARACTER_SET_NAME, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS "
			   "WHERE TABLE_SCHEMA");
	schema_in_list(&q, t, n);
	barge_buf_puts(&q, " ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION");
	rc = barge_db_query(src, barge_buf_cstr(&q), &res, err);
	barge_buf_dispose(&q);
	if (rc)
		return barge_err_wrap(err, "read the source's columns");
	while ((row = mysql_fetch_row(res)) != NULL) {
		struct barge_table_info *ti = find_table(t, n, row[0], row[1]);
		struct barge_column *c;
		const char *extra = row[7] ? row[7] : "";

		if (!ti)
			continue;
		ti->cols = barge_xrealloc(ti->cols, (ti->n_cols + 1) * sizeof *ti->cols);
		c = &ti->cols[ti->n_cols++];
		memset(c, 0, sizeof *c);
		c->name = barge_xstrdup(row[2]);
		c->data_type = barge_xstrdup(row[3] ? row[3] : "");
		c->column_type = barge_xstrdup(row[4] ? row[4] : "");
		c->charset = row[5] ? barge_xstrdup(row[5]) : NULL;
		c->nullable = row[6] && strcmp(row[6], "YES") == 0;
		c->generated = strstr(extra, "VIRTUAL GENERATED") || strstr(extra, "STORED GENERATED") ||
			       !strcasecmp(extra, "VIRTUAL") || !strcasecmp(extra, "PERSISTENT") ||
			       !strcasecmp(extra, "STORED");
		c->kind = kind_of(c->data_type, c->charset);
	}
	mysql_free_result(res);
	return 0;
}

static ssize_t column_index(const struct barge_table_info *t, const char *name)
{
	for (size_t i = 0; i < t->n_cols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Offer an index as t's copy key: PRIMARY wins, else the usable key with fewest columns. */
static void offer_key(struct barge_table_info *t, const size_t *cols, size_t n, bool primary,
		      bool *have_primary)
{
	if (n == 0 || *have_primary || (t->n_key && n >= t->n_key && !primary))
		return;
	free(t->key);
	t->key = barge_xcalloc(n, sizeof *t->key);
	memcpy(t->key, cols, n * sizeof *cols);
	t->n_key = n;
	*have_primary = primary;
}

/*
 * Choose each table's copy key: PRIMARY, else the unique key with the fewest columns whose
 * columns are all NOT NULL, whole (no prefix) and not generated.
 */
static int load_keys(struct barge_db *src, struct barge_table_info *t, size_t n,
		     struct barge_err *err)
{
	struct barge_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct barge_table_info *cur = NULL, *last = NULL;
	char *cur_index = NULL;
	size_t cand[64], n_cand = 0;
	bool usable = false, primary = false, have_primary = false;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART, "
			   "NON_UNIQUE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA");
	schema_in_list(&q, t, n);
	barge_buf_puts(&q, " ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, "
			   "INDEX_NAME, SEQ_IN_INDEX");
	rc = barge_db_query(src, barge_buf_cstr(&q), &res, err);
	barge_buf_dispose(&q);
	if (rc)
		return barge_err_wrap(err, "read the source's indexes");
	for (;;) {
		struct barge_table_info *ti;
		ssize_t col;

		row = mysql_fetch_row(res);
		ti = row ? find_table(t, n, row[0], row[1]) : NULL;
		if (cur && (!row || ti != cur || strcmp(cur_index, row[2]) != 0)) {
			if (usable)
				offer_key(cur, cand, n_cand, primary, &have_primary);
			free(cur_index);
			cur_index = NULL;
			cur = NULL;
		}
		if (!row)
			break;
		if (!ti || !row[5] || strcmp(row[5], "0") != 0)
			continue; /* not selected, or not unique */
		if (!cur) {
			if (ti != last) {
				have_primary = false;
				last = ti;
			}
			cur = ti;
			cur_index = barge_xstrdup(row[2]);
			n_cand = 0;
			primary = strcmp(row[2], "PRIMARY") == 0;
			usable = true;
		}
		col = column_index(ti, row[3]);
		if (col < 0 || row[4] || ti->cols[col].nullable || ti->cols[col].generated ||
		    n_cand >= 64)
			usable = false;
		else
			cand[n_cand++] = (size_t)col;
	}
	mysql_free_result(res);
	free(cur_index);
	for (size_t i = 0; i < n; i++) {
		t[i].keyless = t[i].n_key == 0;
		t[i].chunkable = !t[i].keyless;
		for (size_t k = 0; k < t[i].n_key; k++)
			if (!chunkable_kind(t[i].cols[t[i].key[k]].kind))
				t[i].chunkable = false;
	}
	return 0;
}

int barge_dump_list_tables(struct barge_db *src, const struct barge_rules *rules,
			   struct barge_table_info **out, size_t *n, struct barge_err *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct barge_table_info *t = NULL;
	size_t count = 0;
	int rc;

	rc = barge_db_query(src,
			    "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS, DATA_LENGTH FROM "
			    "information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND "
			    "TABLE_SCHEMA NOT IN ('mysql', 'information_schema', "
			    "'performance_schema', 'sys') ORDER BY TABLE_SCHEMA, TABLE_NAME",
			    &res, err);
	if (rc)
		return barge_err_wrap(err, "list the source's tables");
	while ((row = mysql_fetch_row(res)) != NULL) {
		struct barge_table_info *ti;

		if (!barge_rules_table_selected(rules, row[0], row[1]))
			continue;
		t = barge_xrealloc(t, (count + 1) * sizeof *t);
		ti = &t[count++];
		memset(ti, 0, sizeof *ti);
		ti->schema = barge_xstrdup(row[0]);
		ti->name = barge_xstrdup(row[1]);
		ti->rows_estimated = row[2] ? strtoull(row[2], NULL, 10) : 0;
		ti->bytes_estimated = row[3] ? strtoull(row[3], NULL, 10) : 0;
		rc = barge_rules_route(rules, ti->schema, ti->name, &ti->to_schema, &ti->to_name, err);
		if (rc) {
			mysql_free_result(res);
			barge_tables_free(t, count);
			return rc;
		}
	}
	mysql_free_result(res);
	/* information_schema orders by its own collation; binary search needs byte order */
	if (count)
		qsort(t, count, sizeof *t, cmp_table);
	if (count && ((rc = load_columns(src, t, count, err)) != 0 ||
		      (rc = load_keys(src, t, count, err)) != 0)) {
		barge_tables_free(t, count);
		return rc;
	}
	*out = t;
	*n = count;
	return 0;
}

int barge_dump_column_list(struct barge_buf *b, const struct barge_table_info *t)
{
	bool first = true;

	for (size_t i = 0; i < t->n_cols; i++) {
		if (t->cols[i].generated)
			continue;
		if (!first)
			barge_buf_puts(b, ", ");
		barge_buf_append_ident(b, t->cols[i].name);
		first = false;
	}
	return 0;
}

/* ---- keys ---- */

char *barge_key_encode(const char *const *values, const unsigned long *lengths, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	json_t *a = json_array();
	char *text;

	for (size_t i = 0; i < n; i++) {
		char *h = barge_xmalloc(2 * lengths[i] + 1);

		for (unsigned long k = 0; k < lengths[i]; k++) {
			h[2 * k] = hex[(unsigned char)values[i][k] >> 4];
			h[2 * k + 1] = hex[(unsigned char)values[i][k] & 15];
		}
		h[2 * lengths[i]] = '\0';
		json_array_append_new(a, json_string(h));
		free(h);
	}
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (!text)
		abort();
	return text;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one hex string into bytes (caller frees); NULL when it is not hex. */
static unsigned char *unhex(const char *h, size_t *len)
{
	size_t n = strlen(h);
	unsigned char *out;

	if (n % 2)
		return NULL;
	out = barge_xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

/* Append the SQL literal for a raw key value of column c.  0, or BARGE_EINVAL when the bytes do
 * not fit the column's kind (a damaged checkpoint). */
static int append_key_literal(struct barge_buf *b, const struct barge_column *c,
			      const unsigned char *v, size_t len)
{
	switch (c->kind) {
	case BARGE_COL_INT:
	case BARGE_COL_DECIMAL:
	case BARGE_COL_YEAR:
		if (len == 0)
			return BARGE_EINVAL;
		for (size_t i = 0; i < len; i++)
			if (!isdigit(v[i]) && v[i] != '-' && v[i] != '.' && v[i] != '+')
				return BARGE_EINVAL;
		return barge_buf_append(b, v, len);
	case BARGE_COL_TEMPORAL:
		for (size_t i = 0; i < len; i++)
			if (!isdigit(v[i]) && !strchr("-:. ", v[i]))
				return BARGE_EINVAL;
		return barge_buf_append_literal(b, v, len);
	case BARGE_COL_STRING:
		/* the column's own character set, so comparisons use its collation */
		barge_buf_appendf(b, "_%s ", c->charset);
		return barge_buf_append_hex(b, v, len);
	case BARGE_COL_BINARY:
		return barge_buf_append_hex(b, v, len);
	default:
		return BARGE_EINVAL;
	}
}

/*
 * Append a predicate over the key comparing it with an encoded bound:
 * greater = true: key > bound; false: key <= bound.  Expanded as (a > x) OR (a = x AND ...),
 * which every optimizer turns into index ranges.
 */
static int append_key_cmp(struct barge_buf *b, const struct barge_table_info *t,
			  const char *bound, bool greater, struct barge_err *err)
{
	json_error_t jerr;
	json_t *a = json_loads(bound, 0, &jerr);
	struct barge_buf lits[64];
	size_t n = t->n_key;
	int rc = 0;

	if (!a || !json_is_array(a) || json_array_size(a) != n || n > 64) {
		json_decref(a);
		return barge_err_set(err, BARGE_EINVAL, "%s.%s: chunk bound %.100s does not match "
				     "the table's key; the checkpoints do not belong to this table",
				     t->schema, t->name, bound);
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		const char *h = json_string_value(json_array_get(a, i));
		unsigned char *v = h ? unhex(h, &len) : NULL;

		barge_buf_init(&lits[i], BARGE_BUF_NOCAP);
		if (!v || append_key_literal(&lits[i], &t->cols[t->key[i]], v, len) != 0)
			rc = BARGE_EINVAL;
		free(v);
	}
	json_decref(a);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			barge_buf_dispose(&lits[i]);
		return barge_err_set(err, BARGE_EINVAL, "%s.%s: chunk bound %.100s does not fit the "
				     "key's column types", t->schema, t->name, bound);
	}
	/* (k0 OP v0) OR (k0 = v0 AND ((k1 OP v1) OR (k1 = v1 AND ... (klast OP' vlast)))) */
	barge_buf_putc(b, '(');
	for (size_t i = 0; i < n; i++) {
		const char *name = t->cols[t->key[i]].name;
		bool last = i + 1 == n;

		if (i)
			barge_buf_puts(b, " AND (");
		barge_buf_append_ident(b, name);
		barge_buf_puts(b, greater ? " > " : (last ? " <= " : " < "));
		barge_buf_puts(b, barge_buf_cstr(&lits[i]));
		if (!last) {
			barge_buf_puts(b, " OR (");
			barge_buf_append_ident(b, name);
			barge_buf_puts(b, " = ");
			barge_buf_puts(b, barge_buf_cstr(&lits[i]));
		}
	}
	for (size_t i = 0; i + 1 < n; i++)
		barge_buf_puts(b, "))");
	barge_buf_putc(b, ')');
	for (size_t i = 0; i < n; i++)
		barge_buf_dispose(&lits[i]);
	return 0;
}

static void append_key_order(struct barge_buf *b, const struct barge_table_info *t)
{
	barge_buf_puts(b, " ORDER BY ");
	for (size_t i = 0; i < t->n_key; i++) {
		if (i)
			barge_buf_puts(b, ", ");
		barge_buf_append_ident(b, t->cols[t->key[i]].name);
	}
}

int barge_dump_select_sql(struct barge_buf *b, const struct barge_table_info *t,
			  const char *lower, const char *upper, bool ordered, struct barge_err *err)
{
	bool first = true;
	int rc;

	barge_buf_puts(b, "SELECT ");
	for (size_t i = 0; i < t->n_cols; i++) {
		const struct barge_column *c = &t->cols[i];

		if (c->generated)
			continue;
		if (!first)
			barge_buf_puts(b, ", ");
		first = false;
		if (c->kind == BARGE_COL_FLOAT) {
			/* a FLOAT's text may lose digits; the exact double converts back exactly */
			barge_buf_putc(b, '(');
			barge_buf_append_ident(b, c->name);
			barge_buf_puts(b, " + 0e0)");
		} else {
			barge_buf_append_ident(b, c->name);
		}
	}
	barge_buf_puts(b, " FROM ");
	barge_buf_append_qname(b, t->schema, t->name);
	if (lower || upper)
		barge_buf_puts(b, " WHERE ");
	if (lower && (rc = append_key_cmp(b, t, lower, true, err)) != 0)
		return rc;
	if (lower && upper)
		barge_buf_puts(b, " AND ");
	if (upper && (rc = append_key_cmp(b, t, upper, false, err)) != 0)
		return rc;
	if (ordered && t->n_key)
		append_key_order(b, t);
	return 0;
}

int barge_dump_next_bound(struct barge_db *src, const struct barge_table_info *t,
			  const char *lower, uint64_t chunk_rows, char **upper,
			  struct barge_err *err)
{
	struct barge_buf q;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	barge_buf_init(&q, BARGE_BUF_NOCAP);
	barge_buf_puts(&q, "SELECT ");
	for (size_t i = 0; i < t->n_key; i++) {
		if (i)
			barge_buf_puts(&q, ", ");
		barge_buf_append_ident(&q, t->cols[t->key[i]].name);
	}
	barge_buf_puts(&q, " FROM ");
	barge_buf_append_qname(&q, t->schema, t->name);
	if (lower) {
		barge_buf_puts(&q, " WHERE ");
		rc = append_key_cmp(&q, t, lower, true, err);
		if (rc) {
			barge_buf_dispose(&q);
			return rc;
		}
	}
	append_key_order(&q, t);
	barge_buf_appendf(&q, " LIMIT 1 OFFSET %llu",
			  (unsigned long long)(chunk_rows > 0 ? chunk_rows - 1 : 0));
	rc = barge_db_query(src, barge_buf_cstr(&q), &res, err);
	barge_buf_dispose(&q);
	if (rc)
		return barge_err_wrap(err, "find the next chunk of %s.%s", t->schema, t->name);
	row = mysql_fetch_row(res);
	*upper = row ? barge_key_encode((const char *const *)row, mysql_fetch_lengths(res), t->n_key)
		     : NULL;
	mysql_free_result(res);
	return 0;
}

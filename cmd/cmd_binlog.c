/*
 * cmd_binlog.c — `barge binlog decode`: binlog events and row images as text or JSON.
 *
 *   barge binlog decode [--json] [--no-checksum] FILE...
 *   barge binlog decode [--json] --from HOST:PORT --user USER --password-env VAR
 *                       [--server-id N] [--start FILE:POS] [--follow]
 *
 * Text output follows mysqlbinlog -v: a line per event ("# at OFFSET ...") and, for row events,
 * "### INSERT INTO `db`.`t` SET @1=... @2=..." with column names where the table map has them.
 * --json prints one JSON object per event.  The engine decodes; this file only formats.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/commands.h"
#include "cmd/output.h"
#include "engine/binlog.h"
#include "engine/binlog_io.h"
#include "engine/db.h"
#include "engine/rowimage.h"

struct printer {
	bool json;
	bool stats;   /* decode every value as SQL, print only totals */
	uint64_t bytes;
	clock_t started;
	struct barge_binlog b;
	struct barge_value *before, *after;
	size_t cap;
	uint64_t events, rows;
};

/* A JSON string for bytes that may not be UTF-8: invalid ones become x'hex'. */
static json_t *json_bytes(const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	json_t *s = json_stringn(p, len);
	char *h;

	if (s)
		return s;
	h = barge_xmalloc(2 * len + 4);
	h[0] = 'x';
	h[1] = '\'';
	for (size_t i = 0; i < len; i++) {
		h[2 + 2 * i] = hex[(unsigned char)p[i] >> 4];
		h[3 + 2 * i] = hex[(unsigned char)p[i] & 15];
	}
	h[2 + 2 * len] = '\'';
	h[3 + 2 * len] = '\0';
	s = json_string(h);
	free(h);
	return s;
}

static void usage(void)
{
	print_command_usage(command_find("binlog"));
	out_printf("\nusage:\n"
		   "  barge binlog decode [--json|--stats] [--no-checksum] FILE...\n"
		   "  barge binlog decode [--json] --from HOST:PORT --user USER --password-env VAR\n"
		   "                      [--server-id N] [--start FILE:POS] [--follow]\n\n"
		   "options:\n"
		   "  --json             one JSON object per event instead of text\n"
		   "  --no-checksum      do not verify CRC32 checksums\n"
		   "  --stats            decode every value, print only totals and throughput\n"
		   "  --from HOST:PORT   read a live replication stream from this server\n"
		   "  --user USER        replication user (REPLICATION SLAVE, REPLICATION CLIENT)\n"
		   "  --password-env VAR the environment variable holding the password\n"
		   "  --server-id N      replica id to use (default 4000000000)\n"
		   "  --start FILE:POS   where to start (default: the server's first binlog)\n"
		   "  --follow           wait for new events instead of stopping at the end\n");
}

static const char *col_name(const struct barge_tablemap *m, size_t i, char *buf, size_t n)
{
	if (m->cols[i].name)
		snprintf(buf, n, "%.*s", (int)m->cols[i].name_len, (const char *)m->cols[i].name);
	else
		snprintf(buf, n, "@%zu", i + 1);
	return buf;
}

static void print_image(const struct barge_tablemap *m, const struct barge_value *vals,
			const char *label, struct barge_buf *b)
{
	barge_buf_puts(b, "### ");
	barge_buf_puts(b, label);
	barge_buf_putc(b, '\n');
	for (size_t i = 0; i < m->ncols; i++) {
		if (vals[i].kind == BARGE_V_ABSENT)
			continue;
		barge_buf_append(b, "###   ", 6);
		if (m->cols[i].name) {
			barge_buf_append(b, m->cols[i].name, m->cols[i].name_len);
		} else {
			barge_buf_putc(b, '@');
			barge_buf_append_u64(b, i + 1);
		}
		barge_buf_putc(b, '=');
		barge_value_append_text(b, &vals[i], m->cols[i].is_unsigned == 1);
		barge_buf_putc(b, '\n');
	}
}

static json_t *image_json(const struct barge_tablemap *m, const struct barge_value *vals)
{
	json_t *o = json_object();
	char name[256];

	for (size_t i = 0; i < m->ncols; i++) {
		struct barge_buf t;

		if (vals[i].kind == BARGE_V_ABSENT)
			continue;
		if (vals[i].kind == BARGE_V_NULL) {
			json_object_set_new(o, col_name(m, i, name, sizeof name), json_null());
			continue;
		}
		if (vals[i].kind == BARGE_V_STRING || vals[i].kind == BARGE_V_GEOMETRY ||
		    vals[i].kind == BARGE_V_VECTOR) {
			/* the bytes themselves (hex when they are not UTF-8) */
			json_object_set_new(o, col_name(m, i, name, sizeof name),
					    json_bytes((const char *)vals[i].p, vals[i].len));
			continue;
		}
		barge_buf_init(&t, BARGE_BUF_NOCAP);
		barge_value_append_text(&t, &vals[i], m->cols[i].is_unsigned == 1);
		json_object_set_new(o, col_name(m, i, name, sizeof name),
				    json_bytes(barge_buf_cstr(&t), t.len));
		barge_buf_dispose(&t);
	}
	return o;
}

static int print_rows(struct printer *pr, const struct barge_event *ev, struct barge_buf *b,
		      json_t *jev, struct barge_err *err)
{
	struct barge_rows it;
	json_t *rows = jev ? json_array() : NULL;
	int rc = barge_rows_begin(&pr->b, ev, &it, err);

	if (rc) {
		json_decref(rows);
		return rc;
	}
	if (it.map->ncols > pr->cap) {
		pr->cap = it.map->ncols;
		pr->before = barge_xrealloc(pr->before, pr->cap * sizeof *pr->before);
		pr->after = barge_xrealloc(pr->after, pr->cap * sizeof *pr->after);
	}
	while ((rc = barge_rows_next(&it, pr->before, pr->after, err)) == 1) {
		pr->rows++;
		if (jev) {
			json_t *r = json_object();

			if (it.kind != 'i')
				json_object_set_new(r, "before", image_json(it.map, pr->before));
			if (it.kind != 'd')
				json_object_set_new(r, "after", image_json(it.map, pr->after));
			json_array_append_new(rows, r);
			continue;
		}
		barge_buf_puts(b, it.kind == 'i' ? "### INSERT INTO `" :
				  it.kind == 'd' ? "### DELETE FROM `" : "### UPDATE `");
		barge_buf_puts(b, it.map->schema);
		barge_buf_puts(b, "`.`");
		barge_buf_puts(b, it.map->table);
		barge_buf_puts(b, "`\n");
		if (it.kind == 'i') {
			print_image(it.map, pr->after, "SET", b);
		} else if (it.kind == 'd') {
			print_image(it.map, pr->before, "WHERE", b);
		} else {
			print_image(it.map, pr->before, "WHERE", b);
			print_image(it.map, pr->after, "SET", b);
		}
	}
	if (jev) {
		{
			struct barge_buf name;

			barge_buf_init(&name, BARGE_BUF_NOCAP);
			barge_buf_appendf(&name, "%s.%s", it.map->schema, it.map->table);
			json_object_set_new(jev, "table", json_bytes(name.data, name.len));
			barge_buf_dispose(&name);
		}
		json_object_set_new(jev, "rows", rows);
	}
	return rc < 0 ? rc : 0;
}

static int print_event(struct printer *pr, const uint8_t *data, size_t len, uint64_t offset,
		       bool inner, struct barge_buf *b, struct barge_err *err);

/* The events inside a transaction payload, printed at the payload's offset. */
struct inner_ctx {
	struct printer *pr;
	struct barge_buf *b;
	uint64_t offset;
};

static int print_inner(void *user, const uint8_t *data, size_t len, struct barge_err *err)
{
	struct inner_ctx *c = user;

	return print_event(c->pr, data, len, c->offset, true, c->b, err);
}

static int print_details(struct printer *pr, const struct barge_event *ev, struct barge_buf *b,
			 json_t *j, struct barge_err *err)
{
	char gtid[200];
	struct barge_buf t;
	int rc = 0;

	barge_buf_init(&t, BARGE_BUF_NOCAP);
	switch (ev->type) {
	case BARGE_EV_FORMAT_DESCRIPTION:
		barge_buf_appendf(b, " server %s, binlog v%u, checksum %s", ev->u.fde.server_version,
				  ev->u.fde.binlog_version, ev->u.fde.checksum_alg == 1 ? "CRC32" : "none");
		if (j) {
			json_object_set_new(j, "serverVersion", json_string(ev->u.fde.server_version));
			json_object_set_new(j, "checksum", json_string(ev->u.fde.checksum_alg == 1 ?
								       "CRC32" : "none"));
		}
		break;
	case BARGE_EV_ROTATE:
		barge_buf_appendf(b, " next %.*s:%llu", (int)ev->u.rotate.name_len, ev->u.rotate.name,
				  (unsigned long long)ev->u.rotate.position);
		if (j) {
			json_object_set_new(j, "file", json_bytes(ev->u.rotate.name, ev->u.rotate.name_len));
			json_object_set_new(j, "position", json_integer((json_int_t)ev->u.rotate.position));
		}
		break;
	case BARGE_EV_QUERY:
	case BARGE_EV_MARIA_QUERY_COMPRESSED:
		barge_buf_puts(b, " db=");
		barge_buf_append(b, ev->u.query.db ? ev->u.query.db : "", ev->u.query.db_len);
		barge_buf_putc(b, '\n');
		barge_buf_append(b, ev->u.query.query, ev->u.query.query_len);
		if (j) {
			json_object_set_new(j, "db", json_bytes(ev->u.query.db ? ev->u.query.db : "",
								    ev->u.query.db_len));
			json_object_set_new(j, "query", json_bytes(ev->u.query.query, ev->u.query.query_len));
			if (ev->u.query.has_sql_mode)
				json_object_set_new(j, "sqlMode",
						    json_integer((json_int_t)ev->u.query.sql_mode));
		}
		break;
	case BARGE_EV_XID:
		barge_buf_puts(b, " xid=");
		barge_buf_append_u64(b, ev->u.xid.xid);
		barge_buf_puts(b, " COMMIT");
		if (j)
			json_object_set_new(j, "xid", json_integer((json_int_t)ev->u.xid.xid));
		break;
	case BARGE_EV_GTID:
	case BARGE_EV_ANONYMOUS_GTID:
	case BARGE_EV_GTID_TAGGED:
	case BARGE_EV_MARIA_GTID:
		barge_gtid_text(ev, gtid, sizeof gtid);
		barge_buf_appendf(b, " %s", gtid);
		if (j)
			json_object_set_new(j, "gtid", json_string(gtid));
		break;
	case BARGE_EV_PREVIOUS_GTIDS:
		rc = barge_prev_gtids_text(ev, &t, err);
		barge_buf_appendf(b, " %s", barge_buf_cstr(&t));
		if (j)
			json_object_set_new(j, "gtidSet", json_string(barge_buf_cstr(&t)));
		break;
	case BARGE_EV_MARIA_GTID_LIST:
		barge_maria_gtid_list_text(ev, &t);
		barge_buf_appendf(b, " %s", barge_buf_cstr(&t));
		if (j)
			json_object_set_new(j, "gtidList", json_string(barge_buf_cstr(&t)));
		break;
	case BARGE_EV_TABLE_MAP: {
		const struct barge_tablemap *m = ev->u.table_map.map;

		barge_buf_puts(b, " table_id=");
		barge_buf_append_u64(b, m->table_id);
		barge_buf_puts(b, " `");
		barge_buf_puts(b, m->schema);
		barge_buf_puts(b, "`.`");
		barge_buf_puts(b, m->table);
		barge_buf_puts(b, "` columns=");
		barge_buf_append_u64(b, m->ncols);
		if (j) {
			json_object_set_new(j, "tableId", json_integer((json_int_t)m->table_id));
			struct barge_buf name;

			barge_buf_init(&name, BARGE_BUF_NOCAP);
			barge_buf_appendf(&name, "%s.%s", m->schema, m->table);
			json_object_set_new(j, "table", json_bytes(name.data, name.len));
			barge_buf_dispose(&name);
			json_object_set_new(j, "columns", json_integer((json_int_t)m->ncols));
		}
		break;
	}
	case BARGE_EV_MARIA_ANNOTATE_ROWS:
	case BARGE_EV_ROWS_QUERY:
		barge_buf_appendf(b, "\n# %.*s", (int)ev->u.annotate.len, ev->u.annotate.text);
		if (j)
			json_object_set_new(j, "query", json_bytes(ev->u.annotate.text, ev->u.annotate.len));
		break;
	case BARGE_EV_TRANSACTION_PAYLOAD: {
		barge_buf_appendf(b, " compression=%s size=%llu uncompressed=%llu\n",
				  ev->u.payload.compression == 0 ? "zstd" : "none",
				  (unsigned long long)ev->u.payload.payload_size,
				  (unsigned long long)ev->u.payload.uncompressed_size);
		{
			struct inner_ctx ctx = {pr, b, ev->offset};

			rc = barge_binlog_payload_each(&pr->b, ev, print_inner, &ctx, err);
		}
		break;
	}
	default:
		if (!barge_ev_is_rows(ev->type) && !strcmp(barge_ev_name(ev->type), "UNKNOWN")) {
			barge_buf_appendf(b, " type %u%s", ev->type,
					  ev->flags & BARGE_LOG_EVENT_IGNORABLE ? " (ignorable)" : "");
			if (j)
				json_object_set_new(j, "eventType", json_integer(ev->type));
		}
		if (barge_ev_is_rows(ev->type)) {
			const struct barge_tablemap *m = barge_binlog_map(&pr->b, ev->u.rows.table_id);

			barge_buf_puts(b, " table_id=");
			barge_buf_append_u64(b, ev->u.rows.table_id);
			if (m) {
				barge_buf_puts(b, " `");
				barge_buf_puts(b, m->schema);
				barge_buf_puts(b, "`.`");
				barge_buf_puts(b, m->table);
				barge_buf_putc(b, '`');
			}
			barge_buf_putc(b, '\n');
			rc = print_rows(pr, ev, b, j, err);
		}
		break;
	}
	barge_buf_dispose(&t);
	return rc;
}

/* --stats: every value of every row rendered as SQL (the apply side's work), nothing printed. */
static int stats_event(struct printer *pr, const struct barge_event *ev, struct barge_buf *b,
		       struct barge_err *err)
{
	struct barge_rows it;
	int rc;

	if (ev->type == BARGE_EV_TRANSACTION_PAYLOAD) {
		const uint8_t *p;
		size_t n;

		return barge_binlog_payload(&pr->b, ev, &p, &n, err);
	}
	if (!barge_ev_is_rows(ev->type))
		return 0;
	rc = barge_rows_begin(&pr->b, ev, &it, err);
	if (rc)
		return rc;
	if (it.map->ncols > pr->cap) {
		pr->cap = it.map->ncols;
		pr->before = barge_xrealloc(pr->before, pr->cap * sizeof *pr->before);
		pr->after = barge_xrealloc(pr->after, pr->cap * sizeof *pr->after);
	}
	while ((rc = barge_rows_next(&it, pr->before, pr->after, err)) == 1) {
		pr->rows++;
		for (size_t i = 0; i < it.map->ncols; i++) {
			if (it.kind != 'd')
				barge_value_append_sql(b, &pr->after[i], it.map->cols[i].is_unsigned == 1 ?
						       BARGE_SQL_UNSIGNED : 0, NULL);
			if (it.kind != 'i')
				barge_value_append_sql(b, &pr->before[i],
						       it.map->cols[i].is_unsigned == 1 ? BARGE_SQL_UNSIGNED : 0, NULL);
		}
		barge_buf_reset(b);
	}
	return rc < 0 ? rc : 0;
}

static int print_event(struct printer *pr, const uint8_t *data, size_t len, uint64_t offset,
		       bool inner, struct barge_buf *b, struct barge_err *err)
{
	struct barge_event ev;
	json_t *j = NULL;
	int rc = barge_binlog_decode(&pr->b, data, len, offset, inner, &ev, err);

	if (rc)
		return rc;
	pr->events++;
	pr->bytes += len;
	if (pr->stats)
		return stats_event(pr, &ev, b, err);
	if (pr->json) {
		j = json_object();
		json_object_set_new(j, "offset", json_integer((json_int_t)offset));
		json_object_set_new(j, "type", json_string(barge_ev_name(ev.type)));
		json_object_set_new(j, "timestamp", json_integer(ev.timestamp));
		json_object_set_new(j, "serverId", json_integer(ev.server_id));
		json_object_set_new(j, "size", json_integer(ev.size));
		json_object_set_new(j, "logPos", json_integer(ev.log_pos));
		if (inner)
			json_object_set_new(j, "inPayload", json_true());
	} else {
		barge_buf_puts(b, "# at ");
		barge_buf_append_u64(b, offset);
		if (inner)
			barge_buf_puts(b, " (in payload)");
		barge_buf_putc(b, ' ');
		barge_buf_puts(b, barge_ev_name(ev.type));
		barge_buf_puts(b, " server_id=");
		barge_buf_append_u64(b, ev.server_id);
		barge_buf_puts(b, " end=");
		barge_buf_append_u64(b, ev.log_pos);
		barge_buf_puts(b, " size=");
		barge_buf_append_u64(b, ev.size);
	}
	if (j) {
		/* the text form is not wanted; the JSON form is built beside it */
		struct barge_buf scratch;
		char *line;

		barge_buf_init(&scratch, BARGE_BUF_NOCAP);
		rc = print_details(pr, &ev, &scratch, j, err);
		barge_buf_dispose(&scratch);
		line = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (line) {
			barge_buf_puts(b, line);
			barge_buf_putc(b, '\n');
		}
		free(line);
		json_decref(j);
		return rc;
	}
	rc = print_details(pr, &ev, b, j, err);
	if (j) {
	} else if (b->len && b->data[b->len - 1] != '\n') {
		barge_buf_putc(b, '\n');
	}
	return rc;
}

static int flush_out(struct barge_buf *b)
{
	out_write(b->data ? b->data : "", b->len);
	barge_buf_reset(b);
	return 0;
}

static int decode_file(struct printer *pr, const char *path, bool no_checksum)
{
	struct barge_binlog_file *f = NULL;
	struct barge_err err = {0};
	struct barge_buf b;
	const uint8_t *data;
	size_t len;
	uint64_t offset;
	int rc;

	barge_binlog_init(&pr->b);
	pr->b.verify_checksum = !no_checksum;
	barge_buf_init(&b, BARGE_BUF_NOCAP);
	rc = barge_binlog_file_open(path, &f, &err);
	while (rc == 0 && (rc = barge_binlog_file_next(f, &data, &len, &offset, &err)) == 1) {
		rc = print_event(pr, data, len, offset, false, &b, &err);
		if (rc && err.code == BARGE_EBINLOG_CORRUPT)
			barge_err_wrap(&err, "%s", path);
		if (b.len > 65536)
			flush_out(&b);
	}
	flush_out(&b);
	barge_buf_dispose(&b);
	barge_binlog_file_close(f);
	barge_binlog_dispose(&pr->b);
	if (rc < 0)
		return out_error(&err);
	if (pr->stats) {
		double s = (double)(clock() - pr->started) / CLOCKS_PER_SEC;

		out_printf("%s: %llu events, %llu rows, %.1f MB in %.2f s CPU: %.1f MB/s, %.0f rows/s\n",
			   path, (unsigned long long)pr->events, (unsigned long long)pr->rows,
			   (double)pr->bytes / 1e6, s, s > 0 ? (double)pr->bytes / 1e6 / s : 0.0,
			   s > 0 ? (double)pr->rows / s : 0.0);
	}
	return BARGE_EXIT_OK;
}

static int decode_stream(struct printer *pr, const char *from, const char *user,
			 const char *password_env, uint32_t server_id, const char *start,
			 bool follow)
{
	struct barge_endpoint ep;
	struct barge_db *db = NULL;
	struct barge_binlog_stream *s = NULL;
	struct barge_stream_opts so = {.server_id = server_id, .pos = 4, .non_blocking = !follow};
	struct barge_err err = {0};
	struct barge_buf b;
	char host[256], file[256] = "", ref[300];
	const char *colon = strrchr(from, ':');
	const uint8_t *data;
	size_t len;
	int rc;

	memset(&ep, 0, sizeof ep);
	if (!colon || colon == from) {
		err_printf("barge binlog decode: --from takes HOST:PORT\n");
		return BARGE_EXIT_ERROR;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - from), from);
	ep.host = host;
	ep.port = (unsigned)atoi(colon + 1);
	ep.user = (char *)user;
	if (password_env) {
		snprintf(ref, sizeof ref, "${env:%s}", password_env);
		ep.password = ref;
	}
	if (start) {
		const char *c = strrchr(start, ':');

		snprintf(file, sizeof file, "%.*s", c ? (int)(c - start) : (int)strlen(start), start);
		so.pos = c ? strtoull(c + 1, NULL, 10) : 4;
	}
	so.file = file;
	rc = barge_db_connect(&ep, BARGE_DB_SOURCE, NULL, NULL, &db, &err);
	if (rc == 0)
		rc = barge_binlog_stream_open(db, &so, &s, &err);
	barge_binlog_init(&pr->b);
	barge_buf_init(&b, BARGE_BUF_NOCAP);
	while (rc == 0 && (rc = barge_binlog_stream_next(s, &data, &len, &err)) == 1) {
		rc = print_event(pr, data, len, pr->events, false, &b, &err);
		flush_out(&b);
		fflush(stdout);
	}
	flush_out(&b);
	barge_buf_dispose(&b);
	barge_binlog_stream_close(s);
	barge_db_close(db);
	barge_binlog_dispose(&pr->b);
	if (rc < 0)
		return out_error(&err);
	return BARGE_EXIT_OK;
}

int cmd_binlog(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"stats", no_argument, NULL, 'T'},
		{"no-checksum", no_argument, NULL, 'n'},
		{"from", required_argument, NULL, 'f'},
		{"user", required_argument, NULL, 'u'},
		{"password-env", required_argument, NULL, 'p'},
		{"server-id", required_argument, NULL, 's'},
		{"start", required_argument, NULL, 'S'},
		{"follow", no_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct printer pr;
	const char *from = NULL, *user = NULL, *password_env = NULL, *start = NULL;
	uint32_t server_id = 4000000000u;
	bool no_checksum = false, follow = false;
	int opt, status = BARGE_EXIT_OK;

	memset(&pr, 0, sizeof pr);
	if (argc < 2 || strcmp(argv[1], "decode") != 0) {
		if (wants_help(argc, argv)) {
			usage();
			return BARGE_EXIT_OK;
		}
		err_printf("barge binlog: the subcommand is decode; run 'barge binlog --help'\n");
		return BARGE_EXIT_ERROR;
	}
	argc--;
	argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': pr.json = true; break;
		case 'T': pr.stats = true; break;
		case 'n': no_checksum = true; break;
		case 'f': from = optarg; break;
		case 'u': user = optarg; break;
		case 'p': password_env = optarg; break;
		case 's': server_id = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'S': start = optarg; break;
		case 'F': follow = true; break;
		case 'h': usage(); return BARGE_EXIT_OK;
		default: return BARGE_EXIT_ERROR;
		}
	}
	if (from) {
		status = decode_stream(&pr, from, user, password_env, server_id, start, follow);
	} else if (optind >= argc) {
		err_printf("barge binlog decode: give a binlog FILE, or --from HOST:PORT\n");
		status = BARGE_EXIT_ERROR;
	} else {
		for (int i = optind; i < argc && status == BARGE_EXIT_OK; i++) {
			pr.started = clock();
			pr.events = pr.rows = pr.bytes = 0;
			status = decode_file(&pr, argv[i], no_checksum);
		}
	}
	free(pr.before);
	free(pr.after);
	return status;
}

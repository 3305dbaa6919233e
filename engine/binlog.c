/*
 * binlog.c — binlog event framing and decoding (see binlog.h).
 *
 * A small cursor (struct rd) reads every field; each read checks the bytes left first and
 * marks the cursor bad instead of reading past the end, so each decoder checks once at its end
 * whether the event held what it claimed.
 */
#include "engine/binlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "engine/log.h"

#define SCRATCH_MAX (1024u * 1024u * 1024u) /* decompressed payloads above this are refused */

/* ---- the cursor ---- */

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static size_t rd_left(const struct rd *r)
{
	return r->bad ? 0 : (size_t)(r->end - r->p);
}

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return p;
}

static uint64_t rd_le(struct rd *r, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	uint64_t v = 0;

	if (!p)
		return 0;
	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static uint64_t rd_packed(struct rd *r)
{
	uint64_t v = 0;
	size_t used;

	if (r->bad)
		return 0;
	used = barge_packed_int(r->p, (size_t)(r->end - r->p), &v);
	if (!used) {
		r->bad = true;
		return 0;
	}
	r->p += used;
	return v;
}

size_t barge_packed_int(const uint8_t *p, size_t avail, uint64_t *out)
{
	size_t n;

	if (avail < 1)
		return 0;
	if (p[0] < 0xfb) {
		*out = p[0];
		return 1;
	}
	n = p[0] == 0xfc ? 2 : p[0] == 0xfd ? 3 : p[0] == 0xfe ? 8 : 0;
	if (!n || avail < n + 1)
		return 0;
	*out = 0;
	for (size_t i = n; i > 0; i--)
		*out = *out << 8 | p[i];
	return n + 1;
}

static int corrupt(struct barge_err *err, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int corrupt(struct barge_err *err, uint64_t offset, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return barge_err_set(err, BARGE_EBINLOG_CORRUPT, "event at offset %llu: %s",
			     (unsigned long long)offset, what);
}

/* ---- names ---- */

const char *barge_ev_name(unsigned type)
{
	static const char *const names[] = {
		"UNKNOWN", "START_V3", "QUERY", "STOP", "ROTATE", "INTVAR", "LOAD", "SLAVE",
		"CREATE_FILE", "APPEND_BLOCK", "EXEC_LOAD", "DELETE_FILE", "NEW_LOAD", "RAND",
		"USER_VAR", "FORMAT_DESCRIPTION", "XID", "BEGIN_LOAD_QUERY", "EXECUTE_LOAD_QUERY",
		"TABLE_MAP", "PRE_GA_WRITE_ROWS", "PRE_GA_UPDATE_ROWS", "PRE_GA_DELETE_ROWS",
		"WRITE_ROWS_V1", "UPDATE_ROWS_V1", "DELETE_ROWS_V1", "INCIDENT", "HEARTBEAT",
		"IGNORABLE", "ROWS_QUERY", "WRITE_ROWS_V2", "UPDATE_ROWS_V2", "DELETE_ROWS_V2",
		"GTID", "ANONYMOUS_GTID", "PREVIOUS_GTIDS", "TRANSACTION_CONTEXT", "VIEW_CHANGE",
		"XA_PREPARE", "PARTIAL_UPDATE_ROWS", "TRANSACTION_PAYLOAD", "HEARTBEAT_V2",
		"GTID_TAGGED"};
	static const char *const maria[] = {
		"ANNOTATE_ROWS", "BINLOG_CHECKPOINT", "MARIADB_GTID", "MARIADB_GTID_LIST",
		"START_ENCRYPTION", "QUERY_COMPRESSED", "WRITE_ROWS_COMPRESSED_V1",
		"UPDATE_ROWS_COMPRESSED_V1", "DELETE_ROWS_COMPRESSED_V1", "WRITE_ROWS_COMPRESSED",
		"UPDATE_ROWS_COMPRESSED", "DELETE_ROWS_COMPRESSED"};

	if (type < sizeof names / sizeof names[0])
		return names[type];
	if (type >= 160 && type < 160 + sizeof maria / sizeof maria[0])
		return maria[type - 160];
	return "UNKNOWN";
}

bool barge_ev_is_rows(unsigned type)
{
	return (type >= 20 && type <= 25) || (type >= 30 && type <= 32) || type == 39 ||
	       (type >= 166 && type <= 171);
}

char barge_ev_rows_kind(unsigned type)
{
	switch (type) {
	case 20: case 23: case 30: case 166: case 169: return 'i';
	case 21: case 24: case 31: case 39: case 167: case 170: return 'u';
	case 22: case 25: case 32: case 168: case 171: return 'd';
	default: return 0;
	}
}

/* ---- context ---- */

void barge_binlog_init(struct barge_binlog *b)
{
	memset(b, 0, sizeof *b);
	b->checksum_alg = 0;
	b->verify_checksum = true;
	b->header_len = BARGE_BINLOG_HEADER;
	b->max_event = BARGE_BINLOG_MAX_EVENT;
	barge_buf_init(&b->scratch, SCRATCH_MAX);
}

static void map_free(struct barge_tablemap *m)
{
	if (!m)
		return;
	free(m->schema);
	free(m->table);
	free(m->cols);
	free(m->raw);
	free(m);
}

void barge_binlog_dispose(struct barge_binlog *b)
{
	for (size_t i = 0; i < b->n_maps; i++)
		map_free(b->maps[i]);
	free(b->maps);
	barge_buf_dispose(&b->scratch);
	memset(b, 0, sizeof *b);
}

const struct barge_tablemap *barge_binlog_map(const struct barge_binlog *b, uint64_t table_id)
{
	for (size_t i = 0; i < b->n_maps; i++)
		if (b->maps[i]->table_id == table_id)
			return b->maps[i];
	return NULL;
}

static void map_store(struct barge_binlog *b, struct barge_tablemap *m)
{
	for (size_t i = 0; i < b->n_maps; i++) {
		if (b->maps[i]->table_id == m->table_id) {
			map_free(b->maps[i]);
			b->maps[i] = m;
			return;
		}
	}
	if (b->n_maps == b->cap_maps) {
		b->cap_maps = b->cap_maps ? b->cap_maps * 2 : 16;
		b->maps = barge_xrealloc(b->maps, b->cap_maps * sizeof *b->maps);
	}
	b->maps[b->n_maps++] = m;
}

/* ---- format description ---- */

static void version_parts(const char *v, int parts[3])
{
	parts[0] = parts[1] = parts[2] = 0;
	for (int i = 0; i < 3 && *v; i++) {
		parts[i] = atoi(v);
		while (*v >= '0' && *v <= '9')
			v++;
		if (*v != '.')
			break;
		v++;
	}
}

static bool version_at_least(const char *v, int a, int b, int c)
{
	int p[3];

	version_parts(v, p);
	if (p[0] != a)
		return p[0] > a;
	if (p[1] != b)
		return p[1] > b;
	return p[2] >= c;
}

static int decode_fde(struct barge_binlog *b, const uint8_t *body, size_t len,
		      struct barge_event *ev, uint64_t offset, size_t *checksum_len,
		      struct barge_err *err)
{
	struct rd r = {body, body + len, false};
	const uint8_t *sv;
	size_t n_post;
	bool has_crc;

	ev->u.fde.binlog_version = (uint16_t)rd_le(&r, 2);
	sv = rd_take(&r, 50);
	ev->u.fde.created = (uint32_t)rd_le(&r, 4);
	b->header_len = (uint8_t)rd_le(&r, 1);
	if (r.bad)
		return corrupt(err, offset, "FORMAT_DESCRIPTION is %zu bytes, too short", len);
	memcpy(ev->u.fde.server_version, sv, 50);
	ev->u.fde.server_version[50] = '\0';
	if (ev->u.fde.binlog_version != 4)
		return corrupt(err, offset, "binlog format version %u is not supported (only 4)",
			       ev->u.fde.binlog_version);
	if (b->header_len < BARGE_BINLOG_HEADER)
		return corrupt(err, offset, "event header length %u is shorter than %d",
			       b->header_len, BARGE_BINLOG_HEADER);
	b->mariadb = strstr(ev->u.fde.server_version, "MariaDB") != NULL ||
		     strstr(ev->u.fde.server_version, "mariadb") != NULL;
	/* checksums exist from MySQL 5.6.1 and MariaDB 5.3: the FDE then ends with the
	 * algorithm byte and its own checksum */
	has_crc = b->mariadb ? version_at_least(ev->u.fde.server_version, 5, 3, 0)
			     : version_at_least(ev->u.fde.server_version, 5, 6, 1);
	n_post = rd_left(&r);
	if (has_crc) {
		if (n_post < 5)
			return corrupt(err, offset, "FORMAT_DESCRIPTION lacks its checksum fields");
		n_post -= 5;
		ev->u.fde.checksum_alg = body[len - 5];
	} else {
		ev->u.fde.checksum_alg = 0;
	}
	if (n_post > 255)
		n_post = 255;
	memset(b->post_header, 0, sizeof b->post_header);
	memcpy(b->post_header + 1, r.p, n_post);
	b->binlog_version = ev->u.fde.binlog_version;
	memcpy(b->server_version, ev->u.fde.server_version, sizeof b->server_version);
	b->checksum_alg = ev->u.fde.checksum_alg;
	if (b->checksum_alg != 0 && b->checksum_alg != 1)
		return corrupt(err, offset, "unknown checksum algorithm %u", b->checksum_alg);
	b->have_fde = true;
	*checksum_len = has_crc ? 4 : 0;
	return 0;
}

/* ---- checksums ---- */

static uint32_t crc_of(const uint8_t *p, size_t n)
{
	uLong c = crc32(0L, Z_NULL, 0);

	while (n > 0) {
		uInt chunk = n > 0x40000000u ? 0x40000000u : (uInt)n;

		c = crc32(c, p, chunk);
		p += chunk;
		n -= chunk;
	}
	return (uint32_t)c;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Verify an event's CRC32; the FDE's is taken with the "binlog in use" flag cleared. */
static bool crc_ok(const uint8_t *data, size_t len, bool fde)
{
	uint32_t want = le32(data + len - 4);
	uLong c;

	if (crc_of(data, len - 4) == want)
		return true;
	if (!fde || !(data[17] & BARGE_LOG_EVENT_BINLOG_IN_USE))
		return false;
	c = crc32(0L, Z_NULL, 0);
	c = crc32(c, data, 17);
	{
		uint8_t flag = data[17] & (uint8_t)~BARGE_LOG_EVENT_BINLOG_IN_USE;

		c = crc32(c, &flag, 1);
	}
	c = crc32(c, data + 18, (uInt)(len - 4 - 18));
	return (uint32_t)c == want;
}

/* ---- per-event decoders ---- */

static uint8_t post_header(const struct barge_binlog *b, unsigned type, uint8_t fallback)
{
	return b->have_fde && type < 256 && b->post_header[type] ? b->post_header[type] : fallback;
}

static int decode_query(struct barge_binlog *b, struct rd *r, struct barge_event *ev,
			uint64_t offset, struct barge_err *err)
{
	uint8_t phl = post_header(b, BARGE_EV_QUERY, 13);
	const uint8_t *start = r->p;
	uint16_t status_len = 0;
	struct rd s;
	const uint8_t *sv;
	size_t db_len;

	ev->u.query.thread_id = (uint32_t)rd_le(r, 4);
	ev->u.query.exec_time = (uint32_t)rd_le(r, 4);
	db_len = (size_t)rd_le(r, 1);
	ev->u.query.error_code = (uint16_t)rd_le(r, 2);
	if (phl >= 13)
		status_len = (uint16_t)rd_le(r, 2);
	if (!r->bad && (size_t)(r->p - start) < phl)
		rd_take(r, phl - (size_t)(r->p - start));
	sv = rd_take(r, status_len);
	ev->u.query.db = (const char *)rd_take(r, db_len);
	ev->u.query.db_len = db_len;
	rd_take(r, 1); /* the database name's NUL */
	if (r->bad)
		return corrupt(err, offset, "QUERY event is shorter than its lengths say");
	ev->u.query.query = (const char *)r->p;
	ev->u.query.query_len = rd_left(r);
	/* status variables: a code byte, then a value whose size the code fixes */
	s = (struct rd){sv, sv + status_len, false};
	while (rd_left(&s) > 0) {
		uint8_t code = (uint8_t)rd_le(&s, 1);
		size_t n;

		switch (code) {
		case 0: ev->u.query.flags2 = (uint32_t)rd_le(&s, 4); break; /* Q_FLAGS2_CODE */
		case 1: /* Q_SQL_MODE_CODE */
			ev->u.query.sql_mode = rd_le(&s, 8);
			ev->u.query.has_sql_mode = true;
			break;
		case 2: /* Q_CATALOG_CODE (old): length, name, NUL */
			n = (size_t)rd_le(&s, 1);
			ev->u.query.catalog = (const char *)rd_take(&s, n + 1);
			ev->u.query.catalog_len = n;
			break;
		case 3: rd_take(&s, 4); break; /* Q_AUTO_INCREMENT */
		case 4: /* Q_CHARSET_CODE */
			ev->u.query.charset_client = (uint16_t)rd_le(&s, 2);
			ev->u.query.collation_connection = (uint16_t)rd_le(&s, 2);
			ev->u.query.collation_server = (uint16_t)rd_le(&s, 2);
			ev->u.query.has_charset = true;
			break;
		case 5: /* Q_TIME_ZONE_CODE */
			n = (size_t)rd_le(&s, 1);
			ev->u.query.time_zone = (const char *)rd_take(&s, n);
			ev->u.query.time_zone_len = n;
			break;
		case 6: /* Q_CATALOG_NZ_CODE */
			n = (size_t)rd_le(&s, 1);
			ev->u.query.catalog = (const char *)rd_take(&s, n);
			ev->u.query.catalog_len = n;
			break;
		case 7: rd_take(&s, 2); break;  /* Q_LC_TIME_NAMES */
		case 8: rd_take(&s, 2); break;  /* Q_CHARSET_DATABASE */
		case 9: rd_take(&s, 8); break;  /* Q_TABLE_MAP_FOR_UPDATE */
		case 10: rd_take(&s, 4); break; /* Q_MASTER_DATA_WRITTEN */
		case 11: /* Q_INVOKER: user, host */
			n = (size_t)rd_le(&s, 1);
			rd_take(&s, n);
			n = (size_t)rd_le(&s, 1);
			rd_take(&s, n);
			break;
		case 12: /* Q_UPDATED_DB_NAMES */
			n = (size_t)rd_le(&s, 1);
			if (n == 254) /* OVER_MAX_DBS_IN_EVENT_MTS */
				break;
			for (size_t i = 0; i < n && !s.bad; i++) {
				while (rd_left(&s) > 0 && *s.p)
					s.p++;
				rd_take(&s, 1);
			}
			break;
		case 13: rd_take(&s, 3); break; /* Q_MICROSECONDS */
		case 14: rd_take(&s, 1); break; /* Q_COMMIT_TS (unused) */
		case 15: rd_take(&s, 1); break; /* Q_COMMIT_TS2 */
		case 16: rd_take(&s, 1); break; /* Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP */
		case 17: rd_take(&s, 8); break; /* Q_DDL_LOGGED_WITH_XID */
		case 18: /* Q_DEFAULT_COLLATION_FOR_UTF8MB4 */
			ev->u.query.default_collation = (uint16_t)rd_le(&s, 2);
			ev->u.query.has_default_collation = true;
			break;
		case 19: rd_take(&s, 1); break; /* Q_SQL_REQUIRE_PRIMARY_KEY */
		case 20: rd_take(&s, 1); break; /* Q_DEFAULT_TABLE_ENCRYPTION */
		case 128: rd_take(&s, 2); break; /* MariaDB Q_HRNOW (3 bytes) */
		case 129: rd_take(&s, 8); break; /* MariaDB Q_XID */
		case 130: rd_take(&s, 1); break; /* MariaDB Q_GTID_FLAGS3 */
		case 131: /* MariaDB Q_CHARACTER_SET_COLLATIONS: count, count × (cs 2, coll 2) */
			n = (size_t)rd_le(&s, 1);
			rd_take(&s, n * 4);
			break;
		default:
			/* an unknown code: its size is unknown, so the rest cannot be read; what
			 * was read stays valid */
			s.p = s.end;
			break;
		}
		if (code == 128)
			rd_take(&s, 1); /* Q_HRNOW is 3 bytes: 2 taken above */
	}
	/* a damaged status block leaves the query itself readable; it is not fatal */
	return 0;
}

static int decode_rotate(struct barge_binlog *b, struct rd *r, struct barge_event *ev,
			 uint64_t offset, struct barge_err *err)
{
	uint8_t phl = post_header(b, BARGE_EV_ROTATE, 8);

	ev->u.rotate.position = phl >= 8 ? rd_le(r, 8) : 4;
	if (r->bad)
		return corrupt(err, offset, "ROTATE event is too short");
	ev->u.rotate.name = (const char *)r->p;
	ev->u.rotate.name_len = rd_left(r);
	if (ev->u.rotate.name_len == 0 || ev->u.rotate.name_len >= sizeof b->file)
		return corrupt(err, offset, "ROTATE names a file of %zu bytes", ev->u.rotate.name_len);
	memcpy(b->file, ev->u.rotate.name, ev->u.rotate.name_len);
	b->file[ev->u.rotate.name_len] = '\0';
	b->next_pos = ev->u.rotate.position;
	return 0;
}

static int decode_gtid(struct rd *r, struct barge_event *ev, uint64_t offset,
		       struct barge_err *err)
{
	const uint8_t *sid;

	ev->u.gtid.flags = (uint8_t)rd_le(r, 1);
	sid = rd_take(r, 16);
	ev->u.gtid.gno = (int64_t)rd_le(r, 8);
	if (r->bad)
		return corrupt(err, offset, "GTID event is too short");
	memcpy(ev->u.gtid.sid, sid, 16);
	/* 5.7+: logical clock */
	if (rd_left(r) >= 17 && r->p[0] == 2) {
		ev->u.gtid.lt_type = (uint8_t)rd_le(r, 1);
		ev->u.gtid.last_committed = (int64_t)rd_le(r, 8);
		ev->u.gtid.sequence_number = (int64_t)rd_le(r, 8);
	}
	/* 8.0.1+: commit timestamps, 7 bytes each; the top bit says whether the original
	 * commit timestamp follows */
	if (rd_left(r) >= 7) {
		uint64_t ts = rd_le(r, 7);

		ev->u.gtid.immediate_commit_ts = ts & ~(1ull << 55);
		ev->u.gtid.original_commit_ts = ev->u.gtid.immediate_commit_ts;
		if (ts & (1ull << 55))
			ev->u.gtid.original_commit_ts = rd_le(r, 7);
		if (rd_left(r) >= 1)
			ev->u.gtid.transaction_length = rd_packed(r);
		if (rd_left(r) >= 4) {
			uint32_t v = (uint32_t)rd_le(r, 4);

			ev->u.gtid.immediate_server_version = v & 0x7fffffffu;
			ev->u.gtid.original_server_version = ev->u.gtid.immediate_server_version;
			if (v & 0x80000000u)
				ev->u.gtid.original_server_version = (uint32_t)rd_le(r, 4);
		}
	}
	if (r->bad)
		return corrupt(err, offset, "GTID event fields run past its end");
	return 0;
}

/*
 * MySQL's serialization varlen: the count of trailing 1-bits of the first byte says how many
 * more bytes follow (0 to 8); the value is the little-endian whole shifted right by that count
 * plus one (a first byte of 0xff: the next 8 bytes are the value).
 */
static uint64_t rd_varlen(struct rd *r)
{
	uint8_t first;
	size_t n = 1;
	const uint8_t *p;
	uint64_t v;

	if (rd_left(r) < 1) {
		r->bad = true;
		return 0;
	}
	first = r->p[0];
	while (n < 9 && (first >> (n - 1)) & 1)
		n++;
	p = rd_take(r, n);
	if (!p)
		return 0;
	if (n == 9) {
		v = 0;
		for (size_t i = 8; i >= 1; i--)
			v = v << 8 | p[i];
		return v;
	}
	v = 0;
	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v >> n;
}

static int64_t rd_varlen_signed(struct rd *r)
{
	uint64_t z = rd_varlen(r);

	return (int64_t)(z >> 1) ^ -(int64_t)(z & 1); /* zigzag */
}

/*
 * GTID_TAGGED (MySQL 8.4+): a serialized message: format version, size and last non-ignorable
 * field id (varlens), then (field id, value) pairs: 0 flags, 1 uuid (16 varlen bytes), 2 gno,
 * 3 tag (length + bytes), 4 last committed, 5 sequence number, 6 immediate commit ts, 7 original
 * commit ts, 8 transaction length, 9 immediate server version, 10 original server version,
 * 11 commit group ticket.  Signed fields are zigzag-encoded.
 */
static int decode_gtid_tagged(struct rd *r, struct barge_event *ev, uint64_t offset,
			      struct barge_err *err)
{
	const uint8_t *msg_start;
	uint64_t size;
	struct rd m;

	msg_start = r->p;
	(void)rd_varlen(r); /* format version */
	size = rd_varlen(r);
	/* the size counts the whole message, from the version on */
	if (r->bad || size > (uint64_t)(r->end - msg_start) || msg_start + size < r->p)
		return corrupt(err, offset, "GTID_TAGGED has a bad size");
	m = (struct rd){r->p, msg_start + size, false};
	(void)rd_varlen(&m); /* last non-ignorable field id */
	while (rd_left(&m) > 0 && !m.bad) {
		uint64_t id = rd_varlen(&m);

		switch (id) {
		case 0: ev->u.gtid.flags = (uint8_t)rd_varlen(&m); break;
		case 1:
			for (int i = 0; i < 16; i++)
				ev->u.gtid.sid[i] = (uint8_t)rd_varlen(&m);
			break;
		case 2: ev->u.gtid.gno = rd_varlen_signed(&m); break;
		case 3: {
			uint64_t n = rd_varlen(&m);
			const uint8_t *t = rd_take(&m, (size_t)n);

			ev->u.gtid.tag = (const char *)t;
			ev->u.gtid.tag_len = t ? (size_t)n : 0;
			break;
		}
		case 4: ev->u.gtid.last_committed = rd_varlen_signed(&m); break;
		case 5: ev->u.gtid.sequence_number = rd_varlen_signed(&m); break;
		case 6: ev->u.gtid.immediate_commit_ts = rd_varlen(&m); break;
		case 7: ev->u.gtid.original_commit_ts = rd_varlen(&m); break;
		case 8: ev->u.gtid.transaction_length = rd_varlen(&m); break;
		case 9: ev->u.gtid.immediate_server_version = (uint32_t)rd_varlen(&m); break;
		case 10: ev->u.gtid.original_server_version = (uint32_t)rd_varlen(&m); break;
		case 11: (void)rd_varlen(&m); break;
		default: m.p = m.end; break; /* an unknown field ends what can be read */
		}
	}
	if (m.bad)
		return corrupt(err, offset, "GTID_TAGGED fields run past its end");
	if (!ev->u.gtid.original_commit_ts)
		ev->u.gtid.original_commit_ts = ev->u.gtid.immediate_commit_ts;
	return 0;
}

static int decode_maria_gtid(struct rd *r, struct barge_event *ev, uint64_t offset,
			     struct barge_err *err)
{
	ev->u.maria_gtid.seq_no = rd_le(r, 8);
	ev->u.maria_gtid.domain_id = (uint32_t)rd_le(r, 4);
	ev->u.maria_gtid.flags = (uint8_t)rd_le(r, 1);
	if (ev->u.maria_gtid.flags & 0x02 && rd_left(r) >= 8) /* FL_GROUP_COMMIT_ID */
		ev->u.maria_gtid.commit_id = rd_le(r, 8);
	if (r->bad)
		return corrupt(err, offset, "MARIADB_GTID event is too short");
	return 0;
}

/* Decode MariaDB's compressed form: a header byte (0x80 | length bytes), the big-endian
 * uncompressed length, then zlib data.  The result goes to b->scratch. */
static int maria_uncompress(struct barge_binlog *b, const uint8_t *p, size_t len,
			    uint64_t offset, const uint8_t **out, size_t *out_len,
			    struct barge_err *err)
{
	size_t nlen, ulen = 0;
	uLongf dest_len;
	int zrc;

	if (len < 1 || !(p[0] & 0x80) || (nlen = p[0] & 7) < 1 || nlen > 4 || len < 1 + nlen)
		return corrupt(err, offset, "bad compressed-event header");
	for (size_t i = 0; i < nlen; i++)
		ulen = ulen << 8 | p[1 + i];
	if (ulen > b->max_event)
		return corrupt(err, offset, "compressed event claims %zu bytes, over the limit", ulen);
	barge_buf_reset(&b->scratch);
	if (barge_buf_reserve(&b->scratch, ulen + 1) != 0)
		return corrupt(err, offset, "compressed event too large");
	dest_len = (uLongf)ulen;
	zrc = uncompress((Bytef *)b->scratch.data, &dest_len, p + 1 + nlen, (uLong)(len - 1 - nlen));
	if (zrc != Z_OK || dest_len != ulen)
		return corrupt(err, offset, "zlib could not decompress the event (%d)", zrc);
	b->scratch.len = ulen;
	*out = (const uint8_t *)b->scratch.data;
	*out_len = ulen;
	return 0;
}

static int decode_table_map(struct barge_binlog *b, struct rd *r, struct barge_event *ev,
			    uint64_t offset, struct barge_err *err);

static int decode_rows(struct barge_binlog *b, struct rd *r, struct barge_event *ev,
		       uint64_t offset, struct barge_err *err)
{
	unsigned t = ev->type;
	uint8_t phl = post_header(b, t, (t >= 30 && t <= 32) || t == 39 ? 10 : 8);
	size_t id_len = phl == 6 ? 4 : 6;
	const uint8_t *p;
	size_t len;
	struct rd rr;
	size_t bitmap;

	ev->u.rows.table_id = rd_le(r, id_len);
	ev->u.rows.flags = (uint16_t)rd_le(r, 2);
	ev->u.rows.version = (t >= 20 && t <= 22) ? 0 : (t >= 23 && t <= 25) || (t >= 166 && t <= 168) ? 1 : 2;
	if (ev->u.rows.version == 2) {
		uint16_t extra = (uint16_t)rd_le(r, 2);

		if (extra < 2)
			return corrupt(err, offset, "rows event extra-data length %u", extra);
		ev->u.rows.extra = rd_take(r, extra - 2u);
		ev->u.rows.extra_len = extra - 2u;
	}
	if (r->bad)
		return corrupt(err, offset, "%s event is too short", barge_ev_name(t));
	p = r->p;
	len = rd_left(r);
	if (t >= 166 && t <= 171) {
		int rc = maria_uncompress(b, p, len, offset, &p, &len, err);

		if (rc)
			return rc;
		ev->u.rows.compressed = true;
	}
	rr = (struct rd){p, p + len, false};
	ev->u.rows.ncols = (size_t)rd_packed(&rr);
	if (ev->u.rows.ncols > BARGE_BINLOG_MAX_COLUMNS)
		return corrupt(err, offset, "rows event has %zu columns", ev->u.rows.ncols);
	bitmap = (ev->u.rows.ncols + 7) / 8;
	ev->u.rows.present = rd_take(&rr, bitmap);
	ev->u.rows.present_after = ev->u.rows.present;
	if (barge_ev_rows_kind(t) == 'u' && ev->u.rows.version > 0)
		ev->u.rows.present_after = rd_take(&rr, bitmap);
	if (rr.bad)
		return corrupt(err, offset, "%s event bitmaps run past its end", barge_ev_name(t));
	ev->u.rows.rows = rr.p;
	ev->u.rows.rows_len = rd_left(&rr);
	return 0;
}

static int decode_payload(struct rd *r, struct barge_event *ev, uint64_t offset,
			  struct barge_err *err)
{
	ev->u.payload.compression = 255;
	while (rd_left(r) > 0) {
		uint64_t field = rd_packed(r), flen, v = 0;
		const uint8_t *fp;

		if (field == 0) /* OTW_PAYLOAD_HEADER_END_MARK */
			break;
		flen = rd_packed(r);
		fp = rd_take(r, (size_t)flen);
		if (r->bad)
			break;
		if (!barge_packed_int(fp, (size_t)flen, &v) && flen)
			return corrupt(err, offset, "TRANSACTION_PAYLOAD field %llu is malformed",
				       (unsigned long long)field);
		switch (field) {
		case 1: ev->u.payload.payload_size = v; break;
		case 2: ev->u.payload.compression = (uint8_t)v; break;
		case 3: ev->u.payload.uncompressed_size = v; break;
		default: break;
		}
	}
	if (r->bad)
		return corrupt(err, offset, "TRANSACTION_PAYLOAD header runs past its end");
	ev->u.payload.payload = r->p;
	ev->u.payload.payload_len = rd_left(r);
	if (ev->u.payload.payload_size && ev->u.payload.payload_size != ev->u.payload.payload_len)
		return corrupt(err, offset, "TRANSACTION_PAYLOAD says %llu bytes, holds %zu",
			       (unsigned long long)ev->u.payload.payload_size,
			       ev->u.payload.payload_len);
	return 0;
}

int barge_binlog_payload(struct barge_binlog *b, const struct barge_event *ev,
			 const uint8_t **out, size_t *out_len, struct barge_err *err)
{
	ZSTD_DStream *ds;
	ZSTD_inBuffer in;
	size_t rc;
	bool done = false;

	if (ev->u.payload.compression == 255) {
		*out = ev->u.payload.payload;
		*out_len = ev->u.payload.payload_len;
		return 0;
	}
	if (ev->u.payload.compression != 0)
		return corrupt(err, ev->offset, "unknown payload compression %u",
			       ev->u.payload.compression);
	if (ev->u.payload.uncompressed_size > b->max_event)
		return corrupt(err, ev->offset, "the payload decompresses to %llu bytes, over the "
			       "limit", (unsigned long long)ev->u.payload.uncompressed_size);
	/* stream it: the frame need not state its size, and the size field may be absent */
	ds = ZSTD_createDStream();
	if (!ds)
		abort();
	ZSTD_initDStream(ds);
	barge_buf_reset(&b->scratch);
	in = (ZSTD_inBuffer){ev->u.payload.payload, ev->u.payload.payload_len, 0};
	while (!done) {
		ZSTD_outBuffer o;

		if (barge_buf_reserve(&b->scratch, 1 << 16) != 0) {
			ZSTD_freeDStream(ds);
			return corrupt(err, ev->offset, "the payload decompresses past the limit");
		}
		o = (ZSTD_outBuffer){b->scratch.data + b->scratch.len,
				     b->scratch.cap - b->scratch.len - 1, 0};
		rc = ZSTD_decompressStream(ds, &o, &in);
		b->scratch.len += o.pos;
		if (ZSTD_isError(rc)) {
			ZSTD_freeDStream(ds);
			return corrupt(err, ev->offset, "zstd: %s", ZSTD_getErrorName(rc));
		}
		if (b->scratch.len > b->max_event) {
			ZSTD_freeDStream(ds);
			return corrupt(err, ev->offset, "the payload decompresses past the limit");
		}
		if (rc == 0)
			done = true; /* the frame is complete */
		else if (in.pos == in.size && o.pos < o.size) {
			ZSTD_freeDStream(ds);
			return corrupt(err, ev->offset, "the payload's zstd frame is cut short");
		}
	}
	ZSTD_freeDStream(ds);
	*out = (const uint8_t *)b->scratch.data;
	*out_len = b->scratch.len;
	return 0;
}

int barge_binlog_payload_each(struct barge_binlog *b, const struct barge_event *ev,
			      barge_payload_event_fn fn, void *user, struct barge_err *err)
{
	const uint8_t *p;
	size_t n, o = 0;
	uint8_t *copy;
	int rc = barge_binlog_payload(b, ev, &p, &n, err);

	if (rc)
		return rc;
	/* the inner events are handed out from a copy: decoding them may reuse the scratch
	 * space the payload sits in */
	copy = barge_xmalloc(n ? n : 1);
	memcpy(copy, p, n);
	while (rc == 0 && o + BARGE_BINLOG_HEADER <= n) {
		size_t size = (size_t)copy[o + 9] | (size_t)copy[o + 10] << 8 |
			      (size_t)copy[o + 11] << 16 | (size_t)copy[o + 12] << 24;

		if (size < BARGE_BINLOG_HEADER || size > n - o) {
			rc = corrupt(err, ev->offset, "an inner event of %zu bytes does not fit its "
				     "payload", size);
			break;
		}
		rc = fn(user, copy + o, size, err);
		o += size;
	}
	free(copy);
	return rc;
}

int barge_binlog_decode(struct barge_binlog *b, const uint8_t *data, size_t len, uint64_t offset,
			bool inner, struct barge_event *ev, struct barge_err *err)
{
	size_t checksum_len = 0;
	struct rd r;
	int rc = 0;

	memset(ev, 0, sizeof *ev);
	ev->offset = offset;
	if (len < BARGE_BINLOG_HEADER)
		return corrupt(err, offset, "only %zu bytes, shorter than an event header", len);
	ev->timestamp = le32(data);
	ev->type = data[4];
	ev->server_id = le32(data + 5);
	ev->size = le32(data + 9);
	ev->log_pos = le32(data + 13);
	ev->flags = (uint16_t)(data[17] | data[18] << 8);
	if (ev->size != len)
		return corrupt(err, offset, "%s says it is %u bytes, %zu are there",
			       barge_ev_name(ev->type), ev->size, len);
	if (ev->size > b->max_event)
		return corrupt(err, offset, "%s of %u bytes is over the %zu-byte limit",
			       barge_ev_name(ev->type), ev->size, b->max_event);
	if (ev->type == BARGE_EV_FORMAT_DESCRIPTION) {
		rc = decode_fde(b, data + BARGE_BINLOG_HEADER, len - BARGE_BINLOG_HEADER, ev, offset,
				&checksum_len, err);
		if (rc)
			return rc;
		if (checksum_len && b->checksum_alg == 1 && b->verify_checksum &&
		    !crc_ok(data, len, true))
			return corrupt(err, offset, "FORMAT_DESCRIPTION fails its CRC32 check");
	} else if (!inner && b->have_fde && b->checksum_alg == 1) {
		checksum_len = 4;
		if (len < BARGE_BINLOG_HEADER + 4)
			return corrupt(err, offset, "%s has no room for its checksum",
				       barge_ev_name(ev->type));
		if (b->verify_checksum && !crc_ok(data, len, false))
			return corrupt(err, offset, "%s fails its CRC32 check (stored %08x, computed "
				       "%08x)", barge_ev_name(ev->type), le32(data + len - 4),
				       crc_of(data, len - 4));
	} else if (!inner && !b->have_fde && len >= BARGE_BINLOG_HEADER + 4 &&
		   crc_of(data, len - 4) == le32(data + len - 4)) {
		/* before any FDE (a stream's first, artificial ROTATE): a checksum is there when
		 * the last four bytes are the CRC32 of the rest */
		checksum_len = 4;
	}
	ev->body = data + BARGE_BINLOG_HEADER;
	ev->body_len = len - BARGE_BINLOG_HEADER - checksum_len;
	if (ev->type == BARGE_EV_FORMAT_DESCRIPTION) {
		ev->body_len = len - BARGE_BINLOG_HEADER - (checksum_len ? 5 : 0);
		return 0;
	}
	r = (struct rd){ev->body, ev->body + ev->body_len, false};
	switch (ev->type) {
	case BARGE_EV_QUERY:
		return decode_query(b, &r, ev, offset, err);
	case BARGE_EV_MARIA_QUERY_COMPRESSED: {
		const uint8_t *q;
		size_t qlen;

		rc = decode_query(b, &r, ev, offset, err);
		if (rc == 0)
			rc = maria_uncompress(b, (const uint8_t *)ev->u.query.query,
					      ev->u.query.query_len, offset, &q, &qlen, err);
		if (rc == 0) {
			ev->u.query.query = (const char *)q;
			ev->u.query.query_len = qlen;
		}
		return rc;
	}
	case BARGE_EV_ROTATE:
		return decode_rotate(b, &r, ev, offset, err);
	case BARGE_EV_XID:
		ev->u.xid.xid = rd_le(&r, 8);
		return r.bad ? corrupt(err, offset, "XID event is too short") : 0;
	case BARGE_EV_GTID:
	case BARGE_EV_ANONYMOUS_GTID:
		return decode_gtid(&r, ev, offset, err);
	case BARGE_EV_GTID_TAGGED:
		return decode_gtid_tagged(&r, ev, offset, err);
	case BARGE_EV_PREVIOUS_GTIDS:
		ev->u.prev_gtids.data = r.p;
		ev->u.prev_gtids.len = rd_left(&r);
		return 0;
	case BARGE_EV_MARIA_GTID:
		return decode_maria_gtid(&r, ev, offset, err);
	case BARGE_EV_MARIA_GTID_LIST:
		ev->u.maria_gtid_list.count = (uint32_t)rd_le(&r, 4) & 0x0fffffffu;
		ev->u.maria_gtid_list.data = r.p;
		if (r.bad || rd_left(&r) / 16 < ev->u.maria_gtid_list.count)
			return corrupt(err, offset, "GTID_LIST holds fewer GTIDs than it says");
		return 0;
	case BARGE_EV_MARIA_BINLOG_CHECKPOINT: {
		uint32_t n = (uint32_t)rd_le(&r, 4);

		ev->u.checkpoint.name = (const char *)rd_take(&r, n);
		ev->u.checkpoint.len = n;
		return r.bad ? corrupt(err, offset, "BINLOG_CHECKPOINT is too short") : 0;
	}
	case BARGE_EV_MARIA_ANNOTATE_ROWS:
		ev->u.annotate.text = (const char *)r.p;
		ev->u.annotate.len = rd_left(&r);
		return 0;
	case BARGE_EV_ROWS_QUERY:
		rd_take(&r, 1); /* a length byte that long statements overflow: ignored */
		ev->u.annotate.text = (const char *)r.p;
		ev->u.annotate.len = rd_left(&r);
		return 0;
	case BARGE_EV_TABLE_MAP:
		return decode_table_map(b, &r, ev, offset, err);
	case BARGE_EV_TRANSACTION_PAYLOAD:
		return decode_payload(&r, ev, offset, err);
	case BARGE_EV_INTVAR:
		ev->u.intvar.type = (uint8_t)rd_le(&r, 1);
		ev->u.intvar.value = rd_le(&r, 8);
		return r.bad ? corrupt(err, offset, "INTVAR event is too short") : 0;
	case BARGE_EV_RAND:
		ev->u.rand.seed1 = rd_le(&r, 8);
		ev->u.rand.seed2 = rd_le(&r, 8);
		return r.bad ? corrupt(err, offset, "RAND event is too short") : 0;
	case BARGE_EV_USER_VAR: {
		uint32_t n = (uint32_t)rd_le(&r, 4);

		ev->u.user_var.name = (const char *)rd_take(&r, n);
		ev->u.user_var.name_len = n;
		ev->u.user_var.is_null = rd_le(&r, 1) != 0;
		if (!ev->u.user_var.is_null) {
			ev->u.user_var.type = (uint8_t)rd_le(&r, 1);
			ev->u.user_var.charset = (uint32_t)rd_le(&r, 4);
			n = (uint32_t)rd_le(&r, 4);
			ev->u.user_var.value = rd_take(&r, n);
			ev->u.user_var.value_len = n;
			if (rd_left(&r) > 0)
				ev->u.user_var.flags = (uint8_t)rd_le(&r, 1);
		}
		return r.bad ? corrupt(err, offset, "USER_VAR event is too short") : 0;
	}
	case BARGE_EV_HEARTBEAT:
		ev->u.heartbeat.log = (const char *)r.p;
		ev->u.heartbeat.log_len = rd_left(&r);
		ev->u.heartbeat.position = ev->log_pos;
		return 0;
	case BARGE_EV_HEARTBEAT_V2:
		/* fields: (type 1 byte, packed length, value): 0 end, 1 log file, 2 position */
		while (rd_left(&r) > 0) {
			uint8_t f = (uint8_t)rd_le(&r, 1);
			uint64_t n;
			const uint8_t *v;

			if (f == 0)
				break;
			if (f > 2)
				return corrupt(err, offset, "HEARTBEAT_V2 field type %u is not valid", f);
			n = rd_packed(&r);
			v = rd_take(&r, (size_t)n);
			if (f == 1) {
				ev->u.heartbeat.log = (const char *)v;
				ev->u.heartbeat.log_len = v ? (size_t)n : 0;
			} else if (f == 2 && v &&
				   barge_packed_int(v, (size_t)n, &ev->u.heartbeat.position) != n) {
				return corrupt(err, offset, "HEARTBEAT_V2 position is not a %llu-byte "
					       "length-encoded integer", (unsigned long long)n);
			}
		}
		return r.bad ? corrupt(err, offset, "HEARTBEAT_V2 fields run past its end") : 0;
	case BARGE_EV_INCIDENT: {
		uint8_t n;

		ev->u.incident.type = (uint16_t)rd_le(&r, 2);
		n = (uint8_t)rd_le(&r, 1);
		ev->u.incident.msg = (const char *)rd_take(&r, n);
		ev->u.incident.msg_len = n;
		return r.bad ? corrupt(err, offset, "INCIDENT event is too short") : 0;
	}
	default:
		if (barge_ev_is_rows(ev->type))
			return decode_rows(b, &r, ev, offset, err);
		return 0; /* STOP, XA_PREPARE, LOAD events...: header and body only */
	}
}

/* ---- table maps ---- */

/* The columns SIGNEDNESS has a bit for (YEAR included, as servers write it). */
static bool numeric_type(uint8_t t)
{
	return t == 0 || t == 1 || t == 2 || t == 3 || t == 4 || t == 5 || t == 8 || t == 9 ||
	       t == 13 || t == 246;
}

/* The columns the charset metadata lists: MariaDB counts GEOMETRY among them, MySQL not. */
static bool character_type(uint8_t t, bool mariadb)
{
	return t == 15 || t == 253 || t == 254 || t == 249 || t == 250 || t == 251 || t == 252 ||
	       (mariadb && t == 255);
}

/* Read the per-type metadata of column c from the metadata block. */
static void read_column_meta(struct rd *m, struct barge_tablemap_col *c)
{
	switch (c->type) {
	case 4: case 5: case 249: case 250: case 251: case 252: case 255: case 245: case 242:
		c->meta = (uint16_t)rd_le(m, 1);
		break;
	case 15: case 253:
		c->meta = (uint16_t)rd_le(m, 2);
		break;
	case 16: /* BIT: bits % 8, bytes */
	case 246: /* NEWDECIMAL: precision, scale */
		c->meta = (uint16_t)rd_le(m, 1);
		c->meta2 = (uint16_t)rd_le(m, 1);
		break;
	case 254: case 247: case 248: {
		uint8_t b0 = (uint8_t)rd_le(m, 1), b1 = (uint8_t)rd_le(m, 1);

		if ((b0 & 0x30) != 0x30) {
			/* long CHAR: the top bits of the length live in the type byte */
			c->meta = (uint16_t)(b1 | (((b0 & 0x30) ^ 0x30) << 4));
			c->type = (uint8_t)(b0 | 0x30);
		} else {
			c->type = b0;
			c->meta = b1;
		}
		break;
	}
	case 17: case 18: case 19:
		c->meta = (uint16_t)rd_le(m, 1);
		break;
	default:
		break;
	}
}

static int decode_table_map(struct barge_binlog *b, struct rd *r, struct barge_event *ev,
			    uint64_t offset, struct barge_err *err)
{
	uint8_t phl = post_header(b, BARGE_EV_TABLE_MAP, 8);
	struct barge_tablemap *m = barge_xcalloc(1, sizeof *m);
	const uint8_t *types, *nulls;
	struct rd mr, body;
	size_t n, db_len, tbl_len;
	uint64_t meta_len;
	const uint8_t *db, *tbl;

	/* own a copy of the body: names and optional metadata point into it */
	m->raw_len = rd_left(r);
	m->raw = barge_xmalloc(m->raw_len + 1);
	memcpy(m->raw, r->p, m->raw_len);
	body = (struct rd){m->raw, m->raw + m->raw_len, false};
	m->table_id = rd_le(&body, phl == 6 ? 4 : 6);
	m->flags = (uint16_t)rd_le(&body, 2);
	db_len = (size_t)rd_le(&body, 1);
	db = rd_take(&body, db_len + 1);
	tbl_len = (size_t)rd_le(&body, 1);
	tbl = rd_take(&body, tbl_len + 1);
	n = (size_t)rd_packed(&body);
	if (body.bad || n > BARGE_BINLOG_MAX_COLUMNS) {
		map_free(m);
		return corrupt(err, offset, "TABLE_MAP header is malformed");
	}
	m->schema = barge_xstrndup((const char *)db, db_len);
	m->table = barge_xstrndup((const char *)tbl, tbl_len);
	m->ncols = n;
	m->cols = barge_xcalloc(n + 1, sizeof *m->cols);
	types = rd_take(&body, n);
	meta_len = rd_packed(&body);
	mr.p = rd_take(&body, (size_t)meta_len);
	mr.end = mr.p ? mr.p + meta_len : NULL;
	mr.bad = mr.p == NULL;
	nulls = rd_take(&body, (n + 7) / 8);
	if (body.bad) {
		int rc = corrupt(err, offset, "TABLE_MAP of %s.%s runs past its end", m->schema,
				 m->table);

		map_free(m);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		struct barge_tablemap_col *c = &m->cols[i];

		c->type = types[i];
		c->nullable = (nulls[i / 8] >> (i % 8)) & 1;
		c->is_unsigned = -1;
		c->charset = -1;
		c->visible = -1;
		read_column_meta(&mr, c);
	}
	if (mr.bad) {
		map_free(m);
		return corrupt(err, offset, "TABLE_MAP column metadata runs past its end");
	}
	/* optional metadata: (type, packed length, value) until the end */
	while (rd_left(&body) > 0) {
		uint8_t type = (uint8_t)rd_le(&body, 1);
		uint64_t len = rd_packed(&body);
		const uint8_t *v = rd_take(&body, (size_t)len);
		struct rd o;
		size_t k = 0;

		if (!v)
			break;
		o = (struct rd){v, v + len, false};
		switch (type) {
		case 1: /* SIGNEDNESS: one bit per numeric column, most significant first */
			m->has_signedness = true;
			for (size_t i = 0; i < n; i++) {
				if (!numeric_type(m->cols[i].type))
					continue;
				if (k / 8 < len)
					m->cols[i].is_unsigned = (v[k / 8] >> (7 - k % 8)) & 1;
				k++;
			}
			break;
		case 2: /* DEFAULT_CHARSET: default, then (index among character columns, id) */
		case 10: {
			uint64_t def = rd_packed(&o);
			bool enum_set = type == 10;

			for (size_t i = 0; i < n; i++) {
				bool is_es = m->cols[i].type == 247 || m->cols[i].type == 248;

				if (enum_set ? is_es : (character_type(m->cols[i].type, b->mariadb) && !is_es))
					m->cols[i].charset = (int16_t)def;
			}
			while (rd_left(&o) > 0) {
				uint64_t idx = rd_packed(&o), cs = rd_packed(&o);

				k = 0;
				for (size_t i = 0; i < n && !o.bad; i++) {
					bool is_es = m->cols[i].type == 247 || m->cols[i].type == 248;

					if (!(enum_set ? is_es : (character_type(m->cols[i].type, b->mariadb) && !is_es)))
						continue;
					if (k++ == idx)
						m->cols[i].charset = (int16_t)cs;
				}
			}
			break;
		}
		case 3: /* COLUMN_CHARSET: one id per character column */
		case 11:
			for (size_t i = 0; i < n && rd_left(&o) > 0; i++) {
				bool is_es = m->cols[i].type == 247 || m->cols[i].type == 248;

				if (type == 11 ? is_es : (character_type(m->cols[i].type, b->mariadb) && !is_es))
					m->cols[i].charset = (int16_t)rd_packed(&o);
			}
			break;
		case 4: /* COLUMN_NAME */
			m->has_names = true;
			for (size_t i = 0; i < n && rd_left(&o) > 0; i++) {
				uint64_t l = rd_packed(&o);

				m->cols[i].name = rd_take(&o, (size_t)l);
				m->cols[i].name_len = m->cols[i].name ? (size_t)l : 0;
			}
			break;
		case 5: /* SET_STR_VALUE */
		case 6: /* ENUM_STR_VALUE */
			for (size_t i = 0; i < n && rd_left(&o) > 0; i++) {
				uint8_t want = type == 5 ? 248 : 247;
				const uint8_t *start;
				uint64_t count;

				if (m->cols[i].type != want)
					continue;
				start = o.p;
				count = rd_packed(&o);
				for (uint64_t j = 0; j < count && !o.bad; j++)
					rd_take(&o, (size_t)rd_packed(&o));
				if (o.bad)
					break;
				m->cols[i].enum_str = start;
				m->cols[i].enum_len = (size_t)(o.p - start);
				m->cols[i].n_enum = (uint32_t)count;
			}
			break;
		case 7: /* GEOMETRY_TYPE */
			for (size_t i = 0; i < n && rd_left(&o) > 0; i++)
				if (m->cols[i].type == 255)
					m->cols[i].geometry_type = (uint8_t)rd_packed(&o);
			break;
		case 8: /* SIMPLE_PRIMARY_KEY */
			while (rd_left(&o) > 0) {
				uint64_t idx = rd_packed(&o);

				if (idx < n)
					m->cols[idx].in_primary_key = true;
			}
			break;
		case 9: /* PRIMARY_KEY_WITH_PREFIX */
			while (rd_left(&o) > 0) {
				uint64_t idx = rd_packed(&o);

				(void)rd_packed(&o);
				if (idx < n)
					m->cols[idx].in_primary_key = true;
			}
			break;
		case 12: /* COLUMN_VISIBILITY */
			for (size_t i = 0; i < n; i++)
				if (i / 8 < len)
					m->cols[i].visible = (v[i / 8] >> (7 - i % 8)) & 1;
			break;
		case 13: /* VECTOR_DIMENSIONALITY */
			for (size_t i = 0; i < n && rd_left(&o) > 0; i++)
				if (m->cols[i].type == 242)
					m->cols[i].vector_dims = (uint32_t)rd_packed(&o);
			break;
		default:
			break; /* unknown kinds are skipped whole */
		}
	}
	ev->u.table_map.map = m;
	map_store(b, m);
	return 0;
}

/* ---- GTID sets ---- */

static void uuid_text(const uint8_t *sid, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[sid[i] >> 4];
		out[o++] = hex[sid[i] & 15];
	}
	out[o] = '\0';
}

int barge_prev_gtids_text(const struct barge_event *ev, struct barge_buf *out,
			  struct barge_err *err)
{
	struct rd r = {ev->u.prev_gtids.data, ev->u.prev_gtids.data + ev->u.prev_gtids.len, false};
	uint64_t word = rd_le(&r, 8);
	/* MySQL 8.3+: (format << 56) | (count << 8) | format, format 1 being tagged */
	bool tagged = (word >> 56) == 1 && (word & 0xff) == 1;
	uint64_t n_sids = tagged ? (word >> 8) & 0xffffffffffffull : word;

	if (r.bad || n_sids > rd_left(&r) / 16 + 1)
		return corrupt(err, ev->offset, "PREVIOUS_GTIDS holds fewer sids than it says");
	for (uint64_t i = 0; i < n_sids && !r.bad; i++) {
		const uint8_t *sid = rd_take(&r, 16);
		const uint8_t *tag = NULL;
		uint64_t tag_len = 0, n_iv;
		char uuid[37];

		if (tagged) {
			tag_len = rd_varlen(&r);
			tag = rd_take(&r, (size_t)tag_len);
		}
		n_iv = rd_le(&r, 8);
		if (r.bad || n_iv > rd_left(&r) / 16)
			break;
		uuid_text(sid, uuid);
		barge_buf_appendf(out, "%s%s", i ? "," : "", uuid);
		if (tag_len)
			barge_buf_appendf(out, ":%.*s", (int)tag_len, (const char *)tag);
		for (uint64_t k = 0; k < n_iv; k++) {
			int64_t s = (int64_t)rd_le(&r, 8), e = (int64_t)rd_le(&r, 8);

			/* intervals are half-open [s, e) */
			if (e - 1 == s)
				barge_buf_appendf(out, ":%lld", (long long)s);
			else
				barge_buf_appendf(out, ":%lld-%lld", (long long)s, (long long)(e - 1));
		}
	}
	if (r.bad)
		return corrupt(err, ev->offset, "PREVIOUS_GTIDS runs past its end");
	return 0;
}

int barge_maria_gtid_list_text(const struct barge_event *ev, struct barge_buf *out)
{
	const uint8_t *p = ev->u.maria_gtid_list.data;

	for (uint32_t i = 0; i < ev->u.maria_gtid_list.count; i++, p += 16) {
		uint64_t seq = 0;

		for (int k = 7; k >= 0; k--)
			seq = seq << 8 | p[8 + k];
		barge_buf_appendf(out, "%s%u-%u-%llu", i ? "," : "", le32(p), le32(p + 4),
				  (unsigned long long)seq);
	}
	return 0;
}

void barge_gtid_text(const struct barge_event *ev, char *out, size_t n)
{
	char uuid[37];

	if (ev->type == BARGE_EV_MARIA_GTID) {
		snprintf(out, n, "%u-%u-%llu", ev->u.maria_gtid.domain_id, ev->server_id,
			 (unsigned long long)ev->u.maria_gtid.seq_no);
		return;
	}
	uuid_text(ev->u.gtid.sid, uuid);
	if (ev->u.gtid.tag_len)
		snprintf(out, n, "%s:%.*s:%lld", uuid, (int)ev->u.gtid.tag_len, ev->u.gtid.tag,
			 (long long)ev->u.gtid.gno);
	else
		snprintf(out, n, "%s:%lld", uuid, (long long)ev->u.gtid.gno);
}

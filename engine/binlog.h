/*
 * binlog.h — decoding MySQL and MariaDB binary log events, independent of where they come from.
 *
 * A struct barge_binlog holds what decoding needs to remember between events: the format
 * description (checksum algorithm, post-header lengths, server version), the table maps by table
 * id, and the current file and position.  barge_binlog_decode() takes one complete event (from
 * a file, from a replication stream, or from inside a transaction payload) and fills a struct
 * barge_event whose fields point into the caller's bytes: nothing is copied or allocated per
 * event except table maps and decompressed payloads.
 *
 * Row events are walked with barge_rows_begin()/barge_rows_next(), which fill caller-owned
 * arrays of struct barge_value (see rowimage.h) without allocating.
 *
 * Every length read from the input is checked against the bytes that are there: a truncated,
 * corrupt or oversized event is a BARGE_EBINLOG_CORRUPT error naming the offset and what was
 * wrong, never a crash or a read out of bounds.  See docs/binlog.md for the coverage.
 */
#ifndef BARGE_ENGINE_BINLOG_H
#define BARGE_ENGINE_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/error.h"

#define BARGE_BINLOG_HEADER 19
#define BARGE_BINLOG_MAGIC "\xfe" "bin"
#define BARGE_BINLOG_MAX_EVENT (1024u * 1024u * 1024u) /* larger events are refused */
#define BARGE_BINLOG_MAX_COLUMNS 4096

/* Event types (MySQL's numbering; MariaDB's from 160). */
enum barge_ev {
	BARGE_EV_UNKNOWN = 0,
	BARGE_EV_START_V3 = 1,
	BARGE_EV_QUERY = 2,
	BARGE_EV_STOP = 3,
	BARGE_EV_ROTATE = 4,
	BARGE_EV_INTVAR = 5,
	BARGE_EV_LOAD = 6,
	BARGE_EV_SLAVE = 7,
	BARGE_EV_CREATE_FILE = 8,
	BARGE_EV_APPEND_BLOCK = 9,
	BARGE_EV_EXEC_LOAD = 10,
	BARGE_EV_DELETE_FILE = 11,
	BARGE_EV_NEW_LOAD = 12,
	BARGE_EV_RAND = 13,
	BARGE_EV_USER_VAR = 14,
	BARGE_EV_FORMAT_DESCRIPTION = 15,
	BARGE_EV_XID = 16,
	BARGE_EV_BEGIN_LOAD_QUERY = 17,
	BARGE_EV_EXECUTE_LOAD_QUERY = 18,
	BARGE_EV_TABLE_MAP = 19,
	BARGE_EV_PRE_GA_WRITE_ROWS = 20,
	BARGE_EV_PRE_GA_UPDATE_ROWS = 21,
	BARGE_EV_PRE_GA_DELETE_ROWS = 22,
	BARGE_EV_WRITE_ROWS_V1 = 23,
	BARGE_EV_UPDATE_ROWS_V1 = 24,
	BARGE_EV_DELETE_ROWS_V1 = 25,
	BARGE_EV_INCIDENT = 26,
	BARGE_EV_HEARTBEAT = 27,
	BARGE_EV_IGNORABLE = 28,
	BARGE_EV_ROWS_QUERY = 29,
	BARGE_EV_WRITE_ROWS = 30,
	BARGE_EV_UPDATE_ROWS = 31,
	BARGE_EV_DELETE_ROWS = 32,
	BARGE_EV_GTID = 33,
	BARGE_EV_ANONYMOUS_GTID = 34,
	BARGE_EV_PREVIOUS_GTIDS = 35,
	BARGE_EV_TRANSACTION_CONTEXT = 36,
	BARGE_EV_VIEW_CHANGE = 37,
	BARGE_EV_XA_PREPARE = 38,
	BARGE_EV_PARTIAL_UPDATE_ROWS = 39,
	BARGE_EV_TRANSACTION_PAYLOAD = 40,
	BARGE_EV_HEARTBEAT_V2 = 41,
	BARGE_EV_GTID_TAGGED = 42,
	BARGE_EV_MARIA_ANNOTATE_ROWS = 160,
	BARGE_EV_MARIA_BINLOG_CHECKPOINT = 161,
	BARGE_EV_MARIA_GTID = 162,
	BARGE_EV_MARIA_GTID_LIST = 163,
	BARGE_EV_MARIA_START_ENCRYPTION = 164,
	BARGE_EV_MARIA_QUERY_COMPRESSED = 165,
	BARGE_EV_MARIA_WRITE_ROWS_COMPRESSED_V1 = 166,
	BARGE_EV_MARIA_UPDATE_ROWS_COMPRESSED_V1 = 167,
	BARGE_EV_MARIA_DELETE_ROWS_COMPRESSED_V1 = 168,
	BARGE_EV_MARIA_WRITE_ROWS_COMPRESSED = 169,
	BARGE_EV_MARIA_UPDATE_ROWS_COMPRESSED = 170,
	BARGE_EV_MARIA_DELETE_ROWS_COMPRESSED = 171,
};

/* Event header flags. */
#define BARGE_LOG_EVENT_BINLOG_IN_USE 0x0001
#define BARGE_LOG_EVENT_IGNORABLE 0x0080

/* The name of an event type ("WRITE_ROWS_V2"); "UNKNOWN(n)" style names are not returned. */
const char *barge_ev_name(unsigned type);

/* Optional metadata of a table map, where the server wrote it (binlog_row_metadata). */
struct barge_tablemap_col {
	uint8_t type;       /* binlog column type (the real type for ENUM/SET shown as STRING) */
	uint16_t meta;      /* the column's metadata, decoded to one number where possible */
	uint16_t meta2;     /* second metadata byte (precision/scale for decimals: meta/meta2) */
	bool nullable;
	int8_t is_unsigned; /* -1 unknown, 0 signed, 1 unsigned (SIGNEDNESS) */
	int16_t charset;    /* collation id, -1 unknown */
	int8_t visible;     /* -1 unknown */
	uint8_t geometry_type;
	uint32_t vector_dims;
	bool in_primary_key;
	const uint8_t *name; size_t name_len;    /* COLUMN_NAME, NULL when absent */
	const uint8_t *enum_str; size_t enum_len; /* ENUM/SET values: packed strings, or NULL */
	uint32_t n_enum;
};

struct barge_tablemap {
	uint64_t table_id;
	uint16_t flags;
	char *schema, *table;
	size_t ncols;
	struct barge_tablemap_col *cols;
	uint8_t *raw;       /* the event body, owned: names and metadata point into it */
	size_t raw_len;
	bool has_names, has_signedness;
};

struct barge_gtid_interval { int64_t start, end; };

struct barge_event {
	uint32_t timestamp;
	uint8_t type;
	uint32_t server_id;
	uint32_t size;    /* the whole event, header and checksum included */
	uint32_t log_pos; /* the end of this event in the file (0 inside payloads) */
	uint16_t flags;
	const uint8_t *body; /* after the header, without the checksum */
	size_t body_len;
	uint64_t offset;  /* where the event starts in its file or stream */

	union {
		struct {
			uint64_t position;
			const char *name; size_t name_len; /* not NUL-terminated */
		} rotate;
		struct {
			uint32_t thread_id, exec_time;
			uint16_t error_code;
			const char *db; size_t db_len;
			const char *query; size_t query_len;
			/* status variables */
			bool has_sql_mode; uint64_t sql_mode;
			bool has_charset; uint16_t charset_client, collation_connection, collation_server;
			const char *time_zone; size_t time_zone_len;
			const char *catalog; size_t catalog_len;
			bool has_default_collation; uint16_t default_collation;
			uint32_t flags2;
		} query;
		struct { uint64_t xid; } xid;
		struct {
			uint8_t flags;
			uint8_t sid[16];
			int64_t gno;
			const char *tag; size_t tag_len; /* tagged GTIDs (MySQL 8.4+) */
			uint8_t lt_type;
			int64_t last_committed, sequence_number;
			uint64_t immediate_commit_ts, original_commit_ts; /* microseconds; 0 unknown */
			uint64_t transaction_length;
			uint32_t immediate_server_version, original_server_version;
		} gtid;
		struct { /* PREVIOUS_GTIDS: walk with barge_prev_gtids_text */
			const uint8_t *data; size_t len;
		} prev_gtids;
		struct {
			uint64_t seq_no;
			uint32_t domain_id;
			uint8_t flags;
			uint64_t commit_id;
		} maria_gtid;
		struct {
			uint32_t count;
			const uint8_t *data; /* count × (domain 4, server 4, seq 8) */
		} maria_gtid_list;
		struct { const char *name; size_t len; } checkpoint;
		struct { const char *text; size_t len; } annotate; /* ANNOTATE_ROWS, ROWS_QUERY */
		struct { const struct barge_tablemap *map; } table_map;
		struct {
			uint64_t table_id;
			uint16_t flags;
			uint8_t version;          /* 0, 1 or 2 */
			bool compressed;          /* MariaDB: the rows part was zlib-compressed */
			const uint8_t *extra; size_t extra_len; /* v2 extra row data */
			const uint8_t *rows; size_t rows_len;   /* the row images (decompressed) */
			size_t ncols;
			const uint8_t *present, *present_after; /* column bitmaps */
		} rows;
		struct {
			uint64_t payload_size, uncompressed_size;
			uint8_t compression; /* 0 zstd, 255 none */
			const uint8_t *payload; size_t payload_len;
		} payload;
		struct { uint8_t type; uint64_t value; } intvar;
		struct { uint64_t seed1, seed2; } rand;
		struct {
			const char *name; size_t name_len;
			bool is_null;
			uint8_t type; uint32_t charset;
			const uint8_t *value; size_t value_len;
			uint8_t flags;
		} user_var;
		struct { const char *log; size_t log_len; uint64_t position; } heartbeat;
		struct { uint16_t type; const char *msg; size_t msg_len; } incident;
		struct {
			uint16_t binlog_version;
			char server_version[51];
			uint32_t created;
			uint8_t checksum_alg;
		} fde;
	} u;
};

struct barge_binlog {
	/* format description */
	uint16_t binlog_version;
	char server_version[51];
	uint8_t header_len;
	uint8_t post_header[256]; /* by event type; 0 = unknown */
	uint8_t checksum_alg;     /* 0 none, 1 CRC32, 0xff undefined */
	bool mariadb;
	bool have_fde;
	bool verify_checksum;     /* default true */
	/* table maps */
	struct barge_tablemap **maps;
	size_t n_maps, cap_maps;
	/* where we are */
	char file[256];
	uint64_t next_pos;
	/* scratch space for decompression (reused; capped) */
	struct barge_buf scratch;
	size_t max_event;
};

void barge_binlog_init(struct barge_binlog *b);
void barge_binlog_dispose(struct barge_binlog *b);

/*
 * Decode one event of len bytes at data (header, body and checksum).  offset is where it starts
 * (for messages).  inner: the event comes from a transaction payload (no checksum).  Returns 0,
 * or BARGE_EBINLOG_CORRUPT with a message naming the offset and the problem.  ev's pointers
 * point into data (or into b's scratch space for decompressed parts, valid until the next
 * call).
 */
int barge_binlog_decode(struct barge_binlog *b, const uint8_t *data, size_t len, uint64_t offset,
			bool inner, struct barge_event *ev, struct barge_err *err);

/* The table map for an id, or NULL. */
const struct barge_tablemap *barge_binlog_map(const struct barge_binlog *b, uint64_t table_id);

/*
 * Decompress a TRANSACTION_PAYLOAD event's events into *out (b's scratch; valid until the next
 * decode).  Returns 0 or BARGE_EBINLOG_CORRUPT.
 */
int barge_binlog_payload(struct barge_binlog *b, const struct barge_event *ev,
			 const uint8_t **out, size_t *out_len, struct barge_err *err);

/*
 * Call fn for every event inside a TRANSACTION_PAYLOAD event (decompressed; decode them with
 * inner set).  Stops at the first non-zero return.  BARGE_EBINLOG_CORRUPT for an inner event
 * that does not fit the payload.
 */
typedef int (*barge_payload_event_fn)(void *user, const uint8_t *data, size_t len,
				      struct barge_err *err);
int barge_binlog_payload_each(struct barge_binlog *b, const struct barge_event *ev,
			      barge_payload_event_fn fn, void *user, struct barge_err *err);

/* PREVIOUS_GTIDS / GTID_LIST as text ("uuid:1-13,uuid:tag:1-2" / "0-1-100,1-2-5"). */
int barge_prev_gtids_text(const struct barge_event *ev, struct barge_buf *out,
			  struct barge_err *err);
int barge_maria_gtid_list_text(const struct barge_event *ev, struct barge_buf *out);
/* A GTID as text: "uuid:gno", "uuid:tag:gno", or MariaDB "domain-server-seq". */
void barge_gtid_text(const struct barge_event *ev, char *out, size_t n);

/* Whether an event type is a rows event (write/update/delete, any version). */
bool barge_ev_is_rows(unsigned type);
/* 'i', 'u' or 'd' for a rows event type; 0 otherwise. */
char barge_ev_rows_kind(unsigned type);

/* Read a length-encoded integer; returns bytes used, 0 when it does not fit. */
size_t barge_packed_int(const uint8_t *p, size_t avail, uint64_t *out);

#endif

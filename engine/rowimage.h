/*
 * rowimage.h — the rows of a row event as typed values, and those values written back as SQL.
 *
 * barge_rows_begin()/barge_rows_next() walk a decoded rows event (binlog.h) and fill
 * caller-owned arrays of struct barge_value, one per column of the table map, without
 * allocating: strings, blobs, decimals and JSON point into the event's bytes.
 *
 * barge_value_append_sql() writes a value as a SQL literal that stores exactly the same value
 * back: integers of every width and sign, DECIMAL digits, FLOAT and DOUBLE with enough digits
 * to round-trip, BIT / ENUM / SET as their numbers, dates and times with their fraction and
 * sign, TIMESTAMP in UTC (barge's sessions run with time_zone '+00:00'), strings as hex with
 * their character set's introducer, blobs and geometry as hex, MySQL's binary JSON as its text.
 * barge_value_append_text() writes the same values for people (barge binlog decode).
 */
#ifndef BARGE_ENGINE_ROWIMAGE_H
#define BARGE_ENGINE_ROWIMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/binlog.h"
#include "engine/buf.h"

enum barge_vkind {
	BARGE_V_ABSENT,   /* not in this image (minimal/noblob images) */
	BARGE_V_NULL,
	BARGE_V_INT,      /* i, sign-extended; width bytes; unsigned per column */
	BARGE_V_FLOAT,
	BARGE_V_DOUBLE,
	BARGE_V_DECIMAL,  /* s: binary decimal of precision/scale */
	BARGE_V_YEAR,     /* i */
	BARGE_V_DATE,     /* t */
	BARGE_V_TIME,     /* t: neg, hours, minute, second, usec */
	BARGE_V_DATETIME, /* t */
	BARGE_V_TIMESTAMP,/* i: seconds since the epoch; t.usec */
	BARGE_V_STRING,   /* s: bytes in the column's character set (or binary) */
	BARGE_V_BIT,      /* u; width = bits */
	BARGE_V_ENUM,     /* u: 1-based index (0 = the empty error value) */
	BARGE_V_SET,      /* u: bit mask */
	BARGE_V_JSON,     /* s: MySQL's binary JSON (MariaDB's JSON is a STRING) */
	BARGE_V_JSON_DIFF,/* s: a partial update's list of changes (PARTIAL_UPDATE_ROWS) */
	BARGE_V_GEOMETRY, /* s: SRID + WKB */
	BARGE_V_VECTOR,   /* s: little-endian floats */
};

struct barge_value {
	uint8_t kind;
	uint8_t type;        /* binlog column type */
	uint8_t width;       /* INT: bytes; BIT: bits */
	uint8_t fsp;         /* fractional digits of temporal values */
	uint8_t precision, scale; /* DECIMAL */
	bool blob;           /* STRING from a BLOB/TEXT column */
	union {
		int64_t i;
		uint64_t u;
		double d;
		float f;
	} n;
	struct {
		int32_t year;
		uint32_t hours; /* TIME: may exceed 23 */
		uint8_t month, day, hour, minute, second;
		bool neg;
		uint32_t usec;
	} t;
	const uint8_t *p;    /* STRING, DECIMAL, JSON, GEOMETRY, VECTOR */
	size_t len;
};

struct barge_rows {
	const struct barge_event *ev;
	const struct barge_tablemap *map;
	const uint8_t *p, *end;
	char kind;           /* 'i', 'u', 'd' */
	bool partial;        /* PARTIAL_UPDATE_ROWS */
	size_t ncols;
	uint64_t offset;
};

/* Start walking ev's rows.  BARGE_EBINLOG_CORRUPT when no table map was seen for its id. */
int barge_rows_begin(const struct barge_binlog *b, const struct barge_event *ev,
		     struct barge_rows *it, struct barge_err *err);

/*
 * The next row: for inserts *after*, for deletes *before*, for updates both (each an array of
 * it->ncols values, caller-owned).  Returns 1 for a row, 0 at the end, or an error.
 */
int barge_rows_next(struct barge_rows *it, struct barge_value *before, struct barge_value *after,
		    struct barge_err *err);

/*
 * Decode one value of a column (type, meta, meta2 as in struct barge_tablemap_col) from
 * p[0..avail).  Returns the bytes used, or 0 when the value does not fit.
 */
size_t barge_value_decode(uint8_t type, uint16_t meta, uint16_t meta2, const uint8_t *p,
			  size_t avail, struct barge_value *v);

/* Flags for barge_value_append_sql. */
enum {
	BARGE_SQL_UNSIGNED = 1,  /* the column is unsigned (integers) */
	BARGE_SQL_JSON_TEXT = 2, /* write JSON as a plain string (MariaDB's JSON is LONGTEXT) */
};

/*
 * Append v as a SQL literal.  flags: BARGE_SQL_*.  charset: the column's character set name
 * for strings ("utf8mb4", "latin1"...), or NULL for binary columns and unknown ones (the bytes
 * then go in as they are).
 */
int barge_value_append_sql(struct barge_buf *b, const struct barge_value *v, unsigned flags,
			   const char *charset);

/* Append v for people: numbers bare, strings quoted with non-printing bytes escaped. */
int barge_value_append_text(struct barge_buf *b, const struct barge_value *v, bool is_unsigned);

/* DECIMAL binary of precision/scale as text; returns bytes used (0 when it does not fit). */
size_t barge_decimal_text(const uint8_t *p, size_t avail, unsigned precision, unsigned scale,
			  struct barge_buf *out);
/* The bytes a DECIMAL(precision, scale) takes. */
size_t barge_decimal_size(unsigned precision, unsigned scale);

/* MySQL's binary JSON as the text MySQL prints.  0 or BARGE_EBINLOG_CORRUPT. */
int barge_jsonb_text(const uint8_t *p, size_t len, struct barge_buf *out, struct barge_err *err);

/*
 * A partial JSON update as a SQL expression over the column: JSON_REPLACE / JSON_INSERT /
 * JSON_REMOVE applied in order to col_sql (the column's quoted name).
 */
int barge_json_diff_sql(const struct barge_value *v, const char *col_sql, struct barge_buf *out,
			struct barge_err *err);

#endif

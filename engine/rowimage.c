/*
 * rowimage.c — row images as typed values, and values as SQL and text (see rowimage.h).
 *
 * Every length comes from the input and is checked against what is left before it is used;
 * a value that does not fit makes barge_value_decode() return 0 and the row walk report the
 * offset.
 */
#include "engine/rowimage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- small readers ---- */

static uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- decimals ---- */

static const size_t dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

size_t barge_decimal_size(unsigned precision, unsigned scale)
{
	unsigned intg = precision > scale ? precision - scale : 0;

	return (intg / 9) * 4 + dig2bytes[intg % 9] + (scale / 9) * 4 + dig2bytes[scale % 9];
}

size_t barge_decimal_text(const uint8_t *p, size_t avail, unsigned precision, unsigned scale,
			  struct barge_buf *out)
{
	unsigned intg = precision > scale ? precision - scale : 0;
	size_t size = barge_decimal_size(precision, scale);
	uint8_t buf[40];
	bool neg, leading = true;
	size_t o = 0;
	char digits[100];
	size_t nd = 0, first_digit;

	if (precision == 0 || precision > 65 || scale > 30 || scale > precision || size > sizeof buf ||
	    size > avail)
		return 0;
	memcpy(buf, p, size);
	neg = !(buf[0] & 0x80);
	buf[0] ^= 0x80;
	if (neg)
		for (size_t i = 0; i < size; i++)
			buf[i] = (uint8_t)~buf[i];
	/* integer part: a leading partial group, then groups of nine digits */
	{
		unsigned head = intg % 9, groups = intg / 9;

		if (head) {
			uint64_t v = be(buf + o, dig2bytes[head]);

			o += dig2bytes[head];
			nd += (size_t)snprintf(digits + nd, sizeof digits - nd, "%0*llu", (int)head,
					      (unsigned long long)v % 1000000000ull);
		}
		for (unsigned g = 0; g < groups; g++) {
			uint64_t v = be(buf + o, 4);

			o += 4;
			nd += (size_t)snprintf(digits + nd, sizeof digits - nd, "%09llu",
					      (unsigned long long)v % 1000000000ull);
		}
	}
	if (neg)
		barge_buf_putc(out, '-');
	first_digit = 0;
	while (first_digit < nd && digits[first_digit] == '0')
		first_digit++;
	if (first_digit == nd)
		barge_buf_putc(out, '0');
	else
		barge_buf_append(out, digits + first_digit, nd - first_digit);
	(void)leading;
	if (scale) {
		unsigned groups = scale / 9, tail = scale % 9;

		barge_buf_putc(out, '.');
		for (unsigned g = 0; g < groups; g++) {
			uint64_t v = be(buf + o, 4);

			o += 4;
			barge_buf_appendf(out, "%09llu", (unsigned long long)v % 1000000000ull);
		}
		if (tail) {
			uint64_t v = be(buf + o, dig2bytes[tail]);

			o += dig2bytes[tail];
			barge_buf_appendf(out, "%0*llu", (int)tail, (unsigned long long)v);
		}
	}
	return size;
}

/* ---- temporal values ---- */

static size_t frac_bytes(unsigned fsp)
{
	return (fsp + 1) / 2;
}

/* The microseconds of a DATETIME2/TIMESTAMP2 fraction of fsp digits. */
static uint32_t frac_usec(const uint8_t *p, unsigned fsp)
{
	switch (frac_bytes(fsp)) {
	case 1: return (uint32_t)be(p, 1) * 10000u;
	case 2: return (uint32_t)be(p, 2) * 100u;
	case 3: return (uint32_t)be(p, 3);
	default: return 0;
	}
}

/* Unpack MySQL's packed TIME/DATETIME integer (used by TIME2 and JSON opaques). */
static void unpack_time(int64_t packed, struct barge_value *v, bool datetime)
{
	uint64_t u;
	uint64_t hms, ymd;

	v->t.neg = packed < 0;
	u = (uint64_t)(packed < 0 ? -packed : packed);
	v->t.usec = (uint32_t)(u % (1ull << 24));
	u >>= 24;
	hms = u & 0x1ffff;
	v->t.second = (uint8_t)(hms & 63);
	v->t.minute = (uint8_t)((hms >> 6) & 63);
	if (datetime) {
		v->t.hour = (uint8_t)(hms >> 12);
		ymd = u >> 17;
		v->t.day = (uint8_t)(ymd & 31);
		v->t.month = (uint8_t)((ymd >> 5) % 13);
		v->t.year = (int32_t)((ymd >> 5) / 13);
	} else {
		v->t.hours = (uint32_t)((u >> 12) % (1u << 10));
	}
}

static size_t decode_time2(const uint8_t *p, size_t avail, unsigned fsp, struct barge_value *v)
{
	size_t n = 3 + frac_bytes(fsp);
	int64_t intpart, packed;

	if (avail < n || fsp > 6)
		return 0;
	switch (frac_bytes(fsp)) {
	case 0:
		packed = ((int64_t)be(p, 3) - 0x800000) * (1ll << 24);
		break;
	case 1: {
		int frac = p[3];

		intpart = (int64_t)be(p, 3) - 0x800000;
		if (intpart < 0 && frac) {
			intpart++;
			frac -= 0x100;
		}
		packed = intpart * (1ll << 24) + frac * 10000;
		break;
	}
	case 2: {
		int frac = (int)be(p + 3, 2);

		intpart = (int64_t)be(p, 3) - 0x800000;
		if (intpart < 0 && frac) {
			intpart++;
			frac -= 0x10000;
		}
		packed = intpart * (1ll << 24) + frac * 100;
		break;
	}
	default:
		packed = (int64_t)be(p, 6) - 0x800000000000ll;
		break;
	}
	v->kind = BARGE_V_TIME;
	v->fsp = (uint8_t)fsp;
	unpack_time(packed, v, false);
	return n;
}

static size_t decode_datetime2(const uint8_t *p, size_t avail, unsigned fsp,
			       struct barge_value *v)
{
	size_t n = 5 + frac_bytes(fsp);
	int64_t intpart;
	uint64_t ymd, ym, hms;

	if (avail < n || fsp > 6)
		return 0;
	intpart = (int64_t)be(p, 5) - 0x8000000000ll;
	v->kind = BARGE_V_DATETIME;
	v->fsp = (uint8_t)fsp;
	v->t.neg = intpart < 0;
	if (intpart < 0)
		intpart = -intpart;
	ymd = (uint64_t)intpart >> 17;
	ym = ymd >> 5;
	hms = (uint64_t)intpart & 0x1ffff;
	v->t.day = (uint8_t)(ymd & 31);
	v->t.month = (uint8_t)(ym % 13);
	v->t.year = (int32_t)(ym / 13);
	v->t.second = (uint8_t)(hms & 63);
	v->t.minute = (uint8_t)((hms >> 6) & 63);
	v->t.hour = (uint8_t)(hms >> 12);
	v->t.usec = frac_usec(p + 5, fsp);
	return n;
}

/* ---- one value ---- */

static size_t string_value(const uint8_t *p, size_t avail, size_t prefix, struct barge_value *v)
{
	uint64_t len;

	if (avail < prefix)
		return 0;
	len = le(p, prefix);
	if (len > avail - prefix)
		return 0;
	v->p = p + prefix;
	v->len = (size_t)len;
	return prefix + (size_t)len;
}

size_t barge_value_decode(uint8_t type, uint16_t meta, uint16_t meta2, const uint8_t *p,
			  size_t avail, struct barge_value *v)
{
	size_t n;

	memset(v, 0, sizeof *v);
	v->type = type;
	switch (type) {
	case 1: case 2: case 9: case 3: case 8: { /* TINY SHORT INT24 LONG LONGLONG */
		size_t w = type == 1 ? 1 : type == 2 ? 2 : type == 9 ? 3 : type == 3 ? 4 : 8;
		uint64_t u;

		if (avail < w)
			return 0;
		u = le(p, w);
		/* sign-extend; the column's signedness decides how it is written */
		if (w < 8 && (u >> (8 * w - 1)) & 1)
			u |= ~0ull << (8 * w);
		v->kind = BARGE_V_INT;
		v->width = (uint8_t)w;
		v->n.i = (int64_t)u;
		return w;
	}
	case 4: { /* FLOAT */
		uint32_t bits;

		if (avail < 4)
			return 0;
		bits = (uint32_t)le(p, 4);
		memcpy(&v->n.f, &bits, 4);
		v->kind = BARGE_V_FLOAT;
		return 4;
	}
	case 5: { /* DOUBLE */
		uint64_t bits;

		if (avail < 8)
			return 0;
		bits = le(p, 8);
		memcpy(&v->n.d, &bits, 8);
		v->kind = BARGE_V_DOUBLE;
		return 8;
	}
	case 6: /* NULL type: no bytes */
		v->kind = BARGE_V_NULL;
		return 0;
	case 246: /* NEWDECIMAL */
		n = barge_decimal_size(meta, meta2);
		if (meta == 0 || meta > 65 || meta2 > 30 || meta2 > meta || avail < n)
			return 0;
		v->kind = BARGE_V_DECIMAL;
		v->precision = (uint8_t)meta;
		v->scale = (uint8_t)meta2;
		v->p = p;
		v->len = n;
		return n;
	case 13: /* YEAR */
		if (avail < 1)
			return 0;
		v->kind = BARGE_V_YEAR;
		v->n.i = p[0] ? 1900 + p[0] : 0;
		return 1;
	case 10: case 14: { /* DATE, NEWDATE */
		uint32_t d;

		if (avail < 3)
			return 0;
		d = (uint32_t)le(p, 3);
		v->kind = BARGE_V_DATE;
		v->t.day = (uint8_t)(d & 31);
		v->t.month = (uint8_t)((d >> 5) & 15);
		v->t.year = (int32_t)(d >> 9);
		return 3;
	}
	case 11: { /* TIME (old): HHMMSS as a signed 3-byte number */
		int32_t t;

		if (avail < 3)
			return 0;
		t = (int32_t)le(p, 3);
		if (t & 0x800000)
			t |= (int32_t)0xff000000u;
		v->kind = BARGE_V_TIME;
		v->t.neg = t < 0;
		if (t < 0)
			t = -t;
		v->t.hours = (uint32_t)(t / 10000);
		v->t.minute = (uint8_t)(t / 100 % 100);
		v->t.second = (uint8_t)(t % 100);
		return 3;
	}
	case 12: { /* DATETIME (old): YYYYMMDDHHMMSS */
		uint64_t d;

		if (avail < 8)
			return 0;
		d = le(p, 8);
		v->kind = BARGE_V_DATETIME;
		v->t.second = (uint8_t)(d % 100);
		v->t.minute = (uint8_t)(d / 100 % 100);
		v->t.hour = (uint8_t)(d / 10000 % 100);
		v->t.day = (uint8_t)(d / 1000000 % 100);
		v->t.month = (uint8_t)(d / 100000000 % 100);
		v->t.year = (int32_t)(d / 10000000000ull);
		return 8;
	}
	case 7: /* TIMESTAMP (old) */
		if (avail < 4)
			return 0;
		v->kind = BARGE_V_TIMESTAMP;
		v->n.i = (int64_t)le(p, 4);
		return 4;
	case 17: /* TIMESTAMP2 */
		n = 4 + frac_bytes(meta);
		if (avail < n || meta > 6)
			return 0;
		v->kind = BARGE_V_TIMESTAMP;
		v->fsp = (uint8_t)meta;
		v->n.i = (int64_t)be(p, 4);
		v->t.usec = frac_usec(p + 4, meta);
		return n;
	case 18: /* DATETIME2 */
		return decode_datetime2(p, avail, meta, v);
	case 19: /* TIME2 */
		return decode_time2(p, avail, meta, v);
	case 15: case 253: /* VARCHAR, VAR_STRING */
		v->kind = BARGE_V_STRING;
		return string_value(p, avail, meta < 256 ? 1 : 2, v);
	case 254: /* STRING (CHAR, BINARY) */
		v->kind = BARGE_V_STRING;
		return string_value(p, avail, meta < 256 ? 1 : 2, v);
	case 247: /* ENUM: 1 or 2 bytes */
		n = meta2 ? meta2 : meta;
		if (n != 1 && n != 2)
			n = meta > 255 ? 2 : (meta ? meta : 1);
		if (avail < n)
			return 0;
		v->kind = BARGE_V_ENUM;
		v->n.u = le(p, n);
		return n;
	case 248: /* SET: 1 to 8 bytes */
		n = meta;
		if (n < 1 || n > 8 || avail < n)
			return 0;
		v->kind = BARGE_V_SET;
		v->width = (uint8_t)(8 * n);
		v->n.u = le(p, n);
		return n;
	case 16: { /* BIT */
		size_t bytes = (size_t)meta2 + (meta ? 1 : 0);

		if (bytes > 8 || avail < bytes)
			return 0;
		v->kind = BARGE_V_BIT;
		v->width = (uint8_t)(meta2 * 8 + meta);
		v->n.u = be(p, bytes);
		return bytes;
	}
	case 249: case 250: case 251: case 252: /* blobs and texts: length in meta bytes */
		if (meta < 1 || meta > 4)
			return 0;
		v->kind = BARGE_V_STRING;
		v->blob = true;
		return string_value(p, avail, meta, v);
	case 245: /* JSON */
		if (meta < 1 || meta > 4)
			return 0;
		v->kind = BARGE_V_JSON;
		return string_value(p, avail, meta, v);
	case 255: /* GEOMETRY */
		if (meta < 1 || meta > 4)
			return 0;
		v->kind = BARGE_V_GEOMETRY;
		return string_value(p, avail, meta, v);
	case 242: /* VECTOR */
		if (meta < 1 || meta > 4)
			return 0;
		v->kind = BARGE_V_VECTOR;
		return string_value(p, avail, meta, v);
	default:
		return 0;
	}
}

/* ---- rows ---- */

int barge_rows_begin(const struct barge_binlog *b, const struct barge_event *ev,
		     struct barge_rows *it, struct barge_err *err)
{
	memset(it, 0, sizeof *it);
	it->map = barge_binlog_map(b, ev->u.rows.table_id);
	if (!it->map)
		return barge_err_set(err, BARGE_EBINLOG_CORRUPT,
				     "event at offset %llu: %s for table id %llu, which no TABLE_MAP "
				     "described",
				     (unsigned long long)ev->offset, barge_ev_name(ev->type),
				     (unsigned long long)ev->u.rows.table_id);
	if (ev->u.rows.ncols > it->map->ncols)
		return barge_err_set(err, BARGE_EBINLOG_CORRUPT,
				     "event at offset %llu: %zu columns in the rows, %zu in the table "
				     "map of %s.%s",
				     (unsigned long long)ev->offset, ev->u.rows.ncols, it->map->ncols,
				     it->map->schema, it->map->table);
	it->ev = ev;
	it->p = ev->u.rows.rows;
	it->end = ev->u.rows.rows + ev->u.rows.rows_len;
	it->kind = barge_ev_rows_kind(ev->type);
	it->partial = ev->type == BARGE_EV_PARTIAL_UPDATE_ROWS;
	it->ncols = ev->u.rows.ncols;
	it->offset = ev->offset;
	return 0;
}

static bool bit(const uint8_t *bits, size_t i)
{
	return (bits[i / 8] >> (i % 8)) & 1;
}

/* One image: null bitmap over the present columns, then their values. */
static int read_image(struct barge_rows *it, const uint8_t *present, bool after,
		      struct barge_value *vals, struct barge_err *err)
{
	const struct barge_tablemap *m = it->map;
	size_t n_present = 0, k = 0;
	const uint8_t *nulls;
	const uint8_t *partial_bits = NULL;
	size_t json_index = 0;

	for (size_t i = 0; i < it->ncols; i++)
		n_present += bit(present, i);
	if (after && it->partial) {
		uint64_t options = 0;
		size_t used = barge_packed_int(it->p, (size_t)(it->end - it->p), &options);

		if (!used)
			goto bad;
		it->p += used;
		if (options & 1) { /* PARTIAL_JSON_UPDATES: one bit per JSON column */
			size_t n_json = 0, nb;

			for (size_t i = 0; i < it->ncols; i++)
				n_json += bit(present, i) && m->cols[i].type == 245;
			nb = (n_json + 7) / 8;
			if ((size_t)(it->end - it->p) < nb)
				goto bad;
			partial_bits = it->p;
			it->p += nb;
		}
	}
	if ((size_t)(it->end - it->p) < (n_present + 7) / 8)
		goto bad;
	nulls = it->p;
	it->p += (n_present + 7) / 8;
	for (size_t i = 0; i < m->ncols; i++) {
		const struct barge_tablemap_col *c = &m->cols[i];
		size_t used;

		if (i >= it->ncols || !bit(present, i)) {
			memset(&vals[i], 0, sizeof vals[i]);
			vals[i].kind = BARGE_V_ABSENT;
			vals[i].type = c->type;
			continue;
		}
		if (bit(nulls, k++)) {
			memset(&vals[i], 0, sizeof vals[i]);
			vals[i].kind = BARGE_V_NULL;
			vals[i].type = c->type;
			if (c->type == 245)
				json_index++;
			continue;
		}
		used = barge_value_decode(c->type, c->meta, c->meta2, it->p, (size_t)(it->end - it->p),
					  &vals[i]);
		if (c->type == 245) {
			if (partial_bits && bit(partial_bits, json_index))
				vals[i].kind = BARGE_V_JSON_DIFF;
			json_index++;
		}
		if (!used && c->type != 6)
			return barge_err_set(err, BARGE_EBINLOG_CORRUPT,
					     "event at offset %llu: %s.%s column %zu (type %u) does not "
					     "fit in the row image at byte %zu",
					     (unsigned long long)it->offset, m->schema, m->table, i + 1,
					     c->type, (size_t)(it->p - it->ev->u.rows.rows));
		it->p += used;
	}
	return 0;
bad:
	return barge_err_set(err, BARGE_EBINLOG_CORRUPT,
			     "event at offset %llu: a row image of %s.%s runs past the event's end",
			     (unsigned long long)it->offset, m->schema, m->table);
}

int barge_rows_next(struct barge_rows *it, struct barge_value *before, struct barge_value *after,
		    struct barge_err *err)
{
	const uint8_t *start = it->p;
	int rc;

	if (it->p >= it->end)
		return 0;
	if (it->kind == 'i') {
		rc = read_image(it, it->ev->u.rows.present, false, after, err);
	} else if (it->kind == 'd') {
		rc = read_image(it, it->ev->u.rows.present, false, before, err);
	} else {
		rc = read_image(it, it->ev->u.rows.present, false, before, err);
		if (rc == 0)
			rc = read_image(it, it->ev->u.rows.present_after, true, after, err);
	}
	if (rc == 0 && it->p == start)
		/* a row of no bytes would repeat for ever: only damage makes one */
		return barge_err_set(err, BARGE_EBINLOG_CORRUPT,
				     "event at offset %llu: a row image of %s.%s holds no bytes",
				     (unsigned long long)it->offset, it->map->schema, it->map->table);
	return rc ? rc : 1;
}

/* ---- writing values ---- */

static void append_double(struct barge_buf *b, double d, bool is_float)
{
	char tmp[64];

	/* the fewest digits that read back as the same value */
	for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (is_float ? (float)strtod(tmp, NULL) == (float)d : strtod(tmp, NULL) == d)
			break;
	}
	barge_buf_puts(b, tmp);
}

static void append_date(struct barge_buf *b, const struct barge_value *v)
{
	barge_buf_appendf(b, "%04d-%02u-%02u", v->t.year, v->t.month, v->t.day);
}

static void append_frac(struct barge_buf *b, uint32_t usec, unsigned fsp)
{
	char f[8];

	if (!fsp)
		return;
	snprintf(f, sizeof f, "%06u", usec % 1000000u);
	barge_buf_putc(b, '.');
	barge_buf_append(b, f, fsp > 6 ? 6 : fsp);
}

static void append_clock(struct barge_buf *b, const struct barge_value *v)
{
	if (v->kind == BARGE_V_TIME)
		barge_buf_appendf(b, "%s%02u:%02u:%02u", v->t.neg ? "-" : "", v->t.hours, v->t.minute,
				  v->t.second);
	else
		barge_buf_appendf(b, "%02u:%02u:%02u", v->t.hour, v->t.minute, v->t.second);
	append_frac(b, v->t.usec, v->fsp);
}

/* A TIMESTAMP as UTC calendar time; 0 is the zero timestamp. */
static void append_timestamp(struct barge_buf *b, const struct barge_value *v)
{
	time_t t = (time_t)v->n.i;
	struct tm tm;

	if (v->n.i == 0) {
		barge_buf_puts(b, "0000-00-00 00:00:00");
	} else {
		gmtime_r(&t, &tm);
		barge_buf_appendf(b, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
				  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
	append_frac(b, v->t.usec, v->fsp);
}

static uint64_t as_unsigned(const struct barge_value *v)
{
	if (v->width >= 8)
		return (uint64_t)v->n.i;
	return (uint64_t)v->n.i & ((1ull << (8 * v->width)) - 1);
}

/*
 * Whether bytes can go into SQL as a quoted literal as they are, whatever the session's
 * sql_mode: well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF,
 * 4-byte characters only for utf8mb4 callers to decide) without quotes, backslashes, NUL or
 * other control characters.  Anything else is written in hex.
 */
static bool plain_utf8(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint8_t c = p[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			if (c < 0x20 || c == '\'' || c == '\\' || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n > len)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

int barge_value_append_sql(struct barge_buf *b, const struct barge_value *v, unsigned flags,
			   const char *charset)
{
	bool is_unsigned = flags & BARGE_SQL_UNSIGNED;

	switch (v->kind) {
	case BARGE_V_ABSENT:
	case BARGE_V_NULL:
		return barge_buf_puts(b, "NULL");
	case BARGE_V_INT:
		if (is_unsigned)
			return barge_buf_append_u64(b, as_unsigned(v));
		return barge_buf_append_i64(b, v->n.i);
	case BARGE_V_FLOAT:
		/* the float's exact value as a double: stores back the same float, and compares
		 * equal to the column (a float column is compared as a double) */
		append_double(b, (double)v->n.f, false);
		return 0;
	case BARGE_V_DOUBLE:
		append_double(b, v->n.d, false);
		return 0;
	case BARGE_V_DECIMAL:
		return barge_decimal_text(v->p, v->len, v->precision, v->scale, b) ? 0 : BARGE_EINVAL;
	case BARGE_V_YEAR:
		return barge_buf_appendf(b, "%lld", (long long)v->n.i);
	case BARGE_V_DATE:
		barge_buf_putc(b, '\'');
		append_date(b, v);
		return barge_buf_putc(b, '\'');
	case BARGE_V_TIME:
		barge_buf_putc(b, '\'');
		append_clock(b, v);
		return barge_buf_putc(b, '\'');
	case BARGE_V_DATETIME:
		barge_buf_putc(b, '\'');
		append_date(b, v);
		barge_buf_putc(b, ' ');
		append_clock(b, v);
		return barge_buf_putc(b, '\'');
	case BARGE_V_TIMESTAMP:
		barge_buf_putc(b, '\'');
		append_timestamp(b, v);
		return barge_buf_putc(b, '\'');
	case BARGE_V_STRING:
		if (charset && strncmp(charset, "utf8", 4) == 0 && plain_utf8(v->p, v->len)) {
			/* text as text: half the bytes of hex for the target to parse */
			barge_buf_appendf(b, "_%s'", charset);
			barge_buf_append(b, v->p, v->len);
			return barge_buf_putc(b, '\'');
		}
		if (charset && strcmp(charset, "binary") != 0)
			barge_buf_appendf(b, "_%s ", charset);
		return barge_buf_append_hex(b, v->p, v->len);
	case BARGE_V_BIT:
	case BARGE_V_ENUM:
	case BARGE_V_SET:
		return barge_buf_append_u64(b, v->n.u);
	case BARGE_V_JSON: {
		struct barge_buf text;
		struct barge_err err = {0};
		int rc;

		barge_buf_init(&text, BARGE_BUF_NOCAP);
		rc = barge_jsonb_text(v->p, v->len, &text, &err);
		if (rc == 0) {
			barge_buf_puts(b, flags & BARGE_SQL_JSON_TEXT ? "_utf8mb4 " : "CAST(_utf8mb4 ");
			barge_buf_append_hex(b, text.data ? text.data : "", text.len);
			if (!(flags & BARGE_SQL_JSON_TEXT))
				barge_buf_puts(b, " AS JSON)");
		}
		barge_buf_dispose(&text);
		return rc;
	}
	case BARGE_V_GEOMETRY:
	case BARGE_V_VECTOR:
		return barge_buf_append_hex(b, v->p, v->len);
	default:
		return BARGE_EINVAL;
	}
}

static void append_quoted_bytes(struct barge_buf *b, const uint8_t *p, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;

	barge_buf_putc(b, '\'');
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		char esc[4];

		if (c != '\'' && c != '\\' && c >= 0x20 && c != 0x7f)
			continue;
		/* copy the plain run before this byte in one piece */
		barge_buf_append(b, p + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		if (c == '\'' || c == '\\') {
			esc[1] = (char)c;
			barge_buf_append(b, esc, 2);
		} else {
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			barge_buf_append(b, esc, 4);
		}
	}
	barge_buf_append(b, p + run, len - run);
	barge_buf_putc(b, '\'');
}

int barge_value_append_text(struct barge_buf *b, const struct barge_value *v, bool is_unsigned)
{
	switch (v->kind) {
	case BARGE_V_ABSENT:
		return barge_buf_puts(b, "(absent)");
	case BARGE_V_TIMESTAMP:
		/* seconds since the epoch, as mysqlbinlog -v prints them */
		barge_buf_appendf(b, "%lld", (long long)v->n.i);
		append_frac(b, v->t.usec, v->fsp);
		return 0;
	case BARGE_V_DATE:
	case BARGE_V_TIME:
	case BARGE_V_DATETIME:
		return barge_value_append_sql(b, v, 0, NULL);
	case BARGE_V_STRING:
	case BARGE_V_GEOMETRY:
	case BARGE_V_VECTOR:
		append_quoted_bytes(b, v->p, v->len);
		return 0;
	case BARGE_V_BIT:
	case BARGE_V_SET: {
		/* b'0101' with the column's width (a SET's: its bytes) */
		barge_buf_puts(b, "b'");
		for (int i = v->width ? v->width - 1 : 0; i >= 0; i--)
			barge_buf_putc(b, (v->n.u >> i) & 1 ? '1' : '0');
		return barge_buf_putc(b, '\'');
	}
	case BARGE_V_JSON: {
		struct barge_err err = {0};

		barge_buf_putc(b, '\'');
		if (barge_jsonb_text(v->p, v->len, b, &err) != 0)
			barge_buf_puts(b, "(bad JSON)");
		return barge_buf_putc(b, '\'');
	}
	case BARGE_V_JSON_DIFF: {
		struct barge_err err = {0};

		if (barge_json_diff_sql(v, "@col", b, &err) != 0)
			barge_buf_puts(b, "(bad JSON diff)");
		return 0;
	}
	default:
		return barge_value_append_sql(b, v, is_unsigned ? BARGE_SQL_UNSIGNED : 0, NULL);
	}
}

/* ---- MySQL binary JSON ---- */

#define JSONB_MAX_DEPTH 100

static int jcorrupt(struct barge_err *err, const char *what)
{
	return barge_err_set(err, BARGE_EBINLOG_CORRUPT, "binary JSON: %s", what);
}

static void json_string(struct barge_buf *b, const uint8_t *p, size_t len)
{
	barge_buf_putc(b, '"');
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];

		switch (c) {
		case '"': barge_buf_puts(b, "\\\""); break;
		case '\\': barge_buf_puts(b, "\\\\"); break;
		case '\n': barge_buf_puts(b, "\\n"); break;
		case '\r': barge_buf_puts(b, "\\r"); break;
		case '\t': barge_buf_puts(b, "\\t"); break;
		case '\b': barge_buf_puts(b, "\\b"); break;
		case '\f': barge_buf_puts(b, "\\f"); break;
		default:
			if (c < 0x20)
				barge_buf_appendf(b, "\\u%04x", c);
			else
				barge_buf_putc(b, (char)c);
		}
	}
	barge_buf_putc(b, '"');
}

/* A variable-length length: 7 bits per byte, least significant first, at most 5 bytes. */
static size_t varlen(const uint8_t *p, size_t avail, uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < 5 && i < avail; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*out = v;
			return i + 1;
		}
	}
	return 0;
}

static void json_double(struct barge_buf *b, double d)
{
	char tmp[64], out[64];
	size_t o = 0;

	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* MySQL writes 1e20, 1e-5, and 1.0 for integral values */
	for (const char *s = tmp; *s && o < sizeof out - 3; s++) {
		if (*s == 'e') {
			out[o++] = 'e';
			if (s[1] == '+')
				s++;
			else if (s[1] == '-')
				out[o++] = *++s;
			while (s[1] == '0' && s[2])
				s++;
			continue;
		}
		out[o++] = *s;
	}
	out[o] = '\0';
	barge_buf_puts(b, out);
	if (!strpbrk(out, ".eninf"))
		barge_buf_puts(b, ".0");
}

static int jsonb_value(uint8_t type, const uint8_t *base, size_t len, size_t off, bool inline_ok,
		       const uint8_t *inline_p, bool large, int depth, struct barge_buf *b,
		       struct barge_err *err);

/* An object or array at base[0..len). */
static int jsonb_container(bool object, bool large, const uint8_t *p, size_t len, int depth,
			   struct barge_buf *b, struct barge_err *err)
{
	size_t w = large ? 4 : 2;
	uint64_t count, size;
	size_t key_entry = large ? 6 : 4, value_entry = large ? 5 : 3, header;

	if (depth > JSONB_MAX_DEPTH)
		return jcorrupt(err, "nested too deep");
	if (len < 2 * w)
		return jcorrupt(err, "container header is cut short");
	count = le(p, w);
	size = le(p + w, w);
	if (size > len)
		return jcorrupt(err, "container is larger than its space");
	header = 2 * w + (object ? count * key_entry : 0) + count * value_entry;
	if (count > len || header > size)
		return jcorrupt(err, "container entries run past its end");
	barge_buf_putc(b, object ? '{' : '[');
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *ve = p + 2 * w + (object ? count * key_entry : 0) + i * value_entry;
		int rc;

		if (i)
			barge_buf_puts(b, ", ");
		if (object) {
			const uint8_t *ke = p + 2 * w + i * key_entry;
			uint64_t ko = le(ke, w), kl = le(ke + w, 2);

			if (ko > size || kl > size - ko)
				return jcorrupt(err, "object key runs past its end");
			json_string(b, p + ko, (size_t)kl);
			barge_buf_puts(b, ": ");
		}
		rc = jsonb_value(ve[0], p, (size_t)size, (size_t)le(ve + 1, w), true, ve + 1, large,
				 depth + 1, b, err);
		if (rc)
			return rc;
	}
	barge_buf_putc(b, object ? '}' : ']');
	return 0;
}

static void opaque_time(struct barge_buf *b, uint8_t field_type, const uint8_t *p)
{
	struct barge_value v;

	memset(&v, 0, sizeof v);
	unpack_time((int64_t)le(p, 8), &v, field_type != 11);
	v.fsp = 6;
	barge_buf_putc(b, '"');
	if (field_type == 10) { /* DATE */
		barge_buf_appendf(b, "%04d-%02u-%02u", v.t.year, v.t.month, v.t.day);
	} else if (field_type == 11) { /* TIME */
		v.kind = BARGE_V_TIME;
		append_clock(b, &v);
	} else { /* DATETIME, TIMESTAMP */
		v.kind = BARGE_V_DATETIME;
		barge_buf_appendf(b, "%04d-%02u-%02u ", v.t.year, v.t.month, v.t.day);
		append_clock(b, &v);
	}
	barge_buf_putc(b, '"');
}

static void base64(struct barge_buf *b, const uint8_t *p, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		barge_buf_putc(b, tbl[v >> 18 & 63]);
		barge_buf_putc(b, tbl[v >> 12 & 63]);
		barge_buf_putc(b, i + 1 < n ? tbl[v >> 6 & 63] : '=');
		barge_buf_putc(b, i + 2 < n ? tbl[v & 63] : '=');
	}
}

static int jsonb_scalar(uint8_t type, const uint8_t *p, size_t avail, int depth,
			struct barge_buf *b, struct barge_err *err)
{
	switch (type) {
	case 0x00: case 0x01: case 0x02: case 0x03:
		return jsonb_container(type < 2, type & 1, p, avail, depth, b, err);
	case 0x04:
		if (avail < 1)
			return jcorrupt(err, "literal cut short");
		return barge_buf_puts(b, p[0] == 1 ? "true" : p[0] == 2 ? "false" : "null");
	case 0x05: case 0x06:
		if (avail < 2)
			return jcorrupt(err, "int16 cut short");
		return type == 5 ? barge_buf_appendf(b, "%d", (int16_t)le(p, 2))
				 : barge_buf_appendf(b, "%u", (unsigned)le(p, 2));
	case 0x07: case 0x08:
		if (avail < 4)
			return jcorrupt(err, "int32 cut short");
		return type == 7 ? barge_buf_appendf(b, "%d", (int32_t)le(p, 4))
				 : barge_buf_appendf(b, "%u", (unsigned)le(p, 4));
	case 0x09: case 0x0a:
		if (avail < 8)
			return jcorrupt(err, "int64 cut short");
		return type == 9 ? barge_buf_appendf(b, "%lld", (long long)le(p, 8))
				 : barge_buf_appendf(b, "%llu", (unsigned long long)le(p, 8));
	case 0x0b: {
		uint64_t bits;
		double d;

		if (avail < 8)
			return jcorrupt(err, "double cut short");
		bits = le(p, 8);
		memcpy(&d, &bits, 8);
		json_double(b, d);
		return 0;
	}
	case 0x0c: {
		uint64_t n;
		size_t used = varlen(p, avail, &n);

		if (!used || n > avail - used)
			return jcorrupt(err, "string runs past its end");
		json_string(b, p + used, (size_t)n);
		return 0;
	}
	case 0x0f: {
		uint64_t n;
		size_t used;
		uint8_t ft;

		if (avail < 1)
			return jcorrupt(err, "opaque cut short");
		ft = p[0];
		used = varlen(p + 1, avail - 1, &n);
		if (!used || n > avail - 1 - used)
			return jcorrupt(err, "opaque value runs past its end");
		p += 1 + used;
		if (ft == 246 && n >= 2) { /* NEWDECIMAL: precision, scale, binary */
			if (!barge_decimal_text(p + 2, (size_t)n - 2, p[0], p[1], b))
				return jcorrupt(err, "opaque decimal is malformed");
			return 0;
		}
		if ((ft == 10 || ft == 11 || ft == 12 || ft == 7 || ft == 18 || ft == 17 || ft == 19) &&
		    n >= 8) {
			opaque_time(b, ft == 19 ? 11 : ft == 17 || ft == 18 ? 12 : ft, p);
			return 0;
		}
		barge_buf_appendf(b, "\"base64:type%u:", ft);
		base64(b, p, (size_t)n);
		return barge_buf_putc(b, '"');
	}
	default:
		return jcorrupt(err, "unknown value type");
	}
}

static int jsonb_value(uint8_t type, const uint8_t *base, size_t len, size_t off, bool inline_ok,
		       const uint8_t *inline_p, bool large, int depth, struct barge_buf *b,
		       struct barge_err *err)
{
	/* literals and 16-bit integers are stored in the entry; 32-bit ones too in large
	 * containers */
	bool inlined = type == 0x04 || type == 0x05 || type == 0x06 ||
		       (large && (type == 0x07 || type == 0x08));

	if (inline_ok && inlined)
		return jsonb_scalar(type, inline_p, large ? 4 : 2, depth, b, err);
	if (off >= len)
		return jcorrupt(err, "value offset past its container");
	return jsonb_scalar(type, base + off, len - off, depth, b, err);
}

int barge_jsonb_text(const uint8_t *p, size_t len, struct barge_buf *out, struct barge_err *err)
{
	if (len == 0)
		return barge_buf_puts(out, "null"); /* an empty value is how JSON null is stored */
	return jsonb_scalar(p[0], p + 1, len - 1, 0, out, err);
}

int barge_json_diff_sql(const struct barge_value *v, const char *col_sql, struct barge_buf *out,
			struct barge_err *err)
{
	const uint8_t *p = v->p, *end = v->p + v->len;
	struct barge_buf expr;
	int rc = 0;

	barge_buf_init(&expr, BARGE_BUF_NOCAP);
	barge_buf_puts(&expr, col_sql);
	while (p < end && rc == 0) {
		uint8_t op = *p++;
		uint64_t plen, vlen;
		size_t used = barge_packed_int(p, (size_t)(end - p), &plen);
		struct barge_buf wrapped;

		if (!used || plen > (uint64_t)(end - p - used) || op > 2) {
			rc = jcorrupt(err, "partial update diff is malformed");
			break;
		}
		p += used;
		barge_buf_init(&wrapped, BARGE_BUF_NOCAP);
		barge_buf_puts(&wrapped, op == 0 ? "JSON_REPLACE(" : op == 1 ? "JSON_INSERT(" :
								    "JSON_REMOVE(");
		barge_buf_puts(&wrapped, expr.data);
		barge_buf_puts(&wrapped, ", ");
		barge_buf_append_literal(&wrapped, p, (size_t)plen);
		p += plen;
		if (op != 2) {
			used = barge_packed_int(p, (size_t)(end - p), &vlen);
			if (!used || vlen > (uint64_t)(end - p - used)) {
				barge_buf_dispose(&wrapped);
				rc = jcorrupt(err, "partial update value runs past its end");
				break;
			}
			p += used;
			barge_buf_puts(&wrapped, ", CAST(");
			{
				struct barge_buf text;

				barge_buf_init(&text, BARGE_BUF_NOCAP);
				rc = barge_jsonb_text(p, (size_t)vlen, &text, err);
				if (rc == 0)
					barge_buf_append_literal(&wrapped, barge_buf_cstr(&text),
								 text.len);
				barge_buf_dispose(&text);
			}
			barge_buf_puts(&wrapped, " AS JSON)");
			p += vlen;
		}
		barge_buf_putc(&wrapped, ')');
		barge_buf_dispose(&expr);
		expr = wrapped;
	}
	if (rc == 0)
		barge_buf_puts(out, expr.data);
	barge_buf_dispose(&expr);
	return rc;
}

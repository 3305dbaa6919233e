/*
 * binlog_io.c — binlog files and replication streams (see binlog_io.h).
 */
#include "engine/binlog_io.h"

#include <errno.h>
#include <fcntl.h>
#include <mariadb_rpl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "engine/binlog.h"
#include "engine/buf.h"

#define READ_CHUNK (1024 * 1024)

struct barge_binlog_file {
	char *path;
	int fd;        /* plain files */
	gzFile gz;     /* .gz files */
	uint8_t *buf;  /* bytes read and not yet handed out live in buf[start..end) */
	size_t cap, start, end;
	uint64_t offset; /* file offset of buf[start] */
	bool eof;
};

static ssize_t raw_read(struct barge_binlog_file *f, uint8_t *dst, size_t n)
{
	if (f->gz) {
		int got = gzread(f->gz, dst, (unsigned)(n > 0x40000000 ? 0x40000000 : n));

		return got < 0 ? -1 : got;
	}
	for (;;) {
		ssize_t got = read(f->fd, dst, n);

		if (got < 0 && errno == EINTR)
			continue;
		return got;
	}
}

/* Make at least need bytes available at buf[start]; false at end of file (or error). */
static int fill(struct barge_binlog_file *f, size_t need, struct barge_err *err)
{
	while (f->end - f->start < need) {
		ssize_t got;

		if (f->eof)
			return 0;
		if (f->start > 0 && f->start == f->end) {
			f->start = f->end = 0;
		} else if (f->start > 0 && f->cap - f->end < READ_CHUNK) {
			memmove(f->buf, f->buf + f->start, f->end - f->start);
			f->end -= f->start;
			f->start = 0;
		}
		if (f->cap - f->end < READ_CHUNK || f->cap < need) {
			size_t want = f->end + (need > READ_CHUNK ? need : READ_CHUNK);

			f->buf = barge_xrealloc(f->buf, want);
			f->cap = want;
		}
		got = raw_read(f, f->buf + f->end, f->cap - f->end);
		if (got < 0)
			return barge_err_set(err, BARGE_EIO, "%s: read failed: %s", f->path,
					     strerror(errno));
		if (got == 0)
			f->eof = true;
		f->end += (size_t)got;
	}
	return 1;
}

int barge_binlog_file_open(const char *path, struct barge_binlog_file **out,
			   struct barge_err *err)
{
	struct barge_binlog_file *f = barge_xcalloc(1, sizeof *f);
	size_t len = strlen(path);
	int rc;

	f->path = barge_xstrdup(path);
	f->fd = -1;
	if (len > 3 && strcmp(path + len - 3, ".gz") == 0) {
		f->gz = gzopen(path, "rb");
		if (!f->gz) {
			rc = barge_err_set(err, BARGE_EIO, "%s: cannot open: %s", path, strerror(errno));
			barge_binlog_file_close(f);
			return rc;
		}
		gzbuffer(f->gz, 1 << 20);
	} else {
		f->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (f->fd < 0) {
			rc = barge_err_set(err, BARGE_EIO, "%s: cannot open: %s", path, strerror(errno));
			barge_binlog_file_close(f);
			return rc;
		}
	}
	rc = fill(f, 4, err);
	if (rc < 0) {
		barge_binlog_file_close(f);
		return rc;
	}
	if (rc > 0 && memcmp(f->buf, BARGE_BINLOG_MAGIC, 4) == 0) {
		f->start = 4;
		f->offset = 4;
	}
	*out = f;
	return 0;
}

int barge_binlog_file_next(struct barge_binlog_file *f, const uint8_t **data, size_t *len,
			   uint64_t *offset, struct barge_err *err)
{
	uint32_t size;
	int rc;

	/* hand out the previous event's bytes */
	rc = fill(f, BARGE_BINLOG_HEADER, err);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		if (f->end == f->start)
			return 0;
		return barge_err_set(err, BARGE_EBINLOG_CORRUPT,
				     "%s: offset %llu: the file ends inside an event header (%zu of "
				     "%d bytes)",
				     f->path, (unsigned long long)f->offset, f->end - f->start,
				     BARGE_BINLOG_HEADER);
	}
	size = (uint32_t)f->buf[f->start + 9] | (uint32_t)f->buf[f->start + 10] << 8 |
	       (uint32_t)f->buf[f->start + 11] << 16 | (uint32_t)f->buf[f->start + 12] << 24;
	if (size < BARGE_BINLOG_HEADER || size > BARGE_BINLOG_MAX_EVENT)
		return barge_err_set(err, BARGE_EBINLOG_CORRUPT,
				     "%s: offset %llu: an event of %u bytes is impossible (type %u)",
				     f->path, (unsigned long long)f->offset, size, f->buf[f->start + 4]);
	rc = fill(f, size, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return barge_err_set(err, BARGE_EBINLOG_CORRUPT,
				     "%s: offset %llu: the file ends inside a %s event (%zu of %u "
				     "bytes)",
				     f->path, (unsigned long long)f->offset,
				     barge_ev_name(f->buf[f->start + 4]), f->end - f->start, size);
	*data = f->buf + f->start;
	*len = size;
	*offset = f->offset;
	f->start += size;
	f->offset += size;
	return 1;
}

void barge_binlog_file_close(struct barge_binlog_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->gz)
		gzclose(f->gz);
	free(f->buf);
	free(f->path);
	free(f);
}

/* ---- streams ---- */

struct barge_binlog_stream {
	struct barge_db *db;
	MARIADB_RPL *rpl;
	MARIADB_RPL_EVENT *ev;
	char *file;
};

static int stream_error(struct barge_binlog_stream *s, struct barge_err *err, const char *what)
{
	unsigned e = mysql_errno(s->db->conn);
	const char *msg = mysql_error(s->db->conn);

	if (!e && s->rpl) {
		e = mariadb_rpl_errno(s->rpl);
		msg = mariadb_rpl_error(s->rpl);
	}
	/* MariaDB: ER_SLAVE_SAME_ID (4052); MySQL: 1236 with the same words */
	if (e == 4052 || (e == 1236 && msg &&
			  (strstr(msg, "same server_uuid/server_id") ||
			   strstr(msg, "same server_id") || strstr(msg, "A slave with the same"))))
		return barge_err_set_db(err, BARGE_ESERVER_ID, e, "HY000", "%s: %s: %s (%u)",
					s->db->where, what, msg, e);
	if (e == 1236)
		return barge_err_set_db(err, BARGE_EBINLOG_PURGED, e, "HY000", "%s: %s: %s (%u)",
					s->db->where, what, msg ? msg : "", e);
	if (e == 2013 || e == 2006 || e == 2055 || e == 2002 || e == 2003)
		return barge_err_set_db(err, BARGE_ESRC_LOST, e, "HY000", "%s: %s: %s (%u)",
					s->db->where, what, msg ? msg : "", e);
	return barge_err_set_db(err, BARGE_ESRC_QUERY, e, "HY000", "%s: %s: %s (%u)", s->db->where,
				what, msg ? msg : "", e);
}

int barge_binlog_stream_open(struct barge_db *db, const struct barge_stream_opts *opts,
			     struct barge_binlog_stream **out, struct barge_err *err)
{
	struct barge_binlog_stream *s = barge_xcalloc(1, sizeof *s);
	unsigned int flags = opts->non_blocking ? MARIADB_RPL_BINLOG_DUMP_NON_BLOCK : 0;
	const char *file = opts->file ? opts->file : "";
	int rc = 0;

	s->db = db;
	/* the server refuses checksummed events to a replica that does not say it takes them */
	rc = barge_db_exec(db, "SET @master_binlog_checksum = @@global.binlog_checksum", err);
	if (rc == 0 && barge_db_is_mariadb(db))
		rc = barge_db_exec(db, "SET @mariadb_slave_capability = 4", err);
	if (rc == 0 && opts->maria_gtid && barge_db_is_mariadb(db)) {
		struct barge_buf q;

		/* the server finds the file and position of the GTID itself */
		barge_buf_init(&q, BARGE_BUF_NOCAP);
		barge_buf_puts(&q, "SET @slave_connect_state = ");
		barge_buf_append_literal(&q, opts->maria_gtid, strlen(opts->maria_gtid));
		barge_buf_puts(&q, ", @slave_gtid_strict_mode = 0, @slave_gtid_ignore_duplicates = 0");
		rc = barge_db_exec(db, barge_buf_cstr(&q), err);
		barge_buf_dispose(&q);
		file = "";
	}
	if (rc == 0 && opts->heartbeat_s)
		rc = barge_db_execf(db, err, "SET @master_heartbeat_period = %llu",
				    (unsigned long long)opts->heartbeat_s * 1000000000ull);
	if (rc)
		goto done;
	s->rpl = mariadb_rpl_init(db->conn);
	if (!s->rpl) {
		rc = barge_err_set(err, BARGE_ESRC_QUERY, "%s: cannot start a replication stream",
				   db->where);
		goto done;
	}
	s->file = barge_xstrdup(file);
	mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_FILENAME, s->file, strlen(s->file));
	mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_START, (unsigned long)(opts->pos ? opts->pos : 4));
	mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_SERVER_ID, opts->server_id);
	mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_FLAGS, flags);
	/* register as a replica (COM_REGISTER_SLAVE) so that SHOW SLAVE HOSTS lists the job's
	 * server id, which is how the precheck finds a clash before the stream starts */
	mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_HOST, "barge", (size_t)5);
	if (mariadb_rpl_open(s->rpl) != 0) {
		rc = stream_error(s, err, "open the binlog stream");
		goto done;
	}
done:
	if (rc) {
		barge_binlog_stream_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

int barge_binlog_stream_next(struct barge_binlog_stream *s, const uint8_t **data, size_t *len,
			     struct barge_err *err)
{
	s->ev = mariadb_rpl_fetch(s->rpl, s->ev);
	if (!s->ev) {
		if (mysql_errno(s->db->conn) == 0 && mariadb_rpl_errno(s->rpl) == 0)
			return 0; /* the end of the binlog in non-blocking mode */
		return stream_error(s, err, "read the binlog stream");
	}
	if (s->ev->raw_data_size < 1 + BARGE_BINLOG_HEADER)
		return barge_err_set(err, BARGE_EBINLOG_CORRUPT,
				     "%s: a replication packet of %zu bytes is too short",
				     s->db->where, s->ev->raw_data_size);
	/* the packet starts with the OK byte */
	*data = s->ev->raw_data + 1;
	*len = s->ev->raw_data_size - 1;
	return 1;
}

void barge_binlog_stream_close(struct barge_binlog_stream *s)
{
	if (!s)
		return;
	if (s->ev)
		mariadb_free_rpl_event(s->ev);
	if (s->rpl)
		mariadb_rpl_close(s->rpl);
	free(s->file);
	free(s);
}

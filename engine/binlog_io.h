/*
 * binlog_io.h — where binlog events come from: a file (plain or .gz), or a live replication
 * stream from a server, both handing out one complete event at a time for binlog.h to decode.
 *
 * The file reader keeps one buffer, grown to the largest event met (and capped), so memory does
 * not depend on the file's size.  The stream reader connects as a replica with the job's server
 * id (libmariadb's mariadb_rpl), announces its checksum support, and maps the server's refusals
 * to catalogue errors: a purged binlog is BARGE_EBINLOG_PURGED with the seed's words, a server id
 * already in use is BARGE_ESERVER_ID.
 */
#ifndef BARGE_ENGINE_BINLOG_IO_H
#define BARGE_ENGINE_BINLOG_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/db.h"
#include "engine/error.h"

struct barge_binlog_file;

/*
 * Open a binlog file.  A file without the binlog magic is read as a bare sequence of events
 * (a captured stream).  Returns 0, or BARGE_EIO or BARGE_EBINLOG_CORRUPT.
 */
int barge_binlog_file_open(const char *path, struct barge_binlog_file **out,
			   struct barge_err *err);
/*
 * The next event: *data and *len stay valid until the next call; *offset is where it starts.  Returns 1,
 * 0 at the end of the file, or BARGE_EBINLOG_CORRUPT for a truncated or oversized event
 * (naming the file and offset).
 */
int barge_binlog_file_next(struct barge_binlog_file *f, const uint8_t **data, size_t *len,
			   uint64_t *offset, struct barge_err *err);
void barge_binlog_file_close(struct barge_binlog_file *f);

struct barge_binlog_stream;

struct barge_stream_opts {
	uint32_t server_id;
	const char *file;      /* start file; "" or NULL = the first the server has */
	uint64_t pos;          /* start position (4 = the start of a file) */
	bool non_blocking;     /* stop at the end of the binlog instead of waiting */
	unsigned heartbeat_s;  /* heartbeat period asked of the server; 0 = none */
	const char *maria_gtid; /* MariaDB: start after this GTID position ("0-1-100,1-2-5")
				 * instead of file and pos */
};

/*
 * Start a replication stream over db's connection, which must not be used for anything else
 * while the stream is open (the caller still closes it, after the stream).
 * Returns 0 or an error (BARGE_EBINLOG_PURGED, BARGE_ESERVER_ID, BARGE_ESRC_QUERY...).
 */
int barge_binlog_stream_open(struct barge_db *db, const struct barge_stream_opts *opts,
			     struct barge_binlog_stream **out, struct barge_err *err);
/* The next event (header, body and checksum).  1, 0 at the end (non-blocking), or an error. */
int barge_binlog_stream_next(struct barge_binlog_stream *s, const uint8_t **data, size_t *len,
			     struct barge_err *err);
void barge_binlog_stream_close(struct barge_binlog_stream *s);

#endif

/*
 * test_binlog_hostile.c — the decoder on broken input: every truncation of real binlogs, random
 * byte flips, oversized lengths.  Each must end in a clean BARGE_EBINLOG_CORRUPT (or a correct
 * decode), never a crash, a hang or a read out of bounds (run under ASan in CI).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/binlog.h"
#include "engine/binlog_io.h"
#include "engine/rowimage.h"
#include "tests/test.h"

static const char *fixture(const char *rel)
{
	static char path[1024];
	const char *shared = getenv("BARGE_SHARED");
	struct stat st;

	if (!shared || !*shared)
		shared = BARGE_SOURCE_DIR "/../shared";
	snprintf(path, sizeof path, "%s/fixtures/binlog/%s", shared, rel);
	if (stat(path, &st) != 0)
		TEST_SKIP("the binlog fixtures are not at %s (the steering repository's shared/ "
			  "folder)", path);
	return path;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	char *data = test_read_file(path, len);

	if (!data)
		TEST_FAILF("cannot read %s", path);
	return (uint8_t *)data;
}

/* Walk a rows event fully. */
static int walk_rows(struct barge_binlog *b, const struct barge_event *ev, struct barge_err *err)
{
	struct barge_rows it;
	static struct barge_value before[BARGE_BINLOG_MAX_COLUMNS], after[BARGE_BINLOG_MAX_COLUMNS];
	struct barge_buf sql;
	int rc = barge_rows_begin(b, ev, &it, err);

	if (rc)
		return rc;
	barge_buf_init(&sql, BARGE_BUF_NOCAP);
	while ((rc = barge_rows_next(&it, before, after, err)) == 1) {
		/* render every value too: SQL and text read the decoded bytes again */
		for (size_t i = 0; i < it.map->ncols; i++) {
			if (it.kind != 'd')
				barge_value_append_sql(&sql, &after[i], 0, "utf8mb4");
			if (it.kind != 'i')
				barge_value_append_text(&sql, &before[i], true);
			barge_buf_reset(&sql);
		}
	}
	barge_buf_dispose(&sql);
	return rc < 0 ? rc : 0;
}

/*
 * Decode a buffer of events (after the magic, if any) to its end or its first error.
 * Returns 0 or the error code; the error message is checked to name an offset.
 */
static int decode_all(const uint8_t *data, size_t len, bool verify, struct barge_err *err)
{
	struct barge_binlog b;
	size_t o = (len >= 4 && memcmp(data, BARGE_BINLOG_MAGIC, 4) == 0) ? 4 : 0;
	int rc = 0;

	barge_binlog_init(&b);
	b.verify_checksum = verify;
	while (rc == 0 && o < len) {
		struct barge_event ev;
		uint32_t size;

		if (len - o < BARGE_BINLOG_HEADER) {
			rc = barge_err_set(err, BARGE_EBINLOG_CORRUPT, "offset %zu: header cut", o);
			break;
		}
		size = (uint32_t)data[o + 9] | (uint32_t)data[o + 10] << 8 |
		       (uint32_t)data[o + 11] << 16 | (uint32_t)data[o + 12] << 24;
		if (size < BARGE_BINLOG_HEADER || size > len - o) {
			rc = barge_err_set(err, BARGE_EBINLOG_CORRUPT, "offset %zu: event cut", o);
			break;
		}
		rc = barge_binlog_decode(&b, data + o, size, o, false, &ev, err);
		if (rc == 0 && barge_ev_is_rows(ev.type))
			rc = walk_rows(&b, &ev, err);
		if (rc == 0 && ev.type == BARGE_EV_TRANSACTION_PAYLOAD) {
			const uint8_t *p;
			size_t n;

			rc = barge_binlog_payload(&b, &ev, &p, &n, err);
		}
		if (rc == 0 && ev.type == BARGE_EV_PREVIOUS_GTIDS) {
			struct barge_buf t;

			barge_buf_init(&t, BARGE_BUF_NOCAP);
			rc = barge_prev_gtids_text(&ev, &t, err);
			barge_buf_dispose(&t);
		}
		o += size;
	}
	barge_binlog_dispose(&b);
	return rc;
}

static const char *const corpus[] = {
	"mysql/binlog-connector-java/mysql-bin.checksum-crc32",
	"mysql/binlog-connector-java/mysql-bin.compressed",
	"mysql/rust_mysql_common/json.binlog.000001",
	"mysql/rust_mysql_common/json-opaque.binlog",
	"mysql/rust_mysql_common/mysql-enum-string-set.000001",
	"mysql/rust_mysql_common/binlog_transaction_with_GTID_TAG.000001",
	"mysql/rust_mysql_common/mariadb-bin.000001",
	"mysql/rust_mysql_common/vector.binlog",
	"mysql/apecloud-rust/mysql-bin.000057",
};

TEST(every_truncation_fails_cleanly)
{
	int cases = 0, clean_errors = 0;

	for (size_t f = 0; f < sizeof corpus / sizeof corpus[0]; f++) {
		size_t len;
		uint8_t *data = slurp(fixture(corpus[f]), &len);
		struct barge_err err = {0};

		ASSERT_EQ_INT(decode_all(data, len, true, &err), 0);
		for (size_t cut = 0; cut < len; cut += 1 + cut / 64) {
			uint8_t *copy = malloc(cut ? cut : 1);
			int rc;

			memcpy(copy, data, cut);
			barge_err_clear(&err);
			rc = decode_all(copy, cut, true, &err);
			if (rc != 0 && rc != BARGE_EBINLOG_CORRUPT)
				TEST_FAILF("%s cut at %zu: unexpected code %d: %s", corpus[f], cut, rc,
					   err.msg);
			if (rc) {
				ASSERT_CONTAINS(err.msg, "offset");
				clean_errors++;
			}
			free(copy);
			cases++;
		}
		free(data);
	}
	fprintf(stderr, "  %d truncations, %d clean errors\n", cases, clean_errors);
	ASSERT_TRUE(clean_errors > cases / 2);
}

TEST(random_damage_never_crashes)
{
	unsigned seed = 20261124;
	int cases = 0, errors = 0;

	for (size_t f = 0; f < sizeof corpus / sizeof corpus[0]; f++) {
		size_t len;
		uint8_t *data = slurp(fixture(corpus[f]), &len);

		for (int round = 0; round < 300; round++) {
			uint8_t *copy = malloc(len);
			struct barge_err err = {0};
			int flips = 1 + rand_r(&seed) % 8, rc;

			memcpy(copy, data, len);
			for (int k = 0; k < flips; k++) {
				size_t at = (size_t)rand_r(&seed) % len;

				copy[at] = (uint8_t)rand_r(&seed);
			}
			/* without checksums, the damage reaches the field decoders */
			rc = decode_all(copy, len, false, &err);
			if (rc != 0 && rc != BARGE_EBINLOG_CORRUPT)
				TEST_FAILF("%s round %d: unexpected code %d: %s", corpus[f], round, rc,
					   err.msg);
			errors += rc != 0;
			free(copy);
			cases++;
		}
		free(data);
	}
	fprintf(stderr, "  %d damaged files, %d rejected\n", cases, errors);
	ASSERT_TRUE(errors > 0);
}

TEST(checksums_catch_a_flipped_bit)
{
	size_t len;
	uint8_t *data = slurp(fixture("mysql/binlog-connector-java/mysql-bin.checksum-crc32"), &len);
	struct barge_err err = {0};

	data[400] ^= 0x10; /* inside the first rows event */
	ASSERT_EQ_INT(decode_all(data, len, true, &err), BARGE_EBINLOG_CORRUPT);
	ASSERT_CONTAINS(err.msg, "fails its CRC32 check");
	ASSERT_CONTAINS(err.msg, "event at offset 384");
	free(data);
}

TEST(oversized_and_impossible_lengths_are_refused)
{
	struct barge_binlog b;
	struct barge_event ev;
	struct barge_err err = {0};
	uint8_t e[64];

	barge_binlog_init(&b);
	memset(e, 0, sizeof e);
	/* an event whose size field disagrees with its bytes */
	e[4] = BARGE_EV_QUERY;
	e[9] = 0xff;
	e[10] = 0xff;
	e[11] = 0xff;
	e[12] = 0x7f;
	ASSERT_EQ_INT(barge_binlog_decode(&b, e, sizeof e, 1234, false, &ev, &err),
		      BARGE_EBINLOG_CORRUPT);
	ASSERT_CONTAINS(err.msg, "event at offset 1234: QUERY says it is 2147483647 bytes");
	/* a QUERY whose status block claims more than is there */
	memset(e, 0, sizeof e);
	e[4] = BARGE_EV_QUERY;
	e[9] = 19 + 20;
	e[19 + 11] = 0xff; /* status_len */
	e[19 + 12] = 0xff;
	ASSERT_EQ_INT(barge_binlog_decode(&b, e, 39, 0, false, &ev, &err), BARGE_EBINLOG_CORRUPT);
	ASSERT_CONTAINS(err.msg, "QUERY event is shorter than its lengths say");
	/* a table map with an absurd column count */
	memset(e, 0, sizeof e);
	e[4] = BARGE_EV_TABLE_MAP;
	e[9] = 19 + 16;
	e[19 + 8] = 1;
	e[19 + 9] = 'd';
	e[19 + 11] = 1;
	e[19 + 12] = 't';
	e[19 + 14] = 0xfd; /* 3-byte packed count */
	e[19 + 15] = 0xff;
	ASSERT_EQ_INT(barge_binlog_decode(&b, e, 35, 0, false, &ev, &err), BARGE_EBINLOG_CORRUPT);
	barge_binlog_dispose(&b);
}

TEST(the_file_reader_names_file_and_offset)
{
	char path[] = "/tmp/barge-hostile-XXXXXX";
	int fd = mkstemp(path);
	struct barge_binlog_file *f = NULL;
	struct barge_err err = {0};
	const uint8_t *data;
	size_t len;
	uint64_t off;
	static const uint8_t magic_and_cut[] = {0xfe, 'b', 'i', 'n', 1, 2, 3, 4, 5};

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ_INT(write(fd, magic_and_cut, sizeof magic_and_cut), (long)sizeof magic_and_cut);
	close(fd);
	ASSERT_OK(barge_binlog_file_open(path, &f, &err));
	ASSERT_EQ_INT(barge_binlog_file_next(f, &data, &len, &off, &err), BARGE_EBINLOG_CORRUPT);
	ASSERT_CONTAINS(err.msg, path);
	ASSERT_CONTAINS(err.msg, "offset 4: the file ends inside an event header");
	barge_binlog_file_close(f);
	unlink(path);
	ASSERT_EQ_INT(barge_binlog_file_open("/nonexistent/binlog", &f, &err), BARGE_EIO);
	ASSERT_CONTAINS(err.msg, "/nonexistent/binlog: cannot open");
}

/* Inputs the fuzzer once crashed the decoder with (fuzz_event's format: a flags byte, then a
 * binlog).  Each must now decode or fail cleanly. */
TEST(fuzzer_finds_stay_fixed)
{
	static const char *const found[] = {"gtid_tagged_size_zero.bin"};

	for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) {
		char path[1024];
		size_t len;
		uint8_t *data;
		struct barge_err err = {0};
		int rc;

		snprintf(path, sizeof path, "%s/binlog/crashes/%s", BARGE_TEST_DATA, found[i]);
		data = slurp(path, &len);
		rc = decode_all(data + 1, len - 1, data[0] & 1, &err);
		if (rc != 0 && rc != BARGE_EBINLOG_CORRUPT)
			TEST_FAILF("%s: unexpected code %d", found[i], rc);
		free(data);
	}
}

TEST_MAIN()

/*
 * test_gtid.c — MySQL GTID sets (engine/gtid): parsing MySQL's text in its forms, the canonical
 * text, adding, membership, subsets, choosing the binlog file a GTID start begins at, and the
 * Previous_gtids of real MySQL binlogs read through the decoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/binlog.h"
#include "engine/binlog_io.h"
#include "engine/buf.h"
#include "engine/gtid.h"
#include "tests/test.h"

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U2 "b9b88c66-0755-11f1-9899-4a9da94c4d71"

static struct barge_gtid_set *parse(const char *text)
{
	struct barge_gtid_set *s = NULL;
	struct barge_err err = {0};

	if (barge_gtid_set_parse(text, &s, &err) != 0)
		TEST_FAILF("%s", err.msg);
	return s;
}

static void assert_canonical(const char *text, const char *want)
{
	struct barge_gtid_set *s = parse(text);
	char *got = barge_gtid_set_text(s);

	ASSERT_EQ_STR(got, want);
	free(got);
	barge_gtid_set_free(s);
}

static void sid_of(const char *uuid, uint8_t sid[16])
{
	for (int i = 0, k = 0; uuid[i] && k < 16; i++) {
		char hex[3] = {0};

		if (uuid[i] == '-')
			continue;
		hex[0] = uuid[i];
		hex[1] = uuid[++i];
		sid[k++] = (uint8_t)strtoul(hex, NULL, 16);
	}
}

TEST(mysql_text_in_its_forms_comes_out_canonical)
{
	assert_canonical("", "");
	assert_canonical(U1 ":1-5", U1 ":1-5");
	/* upper case, no dashes, unsorted and overlapping intervals, several lines */
	assert_canonical("3E11FA4771CA11E19E33C80AA9429562:11-18:1-5:6,\n" U2 ":3",
			 U1 ":1-6:11-18," U2 ":3");
	assert_canonical(U2 ":7:1-2:4," U1 ":9", U1 ":9," U2 ":1-2:4:7");
	/* MySQL 8.4 tags: after the UUID, applying to the intervals after them */
	assert_canonical(U1 ":1-13:MyTag:1-2:other:5", U1 ":1-13," U1 ":mytag:1-2," U1 ":other:5");
	/* the decoder's form of tagged Previous_gtids round-trips */
	assert_canonical(U1 ":1-13," U1 ":mytag:1-2", U1 ":1-13," U1 ":mytag:1-2");
}

TEST(bad_text_is_refused_with_its_offset)
{
	struct barge_gtid_set *s = NULL;
	struct barge_err err = {0};

	ASSERT_EQ_INT(barge_gtid_set_parse("0-1-100", &s, &err), BARGE_EINVAL);
	ASSERT_CONTAINS(err.msg, "expected a UUID");
	ASSERT_TRUE(s == NULL);
	barge_err_clear(&err);
	ASSERT_EQ_INT(barge_gtid_set_parse(U1 ":5-3", &s, &err), BARGE_EINVAL);
	ASSERT_CONTAINS(err.msg, "not below its start");
	barge_err_clear(&err);
	ASSERT_EQ_INT(barge_gtid_set_parse(U1 ":0", &s, &err), BARGE_EINVAL);
	ASSERT_CONTAINS(err.msg, "at offset 37");
	barge_err_clear(&err);
	ASSERT_EQ_INT(barge_gtid_set_parse(U1 ":1 " U2 ":1", &s, &err), BARGE_EINVAL);
	ASSERT_CONTAINS(err.msg, "expected ','");
	barge_err_clear(&err);
	ASSERT_EQ_INT(barge_gtid_set_parse(U1 ":1:99999999999999999999", &s, &err), BARGE_EINVAL);
	barge_err_clear(&err);
}

TEST(adding_merges_and_membership_follows)
{
	struct barge_gtid_set *s = parse(U1 ":1-3:7");
	uint8_t a[16], b[16];
	char *text;

	sid_of(U1, a);
	sid_of(U2, b);
	ASSERT_TRUE(barge_gtid_set_contains(s, a, NULL, 0, 2));
	ASSERT_FALSE(barge_gtid_set_contains(s, a, NULL, 0, 4));
	ASSERT_FALSE(barge_gtid_set_contains(s, a, "t", 1, 2));
	barge_gtid_set_add(s, a, NULL, 0, 4);
	barge_gtid_set_add(s, a, NULL, 0, 6);
	barge_gtid_set_add(s, b, "Tg", 2, 1);
	text = barge_gtid_set_text(s);
	ASSERT_EQ_STR(text, U1 ":1-4:6-7," U2 ":tg:1");
	free(text);
	barge_gtid_set_add(s, a, NULL, 0, 5); /* fills the gap: one interval */
	text = barge_gtid_set_text(s);
	ASSERT_EQ_STR(text, U1 ":1-7," U2 ":tg:1");
	free(text);
	ASSERT_TRUE(barge_gtid_set_contains(s, b, "TG", 2, 1));
	barge_gtid_set_free(s);
}

TEST(subsets_and_the_file_a_gtid_start_begins_at)
{
	struct barge_gtid_set *f0 = parse(""), *f1 = parse(U1 ":1-100"),
			      *f2 = parse(U1 ":1-250," U2 ":1-3"), *f3 = parse(U1 ":1-400," U2 ":1-9");
	const struct barge_gtid_set *files[] = {f0, f1, f2, f3};
	struct barge_gtid_set *want = parse(U1 ":1-300," U2 ":1-5");
	struct barge_gtid_set *gap = parse(U1 ":1-50:60-300," U2 ":1-5");

	ASSERT_TRUE(barge_gtid_set_subset(f0, f1));
	ASSERT_TRUE(barge_gtid_set_subset(f2, want));
	ASSERT_FALSE(barge_gtid_set_subset(f3, want));
	ASSERT_FALSE(barge_gtid_set_subset(want, f2));
	/* the newest file whose Previous_gtids the set holds */
	ASSERT_EQ_INT(barge_gtid_pick_file(files, 4, want), 2);
	/* a hole in the set: transactions 51-59 are needed, and only file 0 starts before them */
	ASSERT_EQ_INT(barge_gtid_pick_file(files, 4, gap), 0);
	/* the oldest file left starts after transactions the set lacks: purged */
	ASSERT_EQ_INT(barge_gtid_pick_file(files + 2, 2, gap), -1);
	barge_gtid_set_free(f0);
	barge_gtid_set_free(f1);
	barge_gtid_set_free(f2);
	barge_gtid_set_free(f3);
	barge_gtid_set_free(want);
	barge_gtid_set_free(gap);
}

/* The Previous_gtids of a real binlog, as the GTID-start code reads them. */
static char *previous_gtids_of(const char *name)
{
	const char *shared = getenv("BARGE_SHARED");
	char path[1024];
	struct stat st;
	struct barge_binlog_file *f = NULL;
	struct barge_binlog b;
	struct barge_err err = {0};
	struct barge_buf text;
	const uint8_t *data;
	size_t len;
	uint64_t off;

	if (!shared || !*shared)
		shared = BARGE_SOURCE_DIR "/../shared";
	snprintf(path, sizeof path, "%s/fixtures/binlog/mysql/rust_mysql_common/%s", shared, name);
	if (stat(path, &st) != 0)
		TEST_SKIP("the binlog fixtures are not at %s (they live in the steering repository's "
			  "shared/ folder, next to this repository)", path);
	barge_buf_init(&text, BARGE_BUF_NOCAP);
	barge_binlog_init(&b);
	if (barge_binlog_file_open(path, &f, &err) != 0)
		TEST_FAILF("%s", err.msg);
	while (barge_binlog_file_next(f, &data, &len, &off, &err) == 1) {
		struct barge_event ev;

		if (barge_binlog_decode(&b, data, len, off, false, &ev, &err) != 0)
			TEST_FAILF("%s", err.msg);
		if (ev.type == BARGE_EV_PREVIOUS_GTIDS) {
			if (barge_prev_gtids_text(&ev, &text, &err) != 0)
				TEST_FAILF("%s", err.msg);
			break;
		}
	}
	barge_binlog_file_close(f);
	barge_binlog_dispose(&b);
	return barge_buf_detach(&text);
}

TEST(previous_gtids_of_real_binlogs_parse)
{
	char *text = previous_gtids_of("binlog_transaction_previous_GTID_no_tag.000001");
	struct barge_gtid_set *s = parse(text), *want = parse(U2 ":1-2:3");

	ASSERT_EQ_STR(text, U2 ":1-2");
	ASSERT_TRUE(barge_gtid_set_subset(s, want));
	ASSERT_FALSE(barge_gtid_set_subset(want, s));
	free(text);
	barge_gtid_set_free(s);
	barge_gtid_set_free(want);

	text = previous_gtids_of("binlog_transaction_with_GTID_TAG.000001");
	s = parse(text);
	free(text);
	text = barge_gtid_set_text(s);
	ASSERT_EQ_STR(text, "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13,"
			    "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:1-2");
	free(text);
	barge_gtid_set_free(s);
}

TEST(mariadb_gtid_positions_are_read_one_domain_at_a_time)
{
	const char *p = "0-1-100, 1-2-5,";
	uint32_t d = 0, sv = 0;
	uint64_t q = 0;

	ASSERT_EQ_INT(barge_maria_gtid_next(&p, &d, &sv, &q), 1);
	ASSERT_TRUE(d == 0 && sv == 1 && q == 100);
	ASSERT_EQ_INT(barge_maria_gtid_next(&p, &d, &sv, &q), 1);
	ASSERT_TRUE(d == 1 && sv == 2 && q == 5);
	ASSERT_EQ_INT(barge_maria_gtid_next(&p, &d, &sv, &q), 0);
	p = "0-1-100x";
	ASSERT_EQ_INT(barge_maria_gtid_next(&p, &d, &sv, &q), -1);
	p = U1 ":1-5";
	ASSERT_EQ_INT(barge_maria_gtid_next(&p, &d, &sv, &q), -1);
	p = "-1-2-3";
	ASSERT_EQ_INT(barge_maria_gtid_next(&p, &d, &sv, &q), -1);
}

TEST_MAIN()

/*
 * test_base.c — errors, buffers, SQL quoting and secret redaction (engine/error, buf, log).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/error.h"
#include "engine/log.h"
#include "tests/test.h"

TEST(err_set_and_wrap_build_context_from_the_outside_in)
{
	struct barge_err err = {0};

	ASSERT_EQ_INT(barge_err_set(&err, BARGE_ETGT_RETRY, "Lock wait timeout exceeded (%d)", 1205),
		      BARGE_ETGT_RETRY);
	barge_err_wrap(&err, "target");
	barge_err_wrap(&err, "load shop.orders chunk %d", 17);
	ASSERT_EQ_INT(barge_err_wrap(&err, "job %s", "orders"), BARGE_ETGT_RETRY);
	ASSERT_EQ_STR(err.msg, "job orders: load shop.orders chunk 17: target: Lock wait timeout "
			       "exceeded (1205)");
}

TEST(err_catalogue_codes_are_negative_unique_and_named)
{
	int n;
	const struct barge_errinfo *all = barge_errinfo_all(&n);

	ASSERT_TRUE(n > 20);
	for (int i = 0; i < n; i++) {
		ASSERT_TRUE(all[i].code < 0);
		ASSERT_TRUE(all[i].message[0] != '\0');
		ASSERT_TRUE(all[i].action[0] != '\0');
		for (int j = i + 1; j < n; j++)
			ASSERT_NE_INT(all[i].code, all[j].code);
		ASSERT_EQ_INT(barge_err_code(all[i].name), all[i].code);
	}
	ASSERT_EQ_INT(barge_err_code("NO_SUCH_ERROR"), 0);
	ASSERT_EQ_INT(barge_err_code(NULL), 0);
	ASSERT_EQ_STR(barge_err_name(BARGE_EBINLOG_PURGED), "BINLOG_PURGED");
	ASSERT_EQ_STR(barge_err_name(0), "OK");
	ASSERT_EQ_STR(barge_err_name(-9999), "UNKNOWN");
	ASSERT_CONTAINS(barge_errinfo_get(BARGE_EBINLOG_PURGED)->message,
			"The required binary log for migration no longer exists on the source "
			"database. Please make sure binary log files are kept for long enough time "
			"for migration to succeed.");
}

TEST(err_retryable_by_catalogue_and_by_server_errno)
{
	struct barge_err err = {0};

	barge_err_set_db(&err, BARGE_ETGT_QUERY, 1213, "40001", "Deadlock found");
	ASSERT_TRUE(barge_err_retryable(&err));
	barge_err_set_db(&err, BARGE_ETGT_QUERY, 1062, "23000", "Duplicate entry");
	ASSERT_FALSE(barge_err_retryable(&err));
	barge_err_set_db(&err, BARGE_ETGT_QUERY, 1105, "HY000",
			 "Information schema is changed during the execution");
	ASSERT_TRUE(barge_err_retryable(&err));
	barge_err_set_db(&err, BARGE_ETGT_QUERY, 1105, "HY000", "some other failure");
	ASSERT_FALSE(barge_err_retryable(&err));
	barge_err_set(&err, BARGE_ETGT_LOST, "gone");
	ASSERT_TRUE(barge_err_retryable(&err));
	barge_err_set(&err, BARGE_EBINLOG_PURGED, "gone");
	ASSERT_FALSE(barge_err_retryable(&err));
	ASSERT_FALSE(barge_err_retryable(NULL));
}

TEST(buf_grows_and_respects_its_cap)
{
	struct barge_buf b;

	barge_buf_init(&b, 10);
	ASSERT_EQ_STR(barge_buf_cstr(&b), "");
	ASSERT_OK(barge_buf_puts(&b, "hello"));
	ASSERT_OK(barge_buf_appendf(&b, "%d", 1234));
	ASSERT_EQ_STR(b.data, "hello1234");
	ASSERT_EQ_INT(barge_buf_puts(&b, "xy"), BARGE_ETOOBIG);
	ASSERT_EQ_STR(b.data, "hello1234");
	ASSERT_OK(barge_buf_putc(&b, '!'));
	ASSERT_EQ_INT(b.len, 10);
	barge_buf_dispose(&b);

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	for (int i = 0; i < 10000; i++)
		ASSERT_OK(barge_buf_appendf(&b, "%04d", i % 10000));
	ASSERT_EQ_INT(b.len, 40000);
	ASSERT_EQ_INT(strncmp(b.data + 39996, "9999", 4), 0);
	barge_buf_dispose(&b);
}

TEST(buf_quotes_identifiers_literals_and_hex)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	ASSERT_OK(barge_buf_append_qname(&b, "we`ird db", "t;--"));
	ASSERT_EQ_STR(b.data, "`we``ird db`.`t;--`");
	barge_buf_reset(&b);
	ASSERT_OK(barge_buf_append_literal(&b, "a'b\\c\0d\n\x1a", 9));
	ASSERT_EQ_STR(b.data, "'a\\'b\\\\c\\0d\\n\\Z'");
	barge_buf_reset(&b);
	ASSERT_OK(barge_buf_append_hex(&b, "\x00\xff\x10", 3));
	ASSERT_EQ_STR(b.data, "X'00FF10'");
	barge_buf_reset(&b);
	ASSERT_OK(barge_buf_append_hex(&b, "", 0));
	ASSERT_EQ_STR(b.data, "''");
	barge_buf_dispose(&b);
}

TEST(buf_quoting_fails_whole_at_the_cap)
{
	struct barge_buf b;

	barge_buf_init(&b, 8);
	ASSERT_OK(barge_buf_puts(&b, "ab"));
	ASSERT_EQ_INT(barge_buf_append_ident(&b, "abcdefgh"), BARGE_ETOOBIG);
	ASSERT_EQ_STR(b.data, "ab");
	barge_buf_dispose(&b);
}

TEST(buf_integers_are_exact_at_the_edges)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_append_u64(&b, 0);
	barge_buf_putc(&b, ' ');
	barge_buf_append_u64(&b, 9);
	barge_buf_putc(&b, ' ');
	barge_buf_append_u64(&b, 10);
	barge_buf_putc(&b, ' ');
	barge_buf_append_u64(&b, 99);
	barge_buf_putc(&b, ' ');
	barge_buf_append_u64(&b, 100);
	barge_buf_putc(&b, ' ');
	barge_buf_append_u64(&b, 18446744073709551615ull);
	barge_buf_putc(&b, ' ');
	barge_buf_append_i64(&b, INT64_MIN);
	barge_buf_putc(&b, ' ');
	barge_buf_append_i64(&b, -7);
	ASSERT_EQ_STR(b.data, "0 9 10 99 100 18446744073709551615 -9223372036854775808 -7");
	barge_buf_reset(&b);
	ASSERT_OK(barge_buf_appendf(&b, "%s-%d", "x", 42));
	ASSERT_OK(barge_buf_appendf(&b, "%0200d", 1));
	ASSERT_EQ_INT(b.len, 204);
	barge_buf_dispose(&b);
}

static char last_line[512];

static void capture(enum barge_log_level level, const char *job, const char *line, void *user)
{
	(void)level;
	(void)job;
	(void)user;
	snprintf(last_line, sizeof last_line, "%s", line);
}

TEST(secrets_are_redacted_from_logs_and_errors)
{
	struct barge_err err = {0};

	barge_log_set_sink(capture, NULL, BARGE_LOG_DEBUG);
	barge_redact_add("hunter22");
	barge_log(BARGE_LOG_INFO, "j", "connect with hunter22 and hunter22x");
	ASSERT_EQ_STR(last_line, "connect with ****** and ******x");
	barge_err_set(&err, BARGE_ESRC_CONNECT, "Access denied, password 'hunter22'");
	ASSERT_NOT_CONTAINS(err.msg, "hunter22");
	barge_redact_remove("hunter22");
	barge_log(BARGE_LOG_INFO, "j", "hunter22");
	ASSERT_EQ_STR(last_line, "hunter22");
	/* too short to redact without destroying every message */
	barge_redact_add("abc");
	barge_log(BARGE_LOG_INFO, NULL, "abcabc");
	ASSERT_EQ_STR(last_line, "abcabc");
	barge_redact_remove("abc");
	barge_log_set_sink(NULL, NULL, BARGE_LOG_INFO);
}

TEST(redaction_keeps_within_the_buffer)
{
	char s[12] = "aaaa aaaa a";

	barge_redact_add("aaaa");
	barge_redact(s, sizeof s);
	barge_redact_remove("aaaa");
	ASSERT_EQ_STR(s, "****** ****");
	ASSERT_EQ_INT(strlen(s), 11);
}

TEST_MAIN()

/*
 * test_precheck_grants.c — the pure part of the precheck: SHOW GRANTS lines into privileges and
 * scopes, effective privileges per database and table, and TiKV store sizes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/precheck.h"
#include "tests/test.h"

static uint32_t parse_privs(const char *line, char **schema, char **table)
{
	struct barge_grant g = {0};
	int rc = barge_grant_parse(line, &g);

	if (rc != 1)
		TEST_FAILF("barge_grant_parse(%s) = %d", line, rc);
	*schema = g.schema;
	*table = g.table;
	return g.privs;
}

TEST(grant_global_list)
{
	char *s, *t;
	uint32_t p = parse_privs("GRANT SELECT, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT "
				 "ON *.* TO `barge_src`@`%` IDENTIFIED BY PASSWORD '*ABCDEF'",
				 &s, &t);

	ASSERT_EQ_UINT(p, BARGE_PRIV_SELECT | BARGE_PRIV_LOCK_TABLES | BARGE_PRIV_REPL_SLAVE |
				  BARGE_PRIV_REPL_CLIENT);
	ASSERT_TRUE(s == NULL);
	ASSERT_TRUE(t == NULL);
}

TEST(grant_all_privileges_and_mariadb_names)
{
	char *s, *t;

	ASSERT_EQ_UINT(parse_privs("GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost' WITH GRANT "
				   "OPTION",
				   &s, &t),
		       BARGE_PRIV_ALL);
	ASSERT_EQ_UINT(parse_privs("GRANT ALL ON `shop`.* TO 'u'@'%'", &s, &t), BARGE_PRIV_ALL);
	ASSERT_EQ_STR(s, "shop");
	free(s);
	/* MariaDB 10.5+ shows REPLICATION CLIENT as BINLOG MONITOR */
	ASSERT_EQ_UINT(parse_privs("GRANT RELOAD, BINLOG MONITOR, REPLICATION SLAVE ON *.* TO "
				   "`u`@`%`",
				   &s, &t),
		       BARGE_PRIV_RELOAD | BARGE_PRIV_REPL_CLIENT | BARGE_PRIV_REPL_SLAVE);
	/* privileges the precheck does not count are ignored, not errors */
	ASSERT_EQ_UINT(parse_privs("GRANT SHOW VIEW, SELECT, SLAVE MONITOR ON *.* TO `u`@`%`", &s,
				   &t),
		       BARGE_PRIV_SELECT);
}

TEST(grant_database_and_table_scopes)
{
	char *s, *t;

	ASSERT_EQ_UINT(parse_privs("GRANT SELECT, INSERT ON `shop\\_%`.* TO `u`@`%`", &s, &t),
		       BARGE_PRIV_SELECT | BARGE_PRIV_INSERT);
	ASSERT_EQ_STR(s, "shop\\_%");
	ASSERT_TRUE(t == NULL);
	free(s);
	ASSERT_EQ_UINT(parse_privs("GRANT UPDATE ON TABLE `db`.`we``ird` TO 'u'@'h'", &s, &t),
		       BARGE_PRIV_UPDATE);
	ASSERT_EQ_STR(s, "db");
	ASSERT_EQ_STR(t, "we`ird");
	free(s);
	free(t);
	ASSERT_EQ_UINT(parse_privs("GRANT DELETE ON db.orders TO u@h", &s, &t), BARGE_PRIV_DELETE);
	ASSERT_EQ_STR(s, "db");
	ASSERT_EQ_STR(t, "orders");
	free(s);
	free(t);
}

TEST(grant_lines_that_grant_nothing_counted)
{
	struct barge_grant g = {0};

	ASSERT_EQ_INT(barge_grant_parse("GRANT USAGE ON *.* TO `u`@`%`", &g), 0);
	ASSERT_EQ_INT(barge_grant_parse("GRANT `app_role` TO `u`@`%`", &g), 0);
	ASSERT_EQ_INT(barge_grant_parse("GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT "
					"OPTION",
					&g),
		      0);
	ASSERT_EQ_INT(barge_grant_parse("GRANT EXECUTE ON PROCEDURE `db`.`p` TO `u`@`%`", &g), 0);
	/* column privileges do not let barge read whole rows */
	ASSERT_EQ_INT(barge_grant_parse("GRANT SELECT (`a`, `b`) ON `db`.`t` TO `u`@`%`", &g), 0);
	ASSERT_EQ_INT(barge_grant_parse("REVOKE SELECT ON *.* FROM u", &g), BARGE_EINVAL);
	ASSERT_EQ_INT(barge_grant_parse("GRANT SELECT ON `unterminated TO u", &g), BARGE_EINVAL);
}

TEST(effective_privileges_by_scope)
{
	struct barge_grant g[3] = {
		{BARGE_PRIV_REPL_SLAVE | BARGE_PRIV_REPL_CLIENT, NULL, NULL},
		{BARGE_PRIV_SELECT | BARGE_PRIV_LOCK_TABLES, "shop\\_%", NULL},
		{BARGE_PRIV_INSERT, "logs", "events"},
	};

	ASSERT_EQ_UINT(barge_grants_effective(g, 3, NULL, NULL),
		       BARGE_PRIV_REPL_SLAVE | BARGE_PRIV_REPL_CLIENT);
	ASSERT_EQ_UINT(barge_grants_effective(g, 3, "shop_eu", "orders") & BARGE_PRIV_SELECT,
		       BARGE_PRIV_SELECT);
	/* \_ is a literal underscore: shopXeu does not match */
	ASSERT_EQ_UINT(barge_grants_effective(g, 3, "shopXeu", NULL) & BARGE_PRIV_SELECT, 0);
	ASSERT_EQ_UINT(barge_grants_effective(g, 3, "logs", "events") & BARGE_PRIV_INSERT,
		       BARGE_PRIV_INSERT);
	ASSERT_EQ_UINT(barge_grants_effective(g, 3, "logs", "other") & BARGE_PRIV_INSERT, 0);
	ASSERT_EQ_UINT(barge_grants_effective(g, 3, "logs", NULL) & BARGE_PRIV_INSERT, 0);
}

TEST(privileges_format)
{
	char buf[200];

	barge_privs_format(BARGE_PRIV_REPL_CLIENT | BARGE_PRIV_SELECT, buf, sizeof buf);
	ASSERT_EQ_STR(buf, "SELECT, REPLICATION CLIENT");
	barge_privs_format(0, buf, sizeof buf);
	ASSERT_EQ_STR(buf, "");
}

TEST(tikv_sizes)
{
	uint64_t v = 0;

	ASSERT_OK(barge_size_parse("49.98GiB", &v));
	ASSERT_EQ_UINT(v, (uint64_t)(49.98 * 1073741824.0));
	ASSERT_OK(barge_size_parse("512MiB", &v));
	ASSERT_EQ_UINT(v, 512ull << 20);
	ASSERT_OK(barge_size_parse("0B", &v));
	ASSERT_EQ_UINT(v, 0);
	ASSERT_OK(barge_size_parse("1.5TB", &v));
	ASSERT_EQ_UINT(v, 3ull << 39);
	ASSERT_EQ_INT(barge_size_parse("lots", &v), BARGE_EINVAL);
	ASSERT_EQ_INT(barge_size_parse("12XB", &v), BARGE_EINVAL);
}

TEST(item_ids_are_known)
{
	ASSERT_EQ_STR(barge_precheck_item_title("binlog-format"), "binlog_format is ROW");
	ASSERT_TRUE(barge_precheck_item_title("binlog_format") == NULL);
	ASSERT_EQ_STR(barge_check_state_name(BARGE_CHECK_SKIPPED), "Skipped");
}

/* Found by tests/fuzz/fuzz_grants.c: the LIKE matcher retried recursively at every %, so a
 * grant on `%%%...%b`.* against a long database name took exponential time. */
TEST(like_with_many_percent_signs_is_fast)
{
	char pat[80], name[200];
	struct barge_grant g = {BARGE_PRIV_SELECT, pat, NULL};
	clock_t start = clock();

	memset(pat, '%', 60);
	strcpy(pat + 60, "b");
	memset(name, 'a', 150);
	name[150] = '\0';
	ASSERT_EQ_UINT(barge_grants_effective(&g, 1, name, NULL), 0);
	name[149] = 'b';
	ASSERT_EQ_UINT(barge_grants_effective(&g, 1, name, NULL), BARGE_PRIV_SELECT);
	ASSERT_TRUE(clock() - start < CLOCKS_PER_SEC);
}

TEST(like_patterns_as_mysql_reads_them)
{
	static const struct {
		const char *pat, *name;
		bool match;
	} cases[] = {
		{"shop", "shop", true},       {"shop", "shopx", false},   {"shop%", "shop", true},
		{"shop%", "shop_eu", true},   {"%eu", "shop_eu", true},   {"%eu", "shop_us", false},
		{"s%p%u", "shop_eu", true},   {"s%p%u", "shop_eux", false}, {"%", "", true},
		{"_", "", false},             {"_", "x", true},           {"s_op", "shop", true},
		{"shop\\_%", "shop_eu", true}, {"shop\\_%", "shopXeu", false},
		{"100\\%", "100%", true},     {"100\\%", "1000", false},  {"a\\", "a\\", true},
		{"%a%a%a%", "aaa", true},     {"%a%a%a%", "aa", false},   {"%%%", "x", true},
		{"a%b%c", "abbbc", true},     {"a%b%c", "acb", false},    {"", "", true},
		{"", "x", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct barge_grant g = {BARGE_PRIV_SELECT, (char *)cases[i].pat, NULL};
		uint32_t got = barge_grants_effective(&g, 1, cases[i].name, NULL);

		if ((got == BARGE_PRIV_SELECT) != cases[i].match)
			TEST_FAILF("LIKE '%s' on \"%s\": got %s", cases[i].pat, cases[i].name,
				   got ? "a match" : "no match");
	}
}

TEST_MAIN()

/*
 * test_dialect.c — definitions for the target (engine/dialect).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/dialect.h"
#include "tests/test.h"

TEST(create_table_gets_the_routed_name_and_if_not_exists)
{
	struct barge_dialect_ctx ctx = {BARGE_DIALECT_MYSQL, "10.11.6-MariaDB"};
	struct barge_buf out;
	struct barge_dialect_warnings w = {0};
	struct barge_err err = {0};

	barge_buf_init(&out, BARGE_BUF_NOCAP);
	ASSERT_OK(barge_dialect_create_table(&ctx, "CREATE TABLE `a``b` (\n  `id` int\n)", "sh`op",
					     "t 1", &out, &w, &err));
	ASSERT_EQ_STR(out.data, "CREATE TABLE IF NOT EXISTS `sh``op`.`t 1` (\n  `id` int\n)");
	barge_buf_reset(&out);
	ASSERT_OK(barge_dialect_create_database(&ctx,
						"CREATE DATABASE `shop` /*!40100 DEFAULT CHARACTER "
						"SET utf8mb4 */",
						"shop_v2", &out, &w, &err));
	ASSERT_EQ_STR(out.data, "CREATE DATABASE IF NOT EXISTS `shop_v2` /*!40100 DEFAULT CHARACTER "
				"SET utf8mb4 */");
	barge_buf_reset(&out);
	ASSERT_EQ_INT(barge_dialect_create_table(&ctx, "CREATE VIEW v AS SELECT 1", "a", "b", &out,
						 &w, &err),
		      BARGE_EDDL);
	barge_buf_dispose(&out);
	barge_dialect_warnings_dispose(&w);
}

TEST(secondary_indexes_are_split_out_and_commas_fixed)
{
	const char *in = "CREATE TABLE IF NOT EXISTS `s`.`t` (\n"
			 "  `id` int(11) NOT NULL,\n"
			 "  `k` int(11) NOT NULL DEFAULT 0,\n"
			 "  `c` char(10) NOT NULL,\n"
			 "  PRIMARY KEY (`id`),\n"
			 "  UNIQUE KEY `uc` (`c`),\n"
			 "  KEY `k_1` (`k`),\n"
			 "  FULLTEXT KEY `ft` (`c`)\n"
			 ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
	struct barge_buf table, clauses;

	barge_buf_init(&table, BARGE_BUF_NOCAP);
	barge_buf_init(&clauses, BARGE_BUF_NOCAP);
	ASSERT_EQ_INT(barge_dialect_split_indexes(in, &table, &clauses), 2);
	ASSERT_EQ_STR(table.data, "CREATE TABLE IF NOT EXISTS `s`.`t` (\n"
				  "  `id` int(11) NOT NULL,\n"
				  "  `k` int(11) NOT NULL DEFAULT 0,\n"
				  "  `c` char(10) NOT NULL,\n"
				  "  PRIMARY KEY (`id`),\n"
				  "  UNIQUE KEY `uc` (`c`)\n"
				  ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
	ASSERT_EQ_STR(clauses.data, "KEY `k_1` (`k`)\nFULLTEXT KEY `ft` (`c`)\n");
	barge_buf_dispose(&table);
	barge_buf_dispose(&clauses);
}

TEST(tables_without_secondary_indexes_or_with_foreign_keys_are_unchanged)
{
	const char *plain = "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n)";
	const char *fk = "CREATE TABLE `c` (\n  `id` int NOT NULL,\n  `p` int,\n  KEY `p` (`p`),\n"
			 "  CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `par` (`id`)\n)";
	struct barge_buf table, clauses;

	barge_buf_init(&table, BARGE_BUF_NOCAP);
	barge_buf_init(&clauses, BARGE_BUF_NOCAP);
	ASSERT_EQ_INT(barge_dialect_split_indexes(plain, &table, &clauses), 0);
	ASSERT_EQ_STR(table.data, plain);
	barge_buf_reset(&table);
	ASSERT_EQ_INT(barge_dialect_split_indexes(fk, &table, &clauses), 0);
	ASSERT_EQ_STR(table.data, fk);
	ASSERT_EQ_INT(clauses.len, 0);
	barge_buf_dispose(&table);
	barge_buf_dispose(&clauses);
}

TEST_MAIN()

/*
 * test_checkpoint.c — the checkpoint DDL compiled into barge is schemas/checkpoint.sql, and
 * binlog positions order the way the incremental phase relies on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checkpoint.h"
#include "tests/test.h"

TEST(compiled_ddl_is_schemas_checkpoint_sql)
{
	ASSERT_TEXT_IS_FILE(barge_ckpt_ddl(), BARGE_SOURCE_DIR "/schemas/checkpoint.sql");
}

TEST(positions_order_by_file_then_offset)
{
	struct barge_position a = {0}, b = {0}, none = {0};

	barge_position_set(&a, "mysql-bin.000009", 900, NULL);
	barge_position_set(&b, "mysql-bin.000010", 4, NULL);
	ASSERT_TRUE(barge_position_cmp(&a, &b) < 0);
	ASSERT_TRUE(barge_position_cmp(&b, &a) > 0);
	ASSERT_TRUE(barge_position_cmp(&none, &a) < 0);
	barge_position_set(&b, "mysql-bin.000009", 901, "0-1-5");
	ASSERT_TRUE(barge_position_cmp(&a, &b) < 0);
	barge_position_set(&b, "mysql-bin.000009", 900, "0-1-5");
	ASSERT_EQ_INT(barge_position_cmp(&a, &b), 0);
	/* numbered past six digits: mysql-bin.1000000 follows mysql-bin.999999 */
	barge_position_set(&a, "mysql-bin.999999", 4, NULL);
	barge_position_set(&b, "mysql-bin.1000000", 4, NULL);
	ASSERT_TRUE(barge_position_cmp(&a, &b) < 0);
	barge_position_dispose(&a);
	barge_position_dispose(&b);
}

TEST_MAIN()

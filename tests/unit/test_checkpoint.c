/*
 * test_checkpoint.c — the checkpoint DDL compiled into barge is schemas/checkpoint.sql, and
 * binlog positions order the way the incremental phase relies on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/checkpoint.h"
#include "tests/test.h"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		TEST_FAILF("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		TEST_FAILF("cannot read %s", path);
	fclose(f);
	return buf;
}

TEST(compiled_ddl_is_schemas_checkpoint_sql)
{
	char *file = read_all(BARGE_SOURCE_DIR "/schemas/checkpoint.sql");
	const char *ddl = barge_ckpt_ddl();

	if (strcmp(file, ddl) != 0) {
		size_t i = 0;

		while (file[i] && file[i] == ddl[i])
			i++;
		TEST_FAILF("engine/checkpoint.c's DDL differs from schemas/checkpoint.sql at byte %zu:"
			   "\n  file: %.60s\n  code: %.60s", i, file + i, ddl + i);
	}
	free(file);
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

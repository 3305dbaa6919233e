/*
 * test_secret.c — ${env:NAME} / ${file:PATH} references (engine/secret).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/secret.h"
#include "tests/test.h"

TEST(references_are_recognised_exactly)
{
	ASSERT_TRUE(barge_secret_is_ref("${env:SRC_PASSWORD}"));
	ASSERT_TRUE(barge_secret_is_ref("${file:/run/secrets/db}"));
	ASSERT_TRUE(barge_secret_is_ref("${file:relative/path.txt}"));
	ASSERT_FALSE(barge_secret_is_ref("hunter2"));
	ASSERT_FALSE(barge_secret_is_ref("${env:}"));
	ASSERT_FALSE(barge_secret_is_ref("${env:1BAD}"));
	ASSERT_FALSE(barge_secret_is_ref("${env:BAD-NAME}"));
	ASSERT_FALSE(barge_secret_is_ref("${vault:x}"));
	ASSERT_FALSE(barge_secret_is_ref("prefix${env:X}"));
	ASSERT_FALSE(barge_secret_is_ref("${env:X}suffix"));
	ASSERT_FALSE(barge_secret_is_ref(NULL));
}

TEST(env_reference_resolves_and_is_redacted_until_released)
{
	struct barge_err err = {0};
	char *v = NULL;
	char msg[128];

	setenv("BARGE_T_PW", "pa55-word", 1);
	ASSERT_OK(barge_secret_resolve("${env:BARGE_T_PW}", NULL, &v, &err));
	ASSERT_EQ_STR(v, "pa55-word");
	snprintf(msg, sizeof msg, "login with pa55-word failed");
	barge_redact(msg, sizeof msg);
	ASSERT_EQ_STR(msg, "login with ****** failed");
	barge_secret_release(v);
	snprintf(msg, sizeof msg, "pa55-word");
	barge_redact(msg, sizeof msg);
	ASSERT_EQ_STR(msg, "pa55-word");
}

TEST(missing_env_variable_names_the_reference_not_a_value)
{
	struct barge_err err = {0};
	char *v = NULL;

	unsetenv("BARGE_T_MISSING");
	ASSERT_EQ_INT(barge_secret_resolve("${env:BARGE_T_MISSING}", NULL, &v, &err), BARGE_ESECRET);
	ASSERT_TRUE(v == NULL);
	ASSERT_EQ_STR(err.msg, "${env:BARGE_T_MISSING}: the environment variable BARGE_T_MISSING "
			       "is not set");
}

TEST(file_reference_strips_one_newline_and_resolves_relative_paths)
{
	struct barge_err err = {0};
	char dir[] = "/tmp/barge-secret-XXXXXX";
	char path[128];
	char *v = NULL;
	FILE *f;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/pw", dir);
	f = fopen(path, "w");
	fputs("line-one\n\n", f);
	fclose(f);
	ASSERT_OK(barge_secret_resolve("${file:pw}", dir, &v, &err));
	ASSERT_EQ_STR(v, "line-one\n");
	barge_secret_release(v);
	ASSERT_EQ_INT(barge_secret_resolve("${file:nope}", dir, &v, &err), BARGE_ESECRET);
	ASSERT_CONTAINS(err.msg, "${file:nope}: cannot read");
	ASSERT_CONTAINS(err.msg, "No such file");
	unlink(path);
	rmdir(dir);
}

TEST(literals_pass_through_and_malformed_references_are_refused)
{
	struct barge_err err = {0};
	char *v = NULL;

	ASSERT_OK(barge_secret_resolve("https://example.com/hook", NULL, &v, &err));
	ASSERT_EQ_STR(v, "https://example.com/hook");
	barge_secret_release(v);
	ASSERT_EQ_INT(barge_secret_resolve("${env:bad-name}", NULL, &v, &err), BARGE_ESECRET);
	ASSERT_CONTAINS(err.msg, "is not a valid secret reference");
}

TEST_MAIN()

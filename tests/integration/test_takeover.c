/*
 * test_takeover.c — several controllers on one mysql:// store: each job runs under exactly one
 * of them (its lease holder); kill -9 that one, and another takes the job over once the lease
 * expires, resuming from the checkpoints with no change lost or doubled.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/harness.h"
#include "tests/test.h"

static char store_url[256], e_src[128], e_tgt[128], e_store[128];

static int barge(char **out, const char *fmt, const char *arg)
{
	const char *env[] = {e_src, e_tgt, e_store, NULL};
	char args[1200];

	snprintf(args, sizeof args, fmt, arg);
	return th_run(out, env, "'%s' %s --store '%s'", th_barge_bin(), args, store_url);
}

static pid_t start_controller(const char *log)
{
	const char *args[] = {"run", "--store", store_url, "--lease-ttl", "3s", "--log-level",
			      "debug", NULL};
	const char *env[] = {e_src, e_tgt, e_store, NULL};

	return th_start_barge(log, env, args);
}

static bool file_has(const char *path, const char *needle)
{
	char *text = NULL;
	bool has;

	th_run(&text, NULL, "cat '%s'", path);
	has = text && strstr(text, needle);
	free(text);
	return has;
}

/* Wait until `status --json` shows the job Syncing under the controller with this pid. */
static void wait_held_by(pid_t pid)
{
	char owner[64];

	snprintf(owner, sizeof owner, ":%ld\"", (long)pid);
	for (int i = 0; i < 300; i++) {
		char *out = NULL;
		bool ok;

		ASSERT_EQ_INT(barge(&out, "status --json%s", ""), 0);
		ok = strstr(out, "\"stage\": \"Syncing\"") && strstr(out, owner);
		free(out);
		if (ok)
			return;
		usleep(100000);
	}
	{
		char *out = NULL;

		barge(&out, "status --json%s", "");
		TEST_FAILF("the job is not Syncing under controller %ld:\n%s", (long)pid, out);
	}
}

TEST(a_killed_controllers_job_is_taken_over_with_nothing_lost)
{
	const struct th_servers *s = th_servers();
	const char *job;
	char log_a[1100], log_b[1100], *out = NULL;
	MYSQL *c, *t;
	pid_t a, b;
	int st = 0;

	snprintf(e_src, sizeof e_src, "BARGE_T_SRC=%s", s->source.src_password);
	snprintf(e_tgt, sizeof e_tgt, "BARGE_T_TGT=%s", s->target.tgt_password);
	snprintf(e_store, sizeof e_store, "BARGE_STORE_PASSWORD=%s", s->target.admin_password);
	snprintf(store_url, sizeof store_url, "mysql://%s@127.0.0.1:%u/barge_store_takeover",
		 s->target.admin_user, s->target.port);
	t = th_connect(&s->target, NULL);
	th_exec(t, "DROP DATABASE IF EXISTS barge_store_takeover");
	th_exec(t, "DROP DATABASE IF EXISTS take_db");
	th_fresh_db(&s->source, "take_db");
	c = th_connect(&s->source, "take_db");
	th_exec(c, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20), n INT NOT NULL DEFAULT 0)");
	for (int i = 1; i <= 100; i++)
		th_exec(c, "INSERT INTO t (id, v) VALUES (%d, 'row %d')", i, i);

	job = th_write_job("take-job", "all", NULL, "  objects: {allow: [{schema: take_db}]}\n");
	ASSERT_EQ_INT(barge(&out, "apply '%s'", job), 0);
	free(out);

	/* A takes the job; B, started later, finds it leased and leaves it alone */
	snprintf(log_a, sizeof log_a, "%s/ctl-a.log", th_tmpdir());
	snprintf(log_b, sizeof log_b, "%s/ctl-b.log", th_tmpdir());
	a = start_controller(log_a);
	wait_held_by(a);
	b = start_controller(log_b);
	usleep(4000000); /* longer than the lease: A keeps renewing it */
	ASSERT_FALSE(file_has(log_b, "starting its worker"));
	ASSERT_TRUE(file_has(log_b, "left to the controller holding its lease") ||
		    !file_has(log_b, "take-job: start"));
	wait_held_by(a);

	/* changes before, during and after the takeover */
	for (int i = 101; i <= 150; i++)
		th_exec(c, "INSERT INTO t (id, v) VALUES (%d, 'row %d')", i, i);
	th_exec(c, "UPDATE t SET n = n + 1 WHERE id %% 3 = 0");
	kill(a, SIGKILL);
	waitpid(a, &st, 0);
	ASSERT_TRUE(WIFSIGNALED(st));
	for (int i = 151; i <= 200; i++)
		th_exec(c, "INSERT INTO t (id, v) VALUES (%d, 'row %d')", i, i);
	th_exec(c, "DELETE FROM t WHERE id %% 7 = 0");
	th_exec(c, "UPDATE t SET n = n + 10 WHERE id %% 5 = 0");

	/* B takes it over once A's lease expires, and resumes from the checkpoints */
	wait_held_by(b);
	for (int i = 0; i < 300 && !file_has(log_b, "taken over: resuming"); i++)
		usleep(100000);
	ASSERT_TRUE(file_has(log_b, "taken over: resuming from its checkpoints"));
	usleep(2000000);
	ASSERT_FALSE(file_has(log_b, "the job has not started")); /* resumed once, not restarted */
	for (int i = 201; i <= 220; i++)
		th_exec(c, "INSERT INTO t (id, v) VALUES (%d, 'row %d')", i, i);
	for (int i = 0; i < 300; i++) {
		long long want = th_query_int(c, "SELECT SUM(n) + COUNT(*) FROM t");

		if (th_query_int(t, "SELECT COALESCE(SUM(n) + COUNT(*), 0) FROM take_db.t") == want)
			break;
		usleep(100000);
	}
	ASSERT_EQ_INT(th_compare_tables(&s->source, "take_db", "t", &s->target, "take_db", "t"),
		      th_query_int(c, "SELECT COUNT(*) FROM t"));

	/* a clean stop hands the lease back at once */
	kill(b, SIGTERM);
	waitpid(b, &st, 0);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ASSERT_EQ_INT(barge(&out, "status --json%s", ""), 0);
	ASSERT_CONTAINS(out, "\"lease\": null");
	ASSERT_TRUE(strstr(out, s->target.admin_password) == NULL);
	free(out);
	ASSERT_EQ_INT(barge(&out, "delete take-job%s", ""), 0);
	free(out);
	mysql_close(c);
	mysql_close(t);
}

TEST_MAIN()

/*
 * test_control.c — the control plane against real servers, GitOps style: `plan` shows drift
 * (exit 2) and none once the controller has acted; editing the job file pauses and resumes the
 * job, removing it deletes the job; `status
 * --json` shows the stage and never a password; the store's files are owner-only.  Then the
 * store alone: `barge run` without paths runs what `apply` recorded, `barge pause|resume` work
 * on it (and `plan` against the files shows that drift), a live update reaches the running
 * worker, and the webhooks of every stage change arrive signed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/webhook.h"
#include "tests/integration/harness.h"
#include "tests/support/http_receiver.h"
#include "tests/test.h"

static char e1[128], e2[128];

static const char *job_file(const char *state)
{
	const struct th_servers *s = th_servers();
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/jobs", th_tmpdir());
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/jobs/ctl.yaml", th_tmpdir());
	f = fopen(path, "w");
	if (!f)
		TEST_FAILF("cannot write %s", path);
	fprintf(f,
		"apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: ctl-job}\nspec:\n"
		"  state: %s\n  mode: all\n"
		"  source: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_SRC}\"}\n"
		"  target: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_TGT}\"}\n"
		"  objects: {allow: [{schema: ctl_db}]}\n",
		state, s->source.port, s->source.src_user, s->target.port, s->target.tgt_user);
	fclose(f);
	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", s->source.src_password);
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s", s->target.tgt_password);
	return path;
}

static int barge(char **out, const char *args)
{
	const char *env[] = {e1, e2, NULL};

	return th_run(out, env, "'%s' %s", th_barge_bin(), args);
}

static char *status_json(void)
{
	char *out = NULL;

	ASSERT_EQ_INT(barge(&out, "status --json"), 0);
	return out;
}

static void wait_stage(const char *stage)
{
	char want[64];

	snprintf(want, sizeof want, "\"stage\": \"%s\"", stage);
	for (int i = 0; i < 300; i++) {
		char *out = status_json();
		bool ok = strstr(out, want) != NULL;

		free(out);
		if (ok)
			return;
		usleep(100000);
	}
	{
		char *out = status_json();

		TEST_FAILF("the job did not reach %s:\n%s", stage, out);
	}
}

TEST(plan_apply_run_pause_resume_delete_status)
{
	const struct th_servers *s = th_servers();
	const char *path = job_file("running");
	char *out = NULL, cmd[1400], log[1100], store[1100];
	MYSQL *c, *t;
	pid_t pid;
	struct stat sb;

	th_fresh_db(&s->source, "ctl_db");
	t = th_connect(&s->target, NULL);
	th_exec(t, "DROP DATABASE IF EXISTS ctl_db");
	c = th_connect(&s->source, "ctl_db");
	th_exec(c, "CREATE TABLE a (id INT PRIMARY KEY)");
	th_exec(c, "INSERT INTO a VALUES (1)");

	/* a new job is drift; apply records it; plan still shows the start to come */
	snprintf(cmd, sizeof cmd, "plan '%s'", path);
	ASSERT_EQ_INT(barge(&out, cmd), 2);
	ASSERT_TRUE(strstr(out, "ctl-job") && strstr(out, "create"));
	free(out);
	snprintf(cmd, sizeof cmd, "apply '%s'", path);
	ASSERT_EQ_INT(barge(&out, cmd), 0);
	free(out);
	out = status_json();
	ASSERT_TRUE(strstr(out, "\"stage\": \"New\"") != NULL);
	free(out);

	/* the controller, following the store's desired state */
	snprintf(log, sizeof log, "%s/ctl.log", th_tmpdir());
	{
		char jobs[1100];
		const char *args[] = {"run", jobs, NULL}, *env[] = {e1, e2, NULL};

		snprintf(jobs, sizeof jobs, "%s/jobs", th_tmpdir());
		pid = th_start_barge(log, env, args);
	}
	wait_stage("Syncing");
	snprintf(cmd, sizeof cmd, "plan '%s'", path);
	ASSERT_EQ_INT(barge(&out, cmd), 0);
	free(out);

	/* the file says paused: the controller pauses the job */
	job_file("paused");
	wait_stage("Paused");
	th_exec(c, "INSERT INTO a VALUES (2)");
	usleep(1500000);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM ctl_db.a"), 1);

	/* running again: the change made while paused arrives */
	job_file("running");
	wait_stage("Syncing");
	for (int i = 0; i < 300 && th_query_int(t, "SELECT COUNT(*) FROM ctl_db.a") != 2; i++)
		usleep(100000);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM ctl_db.a"), 2);

	/* status: text and JSON, never a password */
	ASSERT_EQ_INT(barge(&out, "status"), 0);
	ASSERT_TRUE(strstr(out, "ctl-job") && strstr(out, "Syncing"));
	ASSERT_TRUE(strstr(out, s->source.src_password) == NULL);
	ASSERT_TRUE(strstr(out, s->target.tgt_password) == NULL);
	free(out);
	out = status_json();
	ASSERT_TRUE(strstr(out, s->source.src_password) == NULL);
	ASSERT_TRUE(strstr(out, s->target.tgt_password) == NULL);
	ASSERT_TRUE(strstr(out, "${env:BARGE_T_SRC}") != NULL);
	free(out);

	/* the store's files: owner only */
	snprintf(store, sizeof store, "%s/store", th_tmpdir());
	ASSERT_EQ_INT(stat(store, &sb), 0);
	ASSERT_EQ_INT(sb.st_mode & 077, 0);

	/* the file removed: the controller deletes the job and forgets its checkpoints */
	unlink(path);
	for (int i = 0; i < 300; i++) {
		out = status_json();
		bool gone = strstr(out, "ctl-job") == NULL;

		free(out);
		if (gone)
			break;
		usleep(100000);
	}
	out = status_json();
	ASSERT_TRUE(strstr(out, "ctl-job") == NULL);
	free(out);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM barge_meta.jobs WHERE job = 'ctl-job'"),
		      0);
	kill(pid, SIGTERM);
	{
		int st = 0;

		waitpid(pid, &st, 0);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	{
		char *text = NULL;

		th_run(&text, NULL, "cat '%s'", log);
		ASSERT_TRUE(strstr(text, s->source.src_password) == NULL);
		ASSERT_TRUE(strstr(text, s->target.tgt_password) == NULL);
		free(text);
	}
	mysql_close(c);
	mysql_close(t);
}

/* `barge run ARGS...` in the background with the passwords' variables. */
static pid_t start_controller(const char *log, const char *const *args)
{
	const char *argv[16] = {"run"}, *env[] = {e1, e2, NULL};
	size_t k = 1;

	for (size_t i = 0; args && args[i] && k < 15; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	return th_start_barge(log, env, argv);
}

static void stop_controller(pid_t pid)
{
	int st = 0;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void wait_count(MYSQL *t, const char *table, long long want)
{
	for (int i = 0; i < 300 && th_query_int(t, "SELECT COUNT(*) FROM %s", table) != want; i++)
		usleep(100000);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM %s", table), want);
}

/* Whether a webhook with this stage arrived, its signature checked against the secret. */
static bool stage_posted(struct http_receiver *hr, const char *stage, const char *secret)
{
	char want[64];

	snprintf(want, sizeof want, "\"stage\":\"%s\"", stage);
	for (size_t i = 0;; i++) {
		const struct http_request *req = http_receiver_request(hr, i);
		char sig[100], expect[80], mac[65];

		if (!req)
			return false;
		if (!req->body || !strstr(req->body, want))
			continue;
		http_request_header(req, "X-Barge-Signature", sig, sizeof sig);
		barge_webhook_sign(secret, req->body, req->body_len, mac);
		snprintf(expect, sizeof expect, "sha256=%s", mac);
		ASSERT_EQ_STR(sig, expect);
		ASSERT_TRUE(strstr(req->body, secret) == NULL);
		return true;
	}
}

/* Wait up to 10 s for the controller's log to say needle. */
static void wait_log(const char *log, const char *needle)
{
	for (int i = 0; i < 100; i++) {
		char *text = test_read_file(log, NULL);
		bool said = text && strstr(text, needle);

		free(text);
		if (said)
			return;
		usleep(100000);
	}
}

/* Job ctl-store, its webhook signed, with these incremental settings (YAML flow map body). */
static const char *store_job(struct http_receiver *hr, const char *incremental)
{
	char extra[600];

	snprintf(extra, sizeof extra,
		 "  objects: {allow: [{schema: ctl_store_db}]}\n"
		 "  incremental: {%s}\n"
		 "  notify: [{url: \"http://127.0.0.1:%u/hook\", secret: \"${env:BARGE_T_HOOK}\"}]\n",
		 incremental, http_receiver_port(hr));
	return th_write_job("ctl-store", "all", NULL, extra);
}

TEST(the_store_alone_runs_cli_pause_resume_live_update_and_signed_webhooks)
{
	const struct th_servers *s = th_servers();
	static const int ok[] = {200};
	struct http_receiver *hr = http_receiver_start(ok, 1);
	const char *secret = "hook-secret-5b0c";
	char cmd[1400], log[1100], path[1100], *out = NULL;
	const char *const no_paths[] = {"--log-level", "debug", NULL};
	MYSQL *c, *t;
	pid_t pid;

	setenv("BARGE_T_HOOK", secret, 1);
	th_fresh_db(&s->source, "ctl_store_db");
	t = th_connect(&s->target, NULL);
	th_exec(t, "DROP DATABASE IF EXISTS ctl_store_db");
	c = th_connect(&s->source, "ctl_store_db");
	th_exec(c, "CREATE TABLE a (id INT PRIMARY KEY)");
	th_exec(c, "INSERT INTO a VALUES (1)");
	snprintf(path, sizeof path, "%s", store_job(hr, "workers: 2"));
	job_file("running"); /* sets the passwords' variables */
	snprintf(cmd, sizeof cmd, "apply '%s'", path);
	ASSERT_EQ_INT(barge(&out, cmd), 0);
	free(out);

	/* no paths: the controller runs the recorded spec */
	snprintf(log, sizeof log, "%s/ctl-store.log", th_tmpdir());
	pid = start_controller(log, no_paths);
	wait_stage("Syncing");
	th_exec(c, "INSERT INTO a VALUES (2)");
	wait_count(t, "ctl_store_db.a", 2);

	/* pause and resume from the command line; plan against the file shows the drift */
	ASSERT_EQ_INT(barge(&out, "pause ctl-store"), 0);
	free(out);
	wait_stage("Paused");
	th_exec(c, "INSERT INTO a VALUES (3)");
	snprintf(cmd, sizeof cmd, "plan '%s'", path);
	ASSERT_EQ_INT(barge(&out, cmd), 2);
	ASSERT_CONTAINS(out, "resume");
	free(out);
	usleep(1500000);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM ctl_store_db.a"), 2);
	ASSERT_EQ_INT(barge(&out, "resume ctl-store"), 0);
	free(out);
	wait_stage("Syncing");
	wait_count(t, "ctl_store_db.a", 3);

	/* a live field: more apply threads, taken by the running job without a restart */
	store_job(hr, "workers: 3");
	snprintf(cmd, sizeof cmd, "plan '%s'", path);
	ASSERT_EQ_INT(barge(&out, cmd), 2);
	ASSERT_CONTAINS(out, "incremental.workers 2 → 3: applied live");
	free(out);
	snprintf(cmd, sizeof cmd, "apply '%s'", path);
	ASSERT_EQ_INT(barge(&out, cmd), 0);
	free(out);
	wait_log(log, "with 3 workers"); /* until the controller has acted on it */
	th_exec(c, "INSERT INTO a VALUES (4), (5), (6)");
	wait_count(t, "ctl_store_db.a", 6);
	for (int i = 0; i < 300 && th_query_int(t, "SELECT COUNT(*) FROM barge_meta.positions "
					       "WHERE job = 'ctl-store'") != 3; i++)
		usleep(100000);
	ASSERT_EQ_INT(th_query_int(t, "SELECT COUNT(*) FROM barge_meta.positions "
				      "WHERE job = 'ctl-store'"), 3);
	snprintf(cmd, sizeof cmd, "plan '%s'", path);
	ASSERT_EQ_INT(barge(&out, cmd), 0);
	free(out);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "ctl_store_db", "a", &s->target,
					"ctl_store_db", "a"), 6);

	/* a field that needs a restart: the worker is restarted with it, and nothing is lost */
	store_job(hr, "workers: 3, safeMode: always");
	snprintf(cmd, sizeof cmd, "plan '%s'", path);
	ASSERT_EQ_INT(barge(&out, cmd), 2);
	ASSERT_CONTAINS(out, "incremental.safeMode auto → always: needs restart");
	free(out);
	snprintf(cmd, sizeof cmd, "apply '%s'", path);
	ASSERT_EQ_INT(barge(&out, cmd), 0);
	free(out);
	wait_log(log, "restarting its worker for the new spec");
	wait_stage("Syncing");
	th_exec(c, "INSERT INTO a VALUES (7)");
	th_exec(c, "UPDATE a SET id = 8 WHERE id = 1");
	wait_count(t, "ctl_store_db.a", 7);
	for (int i = 0; i < 100 && th_query_int(t, "SELECT COUNT(*) FROM ctl_store_db.a "
						"WHERE id = 8") != 1; i++)
		usleep(100000);
	ASSERT_EQ_INT(th_compare_tables(&s->source, "ctl_store_db", "a", &s->target,
					"ctl_store_db", "a"), 7);
	for (int i = 0;; i++) {
		char *st = status_json();
		bool safe = strstr(st, "(safe mode)") != NULL;

		if (!safe && i == 100)
			TEST_FAILF("the restarted job does not say it is in safe mode:\n%s", st);
		free(st);
		if (safe)
			break;
		usleep(100000);
	}

	/* the webhooks: every stage change, signed */
	http_receiver_wait(hr, 4, 10000);
	ASSERT_TRUE(stage_posted(hr, "Syncing", secret));
	ASSERT_TRUE(stage_posted(hr, "Paused", secret));

	stop_controller(pid);
	{
		char *text = NULL;

		th_run(&text, NULL, "cat '%s'", log);
		ASSERT_CONTAINS(text, "resuming its worker with them");
		ASSERT_TRUE(strstr(text, secret) == NULL);
		ASSERT_TRUE(strstr(text, s->source.src_password) == NULL);
		free(text);
	}
	ASSERT_EQ_INT(barge(&out, "delete ctl-store"), 0);
	free(out);
	http_receiver_stop(hr);
	mysql_close(c);
	mysql_close(t);
}

TEST_MAIN()

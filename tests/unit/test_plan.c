/*
 * test_plan.c — the planner (engine/plan): every case in tests/data/plan/, then the parts that
 * are not a table (names, markers, the live fields, bad input, rendering).
 *
 * A case file has sections, each starting with a line "=== NAME"; lines before the first are
 * comments:
 *
 *   === files      job files (YAML, several documents allowed); leave the section out for
 *                  "no files given", leave it empty for "files that define no job"
 *   === recorded   the specs as recorded, as job files (the records' spec_json and desired half)
 *   === acted      the specs the workers run with, where they differ from the recorded ones
 *   === records    one record a line: NAME then KEY=VALUE pairs (VALUE may be "quoted"):
 *                    stage=Syncing      the stage (default New)
 *                    from=Loading       the stage a Paused job was paused from
 *                    desired=paused     the recorded desired state (default: the recorded spec's)
 *                    gen=N              the recorded desired generation (default: the spec's)
 *                    acted-gen=N        the generation acted on (default: the desired one)
 *                    acted=recorded|none|acted   the acted spec: the recorded one (default
 *                                       unless New), none, or the === acted document
 *                    spec=none          no recorded spec at all
 *                    delete=yes         a delete was requested
 *                    error="..."  code=NAME   the last error
 *   === expect     the actions, one a line: "ACTION JOB: REASON", in plan order
 *   === render     optional: the exact text of barge_plan_render(plan, false)
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/jobset.h"
#include "engine/plan.h"
#include "tests/test.h"

#define MAX_SECTIONS 8
#define MAX_RECORDS 16

struct section {
	char name[32];
	char *text;
};

struct plan_case {
	const char *file;
	struct section sections[MAX_SECTIONS];
	size_t n_sections;
};

/* Split text into sections; returns NULL or a message on a malformed file. */
static const char *split(char *text, struct plan_case *c)
{
	struct barge_buf cur;
	char *line = text, *next;
	struct section *open = NULL;

	barge_buf_init(&cur, BARGE_BUF_NOCAP);
	for (; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "=== ", 4) == 0) {
			if (open)
				open->text = barge_buf_detach(&cur);
			if (c->n_sections == MAX_SECTIONS)
				return "too many sections";
			open = &c->sections[c->n_sections++];
			snprintf(open->name, sizeof open->name, "%s", line + 4);
			continue;
		}
		if (open)
			barge_buf_appendf(&cur, "%s\n", line);
	}
	if (open)
		open->text = barge_buf_detach(&cur);
	barge_buf_dispose(&cur);
	return NULL;
}

static const char *section(const struct plan_case *c, const char *name)
{
	for (size_t i = 0; i < c->n_sections; i++)
		if (strcmp(c->sections[i].name, name) == 0)
			return c->sections[i].text;
	return NULL;
}

static struct barge_jobset *load(const char *file, const char *name, const char *text,
				 struct barge_buf *errors)
{
	struct barge_jobset *set = NULL;
	struct barge_diags diags = {0};
	struct barge_err err = {0};

	if (barge_jobset_load_buffer(name, text, strlen(text), &set, &diags, &err) != 0) {
		barge_buf_appendf(errors, "%s: section %s does not load: %s\n", file, name,
				  err.msg);
		for (size_t i = 0; i < diags.count; i++) {
			char *d = barge_diag_format(&diags.items[i]);

			barge_buf_appendf(errors, "    %s\n", d);
			free(d);
		}
		set = NULL;
	}
	barge_diags_dispose(&diags);
	return set;
}

/* Next token of a records line: a word, or a "quoted string" with \" and \\ escapes. */
static char *token(char **p)
{
	char *s = *p, *out, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '\n')
		return NULL;
	out = w = s;
	while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				*w++ = *s;
			}
			if (*s == '"')
				s++;
			continue;
		}
		*w++ = *s++;
	}
	if (*s)
		s++;
	*w = '\0';
	*p = s;
	return out;
}

/* Build the records of a case; problems go to errors. */
static size_t build_records(const struct plan_case *c, struct barge_record *recs,
			    struct barge_buf *errors)
{
	const char *text = section(c, "records");
	struct barge_jobset *recorded = NULL, *acted = NULL;
	char *copy, *line, *next;
	size_t n = 0;

	if (!text)
		return 0;
	if (section(c, "recorded"))
		recorded = load(c->file, "recorded", section(c, "recorded"), errors);
	if (section(c, "acted"))
		acted = load(c->file, "acted", section(c, "acted"), errors);
	copy = barge_xstrdup(text);
	for (line = copy; line && *line; line = next) {
		struct barge_record *r;
		char *p = line, *name, *kv, *kvs[32], *acted_text = NULL;
		size_t n_kv;
		bool has_acted_gen = false, no_spec = false;
		uint64_t acted_gen = 0;
		const struct barge_job *job;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		name = token(&p);
		if (!name || name[0] == '#')
			continue;
		if (n == MAX_RECORDS) {
			barge_buf_appendf(errors, "%s: too many records\n", c->file);
			break;
		}
		r = &recs[n++];
		barge_record_init(r, name);
		n_kv = 0;
		while (n_kv < 32 && (kv = token(&p)) != NULL)
			kvs[n_kv++] = kv;
		/* first what the defaults depend on */
		for (size_t i = 0; i < n_kv; i++)
			no_spec |= strcmp(kvs[i], "spec=none") == 0;
		job = recorded && !no_spec ? barge_jobset_find(recorded, name) : NULL;
		if (job)
			barge_record_set_spec(r, job);
		else if (!no_spec)
			barge_buf_appendf(errors, "%s: record %s has no === recorded spec\n",
					  c->file, name);
		for (size_t i = 0; i < n_kv; i++) {
			char *eq = strchr(kvs[i], '='), *v;
			int st;

			kv = kvs[i];
			if (!eq) {
				barge_buf_appendf(errors, "%s: record %s: \"%s\" is not a pair\n",
						  c->file, name, kv);
				continue;
			}
			*eq = '\0';
			v = eq + 1;
			if (strcmp(kv, "stage") == 0 || strcmp(kv, "from") == 0) {
				st = barge_stage_parse(v);
				if (st < 0)
					barge_buf_appendf(errors, "%s: unknown stage %s\n", c->file,
							  v);
				else if (kv[0] == 's')
					r->stage = (enum barge_stage)st;
				else
					r->paused_from = (enum barge_stage)st;
			} else if (strcmp(kv, "desired") == 0) {
				r->desired_state = strcmp(v, "paused") == 0 ? BARGE_DESIRED_PAUSED
									   : BARGE_DESIRED_RUNNING;
			} else if (strcmp(kv, "gen") == 0) {
				r->desired_generation = strtoull(v, NULL, 10);
			} else if (strcmp(kv, "acted-gen") == 0) {
				acted_gen = strtoull(v, NULL, 10);
				has_acted_gen = true;
			} else if (strcmp(kv, "acted") == 0) {
				acted_text = v;
			} else if (strcmp(kv, "spec") == 0) {
				/* handled above */
			} else if (strcmp(kv, "delete") == 0) {
				r->delete_requested = strcmp(v, "yes") == 0;
			} else if (strcmp(kv, "error") == 0) {
				free(r->error.message);
				r->error.message = barge_xstrdup(v);
			} else if (strcmp(kv, "code") == 0) {
				free(r->error.code);
				r->error.code = barge_xstrdup(v);
			} else {
				barge_buf_appendf(errors, "%s: record %s: unknown key %s\n",
						  c->file, name, kv);
			}
		}
		r->acted_generation = has_acted_gen ? acted_gen : r->desired_generation;
		if (!acted_text)
			acted_text = r->stage == BARGE_STAGE_NEW ? "none" : "recorded";
		if (strcmp(acted_text, "recorded") == 0) {
			r->acted_spec_json = r->spec_json ? barge_xstrdup(r->spec_json) : NULL;
		} else if (strcmp(acted_text, "acted") == 0) {
			const struct barge_job *a = acted ? barge_jobset_find(acted, name) : NULL;
			struct barge_record tmp;

			if (!a) {
				barge_buf_appendf(errors, "%s: record %s has no === acted spec\n",
						  c->file, name);
			} else {
				barge_record_init(&tmp, name);
				barge_record_set_spec(&tmp, a);
				r->acted_spec_json = tmp.spec_json;
				tmp.spec_json = NULL;
				barge_record_dispose(&tmp);
			}
		} else if (strcmp(acted_text, "none") != 0) {
			barge_buf_appendf(errors, "%s: record %s: acted=%s?\n", c->file, name,
					  acted_text);
		}
	}
	free(copy);
	barge_jobset_free(recorded);
	barge_jobset_free(acted);
	return n;
}

/* Expected text with comment and blank lines dropped. */
static char *clean_expect(const char *text)
{
	struct barge_buf b;
	const char *line = text, *next;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	for (; line && *line; line = next) {
		size_t len;

		next = strchr(line, '\n');
		len = next ? (size_t)(next - line) : strlen(line);
		if (next)
			next++;
		if (len == 0 || line[0] == '#')
			continue;
		barge_buf_append(&b, line, len);
		barge_buf_putc(&b, '\n');
	}
	return barge_buf_detach(&b);
}

/* Run one case file; problems go to errors. */
static void run_case(const char *path, const char *file, struct barge_buf *errors)
{
	struct plan_case c = {.file = file};
	struct barge_record recs[MAX_RECORDS];
	struct barge_jobset *files = NULL;
	struct barge_plan plan = {0};
	struct barge_err err = {0};
	struct barge_buf got;
	char *text = test_read_file(path, NULL), *expect = NULL;
	const char *problem, *files_text, *render;
	size_t n_recs = 0, before = errors->len;
	bool expect_drift = false;

	barge_buf_init(&got, BARGE_BUF_NOCAP);
	if (!text) {
		barge_buf_appendf(errors, "%s: unreadable\n", file);
		goto done;
	}
	problem = split(text, &c);
	if (problem) {
		barge_buf_appendf(errors, "%s: %s\n", file, problem);
		goto done;
	}
	if (!section(&c, "expect")) {
		barge_buf_appendf(errors, "%s: no === expect section\n", file);
		goto done;
	}
	files_text = section(&c, "files");
	/* an empty section is files that define no job; jobset.c's loader is not asked to load
	 * nothing, as its qsort over the empty set is undefined behaviour (UBSan says so) */
	if (files_text && files_text[strspn(files_text, " \n")])
		files = load(file, "jobs.yaml", files_text, errors);
	else if (files_text)
		files = barge_xcalloc(1, sizeof *files);
	n_recs = build_records(&c, recs, errors);
	if (errors->len != before)
		goto done;
	if (barge_plan_compute_jobset(files, recs, n_recs, &plan, &err) != 0) {
		barge_buf_appendf(errors, "%s: plan failed: %s\n", file, err.msg);
		goto done;
	}
	for (size_t i = 0; i < plan.count; i++)
		barge_buf_appendf(&got, "%s %s: %s\n", barge_action_name(plan.actions[i].kind),
				  plan.actions[i].job, plan.actions[i].reason);
	expect = clean_expect(section(&c, "expect"));
	if (strcmp(barge_buf_cstr(&got), expect) != 0)
		barge_buf_appendf(errors, "%s:\n  got:\n%s  expected:\n%s", file,
				  barge_buf_cstr(&got), expect);
	for (const char *l = expect; *l; l = strchr(l, '\n') + 1)
		expect_drift |= strncmp(l, "nothing ", 8) != 0;
	if (plan.has_drift != expect_drift)
		barge_buf_appendf(errors, "%s: has_drift %d, expected %d\n", file, plan.has_drift,
				  expect_drift);
	render = section(&c, "render");
	if (render) {
		char *r = barge_plan_render(&plan, false);

		if (strcmp(r, render) != 0)
			barge_buf_appendf(errors, "%s: render:\n  got:\n%s  expected:\n%s", file, r,
					  render);
		free(r);
	}
done:
	for (size_t i = 0; i < n_recs; i++)
		barge_record_dispose(&recs[i]);
	for (size_t i = 0; i < c.n_sections; i++)
		free(c.sections[i].text);
	barge_plan_dispose(&plan);
	barge_jobset_free(files);
	barge_buf_dispose(&got);
	free(expect);
	free(text);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(plan_cases)
{
	DIR *d = opendir(BARGE_TEST_DATA "/plan");
	struct dirent *e;
	struct barge_buf errors;
	char *names[256];
	size_t n = 0, kinds_seen[16] = {0};

	ASSERT_TRUE(d != NULL);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 5 && strcmp(e->d_name + len - 5, ".plan") == 0 && n < 256)
			names[n++] = barge_xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_names);
	barge_buf_init(&errors, BARGE_BUF_NOCAP);
	for (size_t i = 0; i < n; i++) {
		char *path = barge_xasprintf("%s/plan/%s", BARGE_TEST_DATA, names[i]);
		char *text = test_read_file(path, NULL), *ex;

		run_case(path, names[i], &errors);
		/* which actions the cases cover, from their expectations */
		ex = text ? strstr(text, "=== expect\n") : NULL;
		for (char *l = ex ? ex + 11 : NULL; l && *l && strncmp(l, "=== ", 4) != 0;) {
			char word[32] = "";
			int k;

			sscanf(l, "%31s", word);
			k = barge_action_parse(word);
			if (k >= 0)
				kinds_seen[k]++;
			l = strchr(l, '\n');
			l = l ? l + 1 : NULL;
		}
		free(text);
		free(path);
		free(names[i]);
	}
	fprintf(stderr, "  %zu plan cases\n", n);
	if (errors.len)
		TEST_FAILF("\n%s", barge_buf_cstr(&errors));
	barge_buf_dispose(&errors);
	ASSERT_TRUE(n >= 15);
	for (int k = 0; k <= BARGE_ACTION_DELETE; k++)
		if (!kinds_seen[k])
			TEST_FAILF("no case expects %s",
				   barge_action_name((enum barge_action_kind)k));
}

/* ---- the rest ---- */

static const char base_yaml[] = "apiVersion: barge/v1\n"
				"kind: MigrationJob\n"
				"metadata: {name: NAME}\n"
				"spec:\n"
				"  mode: full\n"
				"  source: {host: src, user: u}\n"
				"  target: {host: tgt, user: u}\n";

static struct barge_jobset *jobs_named(const char *const *names, size_t n)
{
	struct barge_buf b;
	struct barge_jobset *set = NULL;
	struct barge_diags diags = {0};
	struct barge_err err = {0};

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	for (size_t i = 0; i < n; i++) {
		const char *at = strstr(base_yaml, "NAME");

		barge_buf_appendf(&b, "---\n%.*s%s%s", (int)(at - base_yaml), base_yaml, names[i],
				  at + 4);
	}
	if (barge_jobset_load_buffer("jobs.yaml", barge_buf_cstr(&b), b.len, &set, &diags, &err))
		TEST_FAILF("load: %s", err.msg);
	barge_diags_dispose(&diags);
	barge_buf_dispose(&b);
	return set;
}

TEST(action_names_and_markers)
{
	static const char *const names[] = {"nothing", "create", "start", "pause", "resume",
					    "restart", "update-in-place", "update-needs-restart",
					    "delete"};
	static const char markers[] = " ++~~!~!-";

	for (int k = 0; k <= BARGE_ACTION_DELETE; k++) {
		struct barge_action a = {.kind = (enum barge_action_kind)k};

		ASSERT_EQ_STR(barge_action_name(a.kind), names[k]);
		ASSERT_EQ_INT(barge_action_parse(names[k]), k);
		ASSERT_EQ_INT(barge_action_marker(&a), markers[k]);
	}
	ASSERT_EQ_INT(barge_action_parse("update"), -1);
	{
		struct barge_action failed = {.kind = BARGE_ACTION_NOTHING, .attention = true};

		ASSERT_EQ_INT(barge_action_marker(&failed), '!');
	}
}

TEST(live_fields_are_the_documented_ones)
{
	static const char *const live[] = {"notify", "workers", "batch", "threads",
					   "precheckIgnore"};
	static const char *const restart[] = {"source",	   "target",	 "mode",
					      "allow",	   "block",	 "routes",
					      "filters",   "chunkRows",	 "onDuplicate",
					      "safeMode",  "startGtid",	 "startBinlogName",
					      "startBinlogPos", "somethingNew"};

	for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
		ASSERT_TRUE(barge_plan_field_is_live(live[i]));
	for (size_t i = 0; i < sizeof restart / sizeof restart[0]; i++)
		ASSERT_FALSE(barge_plan_field_is_live(restart[i]));
}

TEST(every_spec_key_is_classified)
{
	/* a field added to barge_job_to_json() must be placed in plan.c's table on purpose */
	static const char *const known[] = {
		"name",		  "state",	 "restartGeneration", "mode",	     "source",
		"target",	  "allow",	 "block",	      "routes",	     "filters",
		"threads",	  "chunkRows",	 "onDuplicate",	      "startBinlogName",
		"startBinlogPos", "startGtid",	 "workers",	      "batch",	     "safeMode",
		"notify",	  "precheckIgnore"};
	static const char *const names[] = {"a"};
	struct barge_jobset *set = jobs_named(names, 1);
	json_t *doc = barge_job_to_json(set->jobs[0]);
	const char *key;
	json_t *v;

	json_object_foreach(doc, key, v) {
		bool found = false;

		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			found |= strcmp(known[i], key) == 0;
		if (!found)
			TEST_FAILF("spec key %s is new: decide in plan.c whether it applies live",
				   key);
	}
	json_decref(doc);
	barge_jobset_free(set);
}

TEST(repeated_names_and_bad_records_are_refused)
{
	static const char *const names[] = {"a", "b"};
	struct barge_jobset *set = jobs_named(names, 2);
	const struct barge_job *twice[2] = {set->jobs[0], set->jobs[0]};
	struct barge_record recs[2];
	struct barge_plan plan = {0};
	struct barge_err err = {0};

	ASSERT_EQ_INT(barge_plan_compute(twice, 2, NULL, 0, &plan, &err), BARGE_EINVAL);
	ASSERT_CONTAINS(err.msg, "job a is desired twice");

	barge_record_init(&recs[0], "b");
	barge_record_init(&recs[1], "b");
	ASSERT_EQ_INT(barge_plan_compute((const struct barge_job *const *)set->jobs, 2, recs, 2,
					 &plan, &err),
		      BARGE_EINVAL);
	ASSERT_CONTAINS(err.msg, "job b is recorded twice");
	barge_record_dispose(&recs[1]);
	barge_record_init(&recs[1], "c");
	barge_record_dispose(&recs[0]);
	barge_record_init(&recs[0], "c");
	ASSERT_EQ_INT(barge_plan_compute(NULL, 0, recs, 2, &plan, &err), BARGE_EINVAL);
	ASSERT_CONTAINS(err.msg, "job c is recorded twice");
	barge_record_dispose(&recs[0]);
	barge_record_init(&recs[0], "zzz");
	recs[1].spec_json = barge_xstrdup("{broken");
	ASSERT_EQ_INT(barge_plan_compute(NULL, 0, recs, 2, &plan, &err), BARGE_ESTORE);
	ASSERT_CONTAINS(err.msg, "job c: the recorded spec is not JSON");
	ASSERT_TRUE(plan.actions == NULL);
	barge_record_dispose(&recs[0]);
	barge_record_dispose(&recs[1]);
	barge_jobset_free(set);
}

TEST(records_and_files_pair_by_name_in_order)
{
	static const char *const names[] = {"m", "c", "x"};
	struct barge_jobset *set = jobs_named(names, 3);
	struct barge_record recs[3];
	struct barge_plan plan = {0};
	struct barge_err err = {0};
	static const char *const order[] = {"a", "c", "m", "x", "z"};

	barge_record_init(&recs[0], "z");
	barge_record_init(&recs[1], "c");
	barge_record_init(&recs[2], "a");
	for (int i = 0; i < 3; i++)
		recs[i].stage = BARGE_STAGE_FINISHED;
	barge_record_set_spec(&recs[1], barge_jobset_find(set, "c"));
	ASSERT_OK(barge_plan_compute((const struct barge_job *const *)set->jobs, set->count, recs,
				     3, &plan, &err));
	ASSERT_EQ_UINT(plan.count, 5);
	for (size_t i = 0; i < 5; i++)
		ASSERT_EQ_STR(plan.actions[i].job, order[i]);
	ASSERT_EQ_INT(plan.actions[0].kind, BARGE_ACTION_DELETE);
	ASSERT_TRUE(plan.actions[0].record == &recs[2] && plan.actions[0].desired == NULL);
	ASSERT_EQ_INT(plan.actions[1].kind, BARGE_ACTION_NOTHING);
	ASSERT_TRUE(plan.actions[1].record == &recs[1]);
	ASSERT_TRUE(plan.actions[1].desired == barge_jobset_find(set, "c"));
	ASSERT_EQ_INT(plan.actions[2].kind, BARGE_ACTION_CREATE);
	ASSERT_TRUE(plan.actions[2].record == NULL);
	ASSERT_TRUE(plan.has_drift);
	barge_plan_dispose(&plan);

	/* no files: nothing is removed, a Finished job stays finished */
	ASSERT_OK(barge_plan_compute(NULL, 0, recs, 3, &plan, &err));
	ASSERT_EQ_UINT(plan.count, 3);
	ASSERT_FALSE(plan.has_drift);
	barge_plan_dispose(&plan);

	/* nothing on either side */
	ASSERT_OK(barge_plan_compute(NULL, 0, NULL, 0, &plan, &err));
	ASSERT_EQ_UINT(plan.count, 0);
	ASSERT_FALSE(plan.has_drift);
	{
		char *text = barge_plan_render(&plan, false);

		ASSERT_EQ_STR(text, "No changes: 0 jobs as recorded.\n");
		free(text);
	}
	for (int i = 0; i < 3; i++)
		barge_record_dispose(&recs[i]);
	barge_jobset_free(set);
}

TEST(render_verbose_shows_every_job)
{
	static const char *const names[] = {"alpha", "b"};
	struct barge_jobset *set = jobs_named(names, 2);
	struct barge_record recs[2];
	struct barge_plan plan = {0};
	struct barge_err err = {0};
	char *text;

	for (int i = 0; i < 2; i++) {
		barge_record_init(&recs[i], names[i]);
		barge_record_set_spec(&recs[i], set->jobs[i]);
		recs[i].stage = BARGE_STAGE_LOADING;
		recs[i].acted_spec_json = barge_xstrdup(recs[i].spec_json);
	}
	ASSERT_OK(barge_plan_compute((const struct barge_job *const *)set->jobs, 2, recs, 2, &plan,
				     &err));
	text = barge_plan_render(&plan, false);
	ASSERT_EQ_STR(text, "No changes: 2 jobs as recorded.\n");
	free(text);
	text = barge_plan_render(&plan, true);
	ASSERT_EQ_STR(text, "  alpha  nothing  Loading\n"
			    "  b      nothing  Loading\n"
			    "\n"
			    "No changes: 2 jobs as recorded.\n");
	free(text);
	barge_plan_dispose(&plan);
	for (int i = 0; i < 2; i++)
		barge_record_dispose(&recs[i]);
	barge_jobset_free(set);
}

TEST_MAIN()

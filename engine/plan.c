/*
 * plan.c — desired × recorded → actions (see plan.h for the decision table).
 *
 * Three steps per job: pair the desired job with its record by name, compare the specs field by
 * field (fields[] says which apply live), then decide the state action from the stage, the
 * desired state and the restart generations.  Everything is computed from the arguments alone.
 */
#include "engine/plan.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/lifecycle.h"

static const char *const action_names[] = {
	[BARGE_ACTION_NOTHING] = "nothing",
	[BARGE_ACTION_CREATE] = "create",
	[BARGE_ACTION_START] = "start",
	[BARGE_ACTION_PAUSE] = "pause",
	[BARGE_ACTION_RESUME] = "resume",
	[BARGE_ACTION_RESTART] = "restart",
	[BARGE_ACTION_UPDATE_LIVE] = "update-in-place",
	[BARGE_ACTION_UPDATE_RESTART] = "update-needs-restart",
	[BARGE_ACTION_DELETE] = "delete",
};

#define N_ACTIONS (sizeof action_names / sizeof action_names[0])

const char *barge_action_name(enum barge_action_kind kind)
{
	return (unsigned)kind < N_ACTIONS ? action_names[kind] : "?";
}

int barge_action_parse(const char *name)
{
	for (size_t i = 0; i < N_ACTIONS; i++)
		if (strcmp(name, action_names[i]) == 0)
			return (int)i;
	return -1;
}

char barge_action_marker(const struct barge_action *a)
{
	switch (a->kind) {
	case BARGE_ACTION_CREATE:
	case BARGE_ACTION_START: return '+';
	case BARGE_ACTION_UPDATE_LIVE:
	case BARGE_ACTION_PAUSE:
	case BARGE_ACTION_RESUME: return '~';
	case BARGE_ACTION_RESTART:
	case BARGE_ACTION_UPDATE_RESTART: return '!';
	case BARGE_ACTION_DELETE: return '-';
	default: return a->attention ? '!' : ' ';
	}
}

/* ---- the spec's fields ---- */

/*
 * Every top-level key of barge_job_to_json() but name, state and restartGeneration, with the
 * path users know it by, and whether a running worker takes a change as it runs.  A key not
 * listed (a field added later) is shown by its key and needs a restart, the safe default.
 */
static const struct field {
	const char *key, *path;
	bool live;
} fields[] = {
	{"mode", "mode", false},
	{"source", "source", false},
	{"target", "target", false},
	{"allow", "objects.allow", false},
	{"block", "objects.block", false},
	{"routes", "routes", false},
	{"filters", "filters", false},
	{"threads", "full.threads", true},
	{"chunkRows", "full.chunkRows", false},
	{"onDuplicate", "full.onDuplicate", false},
	{"startBinlogName", "incremental.start.binlogName", false},
	{"startBinlogPos", "incremental.start.binlogPos", false},
	{"startGtid", "incremental.start.gtid", false},
	{"workers", "incremental.workers", true},
	{"batch", "incremental.batch", true},
	{"safeMode", "incremental.safeMode", false},
	{"notify", "notify", true},
	{"precheckIgnore", "precheck.ignore", true},
};

#define N_FIELDS (sizeof fields / sizeof fields[0])

/* Keys compared elsewhere (or the identity, or where the file was), never as spec fields. */
static bool handled_elsewhere(const char *key)
{
	return strcmp(key, "name") == 0 || strcmp(key, "state") == 0 ||
	       strcmp(key, "restartGeneration") == 0 || strcmp(key, "file") == 0;
}

bool barge_plan_field_is_live(const char *key)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (strcmp(fields[i].key, key) == 0)
			return fields[i].live;
	return false;
}

/* Values under these keys are secret references or URLs with tokens: say "changed" only. */
static bool hidden(const char *key)
{
	return strcmp(key, "password") == 0 || strcmp(key, "secret") == 0 ||
	       strcmp(key, "url") == 0;
}

static bool scalar(const json_t *v)
{
	return !v || (!json_is_object(v) && !json_is_array(v));
}

static void put_scalar(struct barge_buf *b, const json_t *v)
{
	if (!v || json_is_null(v))
		barge_buf_puts(b, "(none)");
	else if (json_is_string(v))
		barge_buf_puts(b, json_string_value(v));
	else if (json_is_integer(v))
		barge_buf_appendf(b, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		barge_buf_appendf(b, "%g", json_real_value(v));
	else
		barge_buf_puts(b, json_is_true(v) ? "true" : "false");
}

static bool same(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return a == b;
	return json_equal(a, b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of one or two objects, sorted, each once.  Caller frees the array (not the keys). */
static const char **union_keys(json_t *a, json_t *b, size_t *n)
{
	size_t cap = (a ? json_object_size(a) : 0) + (b ? json_object_size(b) : 0), k = 0, u = 0;
	const char **keys = barge_xcalloc(cap + 1, sizeof *keys);
	const char *key;
	json_t *v;

	if (a) {
		json_object_foreach(a, key, v) {
			keys[k++] = key;
		}
	}
	if (b) {
		json_object_foreach(b, key, v) {
			keys[k++] = key;
		}
	}
	qsort(keys, k, sizeof *keys, cmp_str);
	for (size_t i = 0; i < k; i++)
		if (u == 0 || strcmp(keys[u - 1], keys[i]) != 0)
			keys[u++] = keys[i];
	*n = u;
	return keys;
}

/* Append what differs between old and new at path ("source.host db1 → db2") to b. */
static void describe(struct barge_buf *b, const char *path, const char *key, json_t *old,
		     json_t *new)
{
	if (same(old, new))
		return;
	if (old && new && json_is_object(old) && json_is_object(new)) {
		size_t n;
		const char **keys = union_keys(old, new, &n);

		for (size_t i = 0; i < n; i++) {
			char *sub = barge_xasprintf("%s.%s", path, keys[i]);

			describe(b, sub, keys[i], json_object_get(old, keys[i]),
				 json_object_get(new, keys[i]));
			free(sub);
		}
		free(keys);
		return;
	}
	if (b->len)
		barge_buf_puts(b, ", ");
	if (hidden(key) || !scalar(old) || !scalar(new)) {
		barge_buf_appendf(b, "%s changed", path);
		return;
	}
	barge_buf_appendf(b, "%s ", path);
	put_scalar(b, old);
	barge_buf_puts(b, " \xe2\x86\x92 "); /* → */
	put_scalar(b, new);
}

struct spec_diff {
	bool any;          /* some field differs */
	bool needs_restart; /* some differing field is not live */
	char *text;        /* "routes changed, incremental.workers 8 → 16" */
};

static void diff_specs(json_t *old, json_t *new, struct spec_diff *out)
{
	struct barge_buf b;
	size_t n;
	const char **keys = union_keys(old, new, &n);

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	memset(out, 0, sizeof *out);
	/* known fields in the table's order, then any others by name */
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < (pass == 0 ? N_FIELDS : n); i++) {
			const char *key = pass == 0 ? fields[i].key : keys[i];
			const char *path = key;
			bool known = false, live = false;
			json_t *a = json_object_get(old, key), *c = json_object_get(new, key);

			for (size_t f = 0; f < N_FIELDS; f++)
				if (strcmp(fields[f].key, key) == 0) {
					known = true;
					live = fields[f].live;
					path = fields[f].path;
				}
			if ((pass == 1 && known) || handled_elsewhere(key) || same(a, c))
				continue;
			describe(&b, path, key, a, c);
			out->any = true;
			out->needs_restart |= !live;
		}
	free(keys);
	out->text = barge_buf_detach(&b);
}

/* ---- building the plan ---- */

struct entry {
	const char *name;
	const struct barge_job *job;
	const struct barge_record *rec;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void add(struct barge_plan *p, size_t *cap, const struct entry *e,
		enum barge_action_kind kind, bool attention, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void add(struct barge_plan *p, size_t *cap, const struct entry *e,
		enum barge_action_kind kind, bool attention, const char *fmt, ...)
{
	struct barge_action *a;
	struct barge_buf b;
	va_list ap;

	if (p->count == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		p->actions = barge_xrealloc(p->actions, *cap * sizeof *p->actions);
	}
	barge_buf_init(&b, BARGE_BUF_NOCAP);
	va_start(ap, fmt);
	barge_buf_appendv(&b, fmt, ap);
	va_end(ap);
	a = &p->actions[p->count++];
	a->kind = kind;
	a->job = barge_xstrdup(e->name);
	a->reason = barge_buf_detach(&b);
	/* one line, whatever an error message carried */
	for (char *c = a->reason; *c; c++)
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	a->attention = attention;
	a->desired = e->job;
	a->record = e->rec;
	if (kind != BARGE_ACTION_NOTHING)
		p->has_drift = true;
}

static json_t *parse_spec(const char *text)
{
	return text ? json_loads(text, 0, NULL) : NULL;
}

/* The error a Failed job shows. */
static const char *failure_text(const struct barge_record *r)
{
	if (r->error.message && *r->error.message)
		return r->error.message;
	if (r->error.code)
		return r->error.code;
	return "no error recorded";
}

/* One job with a live record: spec action, then state action. */
static int plan_job(struct barge_plan *p, size_t *cap, const struct entry *e,
		    struct barge_err *err)
{
	const struct barge_record *r = e->rec;
	const struct barge_job *job = e->job;
	enum barge_stage stage = r->stage;
	bool live = barge_stage_is_live(stage), paused;
	uint64_t gen;
	const char *base_text;
	json_t *want = NULL, *base = NULL;
	struct spec_diff diff = {0};
	enum barge_action_kind state_kind = BARGE_ACTION_NOTHING;
	size_t before = p->count;
	int rc = 0;

	paused = (job ? job->state : r->desired_state) == BARGE_DESIRED_PAUSED;
	gen = r->desired_generation;
	if (job && job->restart_generation > gen)
		gen = job->restart_generation;

	/* the state action first, as the spec action's reason depends on it */
	if (gen > r->acted_generation && stage != BARGE_STAGE_NEW)
		state_kind = BARGE_ACTION_RESTART;
	else if (stage == BARGE_STAGE_NEW && !paused)
		state_kind = BARGE_ACTION_START;
	else if (live && paused)
		state_kind = BARGE_ACTION_PAUSE;
	else if (stage == BARGE_STAGE_PAUSED && !paused)
		state_kind = BARGE_ACTION_RESUME;

	/* the spec: a running worker's against what it runs with, else against what is recorded */
	base_text = live && r->acted_spec_json ? r->acted_spec_json : r->spec_json;
	if (base_text) {
		base = parse_spec(base_text);
		if (!base) {
			rc = barge_err_set(err, BARGE_ESTORE,
					   "job %s: the recorded spec is not JSON", e->name);
			goto done;
		}
	}
	if (job) {
		want = barge_job_to_json(job);
	} else if (r->spec_json) {
		want = parse_spec(r->spec_json);
		if (!want) {
			rc = barge_err_set(err, BARGE_ESTORE,
					   "job %s: the recorded spec is not JSON", e->name);
			goto done;
		}
	}
	if (want && !base) {
		diff.any = true;
		diff.needs_restart = live;
		diff.text = barge_xstrdup("no spec recorded yet");
	} else if (want) {
		diff_specs(base, want, &diff);
	}
	if (diff.any) {
		if (stage == BARGE_STAGE_NEW || !diff.needs_restart)
			add(p, cap, e, BARGE_ACTION_UPDATE_LIVE, false, "%s: %s", diff.text,
			    live ? "applied live" : "takes effect when the job next runs");
		else
			add(p, cap, e, BARGE_ACTION_UPDATE_RESTART, false, "%s: %s", diff.text,
			    state_kind == BARGE_ACTION_RESTART ? "applied by the restart"
			    : state_kind == BARGE_ACTION_PAUSE ? "takes effect on resume"
			    : state_kind == BARGE_ACTION_RESUME ? "applied by the resume"
			    : live			     ? "needs restart"
			    : stage == BARGE_STAGE_PAUSED    ? "takes effect on resume"
							     : "takes effect on restart");
	}

	switch (state_kind) {
	case BARGE_ACTION_RESTART:
		add(p, cap, e, state_kind, false, "restartGeneration %llu > %llu acted on%s",
		    (unsigned long long)gen, (unsigned long long)r->acted_generation,
		    paused ? "; stays paused until spec.state is running" : "");
		break;
	case BARGE_ACTION_START:
		add(p, cap, e, state_kind, false, "spec.state running; the job has not started");
		break;
	case BARGE_ACTION_PAUSE:
		if (job && r->desired_state == BARGE_DESIRED_RUNNING)
			add(p, cap, e, state_kind, false,
			    "spec.state changed running \xe2\x86\x92 paused");
		else
			add(p, cap, e, state_kind, false, "spec.state paused; the job is still %s",
			    barge_stage_name(stage));
		break;
	case BARGE_ACTION_RESUME:
		if (job && r->desired_state == BARGE_DESIRED_PAUSED)
			add(p, cap, e, state_kind, false,
			    "spec.state changed paused \xe2\x86\x92 running; resumes %s",
			    barge_stage_name(barge_stage_resume_to(r->paused_from)));
		else
			add(p, cap, e, state_kind, false, "spec.state running; resumes %s",
			    barge_stage_name(barge_stage_resume_to(r->paused_from)));
		break;
	default:
		if (stage == BARGE_STAGE_FAILED)
			add(p, cap, e, BARGE_ACTION_NOTHING, true,
			    "failed: %s; bump restartGeneration or run barge restart",
			    failure_text(r));
		else if (p->count == before)
			add(p, cap, e, BARGE_ACTION_NOTHING, false, "%s",
			    stage == BARGE_STAGE_NEW ? "paused before its first start"
			    : stage == BARGE_STAGE_PAUSED ? "paused"
			    : stage == BARGE_STAGE_FINISHED ? "finished"
							    : barge_stage_name(stage));
		break;
	}
done:
	json_decref(want);
	json_decref(base);
	free(diff.text);
	return rc;
}

static int plan_entry(struct barge_plan *p, size_t *cap, const struct entry *e, bool files,
		      struct barge_err *err)
{
	const struct barge_record *r = e->rec;

	if (e->job && (!r || r->stage == BARGE_STAGE_DELETED)) {
		const char *file = e->job->file ? e->job->file : "the job files";
		const char *paused = e->job->state == BARGE_DESIRED_PAUSED ? ", starts paused" : "";

		if (r)
			add(p, cap, e, BARGE_ACTION_CREATE, false,
			    "job file present again (in %s); the deleted job is created anew%s",
			    file, paused);
		else
			add(p, cap, e, BARGE_ACTION_CREATE, false, "new job in %s%s", file, paused);
		return 0;
	}
	if (r->stage == BARGE_STAGE_DELETED) {
		add(p, cap, e, BARGE_ACTION_NOTHING, false, "deleted");
		return 0;
	}
	if (r->delete_requested) {
		if (e->job)
			add(p, cap, e, BARGE_ACTION_NOTHING, false,
			    "being deleted (still %s); created again once the delete is done",
			    barge_stage_name(r->stage));
		else
			add(p, cap, e, BARGE_ACTION_DELETE, false,
			    "delete requested; the job is still %s", barge_stage_name(r->stage));
		return 0;
	}
	if (files && !e->job) {
		add(p, cap, e, BARGE_ACTION_DELETE, false, "job file removed");
		return 0;
	}
	return plan_job(p, cap, e, err);
}

int barge_plan_compute(const struct barge_job *const *desired, size_t n_desired,
		       const struct barge_record *records, size_t n_records,
		       struct barge_plan *out, struct barge_err *err)
{
	struct entry *entries = barge_xcalloc(n_desired + n_records + 1, sizeof *entries);
	size_t n = 0, cap = 0;
	struct barge_plan p = {0};
	int rc = 0;

	if (!desired)
		n_desired = 0;
	for (size_t i = 0; i < n_desired; i++) {
		if (!desired[i] || !desired[i]->name) {
			rc = barge_err_set(err, BARGE_EINVAL, "plan: desired job %zu has no name",
					   i);
			goto done;
		}
		entries[n++] = (struct entry){desired[i]->name, desired[i], NULL};
	}
	qsort(entries, n, sizeof *entries, cmp_entry);
	for (size_t i = 1; i < n; i++)
		if (strcmp(entries[i - 1].name, entries[i].name) == 0) {
			rc = barge_err_set(err, BARGE_EINVAL, "plan: job %s is desired twice",
					   entries[i].name);
			goto done;
		}
	for (size_t i = 0, jobs = n; i < n_records; i++) {
		struct entry key = {records[i].name, NULL, NULL}, *hit = NULL;

		if (!records[i].name) {
			rc = barge_err_set(err, BARGE_EINVAL, "plan: record %zu has no name", i);
			goto done;
		}
		hit = bsearch(&key, entries, jobs, sizeof *entries, cmp_entry);
		if (!hit) {
			for (size_t j = jobs; j < n && !hit; j++)
				if (strcmp(entries[j].name, key.name) == 0)
					hit = &entries[j];
			if (!hit) {
				entries[n++] = key;
				hit = &entries[n - 1];
			}
		}
		if (hit->rec) {
			rc = barge_err_set(err, BARGE_EINVAL, "plan: job %s is recorded twice",
					   key.name);
			goto done;
		}
		hit->rec = &records[i];
	}
	qsort(entries, n, sizeof *entries, cmp_entry);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = plan_entry(&p, &cap, &entries[i], desired != NULL, err);
done:
	free(entries);
	if (rc != 0) {
		barge_plan_dispose(&p);
		return rc;
	}
	*out = p;
	return 0;
}

int barge_plan_compute_jobset(const struct barge_jobset *set, const struct barge_record *records,
			      size_t n_records, struct barge_plan *out, struct barge_err *err)
{
	static const struct barge_job *const none[1];

	if (!set)
		return barge_plan_compute(NULL, 0, records, n_records, out, err);
	return barge_plan_compute(set->jobs ? (const struct barge_job *const *)set->jobs : none,
				  set->count, records, n_records, out, err);
}

void barge_plan_dispose(struct barge_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->count; i++) {
		free(plan->actions[i].job);
		free(plan->actions[i].reason);
	}
	free(plan->actions);
	memset(plan, 0, sizeof *plan);
}

/* ---- text ---- */

static bool shown(const struct barge_action *a, bool verbose)
{
	return verbose || a->kind != BARGE_ACTION_NOTHING || a->attention;
}

char *barge_plan_render(const struct barge_plan *plan, bool verbose)
{
	struct barge_buf b;
	size_t name_w = 0, kind_w = 0, counts[N_ACTIONS] = {0}, jobs = 0, unchanged = 0;
	bool first = true;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	for (size_t i = 0; i < plan->count; i++) {
		const struct barge_action *a = &plan->actions[i];

		if (!shown(a, verbose))
			continue;
		if (strlen(a->job) > name_w)
			name_w = strlen(a->job);
		if (strlen(barge_action_name(a->kind)) > kind_w)
			kind_w = strlen(barge_action_name(a->kind));
	}
	for (size_t i = 0; i < plan->count; i++) {
		const struct barge_action *a = &plan->actions[i];
		bool new_job = i == 0 || strcmp(plan->actions[i - 1].job, a->job) != 0;
		bool job_changes = false;

		if (new_job) {
			jobs++;
			for (size_t j = i; j < plan->count; j++) {
				if (strcmp(plan->actions[j].job, a->job) != 0)
					break;
				job_changes |= plan->actions[j].kind != BARGE_ACTION_NOTHING;
			}
			unchanged += !job_changes;
		}
		counts[a->kind]++;
		if (!shown(a, verbose))
			continue;
		barge_buf_appendf(&b, "%c %-*s  %-*s  %s\n", barge_action_marker(a), (int)name_w,
				  a->job, (int)kind_w, barge_action_name(a->kind), a->reason);
	}
	if (b.len)
		barge_buf_putc(&b, '\n');
	if (!plan->has_drift) {
		barge_buf_appendf(&b, "No changes: %zu job%s as recorded.\n", jobs,
				  jobs == 1 ? "" : "s");
		return barge_buf_detach(&b);
	}
	barge_buf_puts(&b, "Plan: ");
	for (size_t k = 1; k < N_ACTIONS; k++) {
		if (!counts[k])
			continue;
		barge_buf_appendf(&b, "%s%zu %s", first ? "" : ", ", counts[k], action_names[k]);
		first = false;
	}
	if (unchanged)
		barge_buf_appendf(&b, "; %zu job%s unchanged", unchanged,
				  unchanged == 1 ? "" : "s");
	barge_buf_puts(&b, ".\n");
	return barge_buf_detach(&b);
}

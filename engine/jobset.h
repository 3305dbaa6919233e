/*
 * jobset.h — load every job file under a set of paths, all or nothing.
 *
 * barge_jobset_load() reads every *.yaml / *.yml file under the given files and directories
 * (recursively, in sorted order; multi-document files allowed; documents that are empty are
 * skipped), parses each document into a struct barge_job, and checks the set as a whole:
 * duplicate names across files, at most BARGE_JOBS_MAX jobs, rules that compile, routes that
 * do not overlap.  Either every document is valid and the set is returned, or nothing is: a
 * bad file never half-loads.
 *
 * Every problem becomes one diagnostic "file:line:col: message" naming the key, e.g.
 *   jobs/orders.yaml:12:5: spec.full: unknown key "thread" (did you mean "threads"?)
 * All diagnostics are collected (not just the first) so one validate run shows them all.
 */
#ifndef BARGE_ENGINE_JOBSET_H
#define BARGE_ENGINE_JOBSET_H

#include <stddef.h>

#include "engine/error.h"
#include "engine/job.h"

struct barge_diag {
	char *file;
	unsigned line, col;
	char *message; /* without the location prefix */
};

struct barge_diags {
	struct barge_diag *items;
	size_t count;
};

struct barge_jobset {
	struct barge_job **jobs; /* sorted by name */
	size_t count;
	char **files; /* every file read, owned; barge_srcloc.file points into these */
	size_t n_files;
};

/*
 * Load paths[0..n_paths).  On success returns 0 and sets *out (free with barge_jobset_free).
 * On failure returns BARGE_ECONFIG (invalid input) or BARGE_EIO (unreadable path), leaves *out
 * untouched, and appends every problem to diags (caller-owned; free with barge_diags_dispose).
 * err receives a one-line summary ("3 errors in 2 files").
 */
int barge_jobset_load(const char *const *paths, size_t n_paths, struct barge_jobset **out,
		      struct barge_diags *diags, struct barge_err *err);

/* Like barge_jobset_load, over one in-memory file called name (tests, fuzzing, stdin). */
int barge_jobset_load_buffer(const char *name, const char *buf, size_t len,
			     struct barge_jobset **out, struct barge_diags *diags,
			     struct barge_err *err);

void barge_jobset_free(struct barge_jobset *set);

/* The job named name, or NULL. */
struct barge_job *barge_jobset_find(const struct barge_jobset *set, const char *name);

/* "file:line:col: message" for one diagnostic, into a heap string the caller frees. */
char *barge_diag_format(const struct barge_diag *d);

void barge_diags_dispose(struct barge_diags *diags);

#endif

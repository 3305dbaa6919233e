/*
 * lifecycle.h — a job's stages and the one table of moves between them.
 *
 * The stage enum itself, its user-facing names ("New", "Prechecking", ...) and
 * barge_stage_parse() are declared in worker.h next to the worker that reports them; this
 * module owns which moves are allowed.  The reconciler checks every stage it records against
 * barge_stage_can_in_mode(), the store refuses nothing by itself, and plan.c derives its actions
 * from the same notions (live stages, resume targets).
 *
 *   New ──start──► Prechecking ──► Dumping ──► Loading ──► Finished        (mode full)
 *                       │                          └──────► Syncing         (mode all)
 *                       └─────────────────────────────────► Syncing         (mode incremental)
 *
 *   any live stage (Prechecking, Dumping, Loading, Syncing) ──► Paused | Failed
 *   Paused ──resume──► the stage it was paused from
 *   live, Paused, Failed, Finished ──restart──► Prechecking
 *   any stage but Deleted ──delete──► Deleted (terminal)
 *
 * Staying in a stage is not a move: barge_stage_can(s, s) is false.
 */
#ifndef BARGE_ENGINE_LIFECYCLE_H
#define BARGE_ENGINE_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/job.h"
#include "engine/worker.h" /* enum barge_stage, barge_stage_name(), barge_stage_parse() */

#define BARGE_STAGE_COUNT (BARGE_STAGE_DELETED + 1)

/* Bits of enum barge_mode, for the moves that only some modes make. */
#define BARGE_MODE_BIT(mode) (1u << (mode))
#define BARGE_MODES_ANY                                                                           \
	(BARGE_MODE_BIT(BARGE_MODE_FULL) | BARGE_MODE_BIT(BARGE_MODE_INCREMENTAL) |               \
	 BARGE_MODE_BIT(BARGE_MODE_ALL))

/* One allowed move. */
struct barge_stage_move {
	enum barge_stage from, to;
	unsigned modes;  /* BARGE_MODE_BIT()s of the job modes that make this move */
	const char *why; /* what causes it, for messages: "precheck passed", "resume", ... */
};

/* The whole table (static storage); *count receives the number of moves. */
const struct barge_stage_move *barge_stage_moves(size_t *count);

/* Whether some job (of any mode) may move from `from` to `to`. */
bool barge_stage_can(enum barge_stage from, enum barge_stage to);

/* Whether a job of the given mode may move from `from` to `to`. */
bool barge_stage_can_in_mode(enum barge_stage from, enum barge_stage to, enum barge_mode mode);

/* The table's entry for the move, or NULL when it is not allowed in any mode. */
const struct barge_stage_move *barge_stage_move_find(enum barge_stage from, enum barge_stage to);

/* Whether a worker runs in this stage: Prechecking, Dumping, Loading, Syncing. */
bool barge_stage_is_live(enum barge_stage stage);

/*
 * Where resume takes a job paused from `paused_from`: that stage when it is live, else
 * Prechecking (a record from an older barge, or one edited by hand).
 */
enum barge_stage barge_stage_resume_to(enum barge_stage paused_from);

/*
 * Parse a stage name (case-insensitive) into *out.  Returns 0, or BARGE_EINVAL with a message
 * listing the names when text is not one of them.
 */
int barge_stage_parse_strict(const char *text, enum barge_stage *out, struct barge_err *err);

#endif

/*
 * lifecycle.c — the table of allowed stage moves (see lifecycle.h).
 *
 * The table is the only place the moves are written down; every query below reads it, and the
 * unit tests walk it, so a new move is one line here.
 */
#include "engine/lifecycle.h"

#include <stdio.h>

#include "engine/buf.h"

#define FULL BARGE_MODE_BIT(BARGE_MODE_FULL)
#define INCR BARGE_MODE_BIT(BARGE_MODE_INCREMENTAL)
#define ALL BARGE_MODE_BIT(BARGE_MODE_ALL)
#define ANY BARGE_MODES_ANY

#define S(x) BARGE_STAGE_##x

static const struct barge_stage_move moves[] = {
	{S(NEW), S(PRECHECKING), ANY, "start"},
	{S(NEW), S(DELETED), ANY, "delete"},

	{S(PRECHECKING), S(DUMPING), FULL | ALL, "precheck passed"},
	{S(PRECHECKING), S(SYNCING), INCR, "precheck passed"},
	{S(PRECHECKING), S(PAUSED), ANY, "pause"},
	{S(PRECHECKING), S(FAILED), ANY, "precheck failed"},
	{S(PRECHECKING), S(DELETED), ANY, "delete"},

	{S(DUMPING), S(LOADING), FULL | ALL, "snapshot taken"},
	{S(DUMPING), S(PAUSED), FULL | ALL, "pause"},
	{S(DUMPING), S(FAILED), FULL | ALL, "error"},
	{S(DUMPING), S(PRECHECKING), FULL | ALL, "restart"},
	{S(DUMPING), S(DELETED), FULL | ALL, "delete"},

	{S(LOADING), S(SYNCING), ALL, "full phase done"},
	{S(LOADING), S(FINISHED), FULL, "full phase done"},
	{S(LOADING), S(PAUSED), FULL | ALL, "pause"},
	{S(LOADING), S(FAILED), FULL | ALL, "error"},
	{S(LOADING), S(PRECHECKING), FULL | ALL, "restart"},
	{S(LOADING), S(DELETED), FULL | ALL, "delete"},

	{S(SYNCING), S(PAUSED), INCR | ALL, "pause"},
	{S(SYNCING), S(FAILED), INCR | ALL, "error"},
	{S(SYNCING), S(PRECHECKING), INCR | ALL, "restart"},
	{S(SYNCING), S(DELETED), INCR | ALL, "delete"},

	/* resume goes back to the stage the job was paused from; restart to Prechecking */
	{S(PAUSED), S(PRECHECKING), ANY, "resume or restart"},
	{S(PAUSED), S(DUMPING), FULL | ALL, "resume"},
	{S(PAUSED), S(LOADING), FULL | ALL, "resume"},
	{S(PAUSED), S(SYNCING), INCR | ALL, "resume"},
	{S(PAUSED), S(DELETED), ANY, "delete"},

	{S(FAILED), S(PRECHECKING), ANY, "restart"},
	{S(FAILED), S(DELETED), ANY, "delete"},

	{S(FINISHED), S(PRECHECKING), FULL, "restart"},
	{S(FINISHED), S(DELETED), FULL, "delete"},
};

const struct barge_stage_move *barge_stage_moves(size_t *count)
{
	*count = sizeof moves / sizeof moves[0];
	return moves;
}

const struct barge_stage_move *barge_stage_move_find(enum barge_stage from, enum barge_stage to)
{
	for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
		if (moves[i].from == from && moves[i].to == to)
			return &moves[i];
	return NULL;
}

bool barge_stage_can(enum barge_stage from, enum barge_stage to)
{
	return barge_stage_move_find(from, to) != NULL;
}

bool barge_stage_can_in_mode(enum barge_stage from, enum barge_stage to, enum barge_mode mode)
{
	const struct barge_stage_move *m = barge_stage_move_find(from, to);

	return m && (m->modes & BARGE_MODE_BIT(mode)) != 0;
}

bool barge_stage_is_live(enum barge_stage stage)
{
	switch (stage) {
	case BARGE_STAGE_PRECHECKING:
	case BARGE_STAGE_DUMPING:
	case BARGE_STAGE_LOADING:
	case BARGE_STAGE_SYNCING: return true;
	default: return false;
	}
}

enum barge_stage barge_stage_resume_to(enum barge_stage paused_from)
{
	return barge_stage_is_live(paused_from) ? paused_from : BARGE_STAGE_PRECHECKING;
}

int barge_stage_parse_strict(const char *text, enum barge_stage *out, struct barge_err *err)
{
	int s = text ? barge_stage_parse(text) : -1;
	struct barge_buf names;
	int rc;

	if (s >= 0) {
		*out = (enum barge_stage)s;
		return 0;
	}
	barge_buf_init(&names, BARGE_BUF_NOCAP);
	for (int i = 0; i < BARGE_STAGE_COUNT; i++)
		barge_buf_appendf(&names, "%s%s", i ? ", " : "",
				  barge_stage_name((enum barge_stage)i));
	rc = barge_err_set(err, BARGE_EINVAL, "unknown stage \"%s\" (one of %s)",
			   text ? text : "", barge_buf_cstr(&names));
	barge_buf_dispose(&names);
	return rc;
}

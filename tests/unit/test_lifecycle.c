/*
 * test_lifecycle.c — the stage table (engine/lifecycle): its shape, each mode's paths, pause
 * and resume, the ends, and the stage names.
 */
#include <string.h>

#include "engine/lifecycle.h"
#include "tests/test.h"

#define S(x) BARGE_STAGE_##x

static const enum barge_mode all_modes[] = {BARGE_MODE_FULL, BARGE_MODE_INCREMENTAL,
					    BARGE_MODE_ALL};

/* Stages reachable from New for a job of this mode, as a bit set. */
static unsigned reachable(enum barge_mode mode)
{
	unsigned seen = 1u << S(NEW);
	bool grew = true;
	size_t n;
	const struct barge_stage_move *m = barge_stage_moves(&n);

	while (grew) {
		grew = false;
		for (size_t i = 0; i < n; i++)
			if ((seen & (1u << m[i].from)) && !(seen & (1u << m[i].to)) &&
			    (m[i].modes & BARGE_MODE_BIT(mode))) {
				seen |= 1u << m[i].to;
				grew = true;
			}
	}
	return seen;
}

static void walk(enum barge_mode mode, const enum barge_stage *path, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (!barge_stage_can_in_mode(path[i], path[i + 1], mode))
			TEST_FAILF("mode %s: %s -> %s refused", barge_mode_name(mode),
				   barge_stage_name(path[i]), barge_stage_name(path[i + 1]));
}

TEST(table_is_well_formed)
{
	size_t n;
	const struct barge_stage_move *m = barge_stage_moves(&n);

	ASSERT_TRUE(n >= 20);
	for (size_t i = 0; i < n; i++) {
		ASSERT_TRUE(m[i].from != m[i].to);
		ASSERT_TRUE((int)m[i].from >= 0 && m[i].from < BARGE_STAGE_COUNT);
		ASSERT_TRUE((int)m[i].to >= 0 && m[i].to < BARGE_STAGE_COUNT);
		ASSERT_TRUE(m[i].modes != 0);
		ASSERT_EQ_UINT(m[i].modes & ~BARGE_MODES_ANY, 0);
		ASSERT_TRUE(m[i].why && m[i].why[0]);
		ASSERT_TRUE(m[i].from != S(DELETED));
		ASSERT_TRUE(barge_stage_move_find(m[i].from, m[i].to) == &m[i]);
		for (size_t j = i + 1; j < n; j++)
			ASSERT_FALSE(m[i].from == m[j].from && m[i].to == m[j].to);
		ASSERT_TRUE(barge_stage_can(m[i].from, m[i].to));
	}
	/* everything not in the table is refused, staying put included */
	for (int a = 0; a < BARGE_STAGE_COUNT; a++)
		for (int b = 0; b < BARGE_STAGE_COUNT; b++) {
			bool listed = false;

			for (size_t i = 0; i < n; i++)
				listed |= (int)m[i].from == a && (int)m[i].to == b;
			ASSERT_EQ_INT(barge_stage_can((enum barge_stage)a, (enum barge_stage)b),
				      listed);
			for (size_t k = 0; k < 3; k++)
				if (barge_stage_can_in_mode((enum barge_stage)a,
							    (enum barge_stage)b, all_modes[k]))
					ASSERT_TRUE(listed);
		}
}

TEST(each_mode_has_its_path_and_not_the_others)
{
	static const enum barge_stage full[] = {S(NEW), S(PRECHECKING), S(DUMPING), S(LOADING),
						S(FINISHED)};
	static const enum barge_stage all[] = {S(NEW), S(PRECHECKING), S(DUMPING), S(LOADING),
					       S(SYNCING)};
	static const enum barge_stage incr[] = {S(NEW), S(PRECHECKING), S(SYNCING)};

	walk(BARGE_MODE_FULL, full, 5);
	walk(BARGE_MODE_ALL, all, 5);
	walk(BARGE_MODE_INCREMENTAL, incr, 3);

	ASSERT_FALSE(barge_stage_can_in_mode(S(PRECHECKING), S(DUMPING), BARGE_MODE_INCREMENTAL));
	ASSERT_FALSE(barge_stage_can_in_mode(S(PRECHECKING), S(SYNCING), BARGE_MODE_ALL));
	ASSERT_FALSE(barge_stage_can_in_mode(S(PRECHECKING), S(SYNCING), BARGE_MODE_FULL));
	ASSERT_FALSE(barge_stage_can_in_mode(S(LOADING), S(SYNCING), BARGE_MODE_FULL));
	ASSERT_FALSE(barge_stage_can_in_mode(S(LOADING), S(FINISHED), BARGE_MODE_ALL));
	ASSERT_FALSE(barge_stage_can_in_mode(S(PAUSED), S(SYNCING), BARGE_MODE_FULL));
	ASSERT_FALSE(barge_stage_can_in_mode(S(PAUSED), S(LOADING), BARGE_MODE_INCREMENTAL));
}

TEST(reachable_stages_per_mode)
{
	unsigned full = reachable(BARGE_MODE_FULL), incr = reachable(BARGE_MODE_INCREMENTAL),
		 all = reachable(BARGE_MODE_ALL);

	ASSERT_EQ_UINT(full, (1u << BARGE_STAGE_COUNT) - 1 - (1u << S(SYNCING)));
	ASSERT_EQ_UINT(incr, (1u << BARGE_STAGE_COUNT) - 1 - (1u << S(DUMPING)) -
				     (1u << S(LOADING)) - (1u << S(FINISHED)));
	ASSERT_EQ_UINT(all, (1u << BARGE_STAGE_COUNT) - 1 - (1u << S(FINISHED)));
}

TEST(live_stages_pause_fail_and_resume_where_they_were)
{
	for (int s = 0; s < BARGE_STAGE_COUNT; s++) {
		enum barge_stage st = (enum barge_stage)s;
		bool live = barge_stage_is_live(st);

		ASSERT_EQ_INT(live, st == S(PRECHECKING) || st == S(DUMPING) ||
					    st == S(LOADING) || st == S(SYNCING));
		ASSERT_EQ_INT(barge_stage_can(st, S(PAUSED)), live);
		ASSERT_EQ_INT(barge_stage_can(st, S(FAILED)), live);
		if (live) {
			ASSERT_EQ_INT(barge_stage_resume_to(st), st);
			ASSERT_TRUE(barge_stage_can(S(PAUSED), barge_stage_resume_to(st)));
			for (size_t k = 0; k < 3; k++)
				if (barge_stage_can_in_mode(st, S(PAUSED), all_modes[k]))
					ASSERT_TRUE(barge_stage_can_in_mode(
						S(PAUSED), st, all_modes[k]));
		} else {
			ASSERT_EQ_INT(barge_stage_resume_to(st), S(PRECHECKING));
		}
	}
	/* a paused job neither fails nor finishes while nothing runs */
	ASSERT_FALSE(barge_stage_can(S(PAUSED), S(FAILED)));
	ASSERT_FALSE(barge_stage_can(S(PAUSED), S(FINISHED)));
	ASSERT_FALSE(barge_stage_can(S(NEW), S(PAUSED)));
}

TEST(ends_leave_only_by_restart_or_delete)
{
	static const enum barge_stage ends[] = {S(FAILED), S(FINISHED)};

	for (size_t i = 0; i < 2; i++)
		for (int to = 0; to < BARGE_STAGE_COUNT; to++) {
			bool ok = to == S(PRECHECKING) || to == S(DELETED);

			ASSERT_EQ_INT(barge_stage_can(ends[i], (enum barge_stage)to), ok);
		}
	for (int to = 0; to < BARGE_STAGE_COUNT; to++)
		ASSERT_FALSE(barge_stage_can(S(DELETED), (enum barge_stage)to));
	/* every other stage can be deleted and (but New) restarted */
	for (int s = 0; s < BARGE_STAGE_COUNT; s++) {
		if (s == S(DELETED))
			continue;
		ASSERT_TRUE(barge_stage_can((enum barge_stage)s, S(DELETED)));
		if (s != S(NEW) && s != S(PRECHECKING))
			ASSERT_TRUE(barge_stage_can((enum barge_stage)s, S(PRECHECKING)));
	}
	ASSERT_FALSE(barge_stage_can(S(FAILED), S(SYNCING)));
	ASSERT_FALSE(barge_stage_can(S(NEW), S(SYNCING)));
	ASSERT_FALSE(barge_stage_can(S(DUMPING), S(SYNCING)));
	ASSERT_EQ_STR(barge_stage_move_find(S(FAILED), S(PRECHECKING))->why, "restart");
	ASSERT_TRUE(barge_stage_move_find(S(FINISHED), S(SYNCING)) == NULL);
}

TEST(stage_names_parse_both_ways)
{
	static const char *const names[] = {"New",    "Prechecking", "Dumping",
					    "Loading", "Syncing",    "Paused",
					    "Failed",  "Finished",   "Deleted"};
	struct barge_err err = {0};
	enum barge_stage st = S(NEW);

	for (int s = 0; s < BARGE_STAGE_COUNT; s++) {
		ASSERT_EQ_STR(barge_stage_name((enum barge_stage)s), names[s]);
		ASSERT_EQ_INT(barge_stage_parse(names[s]), s);
		ASSERT_OK(barge_stage_parse_strict(names[s], &st, &err));
		ASSERT_EQ_INT(st, s);
	}
	ASSERT_OK(barge_stage_parse_strict("syncing", &st, &err));
	ASSERT_EQ_INT(st, S(SYNCING));
	st = S(NEW);
	ASSERT_EQ_INT(barge_stage_parse_strict("Running", &st, &err), BARGE_EINVAL);
	ASSERT_EQ_INT(st, S(NEW));
	ASSERT_EQ_STR(err.msg, "unknown stage \"Running\" (one of New, Prechecking, Dumping, "
			       "Loading, Syncing, Paused, Failed, Finished, Deleted)");
	ASSERT_EQ_INT(barge_stage_parse("Syncing "), -1);
}

TEST_MAIN()

/*
 * test.h — barge's test harness: assertions that print both sides, skips, and a runner.
 *
 * A test file defines cases with TEST(name) and ends with TEST_MAIN(), which lists nothing by
 * hand: the runner walks the cases registered by TEST().  Run the binary with no argument to run
 * every case (it ends with "N passed, N failed, N skipped"), or with a case name to run one case
 * (CTest registers one test per case that way; see tests/CMakeLists.txt).
 *
 * Exit status: 0 all passed, 1 a case failed, 77 the only case run skipped (CTest's skip code).
 * A failed assertion ends its case at once (longjmp) and the runner goes on with the next.
 * TEST_SKIP("why") ends the case as skipped and prints why.
 */
#ifndef BARGE_TESTS_TEST_H
#define BARGE_TESTS_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*test_fn)(void);

struct test_case {
	const char *name;
	test_fn fn;
	struct test_case *next;
};

/*
 * Shared state of the runner, defined once per test binary by TEST_MAIN(), so that helper files
 * linked into a test (the integration harness) fail and skip cases the same way.
 */
extern struct test_case *test_cases_, **test_tail_;
extern jmp_buf test_jmp_;
extern int test_outcome_; /* 0 pass, 1 fail, 2 skip */
extern const char *test_current_;

static inline void test_register_(struct test_case *tc)
{
	*test_tail_ = tc;
	test_tail_ = &tc->next;
}

#define TEST(name)                                                                        \
	static void name(void);                                                           \
	static struct test_case test_case_##name = {#name, name, NULL};                   \
	__attribute__((constructor)) static void test_register_##name(void)               \
	{                                                                                 \
		test_register_(&test_case_##name);                                        \
	}                                                                                 \
	static void name(void)

static inline void test_fail_(const char *file, int line)
{
	(void)file;
	(void)line;
	test_outcome_ = 1;
	longjmp(test_jmp_, 1);
}

#define TEST_FAILF(...)                                                                   \
	do {                                                                              \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                         \
		fprintf(stderr, __VA_ARGS__);                                             \
		fputc('\n', stderr);                                                      \
		test_fail_(__FILE__, __LINE__);                                           \
	} while (0)

#define TEST_SKIP(...)                                                                    \
	do {                                                                              \
		fprintf(stderr, "  skipped: ");                                           \
		fprintf(stderr, __VA_ARGS__);                                             \
		fputc('\n', stderr);                                                      \
		test_outcome_ = 2;                                                        \
		longjmp(test_jmp_, 1);                                                    \
	} while (0)

#define ASSERT_TRUE(cond)                                                                 \
	do {                                                                              \
		if (!(cond))                                                              \
			TEST_FAILF("expected true: %s", #cond);                           \
	} while (0)

#define ASSERT_FALSE(cond)                                                                \
	do {                                                                              \
		if (cond)                                                                 \
			TEST_FAILF("expected false: %s", #cond);                          \
	} while (0)

#define ASSERT_EQ_INT(a, b)                                                               \
	do {                                                                              \
		long long test_a_ = (long long)(a), test_b_ = (long long)(b);             \
		if (test_a_ != test_b_)                                                   \
			TEST_FAILF("%s == %s: %lld != %lld", #a, #b, test_a_, test_b_);   \
	} while (0)

#define ASSERT_NE_INT(a, b)                                                               \
	do {                                                                              \
		long long test_a_ = (long long)(a), test_b_ = (long long)(b);             \
		if (test_a_ == test_b_)                                                   \
			TEST_FAILF("%s != %s: both %lld", #a, #b, test_a_);               \
	} while (0)

#define ASSERT_EQ_UINT(a, b)                                                              \
	do {                                                                              \
		unsigned long long test_a_ = (unsigned long long)(a),                     \
				   test_b_ = (unsigned long long)(b);                     \
		if (test_a_ != test_b_)                                                   \
			TEST_FAILF("%s == %s: %llu != %llu", #a, #b, test_a_, test_b_);   \
	} while (0)

#define ASSERT_OK(expr)                                                                   \
	do {                                                                              \
		long long test_rc_ = (long long)(expr);                                   \
		if (test_rc_ != 0)                                                        \
			TEST_FAILF("%s returned %lld, expected 0", #expr, test_rc_);      \
	} while (0)

#define ASSERT_EQ_STR(a, b)                                                               \
	do {                                                                              \
		const char *test_a_ = (a), *test_b_ = (b);                                \
		if (!test_a_ || !test_b_ || strcmp(test_a_, test_b_) != 0)                \
			TEST_FAILF("%s == %s:\n    got:      \"%s\"\n    expected: \"%s\"",   \
				   #a, #b, test_a_ ? test_a_ : "(null)",                  \
				   test_b_ ? test_b_ : "(null)");                         \
	} while (0)

#define ASSERT_CONTAINS(hay, needle)                                                      \
	do {                                                                              \
		const char *test_h_ = (hay), *test_n_ = (needle);                         \
		if (!test_h_ || !strstr(test_h_, test_n_))                                \
			TEST_FAILF("%s contains %s:\n    in:      \"%s\"\n    missing: \"%s\"", \
				   #hay, #needle, test_h_ ? test_h_ : "(null)", test_n_); \
	} while (0)

#define ASSERT_NOT_CONTAINS(hay, needle)                                                  \
	do {                                                                              \
		const char *test_h_ = (hay), *test_n_ = (needle);                         \
		if (test_h_ && strstr(test_h_, test_n_))                                  \
			TEST_FAILF("%s must not contain %s:\n    in: \"%s\"", #hay, #needle,  \
				   test_h_);                                              \
	} while (0)

#define ASSERT_MEM_EQ(a, b, n)                                                            \
	do {                                                                              \
		const unsigned char *test_a_ = (const void *)(a), *test_b_ = (const void *)(b); \
		size_t test_n_ = (n);                                                     \
		for (size_t test_i_ = 0; test_i_ < test_n_; test_i_++)                    \
			if (test_a_[test_i_] != test_b_[test_i_])                         \
				TEST_FAILF("%s == %s: differ at byte %zu: %02x != %02x",  \
					   #a, #b, test_i_, test_a_[test_i_],             \
					   test_b_[test_i_]);                             \
	} while (0)

/*
 * The whole file at path as a NUL-terminated heap string (free it), its length in *len (may be
 * NULL); NULL when it cannot be read.
 */
static inline char *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
			if (!buf)
				abort();
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* text is exactly the contents of the file at path (a copy compiled in, say); names the first
 * difference. */
#define ASSERT_TEXT_IS_FILE(text, path)                                                   \
	do {                                                                              \
		const char *test_t_ = (text), *test_p_ = (path);                          \
		char *test_f_ = test_read_file(test_p_, NULL);                            \
		size_t test_i_ = 0;                                                       \
		if (!test_f_)                                                             \
			TEST_FAILF("cannot read %s", test_p_);                            \
		while (test_f_[test_i_] && test_f_[test_i_] == test_t_[test_i_])          \
			test_i_++;                                                        \
		if (test_f_[test_i_] != test_t_[test_i_])                                 \
			TEST_FAILF("%s differs from %s at byte %zu:\n  file: %.60s\n  text: %.60s", \
				   #text, test_p_, test_i_, test_f_ + test_i_,           \
				   test_t_ + test_i_);                                    \
		free(test_f_);                                                            \
	} while (0)

static inline int test_run_one_(struct test_case *tc)
{
	test_current_ = tc->name;
	test_outcome_ = 0;
	fprintf(stderr, "[ RUN  ] %s\n", tc->name);
	fflush(stderr);
	if (setjmp(test_jmp_) == 0)
		tc->fn();
	fprintf(stderr, "[ %s ] %s\n",
		test_outcome_ == 0 ? " OK " : test_outcome_ == 1 ? "FAIL" : "SKIP", tc->name);
	return test_outcome_;
}

static inline int test_main_(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0, ran = 0;

	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (struct test_case *tc = test_cases_; tc; tc = tc->next)
			printf("%s\n", tc->name);
		return 0;
	}
	for (struct test_case *tc = test_cases_; tc; tc = tc->next) {
		int outcome;

		if (argc > 1 && strcmp(argv[1], tc->name) != 0)
			continue;
		ran++;
		outcome = test_run_one_(tc);
		passed += outcome == 0;
		failed += outcome == 1;
		skipped += outcome == 2;
	}
	if (argc > 1 && ran == 0) {
		fprintf(stderr, "no test case named %s\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	if (failed)
		return 1;
	return (skipped && passed == 0) ? 77 : 0;
}

#define TEST_MAIN()                                                                       \
	struct test_case *test_cases_, **test_tail_ = &test_cases_;                       \
	jmp_buf test_jmp_;                                                                \
	int test_outcome_;                                                                \
	const char *test_current_;                                                        \
	int main(int argc, char **argv)                                                   \
	{                                                                                 \
		return test_main_(argc, argv);                                            \
	}

#endif

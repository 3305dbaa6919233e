/*
 * fuzz_jobfile.c — libFuzzer target over the job-file loader (YAML parsing, key checks,
 * rules compilation, hashing): any bytes must load or be rejected with diagnostics.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/jobset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct barge_diags diags = {0};
	struct barge_err err = {0};
	struct barge_jobset *set = NULL;

	if (barge_jobset_load_buffer("fuzz.yaml", (const char *)data, len, &set, &diags, &err) == 0)
		barge_jobset_free(set);
	for (size_t i = 0; i < diags.count; i++)
		free(barge_diag_format(&diags.items[i]));
	barge_diags_dispose(&diags);
	return 0;
}

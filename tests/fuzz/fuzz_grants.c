/*
 * fuzz_grants.c — libFuzzer target over the parsers of server replies in engine/precheck.c:
 * each input line is a SHOW GRANTS row for barge_grant_parse(); the grants it yields are then
 * queried with barge_grants_effective() (LIKE patterns against names from the input), and each
 * line is also read as a TiKV store size (barge_size_parse).  Any bytes must parse or be refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/precheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define MAX_LINES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *text = malloc(len + 1), *lines[MAX_LINES];
	struct barge_grant grants[MAX_LINES];
	size_t n = 0, ng = 0;
	char privs[512];

	if (!text)
		return 0;
	memcpy(text, data, len);
	text[len] = '\0';
	for (char *p = text; n < MAX_LINES && p;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		lines[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct barge_grant g = {0};
		uint64_t bytes;
		int rc = barge_grant_parse(lines[i], &g);

		if (rc == 1)
			grants[ng++] = g;
		else if (g.schema || g.table)
			__builtin_trap(); /* *out is filled only on success */
		barge_size_parse(lines[i], &bytes);
	}
	/* the names queried: the first line's words, and the usual ones */
	barge_privs_format(barge_grants_effective(grants, ng, NULL, NULL), privs, sizeof privs);
	for (size_t i = 0; i < n; i++) {
		barge_grants_effective(grants, ng, lines[i], NULL);
		barge_grants_effective(grants, ng, "shop", lines[i]);
		barge_grants_effective(grants, ng, lines[i], lines[i]);
	}
	for (size_t i = 0; i < ng; i++) {
		barge_privs_format(grants[i].privs, privs, sizeof privs);
		free(grants[i].schema);
		free(grants[i].table);
	}
	free(text);
	return 0;
}

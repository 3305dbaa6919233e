/*
 * fuzz_rules.c — libFuzzer target over rules/: the input's lines are patterns and names;
 * the first lines become allow/block/route/filter rules, the rest are queried.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *text = malloc(len + 1), *lines[16];
	size_t n = 0;
	struct barge_rule_pattern allow[2], block[1];
	struct barge_rule_route routes[1];
	struct barge_rule_filter filters[1];
	const char *sql[1];
	struct barge_rules_spec spec;
	struct barge_rules *r = NULL;
	struct barge_err err;

	memcpy(text, data, len);
	text[len] = '\0';
	for (char *p = text; n < 16 && p;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		lines[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	while (n < 16)
		lines[n++] = "x";
	allow[0] = (struct barge_rule_pattern){lines[0], lines[1][0] ? lines[1] : NULL};
	allow[1] = (struct barge_rule_pattern){lines[2], NULL};
	block[0] = (struct barge_rule_pattern){lines[3], lines[4]};
	routes[0] = (struct barge_rule_route){{lines[5], lines[6][0] ? lines[6] : NULL}, lines[7],
					      lines[6][0] ? lines[8] : NULL};
	sql[0] = lines[9];
	filters[0] = (struct barge_rule_filter){{lines[3], NULL}, BARGE_EV_ALL_DML, sql, 1};
	spec = (struct barge_rules_spec){allow, 2, block, 1, routes, 1, filters, 1};
	if (barge_rules_compile(&spec, &r, NULL, &err) == 0) {
		char *ts = NULL, *tt = NULL;

		for (size_t i = 10; i + 1 < 16; i++) {
			barge_rules_table_selected(r, lines[i], lines[i + 1]);
			barge_rules_schema_selected(r, lines[i]);
			barge_rules_event_ignored(r, lines[i], lines[i + 1], BARGE_EV_ALTER_TABLE,
						  lines[i + 1]);
			if (barge_rules_route(r, lines[i], lines[i + 1], &ts, &tt, &err) == 0) {
				free(ts);
				free(tt);
			}
		}
		barge_rules_free(r);
	}
	free(text);
	return 0;
}

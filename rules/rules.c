/*
 * rules.c — block/allow lists, routes and event filters (see rules.h).
 */
#include "rules/rules.h"

#include <string.h>

bool barge_rules_is_system_schema(const char *schema)
{
	static const char *const system[] = {"mysql", "information_schema", "performance_schema",
					     "sys"};

	for (size_t i = 0; i < sizeof system / sizeof system[0]; i++)
		if (strcasecmp(schema, system[i]) == 0)
			return true;
	return false;
}

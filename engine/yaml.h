/*
 * yaml.h — YAML documents as small trees whose every node knows its file:line:col.
 *
 * libyaml's event parser feeds a tree builder; jobset.c walks the trees with key specs.  Only
 * what job files need is accepted: mappings, sequences and scalars with the standard tags.
 * Anchors and aliases are refused (they make files harder to review and open the door to
 * exponential expansion), as are duplicate keys in a mapping.  Sizes are capped: a document may
 * hold at most BARGE_YAML_MAX_NODES nodes.
 */
#ifndef BARGE_ENGINE_YAML_H
#define BARGE_ENGINE_YAML_H

#include <stdbool.h>
#include <stddef.h>

#define BARGE_YAML_MAX_NODES 100000
#define BARGE_YAML_MAX_DEPTH 64

enum barge_ynode_kind { BARGE_Y_SCALAR, BARGE_Y_MAP, BARGE_Y_SEQ };

struct barge_ynode {
	enum barge_ynode_kind kind;
	unsigned line, col;       /* 1-based, where the node starts */
	char *scalar;             /* scalars: the text (NUL-terminated; may hold NULs: len) */
	size_t len;
	bool plain;               /* scalars: unquoted, so "true" and "12" may be typed values */
	struct barge_ynode **keys; /* maps: keys[i] maps to items[i]; keys are scalars */
	struct barge_ynode **items; /* maps: values; sequences: elements */
	size_t n;
};

/* One problem found while parsing: where, and what (without the location). */
struct barge_yaml_error {
	unsigned line, col;
	char message[512];
};

/*
 * Parse every document of buf[0..len).  Returns 0 and sets *docs (an array of *n_docs roots,
 * NULL for an empty document; free with barge_yaml_docs_free), or -1 and fills *error.
 */
int barge_yaml_parse(const char *buf, size_t len, struct barge_ynode ***docs, size_t *n_docs,
		     struct barge_yaml_error *error);

void barge_yaml_docs_free(struct barge_ynode **docs, size_t n_docs);

/* The value for key in map, or NULL (map must be a BARGE_Y_MAP). */
const struct barge_ynode *barge_ynode_get(const struct barge_ynode *map, const char *key);

/* Whether a node is a plain scalar spelling null ("", "~", "null"). */
bool barge_ynode_is_null(const struct barge_ynode *n);

/* "a mapping", "a list", "a string" — for messages. */
const char *barge_ynode_kind_name(const struct barge_ynode *n);

#endif
